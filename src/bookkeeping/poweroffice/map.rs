//! From a Luka [`Voucher`] to the body PowerOffice wants, and which journal it
//! goes to. Pure: the ids come in as [`Lookups`].
//!
//! Owns the local refusals (an unbalanced voucher, an account, VAT code or
//! department PowerOffice does not know): a voucher that cannot be right is
//! never sent, and a line booked under a department is never sent without it.
//! Must never change an amount: lines are copied øre for øre.

use super::dto::{VoucherLinePost, VoucherPost};
use super::lookup::{AccountProblem, DepartmentProblem, Lookups};
use crate::bookkeeping::poweroffice::amount::Nok;
use crate::domain::voucher::{Voucher, VoucherKind};

/// The voucher endpoints that post straight to the general ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Journal {
    /// `POST /Vouchers/CashJournals` (`CashVoucherPostDto`).
    Cash,
    /// `POST /Vouchers/BankJournals` (`BankVoucherPostDto`).
    Bank,
}

impl Journal {
    pub fn for_kind(kind: VoucherKind) -> Journal {
        match kind {
            VoucherKind::DailySales => Journal::Cash,
            VoucherKind::VippsFees | VoucherKind::VippsPayout => Journal::Bank,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Journal::Cash => "/Vouchers/CashJournals",
            Journal::Bank => "/Vouchers/BankJournals",
        }
    }
}

/// The checks that need no look-up: run before any request is sent.
pub fn precheck(v: &Voucher) -> Result<(), String> {
    let name = &v.number;
    v.check()
        .map_err(|e| format!("{e}; it was not sent to PowerOffice Go"))?;
    if v.lines.iter().all(|l| l.amount == 0) {
        return Err(format!(
            "voucher {name} has only zero lines; nothing to post"
        ));
    }
    if v.external_ref.trim().is_empty() {
        return Err(format!(
            "voucher {name} has no external reference, so a retry could post it twice"
        ));
    }
    if v.currency.len() != 3 || !v.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "voucher {name}: '{}' is not an ISO 4217 currency code",
            v.currency
        ));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if time::Date::parse(&v.date, format).is_err() {
        return Err(format!(
            "voucher {name}: date '{}' is not YYYY-MM-DD",
            v.date
        ));
    }
    Ok(())
}

/// Every account number the voucher posts to, in order, once each.
pub fn accounts_of(v: &Voucher) -> Vec<u32> {
    let mut seen = Vec::new();
    for l in &v.lines {
        if !seen.contains(&l.account) {
            seen.push(l.account);
        }
    }
    seen
}

/// Every department code the voucher's lines name, once each.
pub fn departments_of(v: &Voucher) -> Vec<&str> {
    v.departments()
}

pub fn needs_vat_codes(v: &Voucher) -> bool {
    v.lines.iter().any(|l| l.vat_code.is_some())
}

