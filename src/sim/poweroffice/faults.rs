//! Fault knobs, in test builds only (`--features testing`): `exchange.rs`
//! hands every request here first, and a knob that is set fails, throttles,
//! delays or drops it.
//!
//! Knobs are counters, not dice, so a test says exactly which request fails:
//! "the next voucher post is applied and its answer lost". A 5xx or a 429
//! never reaches the handler, so nothing is applied; a dropped response is
//! applied first and then lost. It must never apply a request twice.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::super::Exchange;
use super::super::abort::{AbortKind, ConnControl};
use super::endpoint::Endpoint;
use super::reply;
use super::{Shared, lock};

/// Fault knobs. Each counter is the number of upcoming matching requests it
/// hits, and goes down as it fires; checked in this order: 5xx, 429, drop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PowerOfficeFaults {
    /// The endpoints the knobs apply to; empty means every endpoint.
    pub endpoints: Vec<Endpoint>,
    /// Added before each matching request is handled.
    pub latency: Duration,
    /// 503 ProblemDetails; the request is NOT applied.
    pub error_5xx_next: u32,
    /// 429 with `Retry-After`; the request is NOT applied.
    pub throttle_next: u32,
    /// The `Retry-After` of a fault 429, rounded up to whole seconds.
    pub retry_after: Duration,
    /// The request IS applied, then the connection closes without an answer.
    pub drop_response_next: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Pass,
    ServerError,
    Throttle(u64),
    Drop,
}

impl PowerOfficeFaults {
    fn applies_to(&self, e: Endpoint) -> bool {
        e != Endpoint::Unknown && (self.endpoints.is_empty() || self.endpoints.contains(&e))
    }

    /// Fires (and uses up) the first knob that is set for `e`.
    fn take(&mut self, e: Endpoint) -> (Duration, Action) {
        if !self.applies_to(e) {
            return (Duration::ZERO, Action::Pass);
        }
        let action = if self.error_5xx_next > 0 {
            self.error_5xx_next -= 1;
            Action::ServerError
        } else if self.throttle_next > 0 {
            self.throttle_next -= 1;
            let r = self.retry_after;
            Action::Throttle(r.as_secs() + u64::from(r.subsec_nanos() > 0))
        } else if self.drop_response_next > 0 {
            self.drop_response_next -= 1;
            Action::Drop
        } else {
            Action::Pass
        };
        (self.latency, action)
    }
}

/// Fires the knob set for `endpoint`, if any, and records the exchange with
/// the fault it got.
pub(crate) async fn inject(
    sh: &Shared,
    endpoint: Endpoint,
    parts: Parts,
    bytes: Bytes,
    mut ex: Exchange,
    next: Next,
) -> Response {
    let (latency, action) = lock(&sh.faults).take(endpoint);
    let conn = parts.extensions.get::<ConnControl>().cloned();
    if !latency.is_zero() {
        ex.fault = Some("latency".into());
        tokio::time::sleep(latency).await;
    }
    let resp = match action {
        Action::Pass => return sh.recorder.pass(parts, bytes, ex, next).await,
        Action::ServerError => {
            ex.fault = Some("error_5xx".into());
            reply::problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "simulated server error; the request was not applied",
            )
        }
        Action::Throttle(secs) => {
            ex.fault = Some("rate_429".into());
            reply::too_many(secs)
        }
        Action::Drop => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    };
    let resp = ex.note_response(resp).await;
    if action == Action::Drop {
        ex.mark_dropped();
        sh.recorder.push(ex);
        return abort(conn).await;
    }
    sh.recorder.push(ex);
    resp
}

async fn abort(conn: Option<ConnControl>) -> Response {
    super::super::abort::abort(conn, AbortKind::Drop, || {
        (StatusCode::BAD_GATEWAY, "simulated connection loss").into_response()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_fire_in_order_and_run_out() {
        let mut f = PowerOfficeFaults {
            endpoints: vec![Endpoint::PostCashJournal],
            error_5xx_next: 1,
            throttle_next: 1,
            retry_after: Duration::from_millis(1500),
            drop_response_next: 1,
            ..Default::default()
        };
        assert_eq!(
            f.take(Endpoint::Token).1,
            Action::Pass,
            "other endpoints untouched"
        );
        let c = Endpoint::PostCashJournal;
        assert_eq!(f.take(c).1, Action::ServerError);
        assert_eq!(f.take(c).1, Action::Throttle(2));
        assert_eq!(f.take(c).1, Action::Drop);
        assert_eq!(f.take(c).1, Action::Pass);
    }
}
