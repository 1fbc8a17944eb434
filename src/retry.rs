//! Retrying, in its own words: how a failed attempt is classed
//! ([`RetryClass`]), what a failure carries ([`Failure`]), and the one pure
//! decision every queue uses ([`decide`]): try again after a delay, or stop
//! for a person.
//!
//! A leaf: it knows no service, no store and no HTTP client. Each client
//! maps its own errors to a class (HTTP statuses through
//! [`RetryClass::from_http`]), and a failure here at the till (an item it
//! cannot read, a result it cannot record) is classed as what it is, never
//! dressed up as an HTTP answer nobody gave.

use std::time::Duration;

/// How a failed attempt stands with respect to retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// No answer came (a timeout, a broken connection): the service may be
    /// unreachable, and the operation may or may not have been applied.
    NoAnswer,
    /// A passing trouble that time fixes: the service answered that it
    /// cannot now (408, 425, 5xx), the printer is out of paper, or the till
    /// could not record a result (the store refused a write).
    Transient,
    /// The service asked to slow down (429), perhaps saying for how long.
    Throttled { after: Option<Duration> },
    /// A success answer that could not be read: retried a few times (the
    /// policy's `max_invalid_responses`), then stopped.
    Unreadable,
    /// Trying the same item again cannot change the answer.
    Permanent(Permanent),
}

/// Why retrying cannot help, as a person reads it in a stop reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permanent {
    /// The service refused the credentials (after the client refreshed its
    /// token once).
    Credentials,
    /// The service refused the request, with this HTTP status when it gave
    /// one.
    Refused { status: Option<u16> },
    /// A failure here, not an answer from anyone: an item the till cannot
    /// read, a request it cannot send. The failure's message says why; no
    /// service is blamed.
    Local,
}

impl RetryClass {
    /// What an HTTP failure status means for retrying, by its usual meaning:
    /// 429 throttles, 408/425/5xx pass, 401 is the credentials, any other
    /// 4xx is a refusal that the same request cannot change.
    pub fn from_http(status: u16, retry_after: Option<Duration>) -> RetryClass {
        match status {
            429 => RetryClass::Throttled { after: retry_after },
            408 | 425 => RetryClass::Transient,
            s if s >= 500 => RetryClass::Transient,
            401 => RetryClass::Permanent(Permanent::Credentials),
            s => RetryClass::Permanent(Permanent::Refused { status: Some(s) }),
        }
    }

    /// Whether the failed call may still have been applied (its answer
    /// lost, or refused for now after an earlier try went through), so
    /// looking first can save a repeat.
    pub fn maybe_applied(self) -> bool {
        !matches!(self, RetryClass::Permanent(_))
    }
}

/// A failed attempt, as a handler or a sink reports it.
#[derive(Debug)]
pub struct Failure {
    pub class: RetryClass,
    /// What happened, for the log and the organizer's backlog.
    pub message: String,
}

impl Failure {
    pub fn new(class: RetryClass, message: impl Into<String>) -> Failure {
        Failure {
            class,
            message: message.into(),
        }
    }

