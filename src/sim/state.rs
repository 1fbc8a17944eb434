//! The simulated merchant account: payments, their event logs, idempotent replies, issued
//! tokens and rate-limit windows, and every state transition the ePayment API allows.
//!
//! All of it sits behind one lock in [`super::Shared`] and every operation runs start to
//! finish under it, so two racing retries of one request can never both apply. Nothing
//! here does I/O or reads a clock: time and random tokens come in as parameters.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::StatusCode;
use rand::rngs::StdRng;
#[cfg(feature = "testing")]
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use super::idempotency::{Fingerprint, Stored};
use super::limits::{RateWindows, Tokens};
use super::problem::Fail;
use super::{SimError, SimPayment};
use crate::vipps::dto::{
    Aggregate, Amount, CreatePaymentRequest, CreatePaymentResponse, GetPaymentResponse, Metadata,
    ModificationResponse, PaymentEvent, PaymentEventName, PaymentMethodResponse, PaymentMethodType,
    ProfileResponse, State, UserFlow,
};

/// The moment an operation happens, on both clocks: monotonic for expiry and rate
/// limits, wall for the RFC 3339 timestamps in event logs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    pub mono: Instant,
    pub wall: OffsetDateTime,
}

impl Now {
    pub fn system() -> Now {
        Now {
            mono: Instant::now(),
            wall: OffsetDateTime::now_utc(),
        }
    }
}

/// A JSON answer kept so an idempotent retry gets exactly the first one again.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    fn new(status: StatusCode, body: &impl Serialize) -> Reply {
        Reply {
            status,
            body: serde_json::to_value(body).unwrap_or(Value::Null),
        }
    }
}

/// What a merchant asks of an existing payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Modification {
    Capture(Amount),
    Refund(Amount),
    Cancel,
}