/// The request body. Zero lines are left out: PowerOffice refuses a line
/// whose amount is 0, and it books nothing. [`precheck`] must have passed.
pub fn to_post(v: &Voucher, ids: &Lookups) -> Result<VoucherPost, String> {
    let name = &v.number;
    let mut missing = Vec::new();
    let mut inactive = Vec::new();
    let mut departments_missing: Vec<String> = Vec::new();
    let mut departments_inactive: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    for l in v.lines.iter().filter(|l| l.amount != 0) {
        let account_id = match ids.account_id(l.account) {
            Ok(id) => id,
            Err(AccountProblem::Missing(n)) => {
                missing.push(n);
                continue;
            }
            Err(AccountProblem::Inactive(n)) => {
                inactive.push(n);
                continue;
            }
        };
        let vat_id = match l.vat_code {
            None => None,
            Some(code) => Some(ids.vat_id(code).ok_or_else(|| {
                format!(
                    "voucher {name}: VAT code {code} is not an active VAT code in PowerOffice Go: \
                     activate it there, or check the product's VAT code"
                )
            })?),
        };
        let department_id = match l.department.as_deref().map(|d| ids.department_id(d)) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(DepartmentProblem::Missing(d))) => {
                departments_missing.push(d);
                continue;
            }
            Some(Err(DepartmentProblem::Inactive(d))) => {
                departments_inactive.push(d);
                continue;
            }
        };
        lines.push(VoucherLinePost {
            account_id,
            currency_amount: Nok(l.amount),
            description: non_empty(&l.text),
            posting_date: v.date.clone(),
            vat_id,
            department_id,
        });
    }
    for list in [&mut missing, &mut inactive] {
        list.sort_unstable();
        list.dedup();
    }
    if let Some(list) = listed(&missing) {
        return Err(format!(
            "voucher {name}: {list} does not exist in PowerOffice Go: create it or change \
             [bookkeeping.accounts] in luka.toml"
        ));
    }
    if let Some(list) = listed(&inactive) {
        return Err(format!(
            "voucher {name}: {list} is inactive in PowerOffice Go: activate it or change \
             [bookkeeping.accounts] in luka.toml"
        ));
    }
    for list in [&mut departments_missing, &mut departments_inactive] {
        list.sort_unstable();
        list.dedup();
    }
    if let Some(list) = listed_departments(&departments_missing) {
        return Err(format!(
            "voucher {name}: {list} does not exist in PowerOffice Go: create it there \
             (Avdelinger, with this code) or fix `department` under [vipps] or \
             [[vipps.units]] in luka.toml; the voucher was not posted without it"
        ));
    }
    if let Some(list) = listed_departments(&departments_inactive) {
        return Err(format!(
            "voucher {name}: {list} is inactive in PowerOffice Go: activate it there or fix \
             `department` under [vipps] or [[vipps.units]] in luka.toml; the voucher was not \
             posted without it"
        ));
    }
    Ok(VoucherPost {
        currency_code: v.currency.clone(),
        voucher_date: v.date.clone(),
        description: non_empty(&v.description),
        external_import_reference: v.external_ref.clone(),
        voucher_lines: lines,
    })
}

fn non_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}

/// "account 3030" or "accounts 3030, 3033"; `None` for none.
fn listed(numbers: &[u32]) -> Option<String> {
    let list: Vec<String> = numbers.iter().map(u32::to_string).collect();
    match list.len() {
        0 => None,
        1 => Some(format!("account {}", list[0])),
        _ => Some(format!("accounts {}", list.join(", "))),
    }
}

