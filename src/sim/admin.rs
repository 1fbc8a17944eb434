//! Admin endpoints for scripts and demos, under `/sim/`: list payments, set fault knobs,
//! answer a payment as the customer.
//!
//! No authentication, on purpose: the simulator is a loopback/LAN training tool and these
//! are its remote control, so they answer requests from this machine only ([`local_only`]). They must never be part of the ePayment surface (no faults,
//! no rate limits) and must never reveal a secret.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::problem::Fail;
use super::{Faults, Shared, SimError};

/// `POST /sim/faults` body: [`Faults`] with durations in milliseconds. Every field is
/// optional and defaults to "no fault", so `{}` clears all knobs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultsJson {
    pub latency_ms: u64,
    pub error_5xx_rate: f64,
    pub drop_response_rate: f64,
    pub rate_429: f64,
    pub retry_after_ms: u64,
    pub connection_reset_rate: f64,
    /// Limit the knobs to these operationIds (e.g. `["capturePayment"]`); empty means all.
    pub only_operations: Vec<String>,
    /// Event logs come back shuffled with one entry duplicated.
    pub events_disorder: bool,
}

impl From<&FaultsJson> for Faults {
    fn from(j: &FaultsJson) -> Faults {
        Faults {
            latency: Duration::from_millis(j.latency_ms),
            error_5xx_rate: j.error_5xx_rate,
            drop_response_rate: j.drop_response_rate,
            rate_429: j.rate_429,
            retry_after: Duration::from_millis(j.retry_after_ms),
            connection_reset_rate: j.connection_reset_rate,
            only_operations: j.only_operations.clone(),
        }
    }
}

/// `/sim/...` answers this machine only. A training till listens on the LAN
/// so phones reach their own payment's page (which needs the token in its
/// link); the remote control would let anyone on the network list every
/// payment with its phone link, answer for the customer, or inject faults.
pub(crate) async fn local_only(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let local = req
        .extensions()
        .get::<super::server::Peer>()
        .is_none_or(|p| p.0.ip().to_canonical().is_loopback());
    if req.uri().path().starts_with("/sim/") && !local {
        return Fail::new(
            StatusCode::FORBIDDEN,
            "the simulator's remote control answers this machine only",
        )
        .into_response();
    }
    next.run(req).await
}

pub(crate) async fn payments(State(sh): State<Arc<Shared>>) -> Response {
    Json(sh.payments()).into_response()
}

pub(crate) async fn faults(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed: Result<FaultsJson, _> = if body.is_empty() {
        Ok(FaultsJson::default())
    } else {
        serde_json::from_slice(&body)
    };
    match parsed {
        Ok(j) => {
            sh.set_faults(Faults::from(&j));
            sh.lock().events_disorder = j.events_disorder;
            tracing::info!(faults = ?j, "sim faults set");
            Json(j).into_response()
        }
        Err(e) => Fail::bad_request(format!("faults body: {e}")).into_response(),
    }
}

pub(crate) async fn approve(
    State(sh): State<Arc<Shared>>,
    Path(reference): Path<String>,
) -> Response {
    answer(&sh, &reference, true)
}

pub(crate) async fn reject(
    State(sh): State<Arc<Shared>>,
    Path(reference): Path<String>,
) -> Response {
    answer(&sh, &reference, false)
}

fn answer(sh: &Shared, reference: &str, approve: bool) -> Response {
    match sh.answer(reference, approve) {
        Ok(()) => Json(sh.payment(reference)).into_response(),
        Err(e @ SimError::NotFound(_)) => {
            Fail::new(StatusCode::NOT_FOUND, e.to_string()).into_response()
        }
        Err(e) => Fail::conflict(e.to_string()).into_response(),
    }
}
