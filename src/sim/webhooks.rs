//! The Webhooks API (`specs/vipps/webhooks.swagger.yaml`): register, list
//! and delete webhooks, and the delivery of every payment event to the
//! URLs registered for its type, signed as Vipps signs them
//! (`vipps::webhooks::sign`).
//!
//! The spec's rules: at most 5 registrations per event type; the URL must
//! be https (here also plain http to this machine, so a hub on loopback
//! can be tested). Deliveries are best effort, as the real ones are for a
//! receiver: a failed one is tried twice more and then logged, and never
//! touches a payment. The API answers this machine only ([`super::admin::local_only`]):
//! training credentials are public, and a LAN client must not make the
//! till post to addresses of its choosing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;

use super::Shared;
use super::problem::Fail;
use crate::secret::Secret;
use crate::vipps::dto::{PaymentEvent, WebhookEvent};
use crate::vipps::webhooks::{
    EPAYMENT_EVENTS, QueryResponse, RegisterRequest, RegisterResponse, Webhook, event_type,
    host_and_path, sign,
};

/// The spec: "At most 5 webhooks can currently be registered per event".
pub const MAX_PER_EVENT: usize = 5;

/// How many deliveries [`Hooks::deliveries`] keeps for tests.
const KEEP_DELIVERIES: usize = 1000;

struct Registration {
    hook: Webhook,
    secret: Secret,
}

/// One delivery as sent, for tests: the headers are the signature, never the secret.
#[derive(Debug, Clone, Serialize)]
pub struct HookDelivery {
    pub url: String,
    pub reference: String,
    pub name: String,
    pub date: String,
    pub content_sha256: String,
    pub authorization: String,
    pub body: String,
    /// The receiver's answer to the last try; `None` if it never answered.
    pub status: Option<u16>,
}

/// The registrations and what was delivered.
#[derive(Default)]
pub(crate) struct Hooks {
    registrations: Mutex<Vec<Registration>>,
    deliveries: Mutex<Vec<HookDelivery>>,
}

