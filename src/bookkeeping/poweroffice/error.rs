//! What can go wrong posting to PowerOffice Go, whether trying again can help,
//! and how the outbox sees it (`Failure`).
//!
//! Messages name what happened and what to do. They must never carry a key or
//! a token: they are built only from statuses, the server's problem text and
//! Luka's own words.

use std::time::Duration;

use crate::http::ErrorAnswer;
use crate::http::error_body;
use crate::retry::{Failure, Permanent, RetryClass};

/// The luka.toml keys a person fixes when PowerOffice refuses the credentials.
pub const CREDENTIAL_KEYS: &str = "[bookkeeping.poweroffice] application_key, client_key and \
     subscription_key";

#[derive(Debug, thiserror::Error)]
pub enum PowerOfficeError {
    /// No answer in time: the request may or may not have been applied.
    #[error("PowerOffice Go did not answer in time")]
    Timeout,
    /// The connection failed or broke: the request may have been applied.
    #[error("could not reach PowerOffice Go: {0}")]
    Network(String),
    /// PowerOffice answered with an error status.
    #[error("PowerOffice Go answered {status}: {text}")]
    Http {
        status: u16,
        /// The server's own words (problem title and detail), or the start of the body.
        text: String,
        retry_after: Option<Duration>,
    },
    /// A success status with a body that is not what the spec says.
    #[error("PowerOffice Go sent an answer Luka could not read: {0}")]
    Decode(String),
    /// The keys were refused, even with a fresh token.
    #[error(
        "PowerOffice Go refused the credentials ({0}): check {keys} in luka.toml",
        keys = CREDENTIAL_KEYS
    )]
    Unauthorized(String),
    /// The integration lacks an access role for an endpoint (403).
    #[error(
        "PowerOffice Go does not let this integration use {0}: ask the club's PowerOffice \
         administrator to grant it the roles CashVoucher_Full, BankVoucher_Full, \
         GeneralLedgerAccount, CommonServices and AccountTransaction"
    )]
    Forbidden(String),
    /// Luka will not send this voucher; sending it again cannot help.
    #[error("{0}")]
    Refused(String),
    #[error("PowerOffice Go client setup: {0}")]
    Config(String),
}

impl PowerOfficeError {
    /// How retrying stands with this failure.
    pub fn class(&self) -> RetryClass {
        match self {
            PowerOfficeError::Timeout | PowerOfficeError::Network(_) => RetryClass::NoAnswer,
            PowerOfficeError::Http {
                status,
                retry_after,
                ..
            } => RetryClass::from_http(*status, *retry_after),
            PowerOfficeError::Decode(_) => RetryClass::Unreadable,
            PowerOfficeError::Unauthorized(_) => RetryClass::Permanent(Permanent::Credentials),
            PowerOfficeError::Forbidden(_) => {
                RetryClass::Permanent(Permanent::Refused { status: Some(403) })
            }
            // Refused here, before sending (unbalanced, an unknown account):
            // the message names what to fix; PowerOffice was never asked.
            PowerOfficeError::Refused(_) | PowerOfficeError::Config(_) => {
                RetryClass::Permanent(Permanent::Local)
            }
        }
    }

