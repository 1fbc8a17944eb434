//! HTTP handlers for the Access Token API and the ePayment API, as the spec files
//! describe them: header checks, authentication, rate limits, body parsing, then one call
//! into [`SimState`](super::state::SimState) under the lock.
//!
//! Every refusal is an `application/problem+json` [`Fail`]; axum's own extractor errors
//! (422, 415) never reach a client. Must never log a secret or a token.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Shared;
use super::limits::retry_after_secs;
use super::problem::Fail;
use super::state::{Modification, NewPayment, Now, Reply};
use super::validate;
use crate::vipps::dto::{
    AccessTokenResponse, CreatePaymentRequest, ForceApprove, ModificationRequest, QrFormatKind,
    UserFlow,
};

type Sh = State<Arc<Shared>>;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// 32 bytes from the OS RNG, not the seeded one: tokens and phone links must be
/// unguessable even when the seed is known.
pub(crate) fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

pub(crate) async fn access_token(State(sh): Sh, headers: HeaderMap) -> Response {
    let cfg = &sh.cfg;
    let credentials_ok = header(&headers, "client_id") == Some(cfg.client_id.as_str())
        && header(&headers, "client_secret") == Some(cfg.client_secret.as_str())
        && header(&headers, "Ocp-Apim-Subscription-Key") == Some(cfg.subscription_key.as_str())
        // Optional in the Access Token spec, but when sent it must be this merchant's.
        && header(&headers, "Merchant-Serial-Number").is_none_or(|m| m == cfg.merchant_serial_number);
    if !credentials_ok {
        tracing::info!("sim refused an access token request: wrong credentials");
        return Fail::unauthorized(
            "client_id, client_secret or Ocp-Apim-Subscription-Key is wrong",
        )
        .into_response();
    }
    let token = random_token();
    let now = Now::system();
    let lifetime = cfg.token_lifetime;
    sh.lock().tokens.issue(token.clone(), now.mono, lifetime);
    let issued = now.wall.unix_timestamp();
    let body = AccessTokenResponse {
        token_type: "Bearer".into(),
        expires_in: lifetime.as_secs().to_string(),
        // "Extra time added to expiry time. Currently disabled." — Vipps sends the same
        // number as expires_in, so does the simulator.
        ext_expires_in: lifetime.as_secs().to_string(),
        expires_on: (issued + lifetime.as_secs() as i64).to_string(),
        not_before: issued.to_string(),
        resource: "00000002-0000-0000-c000-000000000000".into(),
        access_token: token,
    };
    let mut resp = Json(body).into_response();
    // The media type the spec declares for this response.
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    resp
}

/// The gateway checks, in the order Azure APIM and Vipps make them: subscription key
/// (401), bearer token (401), then the merchant serial number (400 missing, 403 not
/// this merchant's).
pub(crate) fn authorize(sh: &Shared, headers: &HeaderMap) -> Result<(), Fail> {
    if header(headers, "Ocp-Apim-Subscription-Key") != Some(sh.cfg.subscription_key.as_str()) {
        return Err(Fail::unauthorized(
            "missing or invalid Ocp-Apim-Subscription-Key",
        ));
    }
    let token = header(headers, "Authorization").and_then(|v| v.strip_prefix("Bearer "));
    let valid = token.is_some_and(|t| sh.lock().tokens.is_valid(t.trim(), Now::system().mono));
    if !valid {
        return Err(Fail::unauthorized(
            "missing, invalid or expired access token",
        ));
    }
    match header(headers, "Merchant-Serial-Number") {
        None => Err(Fail::bad_request(
            "the Merchant-Serial-Number header is required",
        )),
        Some(m) if m != sh.cfg.merchant_serial_number => Err(Fail::new(
            StatusCode::FORBIDDEN,
            format!("merchant serial number {m} is not available with these credentials"),
        )),
        Some(_) => Ok(()),
    }
}

fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<(T, Value), Fail> {
    let value: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .map_err(|e| Fail::bad_request(format!("{what} is not valid JSON: {e}")))?
    };
    let parsed = serde_json::from_value(value.clone())
        .map_err(|e| Fail::bad_request(format!("{what} does not match the schema: {e}")))?;
    Ok((parsed, value))
}

fn reply(r: Result<Reply, Fail>) -> Response {
    match r {
        Ok(Reply { status, body }) => (status, Json(body)).into_response(),
        Err(f) => f.into_response(),
    }
}

fn admit(sh: &Shared, reference: &str, modification: bool) -> Result<(), Fail> {
    let now = Now::system().mono;
    let mut st = sh.lock();
    let (windows, limit, what) = if modification {
        (
            &mut st.modifications,
            sh.cfg.modifications_per_minute,
            "modifications",
        )
    } else {
        (&mut st.reads, sh.cfg.reads_per_minute, "reads")
    };
    windows.admit(reference, limit, now).map_err(|wait| {
        tracing::info!(reference = %reference, "sim rate limit: too many {what}");
        Fail::too_many(
            format!("more than {limit} {what} per minute for reference '{reference}'"),
            retry_after_secs(wait),
        )
    })
}