/// "department 30" or "departments 30, 40"; `None` for none.
fn listed_departments(codes: &[String]) -> Option<String> {
    match codes.len() {
        0 => None,
        1 => Some(format!("department {}", codes[0])),
        _ => Some(format!("departments {}", codes.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bookkeeping::poweroffice::dto::{GeneralLedgerAccountDto, VatCodeDto};
    use crate::domain::voucher::{VoucherLine, transfer};

    fn sales() -> Voucher {
        let line = |account, vat_code, amount| VoucherLine {
            account,
            vat_code,
            amount,
            text: format!("line {account}"),
            department: None,
        };
        Voucher {
            kind: VoucherKind::DailySales,
            date: "2026-11-30".into(),
            number: "Z12".into(),
            external_ref: "luka-till1-2026-11-30-z12".into(),
            description: "Dagsoppgjør".into(),
            currency: "NOK".into(),
            lines: vec![
                line(1903, None, 30_050),
                line(1900, None, 0),
                line(3000, Some(3), -20_000),
                line(3030, Some(31), -10_050),
            ],
        }
    }

    fn ids(accounts: &[u32]) -> Lookups {
        let mut l = Lookups::default();
        let dtos: Vec<GeneralLedgerAccountDto> = accounts
            .iter()
            .map(|n| GeneralLedgerAccountDto {
                id: i64::from(*n) * 10,
                account_no: i64::from(*n),
                name: None,
                is_active: Some(true),
                vat_code: None,
                vat_code_id: None,
                general_ledger_account_type: None,
            })
            .collect();
        l.learn_accounts(&dtos);
        let vat = |id, code: &str| VatCodeDto {
            id,
            code: Some(code.into()),
            name: None,
            description: None,
            is_active: Some(true),
            is_custom: None,
            rate: None,
            valid_from: None,
            valid_to: None,
        };
        l.learn_vat_codes(&[vat(103, "3"), vat(131, "31")]);
        let dept = |id, code: &str| crate::bookkeeping::poweroffice::dto::DepartmentDto {
            id,
            code: Some(code.into()),
            name: None,
            is_active: Some(true),
            created_date_time_offset: None,
            last_changed_date_time_offset: None,
        };
        l.learn_departments(&[dept(1610, "10"), dept(1620, "20")]);
        l
    }

    #[test]
    fn department_lines_carry_its_id_and_an_unknown_one_stops_the_voucher() {
        let mut v = sales();
        v.lines[0].department = Some("10".into());
        v.lines[2].department = Some("10".into());
        v.lines[3].department = Some("20".into());
        let post = to_post(&v, &ids(&[1900, 1903, 3000, 3030])).unwrap();
        let depts: Vec<_> = post.voucher_lines.iter().map(|l| l.department_id).collect();
        assert_eq!(depts, [Some(1610), Some(1610), Some(1620)]);
        let json = serde_json::to_string(&post).unwrap();
        assert!(
            json.contains(r#""VatId":null,"DepartmentId":1610}"#),
            "{json}"
        );

        v.lines[3].department = Some("30".into());
        let e = to_post(&v, &ids(&[1900, 1903, 3000, 3030])).unwrap_err();
        assert_eq!(
            e,
            "voucher Z12: department 30 does not exist in PowerOffice Go: create it there \
             (Avdelinger, with this code) or fix `department` under [vipps] or \
             [[vipps.units]] in luka.toml; the voucher was not posted without it"
        );
        assert_eq!(departments_of(&v), ["10", "30"]);
    }

    #[test]
    fn kinds_go_to_their_journals() {
        assert_eq!(Journal::for_kind(VoucherKind::DailySales), Journal::Cash);
        assert_eq!(Journal::for_kind(VoucherKind::VippsFees), Journal::Bank);
        assert_eq!(Journal::for_kind(VoucherKind::VippsPayout), Journal::Bank);
        assert_eq!(Journal::Bank.path(), "/Vouchers/BankJournals");
    }

    #[test]
    fn maps_lines_with_ids_vat_and_exact_amounts() {
        let v = sales();
        assert!(precheck(&v).is_ok());
        assert_eq!(accounts_of(&v), vec![1903, 1900, 3000, 3030]);
        let post = to_post(&v, &ids(&[1900, 1903, 3000, 3030])).unwrap();
        assert_eq!(post.external_import_reference, v.external_ref);
        assert_eq!(post.voucher_lines.len(), 3, "the zero line is left out");
        let json = serde_json::to_string(&post).unwrap();
        assert!(
            json.contains(r#"{"AccountId":19030,"CurrencyAmount":300.50,"Description":"line 1903","PostingDate":"2026-11-30","VatId":null}"#),
            "{json}"
        );
        assert!(json.contains(r#""CurrencyAmount":-100.50"#) && json.contains(r#""VatId":131"#));
        assert!(json.starts_with(r#"{"CurrencyCode":"NOK","VoucherDate":"2026-11-30""#));
    }

    #[test]
    fn refuses_what_cannot_be_right() {
        let mut v = sales();
        v.lines[0].amount += 1;
        let e = precheck(&v).unwrap_err();
        assert!(e.contains("Z12") && e.contains("does not balance"), "{e}");

        let e = to_post(&sales(), &ids(&[1900, 1903, 3000])).unwrap_err();
        assert_eq!(
            e,
            "voucher Z12: account 3030 does not exist in PowerOffice Go: create it or change \
             [bookkeeping.accounts] in luka.toml"
        );
        let mut v = sales();
        v.lines[2].vat_code = Some(33);
        let e = to_post(&v, &ids(&[1900, 1903, 3000, 3030])).unwrap_err();
        assert!(e.contains("VAT code 33"), "{e}");

        let mut v = transfer(
            VoucherKind::VippsFees,
            "30.11.2026",
            "F1".into(),
            "ref".into(),
            "fees".into(),
            "NOK",
            (7770, 1903),
            100,
        );
        assert!(precheck(&v).unwrap_err().contains("YYYY-MM-DD"));
        v.date = "2026-11-30".into();
        v.external_ref.clear();
        assert!(precheck(&v).unwrap_err().contains("external reference"));
    }
}