    pub fn into_failure(self) -> Failure {
        Failure::new(self.class(), self.to_string())
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> PowerOfficeError {
        if e.is_timeout() {
            PowerOfficeError::Timeout
        } else if e.is_builder() {
            PowerOfficeError::Config(e.without_url().to_string())
        } else {
            // The URL carries no secret, but keeps log lines short without it.
            PowerOfficeError::Network(e.without_url().to_string())
        }
    }

    /// Reads an error answer: its ProblemDetails (or OAuth error, or gateway
    /// message) and `Retry-After`.
    pub(crate) async fn from_response(resp: reqwest::Response) -> PowerOfficeError {
        let answer = ErrorAnswer::read(resp).await;
        let text = error_text(&answer.body);
        let retry_after = match answer.status {
            429 => Some(answer.retry_after.unwrap_or_else(|| retry_after_429(&text))),
            503 => answer.retry_after,
            _ => None,
        };
        PowerOfficeError::Http {
            status: answer.status,
            text,
            retry_after,
        }
    }

    /// Just the server's words in an error answer.
    pub(crate) async fn response_text(resp: reqwest::Response) -> String {
        match PowerOfficeError::from_response(resp).await {
            PowerOfficeError::Http { text, .. } => text,
            other => other.to_string(),
        }
    }

    /// The server's detail, when it is a ProblemDetails answer.
    pub fn detail(&self) -> Option<&str> {
        match self {
            PowerOfficeError::Http { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// The human part of an error body, in whichever shape it came (ProblemDetails,
/// OAuth error, gateway message, else the start of the body): "title: detail".
pub(crate) fn error_text(body: &str) -> String {
    error_body::server_text(body, ": ")
}

/// How long to wait after a 429 without a `Retry-After` header: the gateway's
/// "Try again in N seconds.", else one second, which PowerOffice's guidelines
/// name as the least wait after a throttled request.
fn retry_after_429(text: &str) -> Duration {
    text.split("Try again in ")
        .nth(1)
        .and_then(|tail| tail.split_whitespace().next())
        .and_then(|secs| secs.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_reads_every_shape() {
        for (body, text) in [
            (
                r#"{"Title":"Voucher validation error(s)","Detail":"not balanced","Status":400}"#,
                "Voucher validation error(s): not balanced",
            ),
            (
                r#"{"title":"Object(s) not found","detail":"Pay item with id = 1 not found."}"#,
                "Object(s) not found: Pay item with id = 1 not found.",
            ),
            (
                r#"{"error":"invalid_client","error_description":"Client integration not found."}"#,
                "invalid_client: Client integration not found.",
            ),
            (
                r#"{"statusCode":"429","message":"Rate limit is exceeded. Try again in 3 seconds."}"#,
                "Rate limit is exceeded. Try again in 3 seconds.",
            ),
            ("", "no details"),
            ("<html>oops</html>", "<html>oops</html>"),
        ] {
            assert_eq!(error_text(body), text, "{body}");
        }
    }

    #[test]
    fn throttling_waits_as_told_or_one_second() {
        let s = Duration::from_secs;
        let wait = |header: Option<&str>, text: &str| {
            error_body::parse_retry_after(header).unwrap_or_else(|| retry_after_429(text))
        };
        assert_eq!(wait(Some("7"), "Try again in 3 seconds."), s(7));
        assert_eq!(
            wait(None, "Rate limit is exceeded. Try again in 3 seconds."),
            s(3)
        );
        assert_eq!(wait(Some("soon"), "no details"), s(1));
        assert_eq!(wait(Some(" 0 "), "no details"), s(0));
    }

    #[test]
    fn outcomes_lead_the_retry_logic() {
        use crate::retry::{RetryPolicy, Verdict, decide};
        let p = RetryPolicy::default();
        let retries = |e: PowerOfficeError| {
            matches!(
                decide("PowerOffice Go", e.class(), 1, &p, 0.5),
                Verdict::RetryAfter(_)
            )
        };
        let http = |status, retry_after| PowerOfficeError::Http {
            status,
            text: "x".into(),
            retry_after,
        };
        assert!(retries(PowerOfficeError::Timeout));
        assert!(retries(PowerOfficeError::Network("reset".into())));
        assert!(retries(http(503, None)));
        assert!(retries(http(429, Some(Duration::from_secs(2)))));
        assert!(!retries(http(400, None)));
        assert!(!retries(PowerOfficeError::Unauthorized(
            "invalid_client".into()
        )));
        assert!(!retries(PowerOfficeError::Refused("unbalanced".into())));
        assert!(!retries(PowerOfficeError::Forbidden(
            "POST /Vouchers/CashJournals".into()
        )));
        let msg = PowerOfficeError::Unauthorized("invalid_client".into()).to_string();
        assert!(
            msg.contains("application_key") && msg.contains("luka.toml"),
            "{msg}"
        );
    }
}
