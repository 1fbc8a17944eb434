//! What can go wrong talking to Vipps, and whether trying again can help.

use std::time::Duration;

use super::dto::Problem;
use crate::http::ErrorAnswer;
use crate::retry::{Permanent, RetryClass};

#[derive(Debug, thiserror::Error)]
pub enum VippsError {
    /// No answer in time. The request may or may not have been applied.
    #[error("Vipps did not answer in time")]
    Timeout,
    /// The connection failed or broke. The request may have been applied.
    #[error("could not reach Vipps: {0}")]
    Network(String),
    /// Vipps answered with an error status.
    #[error("Vipps answered {status}: {}", problem_text(.problem, .body))]
    Http {
        status: u16,
        problem: Option<Box<Problem>>,
        /// The start of a non-problem body, for the log.
        body: String,
        retry_after: Option<Duration>,
    },
    /// A success status with a body that is not what the spec says.
    #[error("Vipps sent a response Luka could not read: {0}")]
    Decode(String),
    /// Credentials were refused even with a fresh token.
    #[error(
        "Vipps refused the credentials (client_id, client_secret, subscription_key, \
         merchant_serial_number): check them in luka.toml"
    )]
    Unauthorized,
    #[error("Vipps client setup: {0}")]
    Config(String),
}

fn problem_text(problem: &Option<Box<Problem>>, body: &str) -> String {
    match problem {
        Some(p) => match &p.detail {
            Some(d) => format!("{} ({d})", p.title),
            None => p.title.clone(),
        },
        None if body.is_empty() => "no details".to_string(),
        None => body.to_string(),
    }
}

impl VippsError {
    pub fn status(&self) -> Option<u16> {
        match self {
            VippsError::Http { status, .. } => Some(*status),
            VippsError::Unauthorized => Some(401),
            _ => None,
        }
    }

    /// How retrying stands with this failure.
    pub fn class(&self) -> RetryClass {
        match self {
            VippsError::Timeout | VippsError::Network(_) => RetryClass::NoAnswer,
            VippsError::Http {
                status,
                retry_after,
                ..
            } => RetryClass::from_http(*status, *retry_after),
            VippsError::Decode(_) => RetryClass::Unreadable,
            VippsError::Unauthorized => RetryClass::Permanent(Permanent::Credentials),
            // Ours, not an answer from Vipps: the message says what to fix.
            VippsError::Config(_) => RetryClass::Permanent(Permanent::Local),
        }
    }

    /// Reads an error answer ([`ErrorAnswer`]): its problem+json (or the
    /// start of another body, for the log) and `Retry-After`.
    pub(crate) async fn from_error_response(resp: reqwest::Response) -> VippsError {
        let answer = ErrorAnswer::read(resp).await;
        let problem = serde_json::from_str::<Problem>(&answer.body)
            .ok()
            .map(Box::new);
        let body = if problem.is_some() {
            String::new()
        } else {
            answer.snippet()
        };
        VippsError::Http {
            status: answer.status,
            problem,
            body,
            retry_after: answer.retry_after,
        }
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> VippsError {
        if e.is_timeout() {
            VippsError::Timeout
        } else if e.is_builder() {
            VippsError::Config(e.to_string())
        } else if e.is_decode() {
            VippsError::Decode(e.to_string())
        } else {
            // Strip the URL: it is harmless, but keeps log lines short.
            VippsError::Network(e.without_url().to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_problem_and_map_to_outcomes() {
        let e = VippsError::Http {
            status: 400,
            problem: Some(Box::new(Problem {
                kind: "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/errors".into(),
                title: "Bad Request".into(),
                detail: Some("Amount must be at least 100".into()),
                status: 400,
                trace_id: "t".into(),
                extra: Default::default(),
            })),
            body: String::new(),
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "Vipps answered 400: Bad Request (Amount must be at least 100)"
        );
        assert_eq!(
            e.class(),
            RetryClass::Permanent(Permanent::Refused { status: Some(400) })
        );
        assert_eq!(VippsError::Timeout.class(), RetryClass::NoAnswer);
        assert_eq!(
            VippsError::Unauthorized.class(),
            RetryClass::Permanent(Permanent::Credentials)
        );
    }
}
