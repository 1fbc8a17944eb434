//! The simulated client's books: accounts, VAT codes, posted vouchers and the
//! running balance per account. Posting validates everything first and then
//! applies all of it, so a refused voucher leaves no trace and an accepted one
//! is booked exactly once.
//!
//! The balance is the sum of the lines as posted (gross). Real Go splits the
//! VAT of a sales line out to the 27xx accounts; the simulator does not, so
//! `balance(3000)` is the gross sales on that account. Must never book a
//! voucher twice nor an unbalanced one.

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::parse::VoucherIn;
use super::seed::{SimAccount, SimDepartment, SimVatCode};
use crate::bookkeeping::poweroffice::amount::{Nok, format_decimal};
use crate::bookkeeping::poweroffice::dto::{AccountTransactionDto, VoucherDto, VoucherLineDto};
use crate::bookkeeping::poweroffice::map::Journal;

/// A voucher the simulator booked, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedVoucherRecord {
    /// PowerOffice's id (a uuid).
    pub id: String,
    pub voucher_no: i64,
    pub journal: Journal,
    pub external_ref: Option<String>,
    pub date: String,
    pub currency: String,
    pub description: Option<String>,
    pub lines: Vec<PostedLine>,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedLine {
    pub line_id: i64,
    pub account: u32,
    pub account_id: i64,
    /// The SAF-T code of the line's VatId, if any.
    pub vat_code: Option<String>,
    pub vat_id: Option<i64>,
    /// The code of the line's DepartmentId, if any.
    pub department: Option<String>,
    pub department_id: Option<i64>,
    /// Øre, debit positive.
    pub amount: i64,
    pub description: Option<String>,
    pub posting_date: String,
}

/// Why a voucher was refused: the ProblemDetails title and detail (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub title: &'static str,
    pub detail: String,
}

const NOT_FOUND: &str = "Object(s) not found";
const INVALID: &str = "Voucher validation error(s)";

fn refuse(title: &'static str, detail: String) -> Refusal {
    Refusal { title, detail }
}

pub(crate) struct Ledger {
    pub currency: String,
    pub accounts: Vec<SimAccount>,
    pub vat_codes: Vec<SimVatCode>,
    pub departments: Vec<SimDepartment>,
    pub vouchers: Vec<PostedVoucherRecord>,
    by_ref: HashMap<String, usize>,
    balances: BTreeMap<u32, i64>,
    next_line_id: i64,
}

impl Ledger {
    pub fn new(
        currency: String,
        accounts: Vec<SimAccount>,
        vat_codes: Vec<SimVatCode>,
        departments: Vec<SimDepartment>,
    ) -> Ledger {
        Ledger {
            currency,
            accounts,
            vat_codes,
            departments,
            vouchers: Vec::new(),
            by_ref: HashMap::new(),
            balances: BTreeMap::new(),
            next_line_id: 70_000_001,
        }
    }

    pub fn balance(&self, account: u32) -> i64 {
        self.balances.get(&account).copied().unwrap_or(0)
    }

    fn account_by_id(&self, id: i64) -> Option<&SimAccount> {
        self.accounts.iter().find(|a| a.id == id)
    }

    fn vat_by_id(&self, id: i64) -> Option<&SimVatCode> {
        self.vat_codes.iter().find(|v| v.id == id)
    }