impl Hooks {
    pub(crate) fn any(&self) -> bool {
        !self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Registration>> {
        self.registrations.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn deliveries(&self) -> Vec<HookDelivery> {
        self.deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn record(&self, d: HookDelivery) {
        let mut all = self.deliveries.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() >= KEEP_DELIVERIES {
            all.remove(0);
        }
        all.push(d);
    }

    /// The URLs and secrets registered for `event`.
    fn targets(&self, event: &str) -> Vec<(String, Secret)> {
        self.lock()
            .iter()
            .filter(|r| r.hook.events.iter().any(|e| e == event))
            .map(|r| (r.hook.url.clone(), r.secret.clone()))
            .collect()
    }
}

/// https anywhere, or http to this machine only.
fn url_allowed(url: &reqwest::Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => {
            let host = url.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

fn check(req: &RegisterRequest) -> Result<(), Fail> {
    let url = reqwest::Url::parse(&req.url)
        .map_err(|_| Fail::bad_request(format!("url '{}' is not a URL", req.url)))?;
    if !url_allowed(&url) {
        return Err(Fail::bad_request(
            "url must use HTTPS (the simulator also takes http:// to this machine)",
        ));
    }
    if req.events.is_empty() {
        return Err(Fail::bad_request(
            "events must name at least one event type",
        ));
    }
    if let Some(e) = req
        .events
        .iter()
        .find(|e| !EPAYMENT_EVENTS.contains(&e.as_str()))
    {
        return Err(Fail::bad_request(format!("'{e}' is not an event type")));
    }
    Ok(())
}

pub(crate) async fn register(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let r = super::api::authorize(&sh, &headers).and_then(|_| {
        let req: RegisterRequest = serde_json::from_slice(&body)
            .map_err(|e| Fail::bad_request(format!("the RegisterRequest body: {e}")))?;
        check(&req)?;
        let mut regs = sh.hooks.lock();
        for e in &req.events {
            let n = regs.iter().filter(|r| r.hook.events.contains(e)).count();
            if n >= MAX_PER_EVENT {
                return Err(Fail::bad_request(format!(
                    "at most {MAX_PER_EVENT} webhooks can be registered per event, and {e} has {n}"
                )));
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let secret = super::api::random_token();
        regs.push(Registration {
            hook: Webhook {
                id: id.clone(),
                url: req.url.clone(),
                events: req.events.clone(),
            },
            secret: Secret::new(secret.clone()),
        });
        tracing::info!(id = %id, url = %req.url, "sim webhook registered");
        Ok(RegisterResponse { id, secret })
    });
    match r {
        Ok(body) => (StatusCode::CREATED, Json(body)).into_response(),
        Err(f) => f.into_response(),
    }
}

pub(crate) async fn list(State(sh): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match super::api::authorize(&sh, &headers) {
        Ok(()) => Json(QueryResponse {
            webhooks: sh.hooks.lock().iter().map(|r| r.hook.clone()).collect(),
        })
        .into_response(),
        Err(f) => f.into_response(),
    }
}

pub(crate) async fn delete(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(f) = super::api::authorize(&sh, &headers) {
        return f.into_response();
    }
    let mut regs = sh.hooks.lock();
    let before = regs.len();
    regs.retain(|r| r.hook.id != id);
    if regs.len() == before {
        return Fail::new(StatusCode::NOT_FOUND, format!("no webhook with id '{id}'"))
            .into_response();
    }
    tracing::info!(id = %id, "sim webhook deleted");
    StatusCode::NO_CONTENT.into_response()
}

/// Delivers each event the payments raise to the webhooks registered for
/// it, until the simulator is gone (the sender is dropped with it).
pub(crate) fn spawn_delivery(
    hooks: Arc<Hooks>,
    msn: String,
    mut events: tokio::sync::mpsc::UnboundedReceiver<PaymentEvent>,
) {
    tokio::spawn(async move {
        let http = match reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("the simulator cannot deliver webhooks: {e}");
                return;
            }
        };
        while let Some(e) = events.recv().await {
            let Some(kind) = event_type(e.name) else {
                continue;
            };
            let targets = hooks.targets(kind);
            if targets.is_empty() {
                continue;
            }
            let body = WebhookEvent {
                msn: msn.clone(),
                reference: e.reference.clone(),
                psp_reference: e.psp_reference.clone(),
                name: e.name,
                amount: e.amount,
                timestamp: e.timestamp.clone(),
                idempotency_key: e.idempotency_key.clone(),
                success: e.success,
            };
            let Ok(body) = serde_json::to_vec(&body) else {
                continue;
            };
            for (url, secret) in targets {
                tokio::spawn(deliver(
                    http.clone(),
                    hooks.clone(),
                    url,
                    secret,
                    body.clone(),
                    e.clone(),
                ));
            }
        }
    });
}

/// One event to one URL: tried at once, then after 1 s and 4 s.
async fn deliver(
    http: reqwest::Client,
    hooks: Arc<Hooks>,
    url: String,
    secret: Secret,
    body: Vec<u8>,
    e: PaymentEvent,
) {
    let Some((host, path)) = host_and_path(&url) else {
        return;
    };
    let name = serde_json::to_value(e.name)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    for (attempt, wait) in [0u64, 1, 4].into_iter().enumerate() {
        tokio::time::sleep(Duration::from_secs(wait)).await;
        let signed = sign(&secret, &host, &path, OffsetDateTime::now_utc(), &body);
        let sent = http
            .post(&url)
            .header("x-ms-date", &signed.date)
            .header("x-ms-content-sha256", &signed.content_sha256)
            .header("Authorization", &signed.authorization)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await;
        let status = sent.as_ref().ok().map(|r| r.status().as_u16());
        hooks.record(HookDelivery {
            url: url.clone(),
            reference: e.reference.clone(),
            name: name.clone(),
            date: signed.date,
            content_sha256: signed.content_sha256,
            authorization: signed.authorization,
            body: String::from_utf8_lossy(&body).into_owned(),
            status,
        });
        match status {
            Some(s) if (200..300).contains(&s) => return,
            // The receiver refused the event itself: trying again will not help.
            Some(s) if (400..500).contains(&s) && s != 408 && s != 429 => {
                tracing::info!(reference = %e.reference, status = s, "sim webhook refused by its receiver");
                return;
            }
            _ => tracing::info!(reference = %e.reference, attempt, "sim webhook not delivered"),
        }
    }
}
