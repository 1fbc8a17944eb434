//! Fault injection, in test builds only (`--features testing`): the tests'
//! knobs ([`Faults`]) and the seeded dice that decide, per request, whether
//! to delay, fail, throttle, drop or reset it. `exchange.rs` hands it every
//! ePayment, Access Token and Report request; never the phone page or the
//! admin endpoints.
//!
//! A 5xx, a 429 or a reset never reaches the handler, so nothing is applied;
//! a dropped response is applied first and then lost, which is exactly the
//! case idempotency keys exist for. It must never apply an operation twice.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Shared;
use super::abort::{AbortKind, ConnControl};
use super::problem::Fail;
use super::record::Exchange;

/// Fault knobs for the ePayment, Access Token and Report endpoints (never the phone
/// page or `/sim/`). Rates are probabilities in 0..=1, rolled independently per request in this
/// order: reset, 5xx, 429, drop.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added before every request is handled.
    pub latency: Duration,
    /// 500/502/503 problem; the request is NOT applied.
    pub error_5xx_rate: f64,
    /// The request IS applied, then the connection closes without a response.
    pub drop_response_rate: f64,
    /// 429 with `Retry-After`; the request is NOT applied.
    pub rate_429: f64,
    /// The `Retry-After` of a fault 429 (rounded up to whole seconds).
    pub retry_after: Duration,
    /// The connection is reset (RST) before the request is applied.
    pub connection_reset_rate: f64,
    /// When not empty, the knobs apply only to these operations (the spec's operationIds,
    /// e.g. `capturePayment`); every other request passes untouched.
    pub only_operations: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Pass,
    Reset,
    ServerError(StatusCode),
    TooMany,
    DropResponse,
}

/// The knobs plus the seeded RNG that rolls the dice for them.
pub(crate) struct FaultInjector {
    pub faults: Faults,
    rng: StdRng,
}

impl FaultInjector {
    pub fn new(seed: u64) -> FaultInjector {
        FaultInjector {
            faults: Faults::default(),
            // A different stream from the state's RNG, so turning a knob does not change
            // the pspReferences a seeded run produces.
            rng: StdRng::seed_from_u64(seed ^ 0x5eed_fa17),
        }
    }

    /// One independent roll per knob, in the order a real failure would happen: the
    /// connection dies, the server fails, the gateway throttles, the response is lost.
    pub fn decide(&mut self) -> Action {
        let f = &self.faults;
        let (reset, err, throttle, drop) = (
            f.connection_reset_rate,
            f.error_5xx_rate,
            f.rate_429,
            f.drop_response_rate,
        );
        // `x < rate` is false for NaN and for rates <= 0, so odd knobs mean "never".
        if self.rng.random::<f64>() < reset {
            Action::Reset
        } else if self.rng.random::<f64>() < err {
            let code = [500, 502, 503][self.rng.random_range(0..3)];
            Action::ServerError(
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            )
        } else if self.rng.random::<f64>() < throttle {
            Action::TooMany
        } else if self.rng.random::<f64>() < drop {
            Action::DropResponse
        } else {
            Action::Pass
        }
    }
}

/// Rolls the dice for one API request, then fails, delays, drops or passes it
/// and records the exchange with the fault it got.
pub(crate) async fn inject(
    shared: &Shared,
    operation: &str,
    parts: Parts,
    bytes: Bytes,
    mut ex: Exchange,
    next: Next,
) -> Response {
    let (latency, retry_after, action) = {
        let mut inj = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        let only = &inj.faults.only_operations;
        if only.is_empty() || only.iter().any(|o| o == operation) {
            (inj.faults.latency, inj.faults.retry_after, inj.decide())
        } else {
            (Duration::ZERO, Duration::ZERO, Action::Pass)
        }
    };
    if !latency.is_zero() {
        ex.fault = Some("latency".into());
        tokio::time::sleep(latency).await;
    }
    let conn = parts.extensions.get::<ConnControl>().cloned();
    let resp = match action {
        Action::Pass => return shared.recorder.pass(parts, bytes, ex, next).await,
        Action::Reset => {
            ex.fault = Some("connection_reset".into());
            shared.recorder.push(ex);
            return abort(conn, AbortKind::Reset).await;
        }
        Action::ServerError(code) => {
            ex.fault = Some("error_5xx".into());
            Fail::new(code, "simulated server error; the request was not applied").into_response()
        }
        Action::TooMany => {
            ex.fault = Some("rate_429".into());
            // Exactly the configured wait, rounded up to whole seconds (0 is allowed, so
            // fast tests can use it).
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            Fail::too_many("simulated throttling; the request was not applied", secs)
                .into_response()
        }
        Action::DropResponse => {
            next.run(axum::extract::Request::from_parts(
                parts,
                axum::body::Body::from(bytes),
            ))
            .await
        }
    };
    let resp = ex.note_response(resp).await;
    if action == Action::DropResponse {
        ex.mark_dropped();
        shared.recorder.push(ex);
        return abort(conn, AbortKind::Drop).await;
    }
    shared.recorder.push(ex);
    resp
}

async fn abort(conn: Option<ConnControl>, kind: AbortKind) -> Response {
    super::abort::abort(conn, kind, || {
        Fail::new(StatusCode::BAD_GATEWAY, "simulated connection loss").into_response()
    })
    .await
}
