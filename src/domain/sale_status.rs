//! What to do next with a sale, given what the provider says about its payment.
//!
//! One pure decision used by the poller, the outbox workers and start-up
//! resume alike, so "what happens after AUTHORIZED" lives in one place.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::payment::PaymentPhase;

/// The sale's own status in the till (stored as TEXT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleStatus {
    /// Committed locally; the payment is being created at the provider.
    Pending,
    /// The payment exists; waiting for the customer (QR on screen).
    Awaiting,
    /// The customer approved; the capture is queued.
    Capturing,
    /// The cashier or the expiry rule cancelled; the cancel is queued.
    Cancelling,
    /// Money captured. Final.
    Paid,
    /// Closed without money moving. Final.
    Unpaid,
}

impl SaleStatus {
    /// Every status a sale can have before it is paid or closed.
    pub const OPEN: [SaleStatus; 4] = [
        SaleStatus::Pending,
        SaleStatus::Awaiting,
        SaleStatus::Capturing,
        SaleStatus::Cancelling,
    ];

    pub fn is_final(self) -> bool {
        matches!(self, SaleStatus::Paid | SaleStatus::Unpaid)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SaleStatus::Pending => "pending",
            SaleStatus::Awaiting => "awaiting",
            SaleStatus::Capturing => "capturing",
            SaleStatus::Cancelling => "cancelling",
            SaleStatus::Paid => "paid",
            SaleStatus::Unpaid => "unpaid",
        }
    }
}

impl fmt::Display for SaleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SaleStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => SaleStatus::Pending,
            "awaiting" => SaleStatus::Awaiting,
            "capturing" => SaleStatus::Capturing,
            "cancelling" => SaleStatus::Cancelling,
            "paid" => SaleStatus::Paid,
            "unpaid" => SaleStatus::Unpaid,
            other => return Err(format!("unknown sale status '{other}'")),
        })
    }
}

/// Why a sale closed without payment. The words a volunteer reads for each
/// are the screen's (`ui/words.slint`), not the domain's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnpaidReason {
    /// The customer rejected in the app.
    Aborted,
    /// Nobody approved before the payment expired.
    Expired,
    /// The cashier cancelled (or the expiry rule did), reservation released.
    Cancelled,
    /// The provider refused to create the payment.
    Rejected,
    /// The provider refused to send the payment to the customer it was
    /// addressed to (a phone number that is not a Vipps user, a scan that
    /// is not a personal Vipps code).
    CustomerRefused,
    /// The provider does not know the payment (it was never created).
    Unknown,
}

impl UnpaidReason {
    pub fn as_str(self) -> &'static str {
        match self {
            UnpaidReason::Aborted => "aborted",
            UnpaidReason::Expired => "expired",
            UnpaidReason::Cancelled => "cancelled",
            UnpaidReason::Rejected => "rejected",
            UnpaidReason::CustomerRefused => "customer_refused",
            UnpaidReason::Unknown => "unknown",
        }
    }
}

impl FromStr for UnpaidReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "aborted" => UnpaidReason::Aborted,
            "expired" => UnpaidReason::Expired,
            "cancelled" => UnpaidReason::Cancelled,
            "rejected" => UnpaidReason::Rejected,
            "customer_refused" => UnpaidReason::CustomerRefused,
            "unknown" => UnpaidReason::Unknown,
            other => return Err(format!("unknown unpaid reason '{other}'")),
        })
    }
}

/// A payment as last read from the provider, amounts in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub phase: PaymentPhase,
    pub authorized: i64,
    pub captured: i64,
    pub cancelled: i64,
}

/// The next step for a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Keep polling.
    Wait,
    /// Queue a capture of the full amount.
    Capture,
    /// Queue a cancel: the payment outlived its lifetime.
    CancelExpired,
    /// Money is captured: the sale is paid.
    MarkPaid,
    /// Close the sale as not paid.
    CloseUnpaid(UnpaidReason),
}

