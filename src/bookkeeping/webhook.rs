//! The signed JSON webhook: each completed sale and refund POSTed to the
//! club's receiver, signed the Standard Webhooks way:
//!
//! - `webhook-id`: the outbox item's idempotency key, the same on every
//!   retry, so the receiver de-duplicates on it;
//! - `webhook-timestamp`: Unix seconds of this attempt (receivers refuse
//!   stale ones, so a retry is signed anew);
//! - `webhook-signature`: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`.
//!
//! The secret is `whsec_` + base64 of the key bytes (what Standard Webhooks
//! libraries expect); any other string is used as its UTF-8 bytes. Never
//! logs the secret or a signature.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Sink, kind};
use crate::clock::Clock;
use crate::retry::{Failure, RetryClass};
use crate::secret::Secret;
use crate::store::OutboxItem;

/// The key bytes, never printed.
#[derive(Clone)]
pub struct WebhookKey(Vec<u8>);

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey(***)")
    }
}

impl WebhookKey {
    pub fn parse(secret: &Secret) -> Result<WebhookKey, String> {
        let s = secret.expose().trim();
        if s.is_empty() {
            return Err("the webhook secret is empty".into());
        }
        match s.strip_prefix("whsec_") {
            Some(b64) => B64.decode(b64).map(WebhookKey).map_err(|_| {
                "the webhook secret starts with whsec_ but the rest is not base64".into()
            }),
            None => Ok(WebhookKey(s.as_bytes().to_vec())),
        }
    }

    /// `v1,<base64 HMAC-SHA256(id.timestamp.body)>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
    }
}

pub struct WebhookSink {
    http: reqwest::Client,
    url: String,
    key: WebhookKey,
    clock: Arc<dyn Clock>,
}

impl WebhookSink {
    pub fn new(
        url: &str,
        key: WebhookKey,
        timeout: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<WebhookSink, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("luka/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make the webhook client: {e}"))?;
        Ok(WebhookSink {
            http,
            url: url.to_string(),
            key,
            clock,
        })
    }
}

/// Maps a transport error to what retrying can do about it.
pub(crate) fn transport_failure(service: &str, e: reqwest::Error) -> Failure {
    // A timeout or a refused connection alike: no answer came.
    Failure::new(
        RetryClass::NoAnswer,
        format!("{service} could not be reached: {}", e.without_url()),
    )
}

pub(crate) fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[async_trait::async_trait]
impl Sink for WebhookSink {
    fn kind(&self) -> &'static str {
        kind::WEBHOOK
    }

    fn service(&self) -> &'static str {
        "the webhook"
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<(), Failure> {
        // serde_json's map is ordered, so the stored event serialises to the
        // same bytes on every attempt.
        let body = item.payload.to_string().into_bytes();
        let id = &item.idempotency_key;
        let ts = self.clock.now().unix_timestamp();
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", self.key.sign(id, ts, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| transport_failure("the webhook receiver", e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let after = retry_after(&resp);
        let text: String = resp
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        Err(Failure {
            class: RetryClass::from_http(status.as_u16(), after),
            message: format!(
                "the webhook receiver answered {}{}",
                status.as_u16(),
                if text.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", text.trim())
                }
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks reference vector (checked independently with
    /// Python's hmac module).
    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        let key =
            WebhookKey::parse(&Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
        assert_eq!(
            key.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn bad_secrets_are_named_and_never_printed() {
        assert!(WebhookKey::parse(&Secret::new("")).is_err());
        assert!(WebhookKey::parse(&Secret::new("whsec_***not base64***")).is_err());
        let k = WebhookKey::parse(&Secret::new("plain-secret")).unwrap();
        assert_eq!(format!("{k:?}"), "WebhookKey(***)");
        assert_ne!(k.sign("a", 1, b"x"), k.sign("a", 2, b"x"));
    }
}