    /// Validates `v` whole, then books it. The duplicate check comes last, as
    /// a unique index would refuse the insert.
    pub fn post(
        &mut self,
        journal: Journal,
        v: VoucherIn,
        id: String,
        now: OffsetDateTime,
    ) -> Result<&PostedVoucherRecord, Refusal> {
        if v.currency_code != self.currency {
            return Err(refuse(
                INVALID,
                format!(
                    "Currency code '{}' is not active on the client.",
                    v.currency_code
                ),
            ));
        }
        if v.lines.is_empty() {
            return Err(refuse(INVALID, "The voucher has no lines.".into()));
        }
        let mut lines = Vec::with_capacity(v.lines.len());
        for (i, l) in v.lines.iter().enumerate() {
            let account = self.account_by_id(l.account_id).ok_or_else(|| {
                refuse(
                    NOT_FOUND,
                    format!(
                        "General ledger account with id = {} not found.",
                        l.account_id
                    ),
                )
            })?;
            if !account.active {
                return Err(refuse(
                    INVALID,
                    format!("General ledger account {} is not active.", account.no),
                ));
            }
            let vat = match l.vat_id {
                None => None,
                Some(vid) => match self.vat_by_id(vid) {
                    Some(code) if code.active => Some(code.code.clone()),
                    _ => {
                        return Err(refuse(
                            NOT_FOUND,
                            format!("Vat code with id = {vid} not found."),
                        ));
                    }
                },
            };
            // As Go answers a line whose department it does not have
            // (the spec's example: "Department with code = 'Avdeling10'
            // not found.").
            let department = match l.department_id {
                None => None,
                Some(did) => match self.departments.iter().find(|d| d.id == did) {
                    Some(d) if d.active => Some(d.code.clone()),
                    Some(d) => {
                        return Err(refuse(
                            INVALID,
                            format!("Department {} is not active.", d.code),
                        ));
                    }
                    None => {
                        return Err(refuse(
                            NOT_FOUND,
                            format!("Department with id = {did} not found."),
                        ));
                    }
                },
            };
            if l.amount == 0 {
                return Err(refuse(
                    INVALID,
                    format!(
                        "VoucherLines[{i}]: the amount must be a positive or negative number, not 0."
                    ),
                ));
            }
            if l.currency_code
                .as_ref()
                .is_some_and(|c| *c != v.currency_code)
            {
                return Err(refuse(
                    INVALID,
                    format!("VoucherLines[{i}]: only the voucher's currency is supported here."),
                ));
            }
            lines.push(PostedLine {
                line_id: 0,
                account: account.no,
                account_id: account.id,
                vat_code: vat,
                vat_id: l.vat_id,
                department,
                department_id: l.department_id,
                amount: l.amount,
                description: l.description.clone(),
                posting_date: l.posting_date.clone(),
            });
        }
        let sum: i64 = lines.iter().map(|l| l.amount).sum();
        if sum != 0 {
            return Err(refuse(
                INVALID,
                format!(
                    "The voucher is not balanced: the sum of the lines is {}.",
                    format_decimal(sum, 2)
                ),
            ));
        }
        if let Some(r) = &v.external_ref
            && let Some(&i) = self.by_ref.get(r)
        {
            return Err(refuse(
                INVALID,
                format!(
                    "ExternalImportReference is already in use. '{r}' is used on (voucher) Id = {}.",
                    self.vouchers[i].id
                ),
            ));
        }
        for l in &mut lines {
            l.line_id = self.next_line_id;
            self.next_line_id += 1;
            *self.balances.entry(l.account).or_default() += l.amount;
        }
        let record = PostedVoucherRecord {
            id,
            voucher_no: self.vouchers.len() as i64 + 1,
            journal,
            external_ref: v.external_ref.clone(),
            date: v.voucher_date,
            currency: v.currency_code,
            description: v.description,
            lines,
            created: now.format(&Rfc3339).unwrap_or_default(),
        };
        if let Some(r) = v.external_ref {
            self.by_ref.insert(r, self.vouchers.len());
        }
        self.vouchers.push(record);
        Ok(self.vouchers.last().expect("just pushed"))
    }

    pub fn voucher(&self, journal: Journal, id: &str) -> Option<&PostedVoucherRecord> {
        self.vouchers
            .iter()
            .find(|v| v.journal == journal && v.id == id)
    }

    /// Account transactions whose posting date lies in `[from, to]` (ISO
    /// dates compare as text) on accounts `accepted`.
    pub fn transactions(
        &self,
        from: Option<&str>,
        to: Option<&str>,
        accepted: impl Fn(u32) -> bool,
    ) -> Vec<AccountTransactionDto> {
        let mut out = Vec::new();
        for v in &self.vouchers {
            for l in &v.lines {
                let date = l.posting_date.as_str();
                if from.is_some_and(|f| date < f)
                    || to.is_some_and(|t| date > t)
                    || !accepted(l.account)
                {
                    continue;
                }
                out.push(AccountTransactionDto {
                    id: l.line_id,
                    account_id: l.account_id,
                    account_no: i64::from(l.account),
                    amount: Nok(l.amount),
                    currency_amount: Nok(l.amount),
                    currency_code: Some(v.currency.clone()),
                    description: l.description.clone(),
                    external_import_reference: v.external_ref.clone(),
                    posting_date: l.posting_date.clone(),
                    voucher_date: v.date.clone(),
                    voucher_id: v.id.clone(),
                    voucher_no: v.voucher_no,
                    voucher_type: voucher_type(v.journal).to_string(),
                    vat_code: l.vat_code.clone(),
                    vat_id: l.vat_id,
                    department_id: l.department_id,
                    department_code: l.department.clone(),
                    created_date_time_offset: v.created.clone(),
                });
            }
        }
        out
    }
}

/// The spec's `VoucherType` for a journal.
pub(crate) fn voucher_type(journal: Journal) -> &'static str {
    match journal {
        Journal::Cash => "CashJournal",
        Journal::Bank => "BankJournal",
    }
}

