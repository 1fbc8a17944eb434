//! A bookkeeping webhook receiver on 127.0.0.1 for tests: checks every
//! Standard Webhooks signature on its own (HMAC-SHA256 over
//! `id.timestamp.body`, timestamp within five minutes) and records what
//! arrived, in arrival order. Can answer 5xx to the first attempt of chosen
//! messages, to make the sender retry the same `webhook-id`.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: i64,
    pub verified: bool,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Inner {
    key: Vec<u8>,
    received: Vec<Received>,
    /// `webhook-id`s whose first attempt is answered 503.
    fail_first: HashSet<String>,
    failed_once: HashSet<String>,
}

#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
    stop: Arc<tokio::sync::Notify>,
}

/// The key of a `whsec_…` secret, decoded here independently of Luka.
fn key_of(secret: &str) -> Vec<u8> {
    match secret.strip_prefix("whsec_") {
        Some(b) => B64.decode(b).expect("base64 secret"),
        None => secret.as_bytes().to_vec(),
    }
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (id, ts, sig) = (
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
    );
    let mut inner = r.inner.lock().unwrap();
    let timestamp: i64 = ts.parse().unwrap_or(0);
    let mut mac = Hmac::<Sha256>::new_from_slice(&inner.key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&body);
    let expected = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    let fresh = (time::OffsetDateTime::now_utc().unix_timestamp() - timestamp).abs() <= 300;
    let verified = fresh && sig.split(' ').any(|s| s == expected);
    if inner.fail_first.contains(&id) && inner.failed_once.insert(id.clone()) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    inner.received.push(Received {
        id,
        timestamp,
        verified,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    if verified {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}

impl Receiver {
    /// Starts on `addr` (port 0 for any free port).
    pub async fn start(addr: SocketAddr, secret: &str) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("receiver binds");
        let r = Receiver {
            inner: Arc::new(Mutex::new(Inner {
                key: key_of(secret),
                ..Inner::default()
            })),
            addr: listener.local_addr().unwrap(),
            stop: Arc::new(tokio::sync::Notify::new()),
        };
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(r.clone());
        let stop = r.stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.notified().await })
                .await
                .ok();
        });
        r
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn fail_first_attempt_of(&self, id: &str) {
        self.inner.lock().unwrap().fail_first.insert(id.to_string());
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    pub fn shutdown(&self) {
        self.stop.notify_one();
    }
}

/// A loopback port nothing listens on (bound, then released): a receiver
/// that is down.
pub fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}
