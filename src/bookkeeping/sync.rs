//! The sync worker: one lane per sink, each delivered strictly in order.
//!
//! A lane claims its head items in a batch (one commit for many
//! deliveries), delivers them one by one (or all together, for a sink
//! with [`Sink::batch`] above one), and records the outcome in one
//! transaction: delivered items done, the first failure rescheduled by
//! `crate::retry::decide` (or stopped for a person), the rest given back
//! untried. A receiver that is down holds only its own lane, at its head,
//! with backoff; the others go on.
//!
//! Why not the kiosk's worker: that one runs items of different sales side
//! by side, which is right for payments and wrong for a ledger that must
//! arrive in order.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::Sink;
use crate::clock::Clock;
use crate::retry::{RetryPolicy, Verdict, decide};
use crate::store::{OutboxItem, Store, StoreError, SyncLaneStatus};

/// Wakes every lane (new items queued, "try again now").
#[derive(Clone, Debug)]
pub struct SyncHandle {
    tx: Arc<watch::Sender<u64>>,
}

impl Default for SyncHandle {
    fn default() -> Self {
        SyncHandle {
            tx: Arc::new(watch::channel(0).0),
        }
    }
}

impl SyncHandle {
    pub fn wake(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

/// How many failed attempts on a lane's head before the organizer is
/// alerted (the item keeps being retried).
pub const ALERT_AFTER_ATTEMPTS: u32 = 5;

/// One lane as the organizer and `luka sync status` see it.
#[derive(Debug, Clone, Serialize)]
pub struct LaneView {
    #[serde(flatten)]
    pub status: SyncLaneStatus,
    /// Something needs a person: an item stopped, or the head keeps failing.
    pub alert: bool,
}

pub fn lane_view(status: SyncLaneStatus) -> LaneView {
    let alert = status.failed > 0 || status.head_attempts >= ALERT_AFTER_ATTEMPTS;
    LaneView { status, alert }
}

/// The status of every lane of these kinds (and any other with items).
pub fn status(store: &Store, kinds: &[&str]) -> Result<Vec<LaneView>, StoreError> {
    Ok(store
        .read(|r| r.sync_status(kinds))?
        .into_iter()
        .map(lane_view)
        .collect())
}

pub struct SyncWorker {
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    pub policy: RetryPolicy,
    pub sinks: Vec<Arc<dyn Sink>>,
    /// Items claimed (and committed as done) together.
    pub batch: usize,
    pub handle: SyncHandle,
}

/// What one step of a lane did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Some items were delivered or failed: look again at once.
    Worked,
    /// Nothing due; the head (if any) is due after this long.
    Idle(Option<Duration>),
}

impl SyncWorker {
    /// Runs every lane until `shutdown` turns true; a lane finishes the
    /// delivery in hand, records it, and stops.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let me = Arc::new(self);
        let mut lanes = JoinSet::new();
        for sink in me.sinks.clone() {
            let me = me.clone();
            let shutdown = shutdown.clone();
            lanes.spawn(async move { me.run_lane(sink, shutdown).await });
        }
        while lanes.join_next().await.is_some() {}
    }