/// The `CashVoucherDto` / `BankVoucherDto` of a booked voucher.
pub(crate) fn voucher_dto(v: &PostedVoucherRecord) -> VoucherDto {
    VoucherDto {
        id: v.id.clone(),
        voucher_no: v.voucher_no,
        voucher_date: v.date.clone(),
        currency_code: Some(v.currency.clone()),
        description: v.description.clone(),
        external_import_reference: v.external_ref.clone(),
        created_date_time_offset: v.created.clone(),
        is_reversed: Some(false),
        voucher_lines: Some(
            v.lines
                .iter()
                .map(|l| VoucherLineDto {
                    id: l.line_id,
                    account_id: Some(l.account_id),
                    currency_amount: Nok(l.amount),
                    currency_code: Some(v.currency.clone()),
                    description: l.description.clone(),
                    posting_date: l.posting_date.clone(),
                    vat_id: l.vat_id,
                    department_id: l.department_id,
                    created_date_time_offset: v.created.clone(),
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::LineIn;
    use super::super::seed;
    use super::*;

    fn ledger() -> Ledger {
        Ledger::new(
            "NOK".into(),
            seed::chart_of_accounts(),
            seed::vat_codes(),
            vec![SimDepartment::new("10", "Fotball")],
        )
    }

    fn id_of(l: &Ledger, no: u32) -> i64 {
        l.accounts.iter().find(|a| a.no == no).unwrap().id
    }

    fn voucher(l: &Ledger, reference: &str, lines: &[(u32, i64)]) -> VoucherIn {
        VoucherIn {
            currency_code: "NOK".into(),
            voucher_date: "2026-11-30".into(),
            description: None,
            external_ref: Some(reference.into()),
            lines: lines
                .iter()
                .map(|(no, amount)| LineIn {
                    account_id: id_of(l, *no),
                    amount: *amount,
                    currency_code: None,
                    description: None,
                    posting_date: "2026-11-30".into(),
                    vat_id: None,
                    department_id: None,
                })
                .collect(),
        }
    }

    #[test]
    fn books_balanced_vouchers_once() {
        let mut l = ledger();
        let now = OffsetDateTime::UNIX_EPOCH;
        let v = voucher(&l, "r1", &[(1903, 12_550), (3000, -12_550)]);
        l.post(Journal::Cash, v.clone(), "id-1".into(), now)
            .unwrap();
        assert_eq!((l.balance(1903), l.balance(3000)), (12_550, -12_550));
        let dup = l.post(Journal::Cash, v, "id-2".into(), now).unwrap_err();
        assert!(
            dup.detail
                .starts_with("ExternalImportReference is already in use.")
        );
        assert!(dup.detail.contains("Id = id-1"));
        assert_eq!(l.vouchers.len(), 1);
        assert_eq!(l.balance(1903), 12_550, "a refused duplicate books nothing");
        let t = l.transactions(Some("2026-11-30"), Some("2026-11-30"), |n| n == 1903);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].external_import_reference.as_deref(), Some("r1"));
    }

    #[test]
    fn refuses_without_booking_anything() {
        let mut l = ledger();
        let now = OffsetDateTime::UNIX_EPOCH;
        let unbalanced = voucher(&l, "r2", &[(1903, 100), (3000, -99)]);
        let e = l
            .post(Journal::Cash, unbalanced, "x".into(), now)
            .unwrap_err();
        assert_eq!(
            e.detail,
            "The voucher is not balanced: the sum of the lines is 0.01."
        );
        let mut unknown = voucher(&l, "r3", &[(1903, 100), (3000, -100)]);
        unknown.lines[1].account_id = 3000;
        let e = l.post(Journal::Cash, unknown, "x".into(), now).unwrap_err();
        assert_eq!(e.title, NOT_FOUND);
        let mut unknown = voucher(&l, "r5", &[(1903, 100), (3000, -100)]);
        unknown.lines[1].department_id = Some(10);
        let e = l.post(Journal::Cash, unknown, "x".into(), now).unwrap_err();
        assert_eq!(e.detail, "Department with id = 10 not found.");
        let mut known = voucher(&l, "r6", &[(1903, 100), (3000, -100)]);
        known.lines[1].department_id = Some(l.departments[0].id);
        let booked = l.post(Journal::Cash, known, "y".into(), now).unwrap();
        assert_eq!(booked.lines[1].department.as_deref(), Some("10"));
        l.vouchers.clear();
        l.balances.clear();
        l.by_ref.clear();
        let zero = voucher(&l, "r4", &[(1903, 0), (3000, 0)]);
        assert!(l.post(Journal::Cash, zero, "x".into(), now).is_err());
        assert!(l.vouchers.is_empty() && l.balance(1903) == 0);
    }
}
