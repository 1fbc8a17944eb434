//! The Webhooks API (`specs/vipps/webhooks.swagger.yaml`): register, list
//! and delete a merchant's webhooks, the event types the ePayment API
//! sends, and the HMAC scheme every delivery is signed with.
//!
//! The signature, as Vipps documents it
//! (<https://developer.vippsmobilepay.com/docs/APIs/webhooks-api/request-authentication/>):
//! `x-ms-content-sha256` is the base64 SHA-256 of the body; the string to
//! sign is `POST\n<pathAndQuery>\n<x-ms-date>;<host>;<x-ms-content-sha256>`
//! (path, query and host of the registered URL); the `Authorization`
//! header is `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64 HMAC-SHA256>`,
//! keyed with the `secret` the registration returned (its UTF-8 bytes, as
//! the page's JavaScript and C# examples use it).
//!
//! The secret is a [`Secret`]: never logged, never in an error.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::client::SystemInfo;
use super::dto::PaymentEventName;
use super::error::VippsError;
use super::session::Session;
use super::token::Credentials;
use crate::secret::Secret;

/// `POST /webhooks/v1/webhooks` body (spec `RegisterRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub url: String,
    pub events: Vec<String>,
}

/// 201 of a registration (spec `RegisterResponse`).
#[derive(Clone, Serialize, Deserialize)]
pub struct RegisterResponse {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for RegisterResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterResponse")
            .field("id", &self.id)
            .field("secret", &"***")
            .finish()
    }
}

/// One registered webhook (spec `Webhook`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
}

/// `GET /webhooks/v1/webhooks` (spec `QueryResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResponse {
    pub webhooks: Vec<Webhook>,
}

/// The Webhooks API's event type of an ePayment event name
/// (`AUTHORIZED` → `epayments.payment.authorized.v1`).
pub fn event_type(name: PaymentEventName) -> Option<&'static str> {
    Some(match name {
        PaymentEventName::Created => "epayments.payment.created.v1",
        PaymentEventName::Aborted => "epayments.payment.aborted.v1",
        PaymentEventName::Expired => "epayments.payment.expired.v1",
        PaymentEventName::Cancelled => "epayments.payment.cancelled.v1",
        PaymentEventName::Captured => "epayments.payment.captured.v1",
        PaymentEventName::Refunded => "epayments.payment.refunded.v1",
        PaymentEventName::Authorized => "epayments.payment.authorized.v1",
        PaymentEventName::Terminated => "epayments.payment.terminated.v1",
        PaymentEventName::Unknown => return None,
    })
}

/// Every ePayment event type the Webhooks API knows.
pub const EPAYMENT_EVENTS: &[&str] = &[
    "epayments.payment.created.v1",
    "epayments.payment.aborted.v1",
    "epayments.payment.expired.v1",
    "epayments.payment.cancelled.v1",
    "epayments.payment.captured.v1",
    "epayments.payment.refunded.v1",
    "epayments.payment.authorized.v1",
    "epayments.payment.terminated.v1",
];

/// The headers of one signed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// `x-ms-date`, RFC 1123 ("Thu, 30 Mar 2023 08:38:32 GMT").
    pub date: String,
    /// `x-ms-content-sha256`.
    pub content_sha256: String,
    /// `Authorization`.
    pub authorization: String,
}

const AUTH_PREFIX: &str = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=";

/// base64 SHA-256 of a body: `x-ms-content-sha256`.
pub fn content_hash(body: &[u8]) -> String {
    B64.encode(Sha256::digest(body))
}

fn mac(secret: &Secret, path_and_query: &str, host: &str, date: &str, hash: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(format!("POST\n{path_and_query}\n{date};{host};{hash}").as_bytes());
    mac
}

/// The RFC 1123 form `x-ms-date` uses.
pub fn http_date(at: OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text.trim(), &f)
        .ok()
        .map(|t| t.assume_utc())
}

/// The host (with a port that is not the scheme's default) and the path
/// with its query of a webhook URL: what the signature covers.
pub fn host_and_path(url: &str) -> Option<(String, String)> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?;
    let host = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    Some((host, path))
}

