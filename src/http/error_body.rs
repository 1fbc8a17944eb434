//! Reading an error answer, for any client: the status, `Retry-After`, and
//! the server's own words from a problem+json, OAuth or gateway body, or the
//! start of a plain one. Each client turns this into its own error, with its
//! own messages.
//!
//! Only the answer's status, headers and body are read, never the request: a
//! key or a token sent with it cannot end up here, unless the server echoes
//! one (clients that fear that redact their keys from the text).

use std::time::Duration;

use serde::Deserialize;

/// How much of a body that is not in a known shape is kept, for the log.
pub const SNIPPET_CHARS: usize = 200;

/// An error answer, read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    pub status: u16,
    /// `Retry-After` in its delta-seconds form, whatever the status.
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl ErrorAnswer {
    /// Reads the status, `Retry-After` and the body (empty when it cannot be
    /// read: the status still says what happened).
    pub async fn read(resp: reqwest::Response) -> ErrorAnswer {
        let status = resp.status().as_u16();
        let retry_after = parse_retry_after(
            resp.headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
        );
        let body = resp.text().await.unwrap_or_default();
        ErrorAnswer {
            status,
            retry_after,
            body,
        }
    }

    /// The start of the body.
    pub fn snippet(&self) -> String {
        snippet(&self.body)
    }
}

/// `Retry-After` in its delta-seconds form. An HTTP-date is rare from these
/// gateways and falls back to the caller's normal backoff.
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The first [`SNIPPET_CHARS`] characters of a body (whole characters, never
/// a split one).
pub fn snippet(body: &str) -> String {
    body.chars().take(SNIPPET_CHARS).collect()
}

/// The server's own words in an error body: a headline and a detail, either
/// of which may be missing (never both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub title: Option<String>,
    pub detail: Option<String>,
}

impl Words {
    /// Reads, in this order: an RFC 7807 problem (`title`/`detail`, in either
    /// camel or Pascal case), an RFC 6749 §5.2 OAuth error (`error`,
    /// `error_description`), an API gateway's `message`. `None` when the body
    /// is in none of these shapes.
    pub fn read(body: &str) -> Option<Words> {
        #[derive(Deserialize)]
        struct Problem {
            #[serde(alias = "Title")]
            title: Option<String>,
            #[serde(alias = "Detail")]
            detail: Option<String>,
        }
        #[derive(Deserialize)]
        struct OAuth {
            error: Option<String>,
            error_description: Option<String>,
        }
        #[derive(Deserialize)]
        struct Gateway {
            message: Option<String>,
        }
        if let Ok(p) = serde_json::from_str::<Problem>(body)
            && (p.title.is_some() || p.detail.is_some())
        {
            return Some(Words {
                title: p.title,
                detail: p.detail,
            });
        }
        if let Ok(OAuth {
            error: Some(code),
            error_description,
        }) = serde_json::from_str::<OAuth>(body)
        {
            return Some(Words {
                title: Some(code),
                detail: error_description,
            });
        }
        if let Ok(Gateway { message: Some(m) }) = serde_json::from_str::<Gateway>(body) {
            return Some(Words {
                title: Some(m),
                detail: None,
            });
        }
        None
    }

    /// Title and detail joined by `sep`, or whichever is there.
    pub fn joined(&self, sep: &str) -> String {
        match (&self.title, &self.detail) {
            (Some(t), Some(d)) => format!("{t}{sep}{d}"),
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (None, None) => String::new(),
        }
    }
}

/// The human part of an error body, in whichever shape it came: the
/// server's words joined by `sep`, else the start of the body, else
/// "no details".
pub fn server_text(body: &str, sep: &str) -> String {
    if let Some(w) = Words::read(body) {
        return w.joined(sep);
    }
    if body.trim().is_empty() {
        return "no details".to_string();
    }
    snippet(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_only() {
        let s = Duration::from_secs;
        assert_eq!(parse_retry_after(Some(" 7 ")), Some(s(7)));
        assert_eq!(parse_retry_after(Some("0")), Some(s(0)));
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn the_server_words_in_every_shape() {
        for (body, text) in [
            (
                r#"{"Title":"Invalid","Detail":"not balanced","Status":400}"#,
                "Invalid: not balanced",
            ),
            (
                r#"{"type":"t","title":"Bad Request","status":400}"#,
                "Bad Request",
            ),
            (
                r#"{"detail":"Amount must be at least 100"}"#,
                "Amount must be at least 100",
            ),
            (
                r#"{"error":"invalid_client","error_description":"unknown"}"#,
                "invalid_client: unknown",
            ),
            (r#"{"error":"invalid_grant"}"#, "invalid_grant"),
            (
                r#"{"statusCode":401,"message":"Access denied"}"#,
                "Access denied",
            ),
            ("", "no details"),
            ("  \n", "no details"),
            ("<html>oops</html>", "<html>oops</html>"),
            ("[1,2]", "[1,2]"),
        ] {
            assert_eq!(server_text(body, ": "), text, "{body}");
        }
    }

    #[test]
    fn long_bodies_are_cut_on_a_character() {
        let body = "ø".repeat(500);
        let cut = server_text(&body, ": ");
        assert_eq!(cut.chars().count(), SNIPPET_CHARS);
        assert_eq!(snippet("kort"), "kort");
    }
}
