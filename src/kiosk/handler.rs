//! Runs the kiosk's outbox items against the payment provider (print items
//! go to `printing`). Each success commits "item done" together with its
//! effect in one transaction.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::settle::{self, Acted, Expiry};
use super::{Kiosk, KioskEvent, crash_point, outbox_kind, printing};
use crate::domain::journal::JournalKind;
use crate::domain::{Money, PaymentMethod, SaleStatus, UnpaidReason};
use crate::outbox::Handler;
use crate::payments::{PaymentProvider, PaymentView, ProviderError};
use crate::retry::{Failure, RetryClass};
use crate::store::{OutboxItem, StoreError};

pub struct KioskHandler {
    kiosk: Kiosk,
}

impl KioskHandler {
    pub fn new(kiosk: Kiosk) -> KioskHandler {
        KioskHandler { kiosk }
    }
}

/// Whether a failed call may still have been applied (its answer lost, or
/// throttled after earlier attempts were), so looking can save a repeat.
fn maybe_applied(e: &ProviderError) -> bool {
    e.class.maybe_applied()
}

fn store_failure(e: StoreError) -> Failure {
    // A store error after a successful remote call: the retry repeats the
    // call with the same key, which the provider answers from its record.
    Failure {
        class: RetryClass::Transient,
        message: format!("could not record the result: {e}"),
    }
}

impl KioskHandler {
    fn provider_failure(&self, e: ProviderError) -> Failure {
        if e.class == RetryClass::NoAnswer {
            self.kiosk.emit(KioskEvent::Connectivity {
                reachable: false,
                detail: e.message.clone(),
            });
        }
        Failure {
            class: e.class,
            message: e.message,
        }
    }

    fn sale(&self, sale_id: i64) -> Result<crate::store::SaleRecord, Failure> {
        self.kiosk
            .inner
            .store
            .read(|r| r.sale(sale_id))
            .map_err(store_failure)
    }

    /// Commits "item done" with the provider's answer and what it means.
    fn record_done(
        &self,
        item: &OutboxItem,
        sale_id: i64,
        view: &PaymentView,
    ) -> Result<Acted, Failure> {
        let k = &self.kiosk;
        let now = k.inner.clock.now();
        k.inner
            .store
            .write(|w| {
                w.outbox_done(item.id, now)?;
                settle::apply_and_act(
                    w,
                    sale_id,
                    view,
                    Expiry::Ignore,
                    &k.acting(&|| k.new_key()),
                    now,
                )
            })
            .map_err(store_failure)
    }

    fn finish(&self, acted: Acted) {
        match acted {
            Acted::Final(e) => {
                // A paid sale has queued its receipt.
                self.kiosk.inner.wake.notify_one();
                self.kiosk.emit(e)
            }
            Acted::Queued => self.kiosk.inner.wake.notify_one(),
            Acted::Nothing => {}
        }
    }

    async fn create(&self, item: &OutboxItem, sale_id: i64) -> Result<(), Failure> {
        let k = &self.kiosk;
        let sale = self.sale(sale_id)?;
        let lifetime =
            time::Duration::try_from(k.inner.settings.payment_lifetime).unwrap_or_default();
        let now = k.inner.clock.now();
        if now > sale.created_at + lifetime {
            // Vipps never confirmed within a payment's whole lifetime: nobody
            // is waiting at the hatch any more. Stop creating and make sure
            // nothing exists (a lost answer may have created it).
            k.inner
                .store
                .write(|w| {
                    w.outbox_fail(
                        item.id,
                        "gave up: no answer from Vipps within the payment lifetime",
                        now,
                    )?;
                    settle::queue_cancel(w, &sale, "expired", &|| k.new_key(), now)
                })
                .map_err(store_failure)?;
            k.inner.wake.notify_one();
            return Ok(());
        }
        let created = k
            .provider_for(&sale)?
            .create(&item.payload, &item.idempotency_key)
            .await
            .map_err(|e| self.provider_failure(e))?;
        crash_point("after_create");
        let now = k.inner.clock.now();
        let expires_at = now + lifetime;
        let sale = k
            .inner
            .store
            .write(|w| {
                w.outbox_done(item.id, now)?;
                w.payment_created(sale_id, created.qr_target.as_deref(), expires_at, now)?;
                let sale = w.reader().sale(sale_id)?;
                if sale.status == SaleStatus::Pending {
                    w.set_sale_status(sale_id, &[SaleStatus::Pending], SaleStatus::Awaiting)?;
                }
                w.journal(
                    JournalKind::PaymentCreated,
                    Some(sale_id),
                    json!({ "reference": sale.reference }),
                    now,
                )?;
                w.reader().sale(sale_id)
            })
            .map_err(store_failure)?;
        k.emit(KioskEvent::Connectivity {
            reachable: true,
            detail: String::new(),
        });
        if sale.status == SaleStatus::Awaiting {
            // Tracked before the QR is shown: a hint for it finds its poller.
            k.track(sale_id, k.inner.settings.poll_initial_delay);
            match created.qr_target {
                Some(target) => k.emit(KioskEvent::QrReady {
                    sale_id,
                    reference: sale.reference.clone(),
                    qr_target: target,
                    expires_at,
                }),
                None => k.emit(KioskEvent::SentToCustomer {
                    sale_id,
                    reference: sale.reference.clone(),
                    expires_at,
                }),
            }
        }
        Ok(())
    }

