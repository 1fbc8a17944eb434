//! The payment state machine: one pure `transition` function.
//!
//! Vipps ePayment has five *states* (CREATED, ABORTED, EXPIRED, AUTHORIZED,
//! TERMINATED) and eight *event names* (those plus CANCELLED, CAPTURED,
//! REFUNDED). A captured payment stays AUTHORIZED at Vipps; the till tracks
//! its own `PaymentPhase` that says how far the money has moved. What the
//! till learns (a GET, an event log entry, a modification response) may
//! arrive twice or out of order, so a phase only moves forward: a late
//! CREATED never overrides AUTHORIZED, and a final phase stays final.

use std::fmt;
use std::str::FromStr;

/// Amounts a provider reports for a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amounts {
    pub authorized: i64,
    pub captured: i64,
    pub cancelled: i64,
    pub refunded: i64,
}

/// What a payment provider is asked to collect for one sale: the store's
/// sale, reduced to what a provider may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOrder {
    pub sale_id: i64,
    pub till_id: String,
    /// The sale's payment reference, unique per merchant.
    pub reference: String,
    pub total: super::Money,
    pub description: String,
    /// Sent to this customer's app (`userFlow: PUSH_MESSAGE`), or, when
    /// none, shown as a QR.
    pub customer: Option<super::Customer>,
}

use serde::{Deserialize, Serialize};

/// The five ePayment states, as `GET /payments/{reference}` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VippsState {
    Created,
    Aborted,
    Expired,
    Authorized,
    Terminated,
}

/// The eight event names of the ePayment event log and webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VippsEvent {
    Created,
    Aborted,
    Expired,
    Cancelled,
    Captured,
    Refunded,
    Authorized,
    Terminated,
}

/// How far a payment has come, as the till knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentPhase {
    /// Written locally; the provider has not confirmed it exists yet.
    Initiated,
    /// Exists at the provider; the customer has not acted.
    Created,
    /// The customer approved: money is reserved, not yet moved.
    Authorized,
    /// Money moved to the merchant.
    Captured,
    /// Some or all captured money went back to the customer.
    Refunded,
    /// The customer said no. Final.
    Aborted,
    /// Nobody acted in time. Final.
    Expired,
    /// The merchant cancelled; any reservation is released. Final.
    Terminated,
}

/// One piece of information about a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    State(VippsState),
    Event(VippsEvent),
}

/// What `transition` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The phase moved.
    Moved(PaymentPhase),
    /// Nothing new (a duplicate, or a state that is already implied).
    Unchanged,
    /// Stale or impossible information; logged by the caller, never applied.
    Ignored(&'static str),
}

impl PaymentPhase {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PaymentPhase::Aborted | PaymentPhase::Expired | PaymentPhase::Terminated
        )
    }

    /// True when money is reserved at the provider but not captured:
    /// the one situation the till must never leave behind.
    pub fn holds_reservation(self) -> bool {
        self == PaymentPhase::Authorized
    }

    /// Position on the happy path, for "only forward" decisions.
    fn rank(self) -> u8 {
        match self {
            PaymentPhase::Initiated => 0,
            PaymentPhase::Created => 1,
            PaymentPhase::Authorized => 2,
            PaymentPhase::Captured => 3,
            PaymentPhase::Refunded => 4,
            PaymentPhase::Aborted | PaymentPhase::Expired | PaymentPhase::Terminated => 5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentPhase::Initiated => "initiated",
            PaymentPhase::Created => "created",
            PaymentPhase::Authorized => "authorized",
            PaymentPhase::Captured => "captured",
            PaymentPhase::Refunded => "refunded",
            PaymentPhase::Aborted => "aborted",
            PaymentPhase::Expired => "expired",
            PaymentPhase::Terminated => "terminated",
        }
    }
}

