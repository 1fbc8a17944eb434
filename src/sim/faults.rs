//! Fault injection and recording around every request: the one middleware all routes go
//! through. It decides (with the seeded RNG) whether to delay, fail, throttle, drop or
//! reset, and writes the exchange to the recorder.
//!
//! Faults apply to the ePayment and Access Token operations only, never to the phone page
//! or the admin endpoints. A 5xx, a 429 or a reset never reaches the handler, so nothing
//! is applied; a dropped response is applied first and then lost, which is exactly the
//! case idempotency keys exist for. It must never apply an operation twice.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Faults;
use super::Shared;
use super::problem::Fail;
use super::record::{Exchange, is_api, operation_for};
use super::server::{AbortKind, ConnControl};

/// Bodies above this are refused; a create request with a long receipt is a few kB.
const MAX_BODY: usize = 1024 * 1024;

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

pub(crate) async fn exchange_layer(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return Fail::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let (operation, reference) = operation_for(&parts.method, parts.uri.path());
    let mut ex = Exchange::of_request(&parts, &bytes, operation);
    ex.reference = if operation == "createPayment" {
        ex.request_body
            .as_ref()
            .and_then(|b| b.get("reference"))
            .and_then(|r| r.as_str())
            .map(str::to_string)
    } else {
        reference
    };
    let (latency, retry_after, action) = if is_api(operation) {
        let mut inj = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        let only = &inj.faults.only_operations;
        if only.is_empty() || only.iter().any(|o| o == operation) {
            (inj.faults.latency, inj.faults.retry_after, inj.decide())
        } else {
            (Duration::ZERO, Duration::ZERO, Action::Pass)
        }
    } else {
        (Duration::ZERO, Duration::ZERO, Action::Pass)
    };
    if !latency.is_zero() {
        ex.fault = Some("latency".into());
        tokio::time::sleep(latency).await;
    }
    let conn = parts.extensions.get::<ConnControl>().cloned();
    let resp = match action {
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
        Action::Pass | Action::DropResponse => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
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
    super::server::abort(conn, kind, || {
        Fail::new(StatusCode::BAD_GATEWAY, "simulated connection loss").into_response()
    })
    .await
}
