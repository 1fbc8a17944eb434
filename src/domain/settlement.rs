//! A Vipps settlement day as the till sees it: the rows of the Report API's
//! funds ledger for one ledger date, independent of the wire format.
//!
//! Sign rule (as Vipps reports them): a row's `amount` moves the ledger
//! balance, so captures are positive and refunds, retained fees and
//! payouts are negative, in minor units.

use serde::{Deserialize, Serialize};

/// A Vipps movement the journal recorded (a capture or a refund).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booked {
    pub reference: String,
    /// Positive, minor units.
    pub amount: i64,
}

/// The journal's side of a date: Vipps captures and refunds made that day,
/// what the reconciliation compares with the settlement rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalSide {
    pub captures: Vec<Booked>,
    pub refunds: Vec<Booked>,
}

/// Which of the till's Vipps sales one settlement ledger covers: those
/// paid to `msn` (issue 16, part 4: each sales unit's MSN is settled in a
/// ledger of its own). `own`: this is `[vipps]`'s own MSN, which also
/// settles the sales that name no MSN (made before sales units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitSales {
    pub msn: String,
    pub own: bool,
}

/// The `entryType` of a Report API transaction. Types this till does not
/// know are kept as `Other` for a person to review, never a parse error.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum EntryType {
    Capture,
    Refund,
    FeesRetained,
    FeesInvoiced,
    CaptureFee,
    ScheduledForPayout,
    PayoutAborted,
    RetainedDisputedCapture,
    ReturnedDisputedCapture,
    Correction,
    TopUp,
    Other(String),
}

impl EntryType {
    pub fn as_str(&self) -> &str {
        match self {
            EntryType::Capture => "capture",
            EntryType::Refund => "refund",
            EntryType::FeesRetained => "fees-retained",
            EntryType::FeesInvoiced => "fees-invoiced",
            EntryType::CaptureFee => "capture-fee",
            EntryType::ScheduledForPayout => "scheduled-for-payout",
            EntryType::PayoutAborted => "payout-aborted",
            EntryType::RetainedDisputedCapture => "retained-disputed-capture",
            EntryType::ReturnedDisputedCapture => "returned-disputed-capture",
            EntryType::Correction => "correction",
            EntryType::TopUp => "top-up",
            EntryType::Other(s) => s,
        }
    }
}

impl From<String> for EntryType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "capture" => EntryType::Capture,
            "refund" => EntryType::Refund,
            "fees-retained" => EntryType::FeesRetained,
            "fees-invoiced" => EntryType::FeesInvoiced,
            "capture-fee" => EntryType::CaptureFee,
            // The spec's enum says `scheduled-for-payout`; Vipps' guide
            // writes `payout-scheduled`. Both are the same booking.
            "scheduled-for-payout" | "payout-scheduled" => EntryType::ScheduledForPayout,
            "payout-aborted" => EntryType::PayoutAborted,
            "retained-disputed-capture" => EntryType::RetainedDisputedCapture,
            "returned-disputed-capture" => EntryType::ReturnedDisputedCapture,
            "correction" => EntryType::Correction,
            "top-up" => EntryType::TopUp,
            _ => EntryType::Other(s),
        }
    }
}

impl From<EntryType> for String {
    fn from(e: EntryType) -> Self {
        e.as_str().to_string()
    }
}

/// One row of a ledger day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementEntry {
    pub psp_reference: String,
    /// RFC 3339 UTC.
    pub time: String,
    /// `YYYY-MM-DD`.
    pub ledger_date: String,
    pub entry_type: EntryType,
    /// The merchant's payment reference (the till's sale reference), when
    /// the row belongs to a payment.
    pub reference: Option<String>,
    pub currency: String,
    /// Signed, minor units: see the module doc.
    pub amount: i64,
    pub recipient_handle: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_types_round_trip_and_unknown_ones_are_kept() {
        for s in [
            "capture",
            "refund",
            "fees-retained",
            "scheduled-for-payout",
            "top-up",
        ] {
            assert_eq!(EntryType::from(s.to_string()).as_str(), s);
        }
        let odd = EntryType::from("interchange-adjustment".to_string());
        assert_eq!(odd, EntryType::Other("interchange-adjustment".into()));
        let json = serde_json::to_string(&odd).unwrap();
        assert_eq!(json, "\"interchange-adjustment\"");
    }
}