    async fn capture(&self, item: &OutboxItem, sale_id: i64) -> Result<(), Failure> {
        let k = &self.kiosk;
        let sale = self.sale(sale_id)?;
        let amount = Money::new(
            item.payload["amount"]
                .as_i64()
                .unwrap_or(sale.total.minor()),
            sale.total.currency(),
        );
        let provider = k.provider_for(&sale)?;
        let view = self
            .modify(
                item,
                &provider,
                &sale.reference,
                |v| v.amounts.captured >= amount.minor(),
                provider.capture(&sale.reference, amount, &item.idempotency_key),
            )
            .await
            .map_err(|e| self.provider_failure(e))?;
        if view.amounts.captured < amount.minor() {
            return Err(Failure {
                class: RetryClass::Unreadable,
                message: format!(
                    "capture answered, but only {} of {} is captured",
                    view.amounts.captured,
                    amount.minor()
                ),
            });
        }
        let acted = self.record_done(item, sale_id, &view)?;
        self.finish(acted);
        Ok(())
    }

    /// Sends a capture or cancel so that a lost answer costs a read, not a
    /// repeat. Vipps allows five modifications a minute per payment (then 429
    /// with up to a minute's Retry-After; our simulator counts replays of one
    /// key too, the cautious reading), but 120 reads:
    /// so a retry first reads the payment, and a failure that may have been
    /// applied is followed by a read; when a read shows `applied`, it stands
    /// for the lost answer. A failed read only means "not known yet".
    ///
    /// Not for refunds: a refund that stopped after Vipps applied it would make
    /// a later refund of the same sale look applied when it was not.
    async fn modify(
        &self,
        item: &OutboxItem,
        provider: &Arc<dyn PaymentProvider>,
        reference: &str,
        applied: impl Fn(&PaymentView) -> bool,
        send: impl Future<Output = Result<PaymentView, ProviderError>>,
    ) -> Result<PaymentView, ProviderError> {
        let look = async || match provider.read(reference).await {
            Ok(view) if applied(&view) => {
                tracing::info!(reference, kind = %item.kind, "already applied at Vipps; its answer was lost");
                Some(view)
            }
            Ok(_) => None,
            Err(e) => {
                tracing::debug!(reference, error = %e.message, "could not look before repeating");
                None
            }
        };
        if item.attempts > 1
            && let Some(view) = look().await
        {
            return Ok(view);
        }
        match send.await {
            Err(e) if maybe_applied(&e) => look().await.ok_or(e),
            answer => answer,
        }
    }

    async fn cancel(&self, item: &OutboxItem, sale_id: i64) -> Result<(), Failure> {
        let k = &self.kiosk;
        let sale = self.sale(sale_id)?;
        let phase = k
            .inner
            .store
            .read(|r| r.payment(sale_id))
            .map_err(store_failure)?
            .phase;
        let now = k.inner.clock.now();
        let provider = k.provider_for(&sale)?;
        let view = match self
            .modify(
                item,
                &provider,
                &sale.reference,
                |v| v.phase_from(phase).is_final(),
                provider.cancel(&sale.reference, &item.idempotency_key),
            )
            .await
        {
            Ok(v) => v,
            Err(e) if e.is_not_found() => {
                // The create never reached the provider: nothing to release.
                let acted = k
                    .inner
                    .store
                    .write(|w| {
                        w.outbox_done(item.id, now)?;
                        settle::close_unpaid(w, &sale, UnpaidReason::Unknown, now)
                    })
                    .map_err(store_failure)?;
                self.finish(acted);
                return Ok(());
            }
            Err(e) => return Err(self.provider_failure(e)),
        };
        let acted = self.record_done(item, sale_id, &view)?;
        if acted == Acted::Nothing {
            // Done at the provider but the read does not show it final yet:
            // the settle-on-stop path below re-reads it.
            self.settle_from_provider(sale_id, UnpaidReason::Rejected)
                .await;
        }
        self.finish(acted);
        Ok(())
    }

