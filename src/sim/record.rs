//! The flight recorder: every request the simulator receives and what it answered, with
//! running totals, so tests can check traffic against the official schemas and count
//! reads and bytes.
//!
//! Owns redaction: secrets (client_secret, subscription key, bearer tokens, issued access
//! tokens) never enter a record. It must never change what a client receives.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use axum::http::{HeaderMap, Method};
use serde::Serialize;
use serde_json::Value;

/// How many exchanges a test's simulator keeps; older ones are dropped first. Stats
/// keep counting. A till's simulator keeps none ([`super::SimConfig::keep_exchanges`]).
pub const MAX_EXCHANGES: usize = 100_000;

/// One request and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub method: String,
    /// Path and query, e.g. `/epayment/v1/payments/abc-12345/capture`.
    pub path: String,
    /// The spec's operationId (`createPayment`, `getPayment`, `getPaymentEventLog`,
    /// `capturePayment`, `cancelPayment`, `refundPayment`, `forceApprove`,
    /// `fetchAuthorizationTokenUsingPost`, `getLedgers`, `fetchReportByDate`), or `phone`,
    /// `admin`, `unknown`.
    pub operation: String,
    /// The payment reference named in the path or the create body, if any.
    pub reference: Option<String>,
    /// `None` when no response was sent (a dropped response or a reset connection).
    pub status: Option<u16>,
    /// Header names are lower case; secret values read `***`.
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<Value>,
    pub response_content_type: Option<String>,
    /// The body that was sent, or for a dropped response the one that would have been.
    pub response_body: Option<Value>,
    /// Approximate HTTP/1.1 bytes: request line or status line, headers and body.
    pub bytes_in: usize,
    pub bytes_out: usize,
    /// The injected fault, if any: `latency`, `error_5xx`, `rate_429`, `drop_response`,
    /// `connection_reset`.
    pub fault: Option<String>,
}

impl Exchange {
    /// The request half of an exchange; `reference` is left for the caller,
    /// who knows where its API carries one.
    pub(crate) fn of_request(
        parts: &axum::http::request::Parts,
        bytes: &[u8],
        operation: &str,
    ) -> Exchange {
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), |p| p.to_string());
        Exchange {
            method: parts.method.to_string(),
            bytes_in: parts.method.as_str().len()
                + path.len()
                + 12
                + header_bytes(&parts.headers)
                + bytes.len(),
            path,
            operation: operation.to_string(),
            reference: None,
            status: None,
            request_headers: redacted_headers(&parts.headers),
            request_body: json_body(bytes),
            response_content_type: None,
            response_body: None,
            bytes_out: 0,
            fault: None,
        }
    }

    /// Reads the answer whole and notes it, then hands back the same answer.
    pub(crate) async fn note_response(
        &mut self,
        resp: axum::response::Response,
    ) -> axum::response::Response {
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        self.status = Some(parts.status.as_u16());
        self.response_content_type = parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self.response_body = json_body(&bytes);
        self.bytes_out = 17 + header_bytes(&parts.headers) + bytes.len();
        axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
    }

    /// The answer was made (and noted) but never sent (a test's fault).
    #[cfg(feature = "testing")]
    pub(crate) fn mark_dropped(&mut self) {
        self.status = None;
        self.bytes_out = 0;
        self.fault = Some("drop_response".into());
    }
}

/// Running totals over every exchange since start (not bounded like the list).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SimStats {
    pub requests: u64,
    pub per_operation: BTreeMap<String, u64>,
    /// getPayment + getPaymentEventLog requests per reference.
    pub reads_per_reference: BTreeMap<String, u64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

pub(crate) struct Recorder {
    /// How many exchanges the list keeps (0: none, only the totals).
    keep: usize,
    inner: Mutex<(VecDeque<Exchange>, SimStats)>,
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder::keeping(MAX_EXCHANGES)
    }
}

impl Recorder {
    /// Hands the request to the handlers as the API would and records what
    /// they answered: the middleware's last step in both simulators.
    pub(crate) async fn pass(
        &self,
        parts: axum::http::request::Parts,
        bytes: axum::body::Bytes,
        mut ex: Exchange,
        next: axum::middleware::Next,
    ) -> axum::response::Response {
        let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
        let resp = ex.note_response(next.run(req).await).await;
        self.push(ex);
        resp
    }

    pub fn keeping(keep: usize) -> Recorder {
        Recorder {
            keep,
            inner: Mutex::default(),
        }
    }

    pub fn push(&self, ex: Exchange) {
        tracing::debug!(
            operation = %ex.operation,
            reference = ?ex.reference,
            status = ?ex.status,
            fault = ?ex.fault,
            "sim exchange"
        );
        // A poisoned lock only means a test panicked mid-push; the data is still usable.
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (list, stats) = &mut *g;
        stats.requests += 1;
        *stats.per_operation.entry(ex.operation.clone()).or_default() += 1;
        if matches!(ex.operation.as_str(), "getPayment" | "getPaymentEventLog")
            && let Some(r) = &ex.reference
        {
            *stats.reads_per_reference.entry(r.clone()).or_default() += 1;
        }
        stats.bytes_in += ex.bytes_in as u64;
        stats.bytes_out += ex.bytes_out as u64;
        if self.keep == 0 {
            return;
        }
        while list.len() >= self.keep {
            list.pop_front();
        }
        list.push_back(ex);
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0.iter().cloned().collect()
    }

    pub fn stats(&self) -> SimStats {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }
}