    async fn run_lane(&self, sink: Arc<dyn Sink>, mut shutdown: watch::Receiver<bool>) {
        let mut wake = self.handle.subscribe();
        tracing::info!(lane = sink.kind(), "bookkeeping lane running");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let wait = match self.step(&*sink, &shutdown).await {
                Ok(Step::Worked) => continue,
                Ok(Step::Idle(due)) => due.unwrap_or(Duration::from_secs(5)),
                Err(e) => {
                    tracing::error!(lane = sink.kind(), error = %e, "bookkeeping lane could not use the database");
                    Duration::from_secs(1)
                }
            };
            let wait = wait.clamp(Duration::from_millis(5), Duration::from_secs(5));
            tokio::select! {
                _ = wake.changed() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn step(
        &self,
        sink: &dyn Sink,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<Step, StoreError> {
        let kind = sink.kind();
        let now = self.clock.now();
        let items = self
            .store
            .write(|w| w.sync_claim(kind, self.batch.max(sink.batch()).max(1), now))?;
        if items.is_empty() {
            let lane = self.store.read(|r| r.sync_lane(kind))?;
            let due = lane
                .next_attempt_at_ms
                .filter(|_| lane.pending > 0)
                .map(|at| Duration::from_millis((at - self.clock.now_ms()).max(0) as u64));
            return Ok(Step::Idle(due));
        }
        let mut delivered = Vec::new();
        let mut failed = None;
        if sink.batch() > 1 {
            // All or none: a failure is the head's, the rest goes back untried.
            match sink.deliver_all(&items).await {
                Ok(()) => delivered.extend(items.iter().map(|i| i.id)),
                Err(f) => failed = Some((&items[0], f)),
            }
        }
        for (i, item) in items.iter().enumerate() {
            if sink.batch() > 1 {
                break;
            }
            // Stopping: what was delivered is recorded, the rest waits.
            if i > 0 && *shutdown.borrow() {
                break;
            }
            match sink.deliver(item).await {
                Ok(()) => delivered.push(item.id),
                Err(f) => {
                    failed = Some((item, f));
                    break;
                }
            }
        }
        let untried: Vec<i64> = items
            .iter()
            .skip(delivered.len() + usize::from(failed.is_some()))
            .map(|i| i.id)
            .collect();
        let now = self.clock.now();
        let verdict = failed.as_ref().map(|(item, f)| {
            let v = decide(
                sink.service(),
                f.class,
                item.attempts,
                &self.policy,
                rand::random(),
            );
            (*item, f, v)
        });
        self.store.write(|w| {
            w.sync_done(&delivered, now)?;
            if let Some((item, f, v)) = &verdict {
                record_failure(w, item, &f.message, v, self.clock.now_ms(), now)?;
            }
            w.sync_unclaim(&untried, now)
        })?;
        if !delivered.is_empty() {
            tracing::debug!(
                lane = kind,
                delivered = delivered.len(),
                "delivered to the books"
            );
        }
        if let Some((item, f, v)) = verdict {
            let waiting = matches!(v, Verdict::RetryAfter(_));
            match v {
                Verdict::RetryAfter(d) => tracing::warn!(
                    lane = kind, item = item.id, attempt = item.attempts,
                    retry_in_ms = d.as_millis() as u64, error = %f.message,
                    "bookkeeping delivery failed; will retry"
                ),
                Verdict::Stop(reason) => tracing::error!(
                    lane = kind, item = item.id, error = %f.message, reason = %reason,
                    "bookkeeping delivery stopped; the organizer must look"
                ),
            }
            // A lane whose head is waiting should sleep, not spin.
            if delivered.is_empty() && waiting {
                return Ok(Step::Idle(None));
            }
        }
        Ok(Step::Worked)
    }

    /// `luka sync`: delivers everything due in every lane until all are
    /// empty, or nothing has moved for `patience` (a receiver that is down).
    /// Returns the lanes as they are at the end.
    pub async fn drain(self, patience: Duration) -> Result<Vec<LaneView>, StoreError> {
        let kinds: Vec<&str> = self.sinks.iter().map(|s| s.kind()).collect();
        let now = self.clock.now();
        let requeued = self.store.write(|w| w.sync_requeue_stale(60_000, now))?;
        if requeued > 0 {
            tracing::warn!(
                requeued,
                "re-queued sync items a stopped process left in flight"
            );
        }
        // Due now: a drain is a person asking for it.
        self.store.write(|w| {
            for k in &kinds {
                w.outbox_wake_pending(k, now)?;
            }
            Ok(())
        })?;
        let (stop, shutdown) = watch::channel(false);
        let store = self.store.clone();
        let kinds_owned: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        let worker = tokio::spawn(self.run(shutdown));
        let mut last_heads = None;
        let mut still_since = tokio::time::Instant::now();
        loop {
            // Each lane's head, every 50 ms: it moves with every delivery
            // recorded, and finding it costs the same at any backlog size.
            let heads: Vec<Option<i64>> = store.read(|r| {
                kinds_owned
                    .iter()
                    .map(|k| r.sync_head(k))
                    .collect::<Result<_, _>>()
            })?;
            if heads.iter().all(Option::is_none) {
                break;
            }
            if last_heads.as_ref() != Some(&heads) {
                last_heads = Some(heads);
                still_since = tokio::time::Instant::now();
            } else if still_since.elapsed() >= patience {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = stop.send(true);
        let _ = worker.await;
        let refs: Vec<&str> = kinds_owned.iter().map(String::as_str).collect();
        status(&store, &refs)
    }
}

fn record_failure(
    w: &mut crate::store::Writer<'_>,
    item: &OutboxItem,
    message: &str,
    verdict: &Verdict,
    now_ms: i64,
    now: time::OffsetDateTime,
) -> Result<(), StoreError> {
    match verdict {
        Verdict::RetryAfter(d) => {
            w.outbox_retry_at(item.id, now_ms + d.as_millis() as i64, message, now)
        }
        Verdict::Stop(reason) => w.outbox_fail(item.id, &format!("{message}: {reason}"), now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(failed: usize, head_attempts: u32) -> SyncLaneStatus {
        SyncLaneStatus {
            kind: "sync.webhook".into(),
            pending: 3,
            failed,
            done: 10,
            head_attempts,
            head_error: None,
            oldest_pending: None,
            next_attempt_at_ms: None,
        }
    }

    #[test]
    fn the_organizer_is_alerted_after_repeated_failures_or_a_stopped_item() {
        assert!(!lane_view(lane(0, 0)).alert);
        assert!(!lane_view(lane(0, ALERT_AFTER_ATTEMPTS - 1)).alert);
        assert!(lane_view(lane(0, ALERT_AFTER_ATTEMPTS)).alert);
        assert!(lane_view(lane(1, 0)).alert);
    }
}