    async fn refund(&self, item: &OutboxItem, sale_id: i64) -> Result<(), Failure> {
        let k = &self.kiosk;
        let sale = self.sale(sale_id)?;
        let refund_id = item.payload["refund_id"].as_i64().unwrap_or_default();
        let amount = Money::new(
            item.payload["amount"].as_i64().unwrap_or_default(),
            sale.total.currency(),
        );
        let view = k
            .provider_for(&sale)?
            .refund(&sale.reference, amount, &item.idempotency_key)
            .await
            .map_err(|e| self.provider_failure(e))?;
        let now = k.inner.clock.now();
        k.inner
            .store
            .write(|w| {
                settle::apply_view(w, sale_id, &view, now)?;
                w.outbox_done(item.id, now)?;
                w.finish_refund(refund_id, true, now)?;
                super::stock::put_back_if_returned(
                    w,
                    &sale,
                    k.inner.settings.books.training_till,
                )?;
                let receipt_no = printing::queue_refund_receipt(
                    w,
                    sale_id,
                    refund_id,
                    amount.minor(),
                    now,
                )?;
                w.journal(
                    JournalKind::SaleRefunded,
                    Some(sale_id),
                    json!({ "refund_id": refund_id, "amount": amount.minor(), "refunded_total": view.amounts.refunded, "receipt_no": receipt_no, "training": sale.training }),
                    now,
                )?;
                k.inner.settings.books.on_refund(w, sale_id, refund_id, amount.minor(), receipt_no, now)
            })
            .map_err(store_failure)?;
        k.emit(KioskEvent::Refunded {
            sale_id,
            refund_id,
            amount,
            method: PaymentMethod::Vipps,
        });
        Ok(())
    }

    /// Re-reads a payment and settles the sale from what the provider says;
    /// a payment the provider never created closes for `refused`.
    async fn settle_from_provider(&self, sale_id: i64, refused: UnpaidReason) {
        let k = &self.kiosk;
        let Ok(sale) = k.inner.store.read(|r| r.sale(sale_id)) else {
            return;
        };
        if sale.status.is_final() {
            return;
        }
        let provider = match k.provider_for(&sale) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(reference = %sale.reference, error = %e.message, "cannot settle");
                return;
            }
        };
        match provider.read(&sale.reference).await {
            Ok(view) => {
                let now = k.inner.clock.now();
                let result = k.inner.store.write(|w| {
                    settle::apply_and_act(
                        w,
                        sale_id,
                        &view,
                        Expiry::Now,
                        &k.acting(&|| k.new_key()),
                        now,
                    )
                });
                match result {
                    Ok(acted) => self.finish(acted),
                    Err(e) => {
                        tracing::error!(reference = %sale.reference, error = %e, "could not settle")
                    }
                }
            }
            Err(e) if e.is_not_found() && sale.status == SaleStatus::Pending => {
                let now = k.inner.clock.now();
                if let Ok(acted) = k
                    .inner
                    .store
                    .write(|w| settle::close_unpaid(w, &sale, refused, now))
                {
                    self.finish(acted);
                }
            }
            Err(e) => {
                tracing::error!(reference = %sale.reference, error = %e, "could not re-read payment");
            }
        }
    }
}

#[async_trait::async_trait]
impl Handler for KioskHandler {
    async fn handle(&self, item: &OutboxItem) -> Result<(), Failure> {
        // Before the sale check: a report belongs to no sale.
        if item.kind.starts_with(printing::PREFIX) {
            return printing::handle(&self.kiosk, item).await;
        }
        let Some(sale_id) = item.sale_id else {
            return Err(Failure::local(format!(
                "outbox item {} of kind {} has no sale",
                item.id, item.kind
            )));
        };
        match item.kind.as_str() {
            outbox_kind::CREATE => self.create(item, sale_id).await,
            outbox_kind::CAPTURE => self.capture(item, sale_id).await,
            outbox_kind::CANCEL => self.cancel(item, sale_id).await,
            outbox_kind::REFUND => self.refund(item, sale_id).await,
            other => Err(Failure::local(format!(
                "unknown outbox item kind '{other}'"
            ))),
        }
    }

    async fn stopped(&self, item: &OutboxItem, reason: &str) {
        let Some(sale_id) = item.sale_id else { return };
        if item.kind.starts_with(printing::PREFIX) {
            // A stopped print never changes its sale; the printer view shows it.
            printing::refresh(&self.kiosk, None);
            return;
        }
        if item.kind == outbox_kind::REFUND {
            let now = self.kiosk.inner.clock.now();
            let refund_id = item.payload["refund_id"].as_i64().unwrap_or_default();
            let _ = self.kiosk.inner.store.write(|w| {
                w.finish_refund(refund_id, false, now)?;
                w.journal(
                    JournalKind::RefundFailed,
                    Some(sale_id),
                    json!({ "refund_id": refund_id, "error": reason }),
                    now,
                )
            });
            return;
        }
        // A create sent to a customer and refused for good: Vipps would not
        // send it to that number or code (not a Vipps user, a wrong scan).
        let refused = if item.kind == outbox_kind::CREATE && item.payload["customer"].is_object() {
            tracing::info!(sale_id, error = %reason, "Vipps refused the payment for this customer");
            UnpaidReason::CustomerRefused
        } else {
            UnpaidReason::Rejected
        };
        // Give the provider a moment, then settle from what it reports.
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.settle_from_provider(sale_id, refused).await;
    }
}
