//! The simulator's error answers: RFC 7807 `application/problem+json` bodies shaped like
//! the spec's `Problem` (type, title, detail, status, traceId).
//!
//! Owns only the shape of a refusal; it must never decide *whether* to refuse.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::vipps::dto::Problem;

/// The documentation page Vipps itself puts in `type`.
const PROBLEM_TYPE: &str = "https://developer.vippsmobilepay.com/docs/knowledge-base/errors";

/// A refusal: the status and a detail a developer can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    pub status: StatusCode,
    pub detail: String,
    /// Seconds for a `Retry-After` header (429 and 503 only).
    pub retry_after: Option<u64>,
}

impl Fail {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Fail {
        Fail {
            status,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Fail {
        Fail::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Fail {
        Fail::new(StatusCode::CONFLICT, detail)
    }

    pub fn not_found(reference: &str) -> Fail {
        Fail::new(
            StatusCode::NOT_FOUND,
            format!("no payment with reference '{reference}'"),
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Fail {
        Fail::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn too_many(detail: impl Into<String>, retry_after_secs: u64) -> Fail {
        Fail {
            retry_after: Some(retry_after_secs),
            ..Fail::new(StatusCode::TOO_MANY_REQUESTS, detail)
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: PROBLEM_TYPE.to_string(),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            detail: Some(self.detail.clone()),
            status: self.status.as_u16(),
            trace_id: uuid::Uuid::new_v4().to_string(),
            extra: Default::default(),
        }
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut resp = (self.status, body).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
