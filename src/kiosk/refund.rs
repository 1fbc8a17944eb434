//! Refunds, full or partial, always with a reason.
//!
//! A Vipps sale's money goes back through Vipps: the refund is queued in the
//! outbox and completes (Returkvittering, signed return, books) when Vipps
//! has applied it (`handler.rs`). A cash sale's money goes back out of the
//! drawer at once: the refund, its Returkvittering number, the signed SAF-T
//! return transaction, the drawer opening and the books' event are one
//! write transaction. Kassasystemforskriften § 2-8-2 p counts returns in the
//! X/Z; § 2-8-4 asks a return receipt of its own.

use serde_json::json;

use super::{Kiosk, KioskError, KioskEvent, outbox_kind, printing};
use crate::domain::journal::JournalKind;
use crate::domain::{Money, PaymentMethod};
use crate::store::{NewOutboxItem, StoreError};

impl Kiosk {
    /// Refunds `amount` (full or partial) of a paid sale, the way it was
    /// paid. Returns the refund's id. A Vipps refund is queued (it is done
    /// when [`KioskEvent::Refunded`] comes); a cash refund is done on return.
    pub fn refund(&self, sale_id: i64, amount: Money, reason: &str) -> Result<i64, KioskError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(KioskError::NoRefundReason);
        }
        let now = self.inner.clock.now();
        let key = self.new_key();
        // `done`: the method of a refund made at once (cash, card).
        let (id, done, training) = self.inner.store.write(|w| {
            let sale = w.reader().sale(sale_id)?;
            if amount.currency() != sale.total.currency() {
                return Err(StoreError::Rejected(format!(
                    "sale {} was paid in {}: refund it in {}, not {}",
                    sale.reference,
                    sale.total.currency().code(),
                    sale.total.currency().code(),
                    amount.currency().code()
                )));
            }
            let id = w.insert_refund(sale_id, amount.minor(), reason, now)?;
            w.journal_action(
                JournalKind::RefundRequested,
                Some(sale_id),
                json!({ "refund_id": id, "amount": amount.minor(), "reason": reason }),
                now,
            )?;
            match sale.method {
                PaymentMethod::Vipps => {
                    w.enqueue(
                        &NewOutboxItem {
                            sale_id: Some(sale_id),
                            kind: outbox_kind::REFUND.into(),
                            idempotency_key: key,
                            payload: json!({ "refund_id": id, "amount": amount.minor(), "currency": amount.currency() }),
                        },
                        now,
                    )?;
                    Ok((id, None, sale.training))
                }
                PaymentMethod::Cash | PaymentMethod::Card => {
                    // Paid out of the drawer, or back on the card terminal by
                    // the volunteer, now: nothing to wait for.
                    w.finish_refund(id, true, now)?;
                    let receipt_no =
                        printing::queue_refund_receipt(w, sale_id, id, amount.minor(), now)?;
                    let refunded = w.reader().refunded_or_pending(sale_id)?;
                    // Signs the SAF-T return transaction (store/cash_trans.rs).
                    w.journal(
                        JournalKind::SaleRefunded,
                        Some(sale_id),
                        json!({ "refund_id": id, "amount": amount.minor(), "refunded_total": refunded, "receipt_no": receipt_no, "method": sale.method.as_str(), "training": sale.training }),
                        now,
                    )?;
                    self.inner.settings.books.on_refund(
                        w,
                        sale_id,
                        id,
                        amount.minor(),
                        receipt_no,
                        now,
                    )?;
                    if sale.method == PaymentMethod::Cash && !self.practice_only(sale.training) {
                        self.journal_relay(
                            w,
                            Some(sale_id),
                            json!({ "reason": "cash return", "refund_id": id }),
                            now,
                        )?;
                    }
                    Ok((id, Some(sale.method), sale.training))
                }
            }
        })?;
        self.inner.wake.notify_one();
        if let Some(method) = done {
            self.emit(KioskEvent::Refunded {
                sale_id,
                refund_id: id,
                amount,
                method,
            });
            if method == PaymentMethod::Cash && !self.practice_only(training) {
                self.pulse_relay(Some(sale_id));
            }
        }
        Ok(id)
    }
}