/// Signs a delivery of `body` to the URL with `host` and `path_and_query`.
pub fn sign(
    secret: &Secret,
    host: &str,
    path_and_query: &str,
    at: OffsetDateTime,
    body: &[u8],
) -> Signed {
    let date = http_date(at);
    let hash = content_hash(body);
    let sig = B64.encode(
        mac(secret, path_and_query, host, &date, &hash)
            .finalize()
            .into_bytes(),
    );
    Signed {
        date,
        content_sha256: hash,
        authorization: format!("{AUTH_PREFIX}{sig}"),
    }
}

/// Why a delivery is not taken. None of them says anything of the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the webhook lacks the {0} header")]
    Missing(&'static str),
    #[error("x-ms-content-sha256 is not the SHA-256 of the body: the body was changed on the way")]
    ContentHash,
    #[error(
        "the webhook's signature does not match: not from Vipps, or signed with another secret"
    )]
    Signature,
    #[error("x-ms-date is not an RFC 1123 date")]
    Date,
    #[error("the webhook is {0} s away from now (more than the window): too old to be trusted")]
    Stale(i64),
}

impl Refused {
    /// 400 for a malformed request, 401 for one not signed by Vipps.
    pub fn status(&self) -> u16 {
        match self {
            Refused::Missing(_) | Refused::Date => 400,
            Refused::ContentHash | Refused::Signature | Refused::Stale(_) => 401,
        }
    }
}

/// What a receiver checks a delivery against.
pub struct Delivery<'a> {
    pub date: Option<&'a str>,
    pub content_sha256: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
}

/// Checks a delivery: the body's hash, the signature (compared in constant
/// time by `hmac`'s `verify_slice`), and that `x-ms-date` is within
/// `window` of `now` either way (a replay of an old delivery, or a clock
/// far off). `host` and `path_and_query` are those of the registered URL.
pub fn verify(
    secret: &Secret,
    host: &str,
    path_and_query: &str,
    d: &Delivery<'_>,
    now: OffsetDateTime,
    window: Duration,
) -> Result<(), Refused> {
    let date = d.date.ok_or(Refused::Missing("x-ms-date"))?;
    let hash = d
        .content_sha256
        .ok_or(Refused::Missing("x-ms-content-sha256"))?;
    let auth = d.authorization.ok_or(Refused::Missing("Authorization"))?;
    // The hash is no secret: a plain compare tells an attacker nothing.
    if content_hash(d.body) != hash.trim() {
        return Err(Refused::ContentHash);
    }
    let sig = auth
        .strip_prefix(AUTH_PREFIX)
        .and_then(|s| B64.decode(s.trim()).ok())
        .ok_or(Refused::Signature)?;
    mac(secret, path_and_query, host, date, hash)
        .verify_slice(&sig)
        .map_err(|_| Refused::Signature)?;
    let at = parse_http_date(date).ok_or(Refused::Date)?;
    let off = (now - at).whole_seconds();
    if off.unsigned_abs() > window.as_secs() {
        return Err(Refused::Stale(off));
    }
    Ok(())
}

/// The Webhooks API client for one merchant sales unit (its own token cache).
pub struct WebhooksClient {
    session: Session,
}

impl WebhooksClient {
    pub fn new(
        base_url: &str,
        creds: Credentials,
        system: SystemInfo,
        timeout: Duration,
    ) -> Result<WebhooksClient, VippsError> {
        Ok(WebhooksClient {
            session: Session::new(base_url, creds, system, timeout)?,
        })
    }

    async fn call<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Vec<u8>, VippsError> {
        let url = format!("{}{path}", self.session.base_url());
        let resp = self.session.send(method, &url, None, body).await?;
        if !resp.status().is_success() {
            return Err(VippsError::from_error_response(resp).await);
        }
        Ok(resp
            .bytes()
            .await
            .map_err(VippsError::from_reqwest)?
            .to_vec())
    }

    /// `GET /webhooks/v1/webhooks`.
    pub async fn list(&self) -> Result<Vec<Webhook>, VippsError> {
        let bytes = self
            .call::<()>(Method::GET, "/webhooks/v1/webhooks", None)
            .await?;
        let q: QueryResponse = serde_json::from_slice(&bytes)
            .map_err(|e| VippsError::Decode(format!("GET /webhooks/v1/webhooks: {e}")))?;
        Ok(q.webhooks)
    }

