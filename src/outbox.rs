//! The durable work queue: the pure retry decision and the worker loop.
//!
//! Items come from the store (written in the same transaction as the state
//! change that caused them). The worker claims due items, hands each to a
//! `Handler`, and on failure asks `decide_retry` what to do. It never gives
//! up on a failure that time can fix (the network may be gone for half an
//! hour mid-payment); it stops only on answers retrying cannot change, and
//! those show on the organizer's backlog.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::store::{OutboxItem, Store, StoreError};

/// How an attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No answer in time: the operation may or may not have been applied.
    Timeout,
    /// Could not connect, or the connection broke.
    Connection,
    /// An HTTP status (and `Retry-After`, if sent).
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// A success status with an unreadable body.
    InvalidResponse,
    /// A failure here, not an answer from anyone (an item the till cannot
    /// read, a request it cannot send): the same item can never succeed. The
    /// failure's message says why; no service is blamed for it.
    Permanent,
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

/// The retry decision for Vipps. `attempt` is the number of attempts made
/// so far (1 after the first), `jitter` a random number in [0, 1].
pub fn decide_retry(outcome: Outcome, attempt: u32, policy: &RetryPolicy, jitter: f64) -> Verdict {
    decide_retry_for("Vipps", outcome, attempt, policy, jitter)
}

/// Who an outbox item talks to, by its kind, as a person reads it in a stop
/// reason ("the receipt printer answered …", never "Vipps" for a print job).
pub fn service_of(kind: &str) -> &'static str {
    match kind.split('.').next().unwrap_or("") {
        "vipps" => "Vipps",
        "print" => "the receipt printer",
        "sync" => match kind {
            "sync.webhook" => "the webhook",
            "sync.poweroffice" => "PowerOffice Go",
            "sync.csv" => "the CSV folder",
            _ => "the books",
        },
        _ => "the till",
    }
}

/// The retry decision, with `service` named in the reasons a person reads
/// ("Vipps", "PowerOffice Go", "the webhook").
pub fn decide_retry_for(
    service: &str,
    outcome: Outcome,
    attempt: u32,
    policy: &RetryPolicy,
    jitter: f64,
) -> Verdict {
    let backoff = || Verdict::RetryAfter(policy.backoff(attempt, jitter));
    match outcome {
        Outcome::Permanent => {
            Verdict::Stop("trying the same item again cannot change that".to_string())
        }
        Outcome::Timeout | Outcome::Connection => backoff(),
        Outcome::InvalidResponse if attempt < policy.max_invalid_responses => backoff(),
        Outcome::InvalidResponse => Verdict::Stop(format!(
            "the answer could not be read {attempt} times in a row; check the {service} base URL"
        )),
        Outcome::Status {
            code: 429,
            retry_after,
        } => match retry_after {
            // Honour the server's wish, never sooner; a little jitter on top.
            Some(after) => Verdict::RetryAfter(after + policy.base.mul_f64(jitter.clamp(0.0, 1.0))),
            None => backoff(),
        },
        Outcome::Status {
            code: 408 | 425, ..
        } => backoff(),
        Outcome::Status { code, .. } if code >= 500 => backoff(),
        // The client already refreshed its token once; still 401 means the
        // credentials themselves are wrong.
        Outcome::Status { code: 401, .. } => Verdict::Stop(format!(
            "{service} refused the credentials; fix them in luka.toml and retry"
        )),
        Outcome::Status { code, .. } => Verdict::Stop(format!(
            "{service} answered {code}; sending the same request again cannot change that"
        )),
    }
}

/// A failed attempt, as a handler reports it.
#[derive(Debug)]
pub struct Failure {
    pub outcome: Outcome,
    pub message: String,
}

/// Does the work for one kind of outbox item. On success the handler has
/// already committed the item as done together with its effects.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, item: &OutboxItem) -> Result<(), Failure>;

    /// Called after an item was stopped for good, to settle what it was for.
    async fn stopped(&self, item: &OutboxItem, reason: &str);
}

/// How soon the worker tries again after the store refused a claim.
const STALLED_RETRY: Duration = Duration::from_secs(1);

