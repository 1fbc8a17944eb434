//! A contract-faithful Vipps simulator: Access Token + ePayment, an HTML
//! "phone" page to play the customer, and fault knobs for tests. Used by
//! training mode and by the test suite; never talks to anything but its
//! own listener.
//!
//! Follows `shared/specs/vipps/epayment.v1.yml`: 201 on create, problem+json
//! errors, a captured payment stays AUTHORIZED with the `aggregate` moving,
//! idempotency (same key + same body replays the first answer; same key +
//! another body is refused), reference uniqueness (409), expiry, and 429s
//! above the per-reference limits (120 reads, 5 modifications a minute).

mod server;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use state::{Exchange, SimError, SimPayment, SimStats};

use crate::vipps::dto::State;

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub client_id: String,
    pub client_secret: String,
    pub subscription_key: String,
    pub merchant_serial_number: String,
    pub payment_lifetime: Duration,
    pub token_lifetime: Duration,
    /// Base of `redirectUrl`/phone links; default the bound `http://addr`.
    pub public_base_url: Option<String>,
    pub reads_per_minute: u32,
    pub modifications_per_minute: u32,
    pub seed: u64,
}

impl SimConfig {
    /// Fixed, public training credentials. They open nothing but a simulator.
    pub fn training() -> SimConfig {
        SimConfig {
            client_id: "luka-training-client".into(),
            client_secret: "luka-training-secret".into(),
            subscription_key: "luka-training-subscription".into(),
            merchant_serial_number: "123456".into(),
            payment_lifetime: Duration::from_secs(600),
            token_lifetime: Duration::from_secs(3600),
            public_base_url: None,
            reads_per_minute: 120,
            modifications_per_minute: 5,
            seed: 1,
        }
    }
}

/// Fault knobs. Rates are probabilities per request to the API endpoints.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Faults {
    #[serde(with = "millis")]
    pub latency: Duration,
    /// 5xx without applying the operation.
    pub error_5xx_rate: f64,
    /// Apply the operation, then close the connection without an answer.
    pub drop_response_rate: f64,
    /// 429 with `Retry-After`, without applying.
    pub rate_429: f64,
    #[serde(with = "millis")]
    pub retry_after: Duration,
    /// Close the connection before applying anything.
    pub connection_reset_rate: f64,
}

mod millis {
    use std::time::Duration;
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms: u64 = serde::Deserialize::deserialize(d)?;
        Ok(Duration::from_millis(ms))
    }
}

/// A running simulator. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<state::Shared>,
    addr: SocketAddr,
    stop: Arc<Mutex<Option<tokio::sync::oneshot::Sender<()>>>>,
}

pub async fn start(listen: SocketAddr, cfg: SimConfig) -> std::io::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let base = cfg
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let shared = Arc::new(state::Shared::new(cfg, base));
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(server::serve(listener, shared.clone(), rx));
    Ok(SimHandle {
        shared,
        addr,
        stop: Arc::new(Mutex::new(Some(tx))),
    })
}

impl SimHandle {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn phone_url(&self, reference: &str) -> Option<String> {
        self.shared.phone_url(reference)
    }

    pub fn set_faults(&self, f: Faults) {
        *self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()) = f;
    }

    /// The customer approves in the app.
    pub fn approve(&self, reference: &str) -> Result<(), SimError> {
        self.shared.customer(reference, State::Authorized)
    }

    /// The customer rejects in the app.
    pub fn reject(&self, reference: &str) -> Result<(), SimError> {
        self.shared.customer(reference, State::Aborted)
    }

    pub fn payment(&self, reference: &str) -> Option<SimPayment> {
        self.shared.payment(reference)
    }

    pub fn payments(&self) -> Vec<SimPayment> {
        self.shared.payments()
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.exchanges()
    }

    pub fn stats(&self) -> SimStats {
        self.shared.stats()
    }

    pub async fn shutdown(self) {
        if let Some(tx) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
        }
    }
}
