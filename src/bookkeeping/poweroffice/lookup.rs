//! The ids PowerOffice wants instead of numbers: general ledger account ids by
//! account number, VAT code ids by SAF-T code, department ids by code. Remembered per client, so a
//! day of vouchers costs one look-up of each.
//!
//! Pure bookkeeping of what is known, and the query filters to ask for it;
//! the HTTP calls live in `client.rs`.
//! Only what PowerOffice answered is remembered: an account that is missing
//! is asked for again next time (someone may have created it meanwhile).

use std::collections::{BTreeSet, HashMap};

use super::dto::{DepartmentDto, GeneralLedgerAccountDto, VatCodeDto};

#[derive(Debug, Default)]
pub struct Lookups {
    /// Account number → (id, active).
    accounts: HashMap<u32, (i64, bool)>,
    /// SAF-T code (`"3"`, `"31"`) → id, active codes only.
    vat_codes: Option<HashMap<String, i64>>,
    /// Department code → (id, active).
    departments: HashMap<String, (i64, bool)>,
}

/// Why a department cannot be posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepartmentProblem {
    Missing(String),
    Inactive(String),
}

/// Why an account cannot be posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountProblem {
    Missing(u32),
    Inactive(u32),
}

impl Lookups {
    /// The account numbers to ask for: those `needed` that are not known yet,
    /// plus the not-yet-known `hint`s, so the first voucher of a day fetches
    /// every configured account at once. Empty when nothing is missing.
    pub fn accounts_to_fetch(&self, needed: &[u32], hint: &[u32]) -> Vec<u32> {
        if needed.iter().all(|n| self.accounts.contains_key(n)) {
            return Vec::new();
        }
        let all: BTreeSet<u32> = needed
            .iter()
            .chain(hint)
            .copied()
            .filter(|n| !self.accounts.contains_key(n))
            .collect();
        all.into_iter().collect()
    }

    pub fn learn_accounts(&mut self, answer: &[GeneralLedgerAccountDto]) {
        for a in answer {
            if let Ok(no) = u32::try_from(a.account_no) {
                self.accounts
                    .insert(no, (a.id, a.is_active.unwrap_or(true)));
            }
        }
    }

    pub fn account_id(&self, no: u32) -> Result<i64, AccountProblem> {
        match self.accounts.get(&no) {
            Some((id, true)) => Ok(*id),
            Some((_, false)) => Err(AccountProblem::Inactive(no)),
            None => Err(AccountProblem::Missing(no)),
        }
    }