impl fmt::Display for PaymentPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaymentPhase {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "initiated" => PaymentPhase::Initiated,
            "created" => PaymentPhase::Created,
            "authorized" => PaymentPhase::Authorized,
            "captured" => PaymentPhase::Captured,
            "refunded" => PaymentPhase::Refunded,
            "aborted" => PaymentPhase::Aborted,
            "expired" => PaymentPhase::Expired,
            "terminated" => PaymentPhase::Terminated,
            other => return Err(format!("unknown payment phase '{other}'")),
        })
    }
}

/// The phase a signal points at on its own.
fn target(signal: Signal) -> PaymentPhase {
    use PaymentPhase as P;
    match signal {
        Signal::State(VippsState::Created) | Signal::Event(VippsEvent::Created) => P::Created,
        Signal::State(VippsState::Authorized) | Signal::Event(VippsEvent::Authorized) => {
            P::Authorized
        }
        Signal::Event(VippsEvent::Captured) => P::Captured,
        Signal::Event(VippsEvent::Refunded) => P::Refunded,
        Signal::State(VippsState::Aborted) | Signal::Event(VippsEvent::Aborted) => P::Aborted,
        Signal::State(VippsState::Expired) | Signal::Event(VippsEvent::Expired) => P::Expired,
        Signal::State(VippsState::Terminated)
        | Signal::Event(VippsEvent::Terminated)
        | Signal::Event(VippsEvent::Cancelled) => P::Terminated,
    }
}

/// The payment state machine. Pure; the caller logs `Ignored` reasons.
pub fn transition(current: PaymentPhase, signal: Signal) -> Transition {
    use PaymentPhase as P;
    let next = target(signal);
    if next == current {
        return Transition::Unchanged;
    }
    if current.is_final() {
        return Transition::Ignored("the payment already reached a final state");
    }
    match (current, next) {
        // A GET says AUTHORIZED for captured and refunded payments too.
        (P::Captured | P::Refunded, P::Authorized | P::Created) => Transition::Unchanged,
        (P::Authorized, P::Created) => Transition::Unchanged,
        // The customer can no longer abort, nor can it expire, once approved.
        (P::Authorized | P::Captured | P::Refunded, P::Aborted | P::Expired) => {
            Transition::Ignored("an approved payment cannot be aborted or expire")
        }
        // Cancelling after capture is refused by Vipps; a claim otherwise is stale.
        (P::Captured | P::Refunded, P::Terminated) => {
            Transition::Ignored("a captured payment cannot be cancelled")
        }
        (P::Refunded, P::Captured) => Transition::Unchanged,
        // Initiated may jump anywhere: the first thing we hear may be late news.
        (_, n) if n.rank() > current.rank() => Transition::Moved(n),
        _ => Transition::Ignored("older than what is already known"),
    }
}

