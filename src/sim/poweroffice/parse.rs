//! Reading a posted `CashVoucherPostDto` / `BankVoucherPostDto` the way the
//! spec defines it: known members only (`additionalProperties: false`), the
//! `required` members present, each value of its type. Pure.
//!
//! Amounts are read from the raw JSON text, never through a float, so a
//! client that sends `0.30000000000000004` is caught instead of rounded.
//! Owns the shape of a request only; balance, ids and duplicates are the
//! ledger's.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::bookkeeping::poweroffice::amount::parse_decimal;
use crate::bookkeeping::poweroffice::map::Journal;

const HEADER_MEMBERS: [&str; 8] = [
    "CurrencyCode",
    "Description",
    "ExternalImportReference",
    "ImportedVoucherNo",
    "SaftBatchId",
    "SaftSourceId",
    "VoucherDate",
    "VoucherLines",
];

const LINE_MEMBERS: [&str; 18] = [
    "AccountId",
    "CurrencyAmount",
    "CurrencyCode",
    "CurrencyExchangeRate",
    "CustomMatchingReference",
    "DepartmentId",
    "Description",
    "Dim1Id",
    "Dim2Id",
    "Dim3Id",
    "ExternalLineReference",
    "LocationId",
    "PostingDate",
    "ProductId",
    "ProjectId",
    "Quantity",
    "Quantity2",
    "VatId",
];

/// Members only `BankVoucherLinePostDto` has.
const BANK_LINE_MEMBERS: [&str; 2] = ["Cid", "InvoiceNo"];

/// A voucher as posted, before the ledger looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VoucherIn {
    pub currency_code: String,
    pub voucher_date: String,
    pub description: Option<String>,
    pub external_ref: Option<String>,
    pub lines: Vec<LineIn>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineIn {
    pub account_id: i64,
    /// Øre; 0 when the member was missing.
    pub amount: i64,
    pub currency_code: Option<String>,
    pub description: Option<String>,
    pub posting_date: String,
    pub vat_id: Option<i64>,
    pub department_id: Option<i64>,
}

type Members = BTreeMap<String, Box<RawValue>>;

pub(crate) fn dto_name(journal: Journal) -> &'static str {
    match journal {
        Journal::Cash => "CashVoucherPostDto",
        Journal::Bank => "BankVoucherPostDto",
    }
}