    /// `POST /webhooks/v1/webhooks` → the id and the signing secret.
    pub async fn register(
        &self,
        url: &str,
        events: &[&str],
    ) -> Result<(String, Secret), VippsError> {
        let body = RegisterRequest {
            url: url.to_string(),
            events: events.iter().map(|e| e.to_string()).collect(),
        };
        let bytes = self
            .call(Method::POST, "/webhooks/v1/webhooks", Some(&body))
            .await?;
        let r: RegisterResponse = serde_json::from_slice(&bytes).map_err(|_| {
            VippsError::Decode("POST /webhooks/v1/webhooks: no id and secret".into())
        })?;
        Ok((r.id, Secret::new(r.secret)))
    }

    /// `DELETE /webhooks/v1/webhooks/{id}`.
    pub async fn delete(&self, id: &str) -> Result<(), VippsError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(VippsError::Config(format!("'{id}' is not a webhook id")));
        }
        self.call::<()>(Method::DELETE, &format!("/webhooks/v1/webhooks/{id}"), None)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example on Vipps' request-authentication page (cited in the
    /// module doc): its secret, date, body and URL give its hash and
    /// signature.
    #[test]
    fn the_documented_vector_signs_and_verifies() {
        let secret = Secret::new(
            "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==",
        );
        let body = br#"{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}"#;
        let at = time::macros::datetime!(2023-03-30 08:38:32 UTC);
        let path = "/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63";
        let s = sign(&secret, "webhook.site", path, at, body);
        assert_eq!(s.date, "Thu, 30 Mar 2023 08:38:32 GMT");
        assert_eq!(
            s.content_sha256,
            "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
        );
        assert_eq!(
            s.authorization,
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="
        );
        let d = Delivery {
            date: Some(&s.date),
            content_sha256: Some(&s.content_sha256),
            authorization: Some(&s.authorization),
            body,
        };
        let window = Duration::from_secs(300);
        let ok = |d: &Delivery<'_>, now| verify(&secret, "webhook.site", path, d, now, window);
        assert_eq!(ok(&d, at + time::Duration::seconds(60)), Ok(()));
        // Five minutes and one second later: too old.
        assert_eq!(
            ok(&d, at + time::Duration::seconds(301)),
            Err(Refused::Stale(301))
        );
        // Another body with the same headers.
        let changed = Delivery {
            body: br#"{"some-unique-content":"x"}"#,
            ..d
        };
        assert_eq!(ok(&changed, at), Err(Refused::ContentHash));
        // Another secret, host or path.
        let other = Secret::new("another secret");
        assert_eq!(
            verify(&other, "webhook.site", path, &d, at, window),
            Err(Refused::Signature)
        );
        assert_eq!(
            verify(&secret, "evil.example", path, &d, at, window),
            Err(Refused::Signature)
        );
        assert_eq!(
            verify(&secret, "webhook.site", "/other", &d, at, window),
            Err(Refused::Signature)
        );
        let forged = s.authorization.replace("agAi", "bgAi");
        let bad = Delivery {
            authorization: Some(&forged),
            ..d
        };
        assert_eq!(ok(&bad, at), Err(Refused::Signature));
        let none = Delivery {
            authorization: None,
            ..d
        };
        assert_eq!(ok(&none, at), Err(Refused::Missing("Authorization")));
        assert_eq!(Refused::Signature.status(), 401);
        assert!(
            !format!(
                "{:?}",
                RegisterResponse {
                    id: "a".into(),
                    secret: "s3cr3t".into()
                }
            )
            .contains("s3cr3t")
        );
    }

    #[test]
    fn the_signed_host_keeps_a_port_that_is_not_the_default() {
        let hp = |u: &str| host_and_path(u).unwrap();
        assert_eq!(
            hp("https://hub.klubben.no/vipps/webhook"),
            ("hub.klubben.no".into(), "/vipps/webhook".into())
        );
        assert_eq!(
            hp("http://127.0.0.1:8470/vipps/webhook?a=1"),
            ("127.0.0.1:8470".into(), "/vipps/webhook?a=1".into())
        );
        assert_eq!(hp("https://h.no:443/x").0, "h.no");
    }

    #[test]
    fn event_types_follow_the_names() {
        assert_eq!(
            event_type(PaymentEventName::Authorized),
            Some("epayments.payment.authorized.v1")
        );
        assert_eq!(event_type(PaymentEventName::Unknown), None);
        assert_eq!(EPAYMENT_EVENTS.len(), 8);
    }
}