/// Which spec operation a request is, and the reference its path names.
pub(crate) fn operation_for(method: &Method, path: &str) -> (&'static str, Option<String>) {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let post = method == Method::POST;
    let get = method == Method::GET;
    let op = match segs.as_slice() {
        ["accesstoken", "get"] if post => "fetchAuthorizationTokenUsingPost",
        ["epayment", "v1", "payments"] if post => "createPayment",
        ["epayment", "v1", "payments", _] if get => "getPayment",
        ["epayment", "v1", "payments", _, "events"] if get => "getPaymentEventLog",
        ["epayment", "v1", "payments", _, "capture"] if post => "capturePayment",
        ["epayment", "v1", "payments", _, "cancel"] if post => "cancelPayment",
        ["epayment", "v1", "payments", _, "refund"] if post => "refundPayment",
        ["epayment", "v1", "test", "payments", _, "approve"] if post => "forceApprove",
        ["settlement", "v1", "ledgers"] if get => "getLedgers",
        // The spec gives this operation no operationId; named after its summary.
        ["report", "v2", "ledgers", _, _, "dates", _] if get => "fetchReportByDate",
        ["webhooks", "v1", "webhooks"] if post => "registerWebhook",
        ["webhooks", "v1", "webhooks"] if get => "getWebhooks",
        ["webhooks", "v1", "webhooks", _] if method == Method::DELETE => "deleteWebhook",
        ["phone", ..] => "phone",
        ["sim", ..] => "admin",
        _ => "unknown",
    };
    let reference = match segs.as_slice() {
        ["epayment", "v1", "payments", r, ..] | ["epayment", "v1", "test", "payments", r, ..] => {
            Some(r.to_string())
        }
        ["sim", "payments", r, ..] => Some(r.to_string()),
        _ => None,
    };
    (op, reference)
}

/// The operations fault injection applies to: the ePayment, Access Token and Report API, never
/// the phone page or the admin endpoints.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn is_api(operation: &str) -> bool {
    !matches!(operation, "phone" | "admin" | "unknown")
}

const SECRET_HEADERS: [&str; 2] = ["client_secret", "ocp-apim-subscription-key"];

pub(crate) fn redacted_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().to_ascii_lowercase();
            let value = value.to_str().unwrap_or("<binary>");
            let shown = if SECRET_HEADERS.contains(&name.as_str()) {
                "***".to_string()
            } else if name == "authorization" {
                // Keep the scheme: a test may check that "Bearer" was sent.
                match value.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} ***"),
                    None => "***".to_string(),
                }
            } else {
                value.to_string()
            };
            (name, shown)
        })
        .collect()
}

/// Parses a body as JSON for the record; the issued access token and a
/// webhook's signing secret are blanked.
pub(crate) fn json_body(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    let mut v: Value = serde_json::from_slice(bytes).ok()?;
    for key in ["access_token", "secret"] {
        if let Some(token) = v.get_mut(key) {
            *token = Value::String("***".to_string());
        }
    }
    Some(v)
}

pub(crate) fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn operations_from_paths() {
        let p = Method::POST;
        assert_eq!(
            operation_for(&p, "/epayment/v1/payments").0,
            "createPayment"
        );
        assert_eq!(
            operation_for(&Method::GET, "/epayment/v1/payments/abc-12345/events"),
            ("getPaymentEventLog", Some("abc-12345".to_string()))
        );
        assert_eq!(
            operation_for(&p, "/epayment/v1/test/payments/abc-12345/approve").0,
            "forceApprove"
        );
        assert_eq!(
            operation_for(&Method::GET, "/epayment/v1/payments").0,
            "unknown"
        );
        assert!(!is_api(operation_for(&Method::GET, "/phone/x").0));
    }

    fn exchange(reference: &str) -> Exchange {
        Exchange {
            method: "GET".into(),
            path: format!("/epayment/v1/payments/{reference}"),
            operation: "getPayment".into(),
            reference: Some(reference.into()),
            status: Some(200),
            request_headers: Vec::new(),
            request_body: None,
            response_content_type: None,
            response_body: Some(serde_json::json!({ "reference": reference })),
            bytes_in: 10,
            bytes_out: 20,
            fault: None,
        }
    }

    #[test]
    fn keeps_the_newest_exchanges_and_counts_them_all() {
        let r = Recorder::keeping(2);
        for reference in ["a", "b", "c"] {
            r.push(exchange(reference));
        }
        let kept: Vec<_> = r.exchanges().into_iter().map(|e| e.reference).collect();
        assert_eq!(kept, vec![Some("b".into()), Some("c".into())]);
        assert_eq!(r.stats().requests, 3);
        assert_eq!(r.stats().reads_per_reference.len(), 3);

        let none = Recorder::keeping(0);
        none.push(exchange("a"));
        assert!(none.exchanges().is_empty(), "a till keeps no exchanges");
        assert_eq!(none.stats().requests, 1, "but still counts them");
        assert_eq!(none.stats().bytes_out, 20);
    }

    #[test]
    fn secrets_never_recorded() {
        let mut h = HeaderMap::new();
        h.insert("client_secret", HeaderValue::from_static("hunter2"));
        h.insert(
            "Ocp-Apim-Subscription-Key",
            HeaderValue::from_static("sub-key"),
        );
        h.insert("authorization", HeaderValue::from_static("Bearer tok"));
        h.insert("client_id", HeaderValue::from_static("id"));
        let shown = format!("{:?}", redacted_headers(&h));
        assert!(
            !shown.contains("hunter2") && !shown.contains("sub-key") && !shown.contains("tok\"")
        );
        assert!(shown.contains("Bearer ***") && shown.contains("\"id\""));
        let body = json_body(br#"{"access_token":"eyJ","token_type":"Bearer"}"#).unwrap();
        assert_eq!(body["access_token"], "***");
    }
}