/// The worker loop. Claims due items (oldest first, one at a time per sale),
/// runs up to `concurrency` of them at once, and sleeps until the next item
/// is due or `wake` is notified. Stops claiming when `shutdown` turns true
/// and returns once the items in flight have finished.
pub struct Worker {
    pub store: Arc<Store>,
    pub handler: Arc<dyn Handler>,
    pub clock: Arc<dyn Clock>,
    pub policy: RetryPolicy,
    pub concurrency: usize,
    pub wake: Arc<Notify>,
}

impl Worker {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), StoreError> {
        let mut running: JoinSet<()> = JoinSet::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            while running.try_join_next().is_some() {}
            let free = self.concurrency.saturating_sub(running.len());
            // A claim that cannot be written (disk full, card read-only, a
            // long lock) must not end the worker: the sales already on
            // screen, and new ones once there is room, still need it.
            let mut stalled = false;
            let claimed = if free > 0 {
                let now_ms = self.clock.now_ms();
                self.store
                    .write(|w| w.claim_due(now_ms, free))
                    .unwrap_or_else(|e| {
                        tracing::error!(error = %e, "cannot claim outbox work; trying again");
                        stalled = true;
                        Vec::new()
                    })
            } else {
                Vec::new()
            };
            for item in claimed {
                running.spawn(attempt(
                    self.store.clone(),
                    self.handler.clone(),
                    self.clock.clone(),
                    self.policy,
                    self.wake.clone(),
                    shutdown.clone(),
                    item,
                ));
            }
            let sleep = match self.time_to_next_due() {
                Ok(d) if !stalled => d,
                _ => STALLED_RETRY,
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = shutdown.changed() => {}
            }
        }
        // Finish what is in flight so nothing is left half-done needlessly;
        // a hard kill is still safe (start-up re-queues in-flight items).
        while running.join_next().await.is_some() {}
        Ok(())
    }

    fn time_to_next_due(&self) -> Result<Duration, StoreError> {
        let idle = Duration::from_secs(5);
        let next = self.store.read(|r| r.next_due_ms())?;
        Ok(match next {
            Some(at) => {
                let wait = at - self.clock.now_ms();
                Duration::from_millis(wait.clamp(5, idle.as_millis() as i64) as u64)
            }
            None => idle,
        })
    }
}

async fn attempt(
    store: Arc<Store>,
    handler: Arc<dyn Handler>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
    item: OutboxItem,
) {
    let result = handler.handle(&item).await;
    let Err(failure) = result else {
        wake.notify_one();
        return;
    };
    let verdict = decide_retry_for(
        service_of(&item.kind),
        failure.outcome,
        item.attempts,
        &policy,
        rand::random(),
    );
    let now = clock.now();
    match verdict {
        Verdict::RetryAfter(delay) => {
            tracing::warn!(
                item = item.id, kind = %item.kind, attempt = item.attempts,
                retry_in_ms = delay.as_millis() as u64, error = %failure.message,
                "outbox attempt failed; will retry"
            );
            let next = clock.now_ms() + delay.as_millis() as i64;
            write_until_done(&store, shutdown, item.id, "reschedule", |w| {
                w.outbox_retry_at(item.id, next, &failure.message, now)
            })
            .await;
        }
        Verdict::Stop(reason) => {
            let text = format!("{}: {reason}", failure.message);
            tracing::error!(item = item.id, kind = %item.kind, error = %text, "outbox item stopped");
            write_until_done(&store, shutdown, item.id, "stop", |w| {
                w.outbox_fail(item.id, &text, now)
            })
            .await;
            handler.stopped(&item, &text).await;
        }
    }
    wake.notify_one();
}

