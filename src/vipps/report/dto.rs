//! The Report API's wire shapes (shared with the simulator, which must answer in
//! them), and reading a row into a [`SettlementEntry`]: every field is optional in
//! the spec and `entryType` is open-ended, so a row parses unless its amount is missing.

use serde::{Deserialize, Serialize};
use serde_json::Number;
use time::Date;

use crate::domain::settlement::{EntryType, SettlementEntry};

/// The two reports of a ledger: `funds` (captures, refunds, retained fees, payouts) and
/// `fees` (what each capture cost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Topic {
    Funds,
    Fees,
}

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Funds => "funds",
            Topic::Fees => "fees",
        }
    }

    pub fn parse(s: &str) -> Option<Topic> {
        match s {
            "funds" => Some(Topic::Funds),
            "fees" => Some(Topic::Fees),
            _ => None,
        }
    }
}

/// Spec `BankAccount`, e.g. `{"scheme": "BBAN:NO", "id": "86011117947"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccount {
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub id: String,
}

/// Spec `Organization`, e.g. `{"scheme": "business:NO:ORG", "id": "987654321"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub id: String,
}

/// Spec `Ledger`. `currency` is not in the schema but is in the spec's example and in
/// real answers, so it is read when sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    #[serde(default)]
    pub ledger_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_bank_account: Option<BankAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Organization>,
    /// `api:<MSN>` for ePayment sales units, `NO:<number>` for Vippsnummer.
    #[serde(default)]
    pub settles_for_recipient_handles: Vec<String>,
}

/// 200 body of `GET /settlement/v1/ledgers`. An empty or absent `cursor` ends the list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgersPage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default)]
    pub items: Vec<Ledger>,
}

/// Spec `Transaction`: one row of a funds or fees report. Every field is optional in
/// the spec; amounts are `Money` (a JSON number of minor units), read through
/// [`minor_units`] so `100.0` is accepted as well as `100`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psp_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_date: Option<String>,
    /// Kept as text: [`EntryType`] decides what it means, and keeps what it does not know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_before: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_after: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_handle: Option<String>,
}

/// 200 body of `GET /report/v2/ledgers/{ledgerId}/{topic}/dates/{ledgerDate}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportPage {
    /// Present only when `hasMore` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    /// The date is not closed yet, so the report is incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub try_later: Option<bool>,
    #[serde(default)]
    pub items: Vec<Transaction>,
}

/// A whole minor-unit amount from a JSON number (`100` or `100.0`); `None` for
/// fractions and numbers beyond `i64`.
pub fn minor_units(n: &Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

/// One report row in the till's vocabulary. The amount is `amount`, or failing that
/// `balanceAfter - balanceBefore`; a row with neither cannot be booked and is refused.
/// A missing `ledgerDate` is the date that was asked for.
pub fn entry_from_wire(t: Transaction, asked: Date) -> Result<SettlementEntry, String> {
    let from_balances = || {
        let after = minor_units(t.balance_after.as_ref()?)?;
        after.checked_sub(minor_units(t.balance_before.as_ref()?)?)
    };
    let amount = match t.amount.as_ref() {
        Some(n) => minor_units(n),
        None => from_balances(),
    }
    .ok_or_else(|| {
        format!(
            "row {} ({}) has no whole amount in minor units",
            t.psp_reference.as_deref().unwrap_or("without pspReference"),
            t.entry_type.as_deref().unwrap_or("no entryType"),
        )
    })?;
    Ok(SettlementEntry {
        psp_reference: t.psp_reference.unwrap_or_default(),
        time: t.time.unwrap_or_default(),
        ledger_date: t.ledger_date.unwrap_or_else(|| ymd(asked)),
        entry_type: EntryType::from(t.entry_type.unwrap_or_default()),
        reference: t.reference.filter(|r| !r.is_empty()),
        currency: t.currency.unwrap_or_default(),
        amount,
        recipient_handle: t.recipient_handle,
    })
}

/// `YYYY-MM-DD`, as the path and `ledgerDate` spell a date.
pub fn ymd(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}