/// The body, or the detail of a 400 saying what is wrong with it.
pub(crate) fn voucher(body: &[u8], journal: Journal) -> Result<VoucherIn, String> {
    let dto = dto_name(journal);
    let head: Members = serde_json::from_slice(body)
        .map_err(|e| format!("The request body is not a {dto} JSON object: {e}"))?;
    known_only(&head, &HEADER_MEMBERS, &[], dto)?;
    let lines: Vec<Members> = optional(&head, "VoucherLines")?.unwrap_or_default();
    let line_dto = dto.replace("PostDto", "LinePostDto");
    let extra: &[&str] = match journal {
        Journal::Cash => &[],
        Journal::Bank => &BANK_LINE_MEMBERS,
    };
    let lines = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            known_only(l, &LINE_MEMBERS, extra, &line_dto)?;
            line(l).map_err(|e| format!("VoucherLines[{i}]: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let currency_code: String = required(&head, "CurrencyCode")?;
    if currency_code.len() > 3 {
        return Err("CurrencyCode: the maximum length is 3".into());
    }
    Ok(VoucherIn {
        currency_code,
        voucher_date: date(required(&head, "VoucherDate")?, "VoucherDate")?,
        description: optional(&head, "Description")?,
        external_ref: optional(&head, "ExternalImportReference")?,
        lines,
    })
}

fn line(l: &Members) -> Result<LineIn, String> {
    if !l.contains_key("VatId") {
        return Err("The VatId field is required (null for no VAT).".into());
    }
    let amount = match l.get("CurrencyAmount") {
        None => 0,
        Some(raw) => {
            parse_decimal(raw.get(), 2).map_err(|e| format!("CurrencyAmount {} {e}", raw.get()))?
        }
    };
    Ok(LineIn {
        account_id: required(l, "AccountId")?,
        amount,
        currency_code: optional(l, "CurrencyCode")?,
        description: optional(l, "Description")?,
        posting_date: date(required(l, "PostingDate")?, "PostingDate")?,
        vat_id: optional(l, "VatId")?,
        department_id: optional(l, "DepartmentId")?,
    })
}

fn known_only(m: &Members, known: &[&str], extra: &[&str], dto: &str) -> Result<(), String> {
    match m
        .keys()
        .find(|k| !known.contains(&k.as_str()) && !extra.contains(&k.as_str()))
    {
        Some(k) => Err(format!(
            "Could not find member '{k}' on object of type '{dto}'."
        )),
        None => Ok(()),
    }
}

/// A member that may be missing or `null`.
fn optional<T: DeserializeOwned>(m: &Members, name: &str) -> Result<Option<T>, String> {
    match m.get(name) {
        None => Ok(None),
        Some(raw) => {
            serde_json::from_str::<Option<T>>(raw.get()).map_err(|e| format!("{name}: {e}"))
        }
    }
}

fn required<T: DeserializeOwned>(m: &Members, name: &str) -> Result<T, String> {
    optional(m, name)?.ok_or_else(|| format!("The {name} field is required."))
}

fn date(text: String, name: &str) -> Result<String, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(&text, format) {
        Ok(_) => Ok(text),
        Err(_) => Err(format!("{name}: '{text}' is not a date (YYYY-MM-DD)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"CurrencyCode":"NOK","VoucherDate":"2026-11-30",
        "ExternalImportReference":"r1","VoucherLines":[
        {"AccountId":1,"CurrencyAmount":10.50,"PostingDate":"2026-11-30","VatId":null},
        {"AccountId":2,"CurrencyAmount":-10.5,"PostingDate":"2026-11-30","VatId":7,
         "Description":"salg"}]}"#;

    #[test]
    fn reads_a_voucher_exactly() {
        let v = voucher(GOOD.as_bytes(), Journal::Cash).unwrap();
        assert_eq!(v.external_ref.as_deref(), Some("r1"));
        assert_eq!(v.lines[0].amount, 1050);
        assert_eq!(v.lines[1].amount, -1050);
        assert_eq!(v.lines[1].vat_id, Some(7));
        assert_eq!(v.lines[0].vat_id, None);
    }

    #[test]
    fn refuses_what_the_spec_does_not_allow() {
        let bad = |body: &str, journal, needle: &str| {
            let e = voucher(body.as_bytes(), journal).unwrap_err();
            assert!(e.contains(needle), "{e}");
        };
        let cash = Journal::Cash;
        bad("[]", cash, "not a CashVoucherPostDto");
        bad(
            r#"{"VoucherDate":"2026-11-30"}"#,
            cash,
            "CurrencyCode field is required",
        );
        bad(
            r#"{"CurrencyCode":"NOK"}"#,
            cash,
            "VoucherDate field is required",
        );
        bad(
            r#"{"CurrencyCode":"NOK","VoucherDate":"30.11.2026"}"#,
            cash,
            "not a date",
        );
        bad(
            r#"{"CurrencyCode":"NOK","VoucherDate":"2026-11-30","Amount":1}"#,
            cash,
            "member 'Amount' on object of type 'CashVoucherPostDto'",
        );
        let with_line = |line: &str| {
            format!(
                r#"{{"CurrencyCode":"NOK","VoucherDate":"2026-11-30","VoucherLines":[{line}]}}"#
            )
        };
        bad(
            &with_line(r#"{"AccountId":1,"CurrencyAmount":1,"PostingDate":"2026-11-30"}"#),
            cash,
            "VatId field is required",
        );
        bad(
            &with_line(
                r#"{"AccountId":1,"CurrencyAmount":0.001,"PostingDate":"2026-11-30","VatId":null}"#,
            ),
            cash,
            "more than 2 decimals",
        );
        bad(
            &with_line(r#"{"AccountNo":1900,"PostingDate":"2026-11-30","VatId":null}"#),
            cash,
            "member 'AccountNo' on object of type 'CashVoucherLinePostDto'",
        );
        let cid =
            with_line(r#"{"AccountId":1,"Cid":"123","PostingDate":"2026-11-30","VatId":null}"#);
        bad(&cid, cash, "member 'Cid'");
        assert!(
            voucher(cid.as_bytes(), Journal::Bank).is_ok(),
            "bank lines have a Cid"
        );
    }
}
