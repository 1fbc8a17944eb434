//! Polls one payment until the sale moves on, within the official guideline:
//! a first read after a delay, then every interval (never below 500 ms, so
//! at most 120 reads a minute per reference), slower when told to by a 429.
//!
//! A hint (a Vipps webhook the club's hub passed on, [`Kiosk::hint`]) wakes
//! the poller of that reference to read at once. The hint itself changes
//! nothing: only what the read shows does, through the same path as every
//! poll. Hints come once per event from the hub, so they add a read or two
//! per payment, well inside the guideline's 120 a minute.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::settle::{self, Acted, Expiry};
use super::{Kiosk, KioskEvent, StatusNote, crash_point};
use crate::domain::{SaleStatus, UnpaidReason};
use crate::retry::RetryClass;

pub fn track(kiosk: Kiosk, sale_id: i64, first_delay: Duration) {
    {
        let mut tracked = kiosk
            .inner
            .tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if !tracked.insert(sale_id) {
            return;
        }
    }
    // The hint slot is there before the sale's QR is shown (the handler
    // tracks first, then says QrReady), so no approval can come before it.
    let reference = kiosk
        .inner
        .store
        .read(|r| r.sale(sale_id))
        .map(|s| s.reference)
        .ok();
    let woken = Arc::new(Notify::new());
    if let Some(r) = &reference {
        kiosk.hints().insert(r.clone(), woken.clone());
    }
    tokio::spawn(async move {
        poll(&kiosk, sale_id, first_delay, &woken).await;
        if let Some(r) = &reference {
            kiosk.hints().remove(r);
        }
        kiosk
            .inner
            .tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&sale_id);
    });
}

async fn poll(k: &Kiosk, sale_id: i64, first_delay: Duration, woken: &Notify) {
    let mut shutdown = k.inner.shutdown.clone();
    let mut delay = first_delay;
    let mut unreachable = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = woken.notified() => {
                tracing::debug!(sale_id, "woken by a hint: reading the payment now");
            }
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        delay = k.inner.settings.poll_interval;
        let sale = match k.inner.store.read(|r| r.sale(sale_id)) {
            Ok(s) if s.status == SaleStatus::Awaiting => s,
            Ok(_) => return,
            Err(e) => {
                tracing::error!(sale_id, error = %e, "cannot read sale; stop tracking");
                return;
            }
        };
        let provider = match k.provider_for(&sale) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(sale_id, error = %e.message, "cannot poll; stop tracking");
                return;
            }
        };
        let result = provider.read(&sale.reference).await;
        let now = k.inner.clock.now();
        let view = match result {
            Ok(v) => v,
            Err(e) if e.is_not_found() => {
                // Created, yet unknown to the provider (a training simulator
                // that restarted): nothing can be reserved.
                if let Ok(acted) = k
                    .inner
                    .store
                    .write(|w| settle::close_unpaid(w, &sale, UnpaidReason::Unknown, now))
                    && let Acted::Final(e) = acted
                {
                    k.emit(e);
                }
                return;
            }
            Err(e) => {
                if let RetryClass::Throttled { after: Some(after) } = e.class {
                    delay = delay.max(after);
                }
                if !unreachable {
                    unreachable = true;
                    k.emit(KioskEvent::Connectivity {
                        reachable: false,
                        detail: e.message.clone(),
                    });
                    k.emit(KioskEvent::Status {
                        sale_id,
                        status: sale.status,
                        note: StatusNote::ConnectionLost,
                    });
                }
                tracing::warn!(reference = %sale.reference, error = %e.message, "payment read failed");
                continue;
            }
        };
        if unreachable {
            unreachable = false;
            k.emit(KioskEvent::Connectivity {
                reachable: true,
                detail: String::new(),
            });
        }
        let margin = time::Duration::try_from(k.inner.settings.expiry_margin).unwrap_or_default();
        let acted = k.inner.store.write(|w| {
            w.count_read(sale_id)?;
            settle::apply_and_act(
                w,
                sale_id,
                &view,
                Expiry::After(margin),
                &k.acting(&|| k.new_key()),
                now,
            )
        });
        match acted {
            Ok(Acted::Nothing) => {}
            Ok(Acted::Queued) => {
                crash_point("after_authorized");
                k.emit(KioskEvent::Status {
                    sale_id,
                    status: SaleStatus::Capturing,
                    note: StatusNote::Approved,
                });
                k.inner.wake.notify_one();
                return;
            }
            Ok(Acted::Final(e)) => {
                // A paid sale has queued its receipt.
                k.inner.wake.notify_one();
                k.emit(e);
                return;
            }
            // Someone else moved the sale on (a cashier's cancel): stop here.
            Err(crate::store::StoreError::Conflict { .. }) => return,
            Err(e) => {
                tracing::error!(reference = %sale.reference, error = %e, "could not record payment read");
            }
        }
    }
}
