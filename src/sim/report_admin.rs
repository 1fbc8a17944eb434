//! Test and script control of the simulated ledger: close a ledger date early, inject
//! rows the till never caused (an unknown `entryType`, a capture of a reference it
//! never journaled), and drop a capture's row, so reconciliation can be shown a
//! mismatch. The same operations as [`SimHandle`] methods and `/sim/report/...` routes.
//!
//! A closed date's report must never change: every operation here refuses to touch
//! one. No authentication, like the rest of `/sim/`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use time::{Date, OffsetDateTime};

use super::ledger::{self, DayStatus, Movement};
use super::problem::Fail;
use super::report::parse_date;
use super::state::Now;
use super::{Shared, SimHandle};
use crate::domain::settlement::EntryType;
use crate::vipps::report::ymd;

/// Why a ledger operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error(
        "ledger date {} has not begun and the date before it is open; close that first",
        ymd(*.0)
    )]
    NotStarted(Date),
    #[error("ledger date {} is closed; its report can no longer change", ymd(*.0))]
    Closed(Date),
    #[error("no capture of payment '{0}' is on the ledger")]
    NoCapture(String),
}

impl Shared {
    fn close_ledger_date(&self, date: Date, now: OffsetDateTime) -> Result<(), LedgerError> {
        let mut book = self.report_book();
        let closed = |d: Date| {
            matches!(
                ledger::status(d, now, &book.closings),
                DayStatus::Closed { .. }
            )
        };
        // Dates close in order, or a payout could later move between closed reports.
        let in_order = date.previous_day().is_some_and(closed);
        match ledger::status(date, now, &book.closings) {
            DayStatus::NotStarted if !in_order => Err(LedgerError::NotStarted(date)),
            DayStatus::Closed { .. } => Ok(()),
            DayStatus::Open | DayStatus::NotStarted => {
                book.closings.insert(date, now);
                tracing::info!(ledger_date = %ymd(date), "sim ledger date closed early");
                Ok(())
            }
        }
    }

    fn inject(&self, entry_type: &str, amount: i64, reference: Option<&str>) -> String {
        let mut book = self.report_book();
        let psp = format!("4{:011}", book.injected.len() + 1);
        book.injected.push(Movement {
            at: Now::system().wall,
            entry_type: EntryType::from(entry_type.to_string()),
            reference: reference.map(str::to_string),
            psp_reference: psp.clone(),
            amount,
        });
        tracing::info!(entry_type, amount, psp_reference = %psp, "sim ledger row injected");
        psp
    }

    fn drop_capture(&self, reference: &str, now: OffsetDateTime) -> Result<(), LedgerError> {
        let captures: Vec<Movement> = self
            .movements()
            .into_iter()
            .filter(|m| m.entry_type == EntryType::Capture)
            .filter(|m| m.reference.as_deref() == Some(reference))
            .collect();
        let mut book = self.report_book();
        if captures.is_empty() || book.dropped.contains(reference) {
            return Err(LedgerError::NoCapture(reference.to_string()));
        }
        for m in &captures {
            let d = ledger::ledger_date(m.at, &book.closings);
            if matches!(
                ledger::status(d, now, &book.closings),
                DayStatus::Closed { .. }
            ) {
                return Err(LedgerError::Closed(d));
            }
        }
        book.dropped.insert(reference.to_string());
        tracing::info!(reference = %reference, "sim ledger capture dropped");
        Ok(())
    }
}

impl SimHandle {
    /// The simulated ledger's id (`ledgerId`).
    pub fn ledger_id(&self) -> String {
        self.inner.shared.cfg.report.ledger_id.clone()
    }

    /// The ledger date a capture made now lands on: today in Europe/Oslo by the
    /// simulator's clock, or a later date when today was closed early.
    pub fn current_ledger_date(&self) -> Date {
        let book = self.inner.shared.report_book();
        ledger::ledger_date(Now::system().wall, &book.closings)
    }

    /// Closes `date` now, as Vipps does at the end of the day: fees and payout are
    /// booked and the report stops saying `tryLater`; later captures go to the next
    /// date. Closing a closed date is a no-op. A date that has not begun can be closed
    /// only once the date before it is closed (so a test can close "tomorrow" too).
    pub fn close_ledger_date(&self, date: Date) -> Result<(), LedgerError> {
        self.inner
            .shared
            .close_ledger_date(date, Now::system().wall)
    }

    /// A funds row of any `entryType`, now, with `amount` signed as on the ledger.
    /// `"capture"` rows are charged a fee like real ones. Returns its pspReference.
    pub fn inject_ledger_entry(
        &self,
        entry_type: &str,
        amount: i64,
        reference: Option<&str>,
    ) -> String {
        self.inner.shared.inject(entry_type, amount, reference)
    }

    /// A row of a type the Report spec does not list, e.g. `"interchange-adjustment"`.
    pub fn inject_unknown_entry(&self, entry_type: &str, amount: i64) -> String {
        self.inject_ledger_entry(entry_type, amount, None)
    }

    /// A capture (with its fee) of a `reference` the till never journaled.
    pub fn inject_foreign_capture(&self, reference: &str, amount: i64) -> String {
        self.inject_ledger_entry("capture", amount, Some(reference))
    }

    /// Removes the capture rows (and fees) of payment `reference` from an open date, as
    /// if Vipps had lost them; the payout shrinks accordingly.
    pub fn drop_capture(&self, reference: &str) -> Result<(), LedgerError> {
        self.inner
            .shared
            .drop_capture(reference, Now::system().wall)
    }
}

fn refusal(e: LedgerError) -> Response {
    let status = match e {
        LedgerError::NoCapture(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::CONFLICT,
    };
    Fail::new(status, e.to_string()).into_response()
}

/// `POST /sim/report/dates/{ledgerDate}/close`.
pub(crate) async fn close(State(sh): State<Arc<Shared>>, Path(date): Path<String>) -> Response {
    let Some(d) = parse_date(&date) else {
        return Fail::bad_request(format!("'{date}' is not YYYY-MM-DD")).into_response();
    };
    match sh.close_ledger_date(d, Now::system().wall) {
        Ok(()) => Json(json!({"ledgerDate": ymd(d), "closed": true})).into_response(),
        Err(e) => refusal(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Injection {
    entry_type: String,
    amount: i64,
    #[serde(default)]
    reference: Option<String>,
}

/// `POST /sim/report/entries` with `{"entryType", "amount", "reference"?}`.
pub(crate) async fn inject(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Injection>(&body) {
        Ok(i) => {
            let psp = sh.inject(&i.entry_type, i.amount, i.reference.as_deref());
            Json(json!({"pspReference": psp})).into_response()
        }
        Err(e) => Fail::bad_request(format!("injection body: {e}")).into_response(),
    }
}

/// `POST /sim/report/captures/{reference}/drop`.
pub(crate) async fn drop_capture(
    State(sh): State<Arc<Shared>>,
    Path(reference): Path<String>,
) -> Response {
    match sh.drop_capture(&reference, Now::system().wall) {
        Ok(()) => Json(json!({"reference": reference, "dropped": true})).into_response(),
        Err(e) => refusal(e),
    }
}
