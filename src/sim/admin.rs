//! Admin endpoints for scripts and demos, under `/sim/`: list payments, answer a
//! payment as the customer and, in test builds only, set fault knobs.
//!
//! No authentication, on purpose: the simulator is a loopback/LAN training tool and these
//! are its remote control, so they answer requests from this machine only ([`local_only`]). They must never be part of the ePayment surface (no faults,
//! no rate limits) and must never reveal a secret.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::problem::Fail;
use super::{Shared, SimError};

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
    let path = req.uri().path();
    if (path.starts_with("/sim/") || path.starts_with("/webhooks/")) && !local {
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