    /// A failure here at the till that the same item can never get past.
    pub fn local(message: impl Into<String>) -> Failure {
        Failure::new(RetryClass::Permanent(Permanent::Local), message)
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    RetryAfter(Duration),
    /// Retrying cannot help; a person must look.
    Stop(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub base: Duration,
    /// Ceiling for the exponential backoff.
    pub max: Duration,
    /// Unreadable success bodies are retried this many times, then stopped.
    pub max_invalid_responses: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
            max_invalid_responses: 5,
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with "equal jitter": half fixed, half random, so
    /// many tills coming back online do not retry in lockstep.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self.base.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1).min(20))
                .unwrap_or(u32::MAX),
        );
        let capped = exp.min(self.max);
        let half = capped / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// The retry decision. `service` is named in the reasons a person reads
/// ("Vipps", "PowerOffice Go", "the receipt printer"); `attempt` is the
/// number of attempts made so far (1 after the first), `jitter` a random
/// number in [0, 1].
///
/// It never gives up on what time can fix (the network may be gone for half
/// an hour mid-payment).
pub fn decide(
    service: &str,
    class: RetryClass,
    attempt: u32,
    policy: &RetryPolicy,
    jitter: f64,
) -> Verdict {
    let backoff = || Verdict::RetryAfter(policy.backoff(attempt, jitter));
    match class {
        RetryClass::NoAnswer | RetryClass::Transient => backoff(),
        RetryClass::Throttled { after } => match after {
            // Honour the server's wish, never sooner; a little jitter on top.
            Some(after) => Verdict::RetryAfter(after + policy.base.mul_f64(jitter.clamp(0.0, 1.0))),
            None => backoff(),
        },
        RetryClass::Unreadable if attempt < policy.max_invalid_responses => backoff(),
        RetryClass::Unreadable => Verdict::Stop(format!(
            "the answer could not be read {attempt} times in a row; check the {service} base URL"
        )),
        RetryClass::Permanent(Permanent::Credentials) => Verdict::Stop(format!(
            "{service} refused the credentials; fix them in luka.toml and retry"
        )),
        RetryClass::Permanent(Permanent::Refused { status: Some(code) }) => Verdict::Stop(format!(
            "{service} answered {code}; sending the same request again cannot change that"
        )),
        RetryClass::Permanent(Permanent::Refused { status: None }) => Verdict::Stop(format!(
            "{service} refused it; sending the same request again cannot change that"
        )),
        RetryClass::Permanent(Permanent::Local) => {
            Verdict::Stop("trying the same item again cannot change that".to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RetryPolicy = RetryPolicy {
        base: Duration::from_millis(500),
        max: Duration::from_secs(30),
        max_invalid_responses: 5,
    };

    fn http(code: u16) -> RetryClass {
        RetryClass::from_http(code, None)
    }

    fn vipps(class: RetryClass, attempt: u32, jitter: f64) -> Verdict {
        decide("Vipps", class, attempt, &P, jitter)
    }

    #[test]
    fn no_answer_and_passing_trouble_retry_with_backoff() {
        assert_eq!(
            vipps(RetryClass::NoAnswer, 1, 1.0),
            Verdict::RetryAfter(Duration::from_millis(500))
        );
        assert_eq!(
            vipps(RetryClass::Transient, 3, 1.0),
            Verdict::RetryAfter(Duration::from_millis(2000))
        );
        // However long it lasts.
        assert!(matches!(
            vipps(RetryClass::NoAnswer, 10_000, 0.5),
            Verdict::RetryAfter(_)
        ));
    }

    #[test]
    fn server_errors_and_timeouts_at_the_server_pass() {
        for code in [408, 425, 500, 502, 503, 504] {
            assert_eq!(http(code), RetryClass::Transient, "{code}");
            assert!(matches!(vipps(http(code), 2, 0.5), Verdict::RetryAfter(_)));
        }
    }

    #[test]
    fn too_many_requests_honours_retry_after() {
        let c = RetryClass::from_http(429, Some(Duration::from_secs(7)));
        assert_eq!(
            c,
            RetryClass::Throttled {
                after: Some(Duration::from_secs(7))
            }
        );
        for jitter in [0.0, 0.5, 1.0] {
            let Verdict::RetryAfter(d) = vipps(c, 1, jitter) else {
                panic!("429 must retry")
            };
            assert!(
                d >= Duration::from_secs(7) && d <= Duration::from_millis(7500),
                "{d:?}"
            );
        }
        // Without the header, the normal backoff applies.
        assert_eq!(
            vipps(http(429), 2, 1.0),
            Verdict::RetryAfter(Duration::from_secs(1))
        );
    }

    #[test]
    fn refusals_that_retrying_cannot_fix_stop_and_say_the_status() {
        for code in [400, 403, 404, 409, 422] {
            let v = vipps(http(code), 1, 0.5);
            assert!(
                matches!(&v, Verdict::Stop(m) if m.contains(&format!("Vipps answered {code}"))),
                "{v:?}"
            );
        }
        assert!(matches!(vipps(http(401), 1, 0.5), Verdict::Stop(m) if m.contains("credentials")));
        let v = decide(
            "PowerOffice Go",
            RetryClass::Permanent(Permanent::Refused { status: None }),
            1,
            &P,
            0.5,
        );
        assert!(
            matches!(&v, Verdict::Stop(m) if m.starts_with("PowerOffice Go refused it") && !m.contains("answered")),
            "{v:?}"
        );
    }

    #[test]
    fn reasons_name_the_service() {
        let v = decide("PowerOffice Go", http(401), 1, &P, 0.5);
        assert!(
            matches!(&v, Verdict::Stop(m) if m.starts_with("PowerOffice Go refused")),
            "{v:?}"
        );
        let v = decide("the webhook", http(400), 1, &P, 0.5);
        assert!(
            matches!(&v, Verdict::Stop(m) if m.contains("the webhook answered 400")),
            "{v:?}"
        );
    }

    #[test]
    fn a_local_failure_stops_at_once_and_blames_no_service() {
        for attempt in [1, 7] {
            let v = vipps(Failure::local("x").class, attempt, 0.5);
            assert!(
                matches!(&v, Verdict::Stop(m) if !m.contains("Vipps") && !m.contains("answered")),
                "{v:?}"
            );
        }
    }

    #[test]
    fn unreadable_answers_retry_a_few_times_then_stop() {
        assert!(matches!(
            vipps(RetryClass::Unreadable, 4, 0.0),
            Verdict::RetryAfter(_)
        ));
        assert!(matches!(
            vipps(RetryClass::Unreadable, 5, 0.0),
            Verdict::Stop(m) if m.contains("5 times")
        ));
    }

    #[test]
    fn only_permanent_answers_rule_out_an_applied_call() {
        assert!(RetryClass::NoAnswer.maybe_applied());
        assert!(http(503).maybe_applied());
        assert!(http(429).maybe_applied());
        assert!(RetryClass::Unreadable.maybe_applied());
        assert!(!http(400).maybe_applied());
        assert!(!Failure::local("x").class.maybe_applied());
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half() {
        assert_eq!(P.backoff(1, 1.0), Duration::from_millis(500));
        assert_eq!(P.backoff(2, 1.0), Duration::from_millis(1000));
        assert_eq!(P.backoff(100, 1.0), Duration::from_secs(30));
        assert_eq!(P.backoff(100, 0.0), Duration::from_secs(15));
        assert_eq!(P.backoff(0, 1.0), Duration::from_millis(500));
    }
}
