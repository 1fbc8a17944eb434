//! Volunteers taking turns at the till (kassasystemforskriften § 2-8-2 h).
//! A volunteer logs in at the start of a shift with their short code; every
//! sale, return and drawer opening from then on carries their id (the store
//! reads the current operator from the journal), until they log out or the
//! next one logs in. The organizer's PIN login nests over a shift: when the
//! organizer leaves, the till is the volunteer's again.

use serde_json::json;

use super::{Kiosk, KioskError};
use crate::domain::journal::JournalKind;
use crate::pin::PinHash;

/// A volunteer as the till shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// Journaled with every sale (SAF-T empID).
    pub id: String,
    pub name: String,
}

/// A volunteer who may log in, with their code's hash (`[[operators]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorAccount {
    pub operator: Operator,
    pub code: PinHash,
    /// The kioskansvarlig: may mark products sold out from the sale page.
    pub marks_stock: bool,
}

impl Kiosk {
    /// Who may log in, in the configured order.
    pub fn operators(&self) -> Vec<Operator> {
        self.inner
            .settings
            .operators
            .iter()
            .map(|a| a.operator.clone())
            .collect()
    }

    /// A volunteer's login with their code. Slow on purpose (Argon2): call
    /// it off the UI thread. A wrong code is journaled and refused.
    pub fn operator_login(&self, id: &str, code: &str) -> Result<Operator, KioskError> {
        let account = self.account(id)?;
        if !account.code.verify(code) {
            self.journal_operator(JournalKind::OperatorLoginFailed, &account.operator, None)?;
            return Err(KioskError::WrongCode(account.operator.name));
        }
        self.journal_operator(JournalKind::OperatorLogin, &account.operator, None)?;
        Ok(account.operator)
    }

    /// A login without the code, for `--operator` on the command line: whoever
    /// can run `luka` on the till is trusted already. Journaled as such.
    pub fn operator_login_from_cli(&self, id: &str) -> Result<Operator, KioskError> {
        let account = self.account(id)?;
        self.journal_operator(JournalKind::OperatorLogin, &account.operator, Some("cli"))?;
        Ok(account.operator)
    }

    /// Ends the current volunteer's shift (if one is logged in).
    pub fn operator_logout(&self) -> Result<Option<Operator>, KioskError> {
        let Some(current) = self.current_operator()? else {
            return Ok(None);
        };
        self.journal_operator(JournalKind::OperatorLogout, &current, None)?;
        Ok(Some(current))
    }

    /// The volunteer logged in now, if any (the organizer is not one).
    pub fn current_operator(&self) -> Result<Option<Operator>, KioskError> {
        let id = self.inner.store.read(|r| r.current_operator())?;
        Ok(id.and_then(|id| {
            self.inner
                .settings
                .operators
                .iter()
                .find(|a| a.operator.id == id)
                .map(|a| a.operator.clone())
        }))
    }

    fn account(&self, id: &str) -> Result<OperatorAccount, KioskError> {
        self.inner
            .settings
            .operators
            .iter()
            .find(|a| a.operator.id == id || a.operator.name.eq_ignore_ascii_case(id))
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = self
                    .inner
                    .settings
                    .operators
                    .iter()
                    .map(|a| a.operator.id.as_str())
                    .collect();
                KioskError::Rejected(if known.is_empty() {
                    format!(
                        "no operator '{id}': this till has no [[operators]] in luka.toml; \
                         add the volunteers there"
                    )
                } else {
                    format!("no operator '{id}': the operators are {}", known.join(", "))
                })
            })
    }

    fn journal_operator(
        &self,
        kind: JournalKind,
        who: &Operator,
        via: Option<&str>,
    ) -> Result<(), KioskError> {
        let now = self.inner.clock.now();
        let mut data = json!({ "operator": who.id, "name": who.name });
        if let Some(via) = via {
            data["via"] = json!(via);
        }
        self.inner
            .store
            .write(|w| w.journal(kind, None, data, now).map(|_| ()))?;
        Ok(())
    }
}
