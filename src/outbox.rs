//! The durable work queue's worker loop.
//!
//! Items come from the store (written in the same transaction as the state
//! change that caused them). The worker claims due items, hands each to a
//! `Handler`, and on failure asks [`crate::retry::decide`] what to do,
//! naming the item's service ([`service_of`]). It never gives
//! up on a failure that time can fix (the network may be gone for half an
//! hour mid-payment); it stops only on answers retrying cannot change, and
//! those show on the organizer's backlog.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::retry::{Failure, RetryPolicy, Verdict, decide};
use crate::store::{OutboxItem, Store, StoreError};

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
            "sync.hub" => "the club's hub",
            _ => "the books",
        },
        _ => "the till",
    }
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
    let verdict = decide(
        service_of(&item.kind),
        failure.class,
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
}
