//! The shapes of the simulator's answers: JSON bodies with the spec's DTOs,
//! `ProblemDetails` refusals, the OAuth `ErrorResponseDto`, and the API
//! gateway's own 401 and 429 (`RateLimitResponseDto`).
//!
//! Owns only the shape of an answer; it must never decide *whether* to refuse.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::bookkeeping::poweroffice::dto::{GatewayMessage, OAuthError, ProblemDetails};

pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut resp = (status, bytes).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            resp
        }
        Err(e) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            &format!("could not serialise the answer: {e}"),
        ),
    }
}

/// A list: 200 with the items, or 204 "when there is no content to return".
pub(crate) fn list<T: Serialize>(items: &[T]) -> Response {
    if items.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        json(StatusCode::OK, &items)
    }
}

/// `ProblemDetails` (the spec lists it as `application/json`).
pub(crate) fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    json(
        status,
        &ProblemDetails {
            r#type: None,
            title: Some(title.to_string()),
            status: Some(i32::from(status.as_u16())),
            detail: Some(detail.to_string()),
            instance: None,
        },
    )
}

pub(crate) fn bad_request(detail: &str) -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "One or more validation errors occurred.",
        detail,
    )
}

/// The token endpoint's 400 (RFC 6749 §5.2).
pub(crate) fn oauth_error(error: &str, description: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &OAuthError {
            error: Some(error.to_string()),
            error_description: Some(description.to_string()),
        },
    )
}

/// The gateway refuses a missing or wrong subscription key before the API
/// sees the request (Azure API Management's wording).
pub(crate) fn subscription_refused(missing: bool) -> Response {
    let message = if missing {
        "Access denied due to missing subscription key. Make sure to include subscription key \
         when making requests to an API."
    } else {
        "Access denied due to invalid subscription key. Make sure to provide a valid key for an \
         active subscription."
    };
    json(
        StatusCode::UNAUTHORIZED,
        &GatewayMessage {
            status_code: Some("401".into()),
            message: Some(message.into()),
        },
    )
}

/// 401 on the API: "Access Token is missing or invalid" (no body in the spec).
pub(crate) fn token_refused() -> Response {
    let mut resp = StatusCode::UNAUTHORIZED.into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    resp
}

/// 429 with `Retry-After` and the gateway's `RateLimitResponseDto`. Only a
/// test's throttle knob answers it: the simulator keeps no rate limits.
#[cfg(feature = "testing")]
pub(crate) fn too_many(retry_after_secs: u64) -> Response {
    let mut resp = json(
        StatusCode::TOO_MANY_REQUESTS,
        &GatewayMessage {
            status_code: Some("429".into()),
            message: Some(format!(
                "Rate limit is exceeded. Try again in {retry_after_secs} seconds."
            )),
        },
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    resp
}