impl Modification {
    pub fn operation(self) -> &'static str {
        match self {
            Modification::Capture(_) => "capturePayment",
            Modification::Refund(_) => "refundPayment",
            Modification::Cancel => "cancelPayment",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PaymentRecord {
    reference: String,
    psp_reference: String,
    amount: Amount,
    state: State,
    aggregate: Aggregate,
    method: PaymentMethodType,
    user_flow: UserFlow,
    redirect_url: Option<String>,
    phone_token: String,
    description: Option<String>,
    metadata: Option<Metadata>,
    created_mono: Instant,
    lifetime: Duration,
    created_at: OffsetDateTime,
    events: Vec<PaymentEvent>,
    captures: u32,
    cancels: u32,
    refunds: u32,
    /// How many of `events` were handed to the webhook delivery.
    announced: usize,
}

impl PaymentRecord {
    fn event(
        &mut self,
        name: PaymentEventName,
        amount: Amount,
        key: Option<&str>,
        at: OffsetDateTime,
        psp: String,
    ) {
        self.events.push(PaymentEvent {
            reference: self.reference.clone(),
            psp_reference: psp,
            name,
            amount,
            timestamp: at.format(&Rfc3339).unwrap_or_default(),
            idempotency_key: key.map(str::to_string),
            success: true,
        });
    }

    /// Expiry is evaluated lazily on every access, as if Vipps had expired the payment at
    /// the exact moment its lifetime ran out (that is the event's timestamp).
    fn refresh(&mut self, now: Now) {
        if self.state == State::Created
            && now.mono.duration_since(self.created_mono) >= self.lifetime
        {
            self.state = State::Expired;
            let at = self.created_at + self.lifetime;
            let psp = self.psp_reference.clone();
            self.event(PaymentEventName::Expired, self.amount, None, at, psp);
        }
    }

    fn view(&self) -> GetPaymentResponse {
        GetPaymentResponse {
            aggregate: self.aggregate,
            amount: self.amount,
            state: self.state,
            payment_method: PaymentMethodResponse {
                kind: self.method,
                card_bin: None,
            },
            profile: ProfileResponse::default(),
            psp_reference: self.psp_reference.clone(),
            redirect_url: self.redirect_url.clone(),
            reference: self.reference.clone(),
            metadata: self.metadata.clone(),
        }
    }

    pub fn snapshot(&self, public_base: &str) -> SimPayment {
        SimPayment {
            reference: self.reference.clone(),
            psp_reference: self.psp_reference.clone(),
            state: self.state,
            amount: self.amount,
            aggregate: self.aggregate,
            user_flow: self.user_flow,
            description: self.description.clone(),
            redirect_url: self.redirect_url.clone(),
            phone_url: format!("{public_base}/phone/{}", self.phone_token),
            events: self.events.clone(),
            captures: self.captures,
            cancels: self.cancels,
            refunds: self.refunds,
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct IdemScope {
    operation: &'static str,
    reference: String,
    key: String,
}

pub(crate) struct SimState {
    payments: HashMap<String, PaymentRecord>,
    order: Vec<String>,
    by_phone_token: HashMap<String, String>,
    idempotent: HashMap<IdemScope, Stored>,
    pub tokens: Tokens,
    pub reads: RateWindows,
    pub modifications: RateWindows,
    /// Seeded, so pspReferences and shuffled event logs repeat from run to run.
    rng: StdRng,
    /// A test's knob (`SimHandle::set_events_disorder`); test builds only.
    #[cfg(feature = "testing")]
    pub events_disorder: bool,
    /// Payments that may have new events since [`SimState::fresh_events`].
    touched: Vec<String>,
}

/// Everything a new payment needs besides the request itself.
pub(crate) struct NewPayment<'a> {
    pub key: &'a str,
    pub fingerprint: Value,
    pub phone_token: String,
    pub redirect_url: Option<String>,
    pub lifetime: Duration,
}

impl SimState {
    pub fn new(seed: u64) -> SimState {
        SimState {
            payments: HashMap::new(),
            order: Vec::new(),
            by_phone_token: HashMap::new(),
            idempotent: HashMap::new(),
            tokens: Tokens::default(),
            reads: RateWindows::default(),
            modifications: RateWindows::default(),
            rng: StdRng::seed_from_u64(seed),
            #[cfg(feature = "testing")]
            events_disorder: false,
            touched: Vec::new(),
        }
    }

    /// The events raised since the last call, in order per payment: what
    /// the webhooks deliver. Expiry is lazy, so an EXPIRED event comes when
    /// someone next looks at the payment, as its log shows it.
    pub fn fresh_events(&mut self) -> Vec<PaymentEvent> {
        let mut out = Vec::new();
        let mut touched = std::mem::take(&mut self.touched);
        touched.dedup();
        for r in touched {
            if let Some(p) = self.payments.get_mut(&r) {
                out.extend(p.events[p.announced..].iter().cloned());
                p.announced = p.events.len();
            }
        }
        out
    }

    /// Forgets what was touched: nobody listens for events.
    pub fn forget_fresh(&mut self) {
        self.touched.clear();
    }

    fn psp_reference(&mut self) -> String {
        self.rng
            .random_range(1_000_000_000u64..10_000_000_000)
            .to_string()
    }

    /// Replays a stored reply for the same key and body; refuses the same key with another
    /// body; otherwise applies `op` and stores its reply. Only successes are stored, so a
    /// request refused for the payment's state can be retried once the state allows it.
    fn idempotent(
        &mut self,
        scope: IdemScope,
        fingerprint: Value,
        op: impl FnOnce(&mut SimState) -> Result<Reply, Fail>,
    ) -> Result<Reply, Fail> {
        let fingerprint = Fingerprint::of(&fingerprint);
        if let Some(stored) = self.idempotent.get(&scope) {
            if stored.fingerprint == fingerprint {
                return Ok(stored.reply());
            }
            return Err(Fail::conflict(format!(
                "Idempotency-Key '{}' was already used for a different {} request on reference '{}'",
                scope.key, scope.operation, scope.reference
            )));
        }
        let reply = op(self)?;
        self.idempotent
            .insert(scope, Stored::new(fingerprint, &reply));
        Ok(reply)
    }

    pub fn create(
        &mut self,
        now: Now,
        req: CreatePaymentRequest,
        new: NewPayment<'_>,
    ) -> Result<Reply, Fail> {
        let scope = IdemScope {
            operation: "createPayment",
            reference: req.reference.clone(),
            key: new.key.to_string(),
        };
        self.idempotent(scope, new.fingerprint, |s| {
            if s.payments.contains_key(&req.reference) {
                return Err(Fail::conflict(format!(
                    "reference '{}' is already used by another payment for this merchant",
                    req.reference
                )));
            }
            let psp = s.psp_reference();
            let mut p = PaymentRecord {
                reference: req.reference.clone(),
                psp_reference: psp.clone(),
                amount: req.amount,
                state: State::Created,
                aggregate: Aggregate::zero(req.amount.currency),
                method: req.payment_method.kind,
                user_flow: req.user_flow,
                redirect_url: new.redirect_url.clone(),
                phone_token: new.phone_token.clone(),
                description: req.payment_description.clone(),
                metadata: req.metadata.clone(),
                created_mono: now.mono,
                lifetime: new.lifetime,
                created_at: now.wall,
                events: Vec::new(),
                captures: 0,
                cancels: 0,
                refunds: 0,
                announced: 0,
            };
            p.event(
                PaymentEventName::Created,
                req.amount,
                Some(new.key),
                now.wall,
                psp,
            );
            s.by_phone_token
                .insert(new.phone_token, req.reference.clone());
            s.touched.push(req.reference.clone());
            s.order.push(req.reference.clone());
            s.payments.insert(req.reference.clone(), p);
            let body = CreatePaymentResponse {
                redirect_url: new.redirect_url,
                reference: req.reference,
            };
            Ok(Reply::new(StatusCode::CREATED, &body))
        })
    }

    fn payment_mut(&mut self, reference: &str, now: Now) -> Option<&mut PaymentRecord> {
        let p = self.payments.get_mut(reference)?;
        if self.touched.last().is_none_or(|t| t != reference) {
            self.touched.push(reference.to_string());
        }
        p.refresh(now);
        Some(p)
    }

    pub fn get(&mut self, reference: &str, now: Now) -> Result<GetPaymentResponse, Fail> {
        self.payment_mut(reference, now)
            .map(|p| p.view())
            .ok_or_else(|| Fail::not_found(reference))
    }

    /// The event log, in order, unless the disorder knob asks for it shuffled and with
    /// one entry duplicated (clients must tolerate both).
    pub fn events(&mut self, reference: &str, now: Now) -> Result<Vec<PaymentEvent>, Fail> {
        #[cfg_attr(not(feature = "testing"), allow(unused_mut))]
        let mut events = self
            .payment_mut(reference, now)
            .map(|p| p.events.clone())
            .ok_or_else(|| Fail::not_found(reference))?;
        #[cfg(feature = "testing")]
        if self.events_disorder && !events.is_empty() {
            let dup = events[self.rng.random_range(0..events.len())].clone();
            events.push(dup);
            let original = events.clone();
            events.shuffle(&mut self.rng);
            if events == original {
                events.reverse();
            }
        }
        Ok(events)
    }

    pub fn modify(
        &mut self,
        now: Now,
        reference: &str,
        m: Modification,
        key: &str,
        fingerprint: Value,
    ) -> Result<Reply, Fail> {
        if !self.payments.contains_key(reference) {
            return Err(Fail::not_found(reference));
        }
        let scope = IdemScope {
            operation: m.operation(),
            reference: reference.to_string(),
            key: key.to_string(),
        };
        self.idempotent(scope, fingerprint, |s| {
            let psp = s.psp_reference();
            let p = s
                .payment_mut(reference, now)
                .ok_or_else(|| Fail::not_found(reference))?;
            apply(p, m, key, now, psp)?;
            let body = ModificationResponse {
                amount: p.amount,
                state: p.state,
                aggregate: p.aggregate,
                psp_reference: p
                    .events
                    .last()
                    .map(|e| e.psp_reference.clone())
                    .unwrap_or_default(),
                reference: p.reference.clone(),
            };
            Ok(Reply::new(StatusCode::OK, &body))
        })
    }

    /// The customer's answer in the app (or the test-only force-approve endpoint).
    pub fn customer_answer(
        &mut self,
        reference: &str,
        approve: bool,
        now: Now,
    ) -> Result<(), SimError> {
        let psp = self.psp_reference();
        let p = self
            .payment_mut(reference, now)
            .ok_or_else(|| SimError::NotFound(reference.to_string()))?;
        if p.state != State::Created {
            return Err(SimError::NotPending {
                reference: reference.to_string(),
                state: p.state,
            });
        }
        let amount = p.amount;
        if approve {
            p.state = State::Authorized;
            p.aggregate.authorized_amount = amount;
            p.event(PaymentEventName::Authorized, amount, None, now.wall, psp);
        } else {
            p.state = State::Aborted;
            p.event(PaymentEventName::Aborted, amount, None, now.wall, psp);
        }
        Ok(())
    }

    pub fn reference_for_phone_token(&self, token: &str) -> Option<String> {
        self.by_phone_token.get(token).cloned()
    }

    pub fn phone_token(&self, reference: &str) -> Option<String> {
        self.payments.get(reference).map(|p| p.phone_token.clone())
    }

    pub fn snapshot(&mut self, reference: &str, now: Now, public_base: &str) -> Option<SimPayment> {
        self.payment_mut(reference, now)
            .map(|p| p.snapshot(public_base))
    }

    pub fn snapshots(&mut self, now: Now, public_base: &str) -> Vec<SimPayment> {
        let order = self.order.clone();
        order
            .iter()
            .filter_map(|r| self.snapshot(r, now, public_base))
            .collect()
    }
}

/// The ePayment rules for capture, refund and cancel on one payment.
///
/// State conflicts (wrong state, cancel after capture) answer 409; an amount the payment
/// cannot cover answers 400, as the Vipps guide describes for over-capture and
/// over-refund.
fn apply(
    p: &mut PaymentRecord,
    m: Modification,
    key: &str,
    now: Now,
    psp: String,
) -> Result<(), Fail> {
    let a = p.aggregate;
    match m {
        Modification::Capture(amount) | Modification::Refund(amount) => {
            let verb = if matches!(m, Modification::Capture(_)) {
                "capture"
            } else {
                "refund"
            };
            if p.state != State::Authorized {
                return Err(Fail::conflict(format!(
                    "cannot {verb} payment '{}' in state {}; it must be AUTHORIZED",
                    p.reference,
                    wire(p.state)
                )));
            }
            if amount.currency != p.amount.currency {
                return Err(Fail::bad_request(
                    "modificationAmount.currency differs from the payment's",
                ));
            }
            if amount.value <= 0 {
                return Err(Fail::bad_request(
                    "modificationAmount.value must be positive",
                ));
            }
            if let Modification::Capture(_) = m {
                let capturable =
                    a.authorized_amount.value - a.captured_amount.value - a.cancelled_amount.value;
                if amount.value > capturable {
                    return Err(Fail::bad_request(format!(
                        "cannot capture {}: only {capturable} is authorized and not yet captured or cancelled",
                        amount.value
                    )));
                }
                p.aggregate.captured_amount.value += amount.value;
                p.captures += 1;
                p.event(PaymentEventName::Captured, amount, Some(key), now.wall, psp);
            } else {
                let refundable = a.captured_amount.value - a.refunded_amount.value;
                if amount.value > refundable {
                    return Err(Fail::bad_request(format!(
                        "cannot refund {}: only {refundable} is captured and not yet refunded",
                        amount.value
                    )));
                }
                p.aggregate.refunded_amount.value += amount.value;
                p.refunds += 1;
                p.event(PaymentEventName::Refunded, amount, Some(key), now.wall, psp);
            }
        }
        Modification::Cancel => match p.state {
            // Nothing was reserved yet: the merchant terminates the payment request.
            State::Created => {
                p.state = State::Terminated;
                p.cancels += 1;
                p.event(
                    PaymentEventName::Terminated,
                    p.amount,
                    Some(key),
                    now.wall,
                    psp,
                );
            }
            State::Authorized if a.captured_amount.value == 0 => {
                p.state = State::Terminated;
                p.aggregate.cancelled_amount = a.authorized_amount;
                p.cancels += 1;
                p.event(
                    PaymentEventName::Cancelled,
                    a.authorized_amount,
                    Some(key),
                    now.wall,
                    psp,
                );
            }
            // Real Vipps would cancel the uncaptured remainder here; this simulator
            // refuses instead, because the till never cancels after a capture and a
            // cancel that reaches this point is a bug the tests should see.
            State::Authorized => {
                return Err(Fail::conflict(format!(
                    "cannot cancel a captured payment ('{}' has {} captured); refund it instead",
                    p.reference, a.captured_amount.value
                )));
            }
            other => {
                return Err(Fail::conflict(format!(
                    "cannot cancel payment '{}' in final state {}",
                    p.reference,
                    wire(other)
                )));
            }
        },
    }
    Ok(())
}

/// The state as the API spells it ("AUTHORIZED"), for messages.
pub(crate) fn wire(state: State) -> String {
    match serde_json::to_value(state) {
        Ok(Value::String(s)) => s,
        _ => "UNKNOWN".to_string(),
    }
}