pub(crate) async fn create_payment(State(sh): Sh, headers: HeaderMap, body: Bytes) -> Response {
    reply(create(&sh, &headers, &body))
}

fn create(sh: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Reply, Fail> {
    authorize(sh, headers)?;
    let key = validate::idempotency_key(header(headers, "Idempotency-Key"))?;
    let (req, fingerprint): (CreatePaymentRequest, Value) =
        parse(body, "the CreatePaymentRequest body")?;
    let now = Now::system();
    let lifetime = validate::create_request(&req, now.wall)?.unwrap_or(sh.cfg.payment_lifetime);
    validate::customer_known(&req)?;
    let phone_token = random_token();
    let phone = format!("{}/phone/{phone_token}", sh.public_base);
    // What each flow gets back: QR with TEXT/TARGETURL is the text to encode (here the
    // phone page); QR images point at a rendered code; PUSH_MESSAGE gets nothing; the
    // redirect flows get the landing page, which the phone page stands in for.
    let redirect_url = match (req.user_flow, req.qr_format.as_ref().map(|q| q.format)) {
        (UserFlow::PushMessage, _) => None,
        (UserFlow::Qr, Some(QrFormatKind::TextTargetUrl)) => Some(phone.clone()),
        (UserFlow::Qr, Some(QrFormatKind::ImagePng)) => Some(format!("{phone}/qr.png")),
        // IMAGE/SVG+XML is the spec's default when qrFormat is absent.
        (UserFlow::Qr, _) => Some(format!("{phone}/qr.svg")),
        _ => Some(phone),
    };
    let reference = req.reference.clone();
    let new = NewPayment {
        key: &key,
        fingerprint,
        phone_token,
        redirect_url,
        lifetime,
    };
    let r = sh.lock().create(now, req, new);
    if r.is_ok() {
        tracing::info!(reference = %reference, "sim payment created");
    }
    r
}

pub(crate) async fn get_payment(
    State(sh): Sh,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Response {
    let r = authorize(&sh, &headers)
        .and_then(|_| admit(&sh, &reference, false))
        .and_then(|_| sh.lock().get(&reference, Now::system()));
    match r {
        Ok(body) => Json(body).into_response(),
        Err(f) => f.into_response(),
    }
}

pub(crate) async fn get_events(
    State(sh): Sh,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Response {
    let r = authorize(&sh, &headers)
        .and_then(|_| admit(&sh, &reference, false))
        .and_then(|_| sh.lock().events(&reference, Now::system()));
    match r {
        Ok(body) => Json(body).into_response(),
        Err(f) => f.into_response(),
    }
}

fn modify(
    sh: &Shared,
    reference: &str,
    headers: &HeaderMap,
    body: &[u8],
    kind: &str,
) -> Result<Reply, Fail> {
    authorize(sh, headers)?;
    admit(sh, reference, true)?;
    let key = validate::idempotency_key(header(headers, "Idempotency-Key"))?;
    let (m, fingerprint) = if kind == "cancel" {
        // Cancel takes no body in 1.4.1; whatever is sent still counts for key reuse.
        let fingerprint = serde_json::from_slice(body).unwrap_or(Value::Null);
        (Modification::Cancel, fingerprint)
    } else {
        let (req, fingerprint): (ModificationRequest, Value) =
            parse(body, "the modification body")?;
        let m = if kind == "capture" {
            Modification::Capture(req.modification_amount)
        } else {
            Modification::Refund(req.modification_amount)
        };
        (m, fingerprint)
    };
    let r = sh
        .lock()
        .modify(Now::system(), reference, m, &key, fingerprint);
    if r.is_ok() {
        tracing::info!(reference = %reference, operation = m.operation(), "sim payment modified");
    }
    r
}

pub(crate) async fn capture(
    State(sh): Sh,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    reply(modify(&sh, &reference, &headers, &body, "capture"))
}

pub(crate) async fn cancel(
    State(sh): Sh,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    reply(modify(&sh, &reference, &headers, &body, "cancel"))
}

pub(crate) async fn refund(
    State(sh): Sh,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    reply(modify(&sh, &reference, &headers, &body, "refund"))
}

/// Test-environment force approve. The spec documents only a bodyless 200; a payment
/// that is not waiting for the customer is refused with 400, and a `token` that is not
/// the one from this payment's redirectUrl with 400 as well.
pub(crate) async fn force_approve(
    State(sh): Sh,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let r = authorize(&sh, &headers).and_then(|_| {
        let (req, _): (Option<ForceApprove>, Value) = parse(&body, "the ForceApprove body")?;
        let mut st = sh.lock();
        let expected = st
            .phone_token(&reference)
            .ok_or_else(|| Fail::not_found(&reference))?;
        if let Some(t) = req.and_then(|r| r.token)
            && t != expected
        {
            return Err(Fail::bad_request("token does not belong to this payment"));
        }
        st.customer_answer(&reference, true, Now::system())
            .map_err(|e| Fail::bad_request(e.to_string()))
    });
    match r {
        Ok(()) => StatusCode::OK.into_response(),
        Err(f) => f.into_response(),
    }
}
