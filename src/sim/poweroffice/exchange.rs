//! The middleware every request goes through: it names the endpoint, counts
//! and records the exchange (keys and tokens redacted) and hands the request
//! on. In test builds (`--features testing`) the fault knobs (`faults.rs`)
//! see every request first; the simulator a training till runs has none.

use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::super::Exchange;
use super::Shared;
use super::endpoint::Endpoint;
use super::reply;

/// Bodies above this are refused; a day's voucher is a few kB.
const MAX_BODY: usize = 1024 * 1024;

pub(crate) async fn layer(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return reply::bad_request("request body too large");
    };
    let endpoint = Endpoint::of(&parts.method, parts.uri.path());
    let mut ex = Exchange::of_request(&parts, &bytes, endpoint.name());
    ex.reference = ex
        .request_body
        .as_ref()
        .and_then(|b| b.get("ExternalImportReference"))
        .and_then(|r| r.as_str())
        .map(str::to_string);
    #[cfg(feature = "testing")]
    return super::faults::inject(&sh, endpoint, parts, bytes, ex, next).await;
    #[cfg(not(feature = "testing"))]
    sh.recorder.pass(parts, bytes, ex, next).await
}