/// Decides the next step. `expired` is true when the payment is past its
/// lifetime plus the safety margin (the caller reads the clock).
pub fn decide(status: SaleStatus, amount: i64, snap: Snapshot, expired: bool) -> Decision {
    use PaymentPhase as P;
    if status.is_final() {
        return Decision::Wait;
    }
    // Money that moved wins over any intent: a full capture is a paid sale.
    if snap.captured >= amount && amount > 0 {
        return Decision::MarkPaid;
    }
    let released = match snap.phase {
        P::Aborted => Some(UnpaidReason::Aborted),
        P::Expired => Some(UnpaidReason::Expired),
        P::Terminated => Some(UnpaidReason::Cancelled),
        _ => None,
    };
    if let Some(reason) = released {
        return Decision::CloseUnpaid(reason);
    }
    match (status, snap.phase) {
        (SaleStatus::Pending | SaleStatus::Awaiting, P::Authorized) => Decision::Capture,
        (SaleStatus::Pending | SaleStatus::Awaiting, P::Initiated | P::Created) if expired => {
            Decision::CancelExpired
        }
        _ => Decision::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentPhase as P;
    use SaleStatus as S;

    fn snap(phase: P, captured: i64) -> Snapshot {
        let authorized = if matches!(phase, P::Authorized | P::Captured | P::Refunded) {
            15_000
        } else {
            0
        };
        Snapshot {
            phase,
            authorized,
            captured,
            cancelled: 0,
        }
    }

    #[test]
    fn decision_table() {
        let a = 15_000;
        let cases: &[(S, Snapshot, bool, Decision)] = &[
            (S::Awaiting, snap(P::Created, 0), false, Decision::Wait),
            (
                S::Awaiting,
                snap(P::Created, 0),
                true,
                Decision::CancelExpired,
            ),
            (
                S::Awaiting,
                snap(P::Authorized, 0),
                false,
                Decision::Capture,
            ),
            (S::Pending, snap(P::Authorized, 0), false, Decision::Capture),
            (
                S::Awaiting,
                snap(P::Aborted, 0),
                false,
                Decision::CloseUnpaid(UnpaidReason::Aborted),
            ),
            (
                S::Awaiting,
                snap(P::Expired, 0),
                false,
                Decision::CloseUnpaid(UnpaidReason::Expired),
            ),
            (
                S::Awaiting,
                snap(P::Terminated, 0),
                false,
                Decision::CloseUnpaid(UnpaidReason::Cancelled),
            ),
            (S::Capturing, snap(P::Authorized, 0), false, Decision::Wait),
            (
                S::Capturing,
                snap(P::Captured, a),
                false,
                Decision::MarkPaid,
            ),
            // Capture reported by a GET (state stays AUTHORIZED, aggregate moved).
            (
                S::Capturing,
                snap(P::Authorized, a),
                false,
                Decision::MarkPaid,
            ),
            // A crash after capture but before we recorded it: still paid once.
            (S::Awaiting, snap(P::Captured, a), false, Decision::MarkPaid),
            (S::Cancelling, snap(P::Authorized, 0), false, Decision::Wait),
            (S::Cancelling, snap(P::Created, 0), true, Decision::Wait),
            // The customer's own "no" or the expiry reached Vipps first.
            (
                S::Cancelling,
                snap(P::Expired, 0),
                false,
                Decision::CloseUnpaid(UnpaidReason::Expired),
            ),
            (
                S::Cancelling,
                snap(P::Terminated, 0),
                false,
                Decision::CloseUnpaid(UnpaidReason::Cancelled),
            ),
            (S::Paid, snap(P::Captured, a), false, Decision::Wait),
            (S::Unpaid, snap(P::Authorized, 0), false, Decision::Wait),
        ];
        for (status, s, expired, expected) in cases {
            assert_eq!(
                decide(*status, a, *s, *expired),
                *expected,
                "{status:?} {s:?}"
            );
        }
    }

    #[test]
    fn a_cancelling_sale_never_captures() {
        for phase in [P::Created, P::Authorized] {
            for expired in [false, true] {
                let d = decide(S::Cancelling, 100, snap(phase, 0), expired);
                assert_ne!(d, Decision::Capture);
            }
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            S::Pending,
            S::Awaiting,
            S::Capturing,
            S::Cancelling,
            S::Paid,
            S::Unpaid,
        ] {
            assert_eq!(s.as_str().parse::<S>(), Ok(s));
        }
    }
}