/// Folds many signals (an event log, say) into a phase.
pub fn fold(start: PaymentPhase, signals: impl IntoIterator<Item = Signal>) -> PaymentPhase {
    signals
        .into_iter()
        .fold(start, |phase, s| match transition(phase, s) {
            Transition::Moved(p) => p,
            _ => phase,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentPhase as P;
    use Signal::{Event as E, State as S};
    use VippsEvent as Ev;
    use VippsState as St;

    #[test]
    fn transition_table() {
        let cases: &[(P, Signal, Transition)] = &[
            (P::Initiated, S(St::Created), Transition::Moved(P::Created)),
            (
                P::Initiated,
                S(St::Authorized),
                Transition::Moved(P::Authorized),
            ),
            (P::Created, S(St::Created), Transition::Unchanged),
            (
                P::Created,
                S(St::Authorized),
                Transition::Moved(P::Authorized),
            ),
            (P::Created, S(St::Aborted), Transition::Moved(P::Aborted)),
            (P::Created, S(St::Expired), Transition::Moved(P::Expired)),
            (
                P::Created,
                S(St::Terminated),
                Transition::Moved(P::Terminated),
            ),
            (
                P::Created,
                E(Ev::Cancelled),
                Transition::Moved(P::Terminated),
            ),
            (P::Authorized, S(St::Created), Transition::Unchanged),
            (
                P::Authorized,
                E(Ev::Captured),
                Transition::Moved(P::Captured),
            ),
            (
                P::Authorized,
                E(Ev::Cancelled),
                Transition::Moved(P::Terminated),
            ),
            (P::Captured, S(St::Authorized), Transition::Unchanged),
            (P::Captured, E(Ev::Refunded), Transition::Moved(P::Refunded)),
            (P::Refunded, E(Ev::Refunded), Transition::Unchanged),
            (P::Refunded, E(Ev::Captured), Transition::Unchanged),
        ];
        for (from, signal, expected) in cases {
            assert_eq!(
                transition(*from, *signal),
                *expected,
                "{from:?} + {signal:?}"
            );
        }
    }

    #[test]
    fn invalid_and_stale_information_is_ignored() {
        let ignored: &[(P, Signal)] = &[
            (P::Authorized, S(St::Aborted)),
            (P::Authorized, E(Ev::Expired)),
            (P::Captured, E(Ev::Cancelled)),
            (P::Captured, S(St::Terminated)),
            (P::Aborted, S(St::Authorized)),
            (P::Expired, E(Ev::Captured)),
            (P::Terminated, S(St::Created)),
            (P::Terminated, E(Ev::Authorized)),
            (P::Captured, E(Ev::Created)),
        ];
        for (from, signal) in ignored {
            let t = transition(*from, *signal);
            assert!(
                matches!(t, Transition::Ignored(_) | Transition::Unchanged),
                "{from:?} + {signal:?} gave {t:?}"
            );
            assert_eq!(fold(*from, [*signal]), *from, "{from:?} must not move");
        }
    }

    /// Every order of a real history ends in the same phase.
    #[test]
    fn event_logs_in_any_order_and_with_duplicates_agree() {
        let histories: &[(&[Ev], P)] = &[
            (&[Ev::Created, Ev::Aborted], P::Aborted),
            (&[Ev::Created, Ev::Expired], P::Expired),
            (&[Ev::Created, Ev::Cancelled], P::Terminated),
            (&[Ev::Created, Ev::Authorized], P::Authorized),
            (&[Ev::Created, Ev::Authorized, Ev::Cancelled], P::Terminated),
            (&[Ev::Created, Ev::Authorized, Ev::Captured], P::Captured),
            (
                &[Ev::Created, Ev::Authorized, Ev::Captured, Ev::Refunded],
                P::Refunded,
            ),
            (
                &[
                    Ev::Created,
                    Ev::Authorized,
                    Ev::Captured,
                    Ev::Refunded,
                    Ev::Refunded,
                ],
                P::Refunded,
            ),
        ];
        for (history, expected) in histories {
            for perm in permutations(history) {
                let mut doubled = perm.clone();
                doubled.extend(perm.iter().rev());
                for seq in [perm, doubled] {
                    let got = fold(P::Initiated, seq.iter().map(|e| E(*e)));
                    assert_eq!(got, *expected, "{seq:?}");
                }
            }
        }
    }

    fn permutations(items: &[Ev]) -> Vec<Vec<Ev>> {
        if items.len() <= 1 {
            return vec![items.to_vec()];
        }
        let mut out = Vec::new();
        for i in 0..items.len() {
            let mut rest = items.to_vec();
            let head = rest.remove(i);
            for mut tail in permutations(&rest) {
                tail.insert(0, head);
                out.push(tail);
            }
        }
        out
    }

    #[test]
    fn phases_round_trip_as_text() {
        for p in [
            P::Initiated,
            P::Created,
            P::Authorized,
            P::Captured,
            P::Refunded,
            P::Aborted,
            P::Expired,
            P::Terminated,
        ] {
            assert_eq!(p.as_str().parse::<P>(), Ok(p));
        }
    }
}
