//! `POST /sim/faults`, the fault knobs for scripts, in test builds only
//! (`--features testing`); like every `/sim/` endpoint it answers this
//! machine only (`admin.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};

use super::problem::Fail;
use super::{Faults, Shared};

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

/// The knobs' route, merged into the simulator's router.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/sim/faults", post(faults))
}

async fn faults(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
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
