//! The one middleware every request goes through: it reads the request,
//! hands it on and writes the exchange to the flight recorder.
//!
//! In test builds (`--features testing`) requests to the ePayment, Access
//! Token and Report operations pass through the fault injector first
//! (`faults.rs`); the simulator a training till runs has none, so nothing it
//! answers can be a fault set up by a test.

use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::problem::Fail;
use super::record::{Exchange, operation_for};

/// Bodies above this are refused; a create request with a long receipt is a few kB.
const MAX_BODY: usize = 1024 * 1024;

pub(crate) async fn layer(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
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
    #[cfg(feature = "testing")]
    if super::record::is_api(operation) {
        return super::faults::inject(&shared, operation, parts, bytes, ex, next).await;
    }
    shared.recorder.pass(parts, bytes, ex, next).await
}