/// Records what became of an attempt, trying again every [`STALLED_RETRY`]
/// while the store refuses the write (disk full): an item left in flight is
/// claimed by nobody, so giving up would hold its sale until Luka restarts.
/// Only the item's own guarded update is repeated, so repeating is safe. At
/// shutdown it gives up; start-up re-queues what is still in flight.
async fn write_until_done(
    store: &Store,
    mut shutdown: watch::Receiver<bool>,
    item: i64,
    what: &str,
    write: impl Fn(&mut crate::store::Writer<'_>) -> Result<(), StoreError>,
) {
    let mut failures = 0u32;
    loop {
        match store.write(&write) {
            Ok(()) => {
                if failures > 0 {
                    tracing::info!(
                        item,
                        failures,
                        "outbox item recorded once the store took writes again"
                    );
                }
                return;
            }
            // Someone else already moved it (nothing to record any more).
            Err(StoreError::Conflict { .. }) => return,
            Err(e) => {
                if failures == 0 {
                    tracing::error!(item, error = %e, "could not {what} outbox item; trying again");
                }
                failures += 1;
            }
        }
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(STALLED_RETRY) => {}
            _ = shutdown.changed() => return,
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

    fn status(code: u16) -> Outcome {
        Outcome::Status {
            code,
            retry_after: None,
        }
    }

    #[test]
    fn timeouts_and_broken_connections_retry_with_backoff() {
        assert_eq!(
            decide_retry(Outcome::Timeout, 1, &P, 1.0),
            Verdict::RetryAfter(Duration::from_millis(500))
        );
        assert_eq!(
            decide_retry(Outcome::Connection, 3, &P, 1.0),
            Verdict::RetryAfter(Duration::from_millis(2000))
        );
    }

    #[test]
    fn server_errors_retry() {
        for code in [500, 502, 503, 504] {
            assert!(matches!(
                decide_retry(status(code), 2, &P, 0.5),
                Verdict::RetryAfter(_)
            ));
        }
        assert!(matches!(
            decide_retry(status(408), 1, &P, 0.5),
            Verdict::RetryAfter(_)
        ));
    }

    #[test]
    fn too_many_requests_honours_retry_after() {
        let o = Outcome::Status {
            code: 429,
            retry_after: Some(Duration::from_secs(7)),
        };
        for jitter in [0.0, 0.5, 1.0] {
            let Verdict::RetryAfter(d) = decide_retry(o, 1, &P, jitter) else {
                panic!("429 must retry")
            };
            assert!(
                d >= Duration::from_secs(7) && d <= Duration::from_millis(7500),
                "{d:?}"
            );
        }
        // Without the header, the normal backoff applies.
        assert_eq!(
            decide_retry(status(429), 2, &P, 1.0),
            Verdict::RetryAfter(Duration::from_secs(1))
        );
    }

    #[test]
    fn client_errors_that_retrying_cannot_fix_stop() {
        for code in [400, 403, 404, 409, 422] {
            let v = decide_retry(status(code), 1, &P, 0.5);
            assert!(
                matches!(&v, Verdict::Stop(m) if m.contains(&code.to_string())),
                "{v:?}"
            );
        }
        assert!(
            matches!(decide_retry(status(401), 1, &P, 0.5), Verdict::Stop(m) if m.contains("credentials"))
        );
    }

    #[test]
    fn reasons_name_the_service() {
        let v = decide_retry_for("PowerOffice Go", status(401), 1, &P, 0.5);
        assert!(
            matches!(&v, Verdict::Stop(m) if m.starts_with("PowerOffice Go refused")),
            "{v:?}"
        );
        let v = decide_retry_for("the webhook", status(400), 1, &P, 0.5);
        assert!(
            matches!(&v, Verdict::Stop(m) if m.contains("the webhook answered 400")),
            "{v:?}"
        );
        assert!(matches!(
            decide_retry_for("the webhook", status(503), 9, &P, 0.5),
            Verdict::RetryAfter(_)
        ));
    }

    #[test]
    fn a_local_failure_stops_at_once_and_blames_no_service() {
        for attempt in [1, 7] {
            let v = decide_retry_for("Vipps", Outcome::Permanent, attempt, &P, 0.5);
            assert!(
                matches!(&v, Verdict::Stop(m) if !m.contains("Vipps") && !m.contains("answered")),
                "{v:?}"
            );
        }
    }

    #[test]
    fn each_item_kind_names_its_own_service() {
        assert_eq!(service_of("vipps.capture"), "Vipps");
        assert_eq!(service_of("print.receipt"), "the receipt printer");
        assert_eq!(service_of("print.report"), "the receipt printer");
        assert_eq!(service_of("sync.webhook"), "the webhook");
        assert_eq!(service_of("sync.poweroffice"), "PowerOffice Go");
        assert_eq!(service_of("sync.csv"), "the CSV folder");
        assert_eq!(service_of("something.else"), "the till");
    }

    #[test]
    fn unreadable_answers_retry_a_few_times_then_stop() {
        assert!(matches!(
            decide_retry(Outcome::InvalidResponse, 4, &P, 0.0),
            Verdict::RetryAfter(_)
        ));
        assert!(matches!(
            decide_retry(Outcome::InvalidResponse, 5, &P, 0.0),
            Verdict::Stop(_)
        ));
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