    /// The department codes of `needed` not known yet (asked for again each
    /// time while missing: someone may create it meanwhile).
    pub fn departments_to_fetch(&self, needed: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = needed
            .iter()
            .filter(|c| !self.departments.contains_key(**c))
            .map(|c| c.to_string())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    pub fn learn_departments(&mut self, answer: &[DepartmentDto]) {
        for d in answer {
            if let Some(code) = &d.code {
                // "Inactive departments disable the usage of that
                // department": only an explicit `false` is inactive.
                self.departments
                    .insert(code.clone(), (d.id, d.is_active != Some(false)));
            }
        }
    }

    pub fn department_id(&self, code: &str) -> Result<i64, DepartmentProblem> {
        match self.departments.get(code) {
            Some((id, true)) => Ok(*id),
            Some((_, false)) => Err(DepartmentProblem::Inactive(code.to_string())),
            None => Err(DepartmentProblem::Missing(code.to_string())),
        }
    }

    pub fn has_vat_codes(&self) -> bool {
        self.vat_codes.is_some()
    }

    pub fn learn_vat_codes(&mut self, answer: &[VatCodeDto]) {
        let codes = answer
            .iter()
            .filter(|v| v.is_active != Some(false))
            .filter_map(|v| v.code.clone().map(|c| (c, v.id)))
            .collect();
        self.vat_codes = Some(codes);
    }

    /// `None` when the code is unknown or inactive in PowerOffice.
    pub fn vat_id(&self, code: u16) -> Option<i64> {
        self.vat_codes.as_ref()?.get(&code.to_string()).copied()
    }
}

/// The `accountNos` filter: `1900,1903,3000` (the spec's comma list).
pub fn account_filter(numbers: &[u32]) -> String {
    numbers
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Percent-encodes a query value (RFC 3986 unreserved characters and the
/// comma of PowerOffice's list filters pass as they are).
pub fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(no: i64, id: i64, active: bool) -> GeneralLedgerAccountDto {
        GeneralLedgerAccountDto {
            id,
            account_no: no,
            name: None,
            is_active: Some(active),
            vat_code: None,
            vat_code_id: None,
            general_ledger_account_type: None,
        }
    }

    #[test]
    fn fetches_once_with_the_hint_then_only_what_is_missing() {
        let mut l = Lookups::default();
        assert_eq!(
            l.accounts_to_fetch(&[1903, 3000], &[1900, 1903, 7770]),
            vec![1900, 1903, 3000, 7770]
        );
        l.learn_accounts(&[
            account(1900, 11, true),
            account(1903, 12, true),
            account(3000, 13, true),
            account(7770, 14, false),
        ]);
        assert!(l.accounts_to_fetch(&[1903, 3000], &[1900, 7799]).is_empty());
        assert_eq!(l.accounts_to_fetch(&[3030], &[7799]), vec![3030, 7799]);
        assert_eq!(l.account_id(1903), Ok(12));
        assert_eq!(l.account_id(7770), Err(AccountProblem::Inactive(7770)));
        assert_eq!(l.account_id(3030), Err(AccountProblem::Missing(3030)));
        assert_eq!(account_filter(&[1900, 1903]), "1900,1903");
        assert_eq!(query_value("1900,1903"), "1900,1903");
        assert_eq!(query_value("2026-11-30"), "2026-11-30");
        assert_eq!(query_value("a b&c"), "a%20b%26c");
    }

    #[test]
    fn departments_by_code_and_missing_ones_asked_again() {
        let mut l = Lookups::default();
        assert_eq!(l.departments_to_fetch(&["20", "10", "20"]), ["10", "20"]);
        let dept = |id, code: &str, active| DepartmentDto {
            id,
            code: Some(code.into()),
            name: None,
            is_active: active,
            created_date_time_offset: None,
            last_changed_date_time_offset: None,
        };
        l.learn_departments(&[
            dept(1610, "10", Some(true)),
            dept(1620, "20", None),
            dept(1630, "30", Some(false)),
        ]);
        assert_eq!(l.department_id("10"), Ok(1610));
        assert_eq!(l.department_id("20"), Ok(1620));
        assert_eq!(
            l.department_id("30"),
            Err(DepartmentProblem::Inactive("30".into()))
        );
        assert_eq!(
            l.department_id("40"),
            Err(DepartmentProblem::Missing("40".into()))
        );
        assert!(l.departments_to_fetch(&["10", "20"]).is_empty());
        assert_eq!(l.departments_to_fetch(&["10", "40"]), ["40"]);
    }

    #[test]
    fn vat_codes_by_saft_code() {
        let mut l = Lookups::default();
        assert!(!l.has_vat_codes());
        let code = |id, c: &str, active| VatCodeDto {
            id,
            code: Some(c.into()),
            name: None,
            description: None,
            is_active: Some(active),
            is_custom: Some(false),
            rate: None,
            valid_from: None,
            valid_to: None,
        };
        l.learn_vat_codes(&[
            code(103, "3", true),
            code(131, "31", true),
            code(199, "33", false),
        ]);
        assert!(l.has_vat_codes());
        assert_eq!(l.vat_id(3), Some(103));
        assert_eq!(l.vat_id(31), Some(131));
        assert_eq!(l.vat_id(33), None);
    }
}
