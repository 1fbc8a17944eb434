//! The simulator's books: payments, tokens, idempotency records, rate
//! windows and the recorded exchanges. Operations return (status, body).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use super::{Faults, SimConfig};
use crate::clock::rfc3339;
use crate::vipps::dto::{Aggregate, Amount, CreatePaymentRequest, PaymentEventName, State};

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct SimError(pub String);

#[derive(Debug, Clone)]
pub struct SimPayment {
    pub reference: String,
    pub psp_reference: String,
    pub token: String,
    pub amount: Amount,
    pub description: Option<String>,
    pub state: State,
    pub aggregate: Aggregate,
    pub events: Vec<Value>,
    pub captures: u32,
    pub cancels: u32,
    pub refunds: u32,
    created: Instant,
}

/// One request and its answer, for schema validation and byte counts.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub operation: String,
    pub status: u16,
    pub request: Option<Value>,
    pub response: Option<Value>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

#[derive(Debug, Clone, Default)]
pub struct SimStats {
    pub requests: HashMap<String, u64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

pub type Reply = (u16, Value);

pub(super) struct Inner {
    payments: HashMap<String, SimPayment>,
    by_token: HashMap<String, String>,
    tokens: HashMap<String, Instant>,
    /// (operation, reference, key) -> (body, reply)
    idempotency: HashMap<(String, String, String), (Value, Reply)>,
    reads: HashMap<String, VecDeque<Instant>>,
    mods: HashMap<String, VecDeque<Instant>>,
    exchanges: VecDeque<Exchange>,
    stats: SimStats,
    rng: StdRng,
}

pub struct Shared {
    pub(super) cfg: SimConfig,
    pub(super) base: String,
    pub(super) faults: Mutex<Faults>,
    inner: Mutex<Inner>,
}

pub fn problem(status: u16, title: &str, detail: &str) -> Reply {
    (
        status,
        json!({
            "type": format!("https://developer.vippsmobilepay.com/docs/APIs/epayment-api/api-guide/errors/#{status}"),
            "title": title,
            "detail": detail,
            "status": status,
            "traceId": uuid::Uuid::new_v4().to_string(),
        }),
    )
}

fn valid_reference(r: &str) -> bool {
    crate::domain::reference::is_valid_reference(r)
}

impl Shared {
    pub fn new(cfg: SimConfig, base: String) -> Shared {
        Shared {
            inner: Mutex::new(Inner {
                payments: HashMap::new(),
                by_token: HashMap::new(),
                tokens: HashMap::new(),
                idempotency: HashMap::new(),
                reads: HashMap::new(),
                mods: HashMap::new(),
                exchanges: VecDeque::new(),
                stats: SimStats::default(),
                rng: StdRng::seed_from_u64(cfg.seed),
            }),
            cfg,
            base,
            faults: Mutex::new(Faults::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn roll(&self, p: f64) -> bool {
        p > 0.0 && self.lock().rng.random::<f64>() < p
    }

    pub fn record(&self, ex: Exchange) {
        let mut g = self.lock();
        *g.stats.requests.entry(ex.operation.clone()).or_default() += 1;
        g.stats.bytes_in += ex.bytes_in;
        g.stats.bytes_out += ex.bytes_out;
        if g.exchanges.len() >= 100_000 {
            g.exchanges.pop_front();
        }
        g.exchanges.push_back(ex);
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.lock().exchanges.iter().cloned().collect()
    }

    pub fn stats(&self) -> SimStats {
        self.lock().stats.clone()
    }

    pub fn issue_token(&self, client_id: &str, secret: &str, sub: &str, msn: &str) -> Reply {
        let c = &self.cfg;
        if client_id != c.client_id
            || secret != c.client_secret
            || sub != c.subscription_key
            || msn != c.merchant_serial_number
        {
            return problem(
                401,
                "Unauthorized",
                "client_id, client_secret, subscription key or MSN is wrong",
            );
        }
        let token = format!("sim-{}", uuid::Uuid::new_v4().simple());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let life = c.token_lifetime.as_secs() as i64;
        self.lock()
            .tokens
            .insert(token.clone(), Instant::now() + c.token_lifetime);
        (
            200,
            json!({
                "token_type": "Bearer",
                "expires_in": life.to_string(),
                "ext_expires_in": life.to_string(),
                "expires_on": (now + life).to_string(),
                "not_before": now.to_string(),
                "resource": "00000002-0000-0000-c000-000000000000",
                "access_token": token,
            }),
        )
    }

    pub fn token_ok(&self, bearer: Option<&str>) -> bool {
        let Some(t) = bearer else { return false };
        self.lock()
            .tokens
            .get(t)
            .is_some_and(|exp| Instant::now() < *exp)
    }

    fn expire(&self, p: &mut SimPayment) {
        if p.state == State::Created && p.created.elapsed() >= self.cfg.payment_lifetime {
            p.state = State::Expired;
            let ev = event(p, PaymentEventName::Expired, p.amount.value, None);
            p.events.push(ev);
        }
    }

    /// Sliding one-minute window; true when over the limit.
    fn limited(window: &mut VecDeque<Instant>, limit: u32) -> bool {
        let now = Instant::now();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            window.pop_front();
        }
        if window.len() as u32 >= limit {
            return true;
        }
        window.push_back(now);
        false
    }

    pub fn rate_limited(&self, reference: &str, modification: bool) -> bool {
        let mut g = self.lock();
        if modification {
            let limit = self.cfg.modifications_per_minute;
            Self::limited(g.mods.entry(reference.to_string()).or_default(), limit)
        } else {
            let limit = self.cfg.reads_per_minute;
            Self::limited(g.reads.entry(reference.to_string()).or_default(), limit)
        }
    }

    /// Runs `op` once per (operation, reference, key); replays its answer
    /// for the same body, refuses a different body.
    pub fn idempotent(
        &self,
        op: &str,
        reference: &str,
        key: &str,
        body: &Value,
        f: impl FnOnce(&Shared) -> Reply,
    ) -> Reply {
        let id = (op.to_string(), reference.to_string(), key.to_string());
        if let Some((first_body, reply)) = self.lock().idempotency.get(&id).cloned() {
            if &first_body == body {
                return reply;
            }
            return problem(
                409,
                "Conflict",
                &format!("Idempotency-Key '{key}' was already used with a different request body"),
            );
        }
        let reply = f(self);
        // Only answers that applied something are replayed; a 4xx can be retried with a fix.
        if reply.0 < 300 {
            self.lock()
                .idempotency
                .insert(id, (body.clone(), reply.clone()));
        }
        reply
    }

    pub fn create(&self, body: &Value) -> Reply {
        let req: CreatePaymentRequest = match serde_json::from_value(body.clone()) {
            Ok(r) => r,
            Err(e) => {
                return problem(
                    400,
                    "Bad Request",
                    &format!("invalid CreatePaymentRequest: {e}"),
                );
            }
        };
        if !valid_reference(&req.reference) {
            return problem(
                400,
                "Bad Request",
                "reference must match ^[a-zA-Z0-9-]{8,50}$",
            );
        }
        if req.amount.value < 100 || req.amount.value > 65_000_000 {
            return problem(
                400,
                "Bad Request",
                "amount.value must be between 100 and 65000000 minor units",
            );
        }
        if let Some(d) = &req.payment_description
            && !(3..=100).contains(&d.chars().count())
        {
            return problem(
                400,
                "Bad Request",
                "paymentDescription must be 3-100 characters",
            );
        }
        if let Some(r) = &req.receipt {
            let sum: i64 = r.order_lines.iter().map(|l| l.total_amount).sum();
            if sum != req.amount.value {
                return problem(
                    400,
                    "Bad Request",
                    &format!(
                        "receipt order lines sum to {sum}, amount is {}",
                        req.amount.value
                    ),
                );
            }
        }
        let mut g = self.lock();
        if g.payments.contains_key(&req.reference) {
            return problem(
                409,
                "Conflict",
                &format!("reference {} is already in use", req.reference),
            );
        }
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut p = SimPayment {
            reference: req.reference.clone(),
            psp_reference: format!("{}", 1_000_000_000u64 + g.payments.len() as u64),
            token: token.clone(),
            amount: req.amount,
            description: req.payment_description.clone(),
            state: State::Created,
            aggregate: Aggregate::zero(req.amount.currency),
            events: vec![],
            captures: 0,
            cancels: 0,
            refunds: 0,
            created: Instant::now(),
        };
        let ev = event(&p, PaymentEventName::Created, p.amount.value, None);
        p.events.push(ev);
        g.by_token.insert(token.clone(), req.reference.clone());
        g.payments.insert(req.reference.clone(), p);
        (
            201,
            json!({ "redirectUrl": format!("{}/phone/{token}", self.base), "reference": req.reference }),
        )
    }

    fn with_payment(&self, reference: &str, f: impl FnOnce(&mut SimPayment) -> Reply) -> Reply {
        let mut g = self.lock();
        let Some(p) = g.payments.get_mut(reference) else {
            return problem(
                404,
                "Not Found",
                &format!("no payment with reference {reference}"),
            );
        };
        self.expire(p);
        f(p)
    }

    pub fn get(&self, reference: &str) -> Reply {
        self.with_payment(reference, |p| (200, payment_json(p)))
    }

    pub fn events(&self, reference: &str) -> Reply {
        self.with_payment(reference, |p| (200, Value::Array(p.events.clone())))
    }

    pub fn capture(&self, reference: &str, amount: i64, key: &str) -> Reply {
        self.with_payment(reference, |p| {
            if p.state != State::Authorized {
                return problem(
                    400,
                    "Bad Request",
                    &format!("cannot capture a payment in state {:?}", p.state),
                );
            }
            let left = p.aggregate.authorized_amount.value
                - p.aggregate.captured_amount.value
                - p.aggregate.cancelled_amount.value;
            if amount <= 0 || amount > left {
                return problem(
                    400,
                    "Bad Request",
                    &format!("capture of {amount} exceeds the {left} left to capture"),
                );
            }
            p.aggregate.captured_amount.value += amount;
            p.captures += 1;
            let ev = event(p, PaymentEventName::Captured, amount, Some(key));
            p.events.push(ev);
            (200, modification_json(p))
        })
    }

    pub fn cancel(&self, reference: &str, key: &str) -> Reply {
        self.with_payment(reference, |p| {
            if p.aggregate.captured_amount.value > 0 {
                return problem(
                    400,
                    "Bad Request",
                    "cannot cancel a captured payment; refund it instead",
                );
            }
            match p.state {
                State::Created | State::Authorized => {
                    p.aggregate.cancelled_amount.value = p.aggregate.authorized_amount.value;
                    p.state = State::Terminated;
                    p.cancels += 1;
                    let ev = event(p, PaymentEventName::Cancelled, p.amount.value, Some(key));
                    p.events.push(ev);
                    (200, modification_json(p))
                }
                s => problem(
                    400,
                    "Bad Request",
                    &format!("cannot cancel a payment in state {s:?}"),
                ),
            }
        })
    }

    pub fn refund(&self, reference: &str, amount: i64, key: &str) -> Reply {
        self.with_payment(reference, |p| {
            let left = p.aggregate.captured_amount.value - p.aggregate.refunded_amount.value;
            if amount <= 0 || amount > left {
                return problem(
                    400,
                    "Bad Request",
                    &format!("refund of {amount} exceeds the {left} left to refund"),
                );
            }
            p.aggregate.refunded_amount.value += amount;
            p.refunds += 1;
            let ev = event(p, PaymentEventName::Refunded, amount, Some(key));
            p.events.push(ev);
            (200, modification_json(p))
        })
    }

    /// The customer acts: approve (AUTHORIZED) or reject (ABORTED).
    pub fn customer(&self, reference: &str, to: State) -> Result<(), SimError> {
        let (status, body) = self.with_payment(reference, |p| {
            if p.state != State::Created {
                return problem(
                    400,
                    "Bad Request",
                    &format!("the payment is {:?}, not waiting for the customer", p.state),
                );
            }
            p.state = to;
            if to == State::Authorized {
                p.aggregate.authorized_amount.value = p.amount.value;
                let ev = event(p, PaymentEventName::Authorized, p.amount.value, None);
                p.events.push(ev);
            } else {
                let ev = event(p, PaymentEventName::Aborted, p.amount.value, None);
                p.events.push(ev);
            }
            (200, Value::Null)
        });
        if status == 200 {
            Ok(())
        } else {
            Err(SimError(
                body["detail"].as_str().unwrap_or("refused").to_string(),
            ))
        }
    }

    pub fn reference_by_token(&self, token: &str) -> Option<String> {
        self.lock().by_token.get(token).cloned()
    }

    pub fn phone_url(&self, reference: &str) -> Option<String> {
        self.lock()
            .payments
            .get(reference)
            .map(|p| format!("{}/phone/{}", self.base, p.token))
    }

    pub fn payment(&self, reference: &str) -> Option<SimPayment> {
        let mut g = self.lock();
        let p = g.payments.get_mut(reference)?;
        self.expire(p);
        Some(p.clone())
    }

    pub fn payments(&self) -> Vec<SimPayment> {
        let mut g = self.lock();
        let mut all: Vec<SimPayment> = g
            .payments
            .values_mut()
            .map(|p| {
                self.expire(p);
                p.clone()
            })
            .collect();
        all.sort_by(|a, b| a.reference.cmp(&b.reference));
        all
    }
}

fn event(p: &SimPayment, name: PaymentEventName, value: i64, key: Option<&str>) -> Value {
    json!({
        "reference": p.reference,
        "pspReference": p.psp_reference,
        "name": name,
        "amount": { "currency": p.amount.currency, "value": value },
        "timestamp": rfc3339(time::OffsetDateTime::now_utc()),
        "idempotencyKey": key,
        "success": true,
    })
}

fn payment_json(p: &SimPayment) -> Value {
    json!({
        "aggregate": p.aggregate,
        "amount": p.amount,
        "state": p.state,
        "paymentMethod": { "type": "WALLET" },
        "profile": {},
        "pspReference": p.psp_reference,
        "redirectUrl": format!("https://landing.vipps.no?token={}", p.token),
        "reference": p.reference,
    })
}

fn modification_json(p: &SimPayment) -> Value {
    json!({
        "amount": p.amount,
        "state": p.state,
        "aggregate": p.aggregate,
        "pspReference": p.psp_reference,
        "reference": p.reference,
    })
}
