//! Applies what a provider said about a payment and acts on the decision,
//! all inside one write transaction, so the poller, the outbox handlers and
//! start-up resume can never act on a stale picture of the same sale.

use serde_json::json;
use time::OffsetDateTime;

use super::{KioskEvent, outbox_kind};
use crate::bookkeeping::SyncTargets;
use crate::domain::journal::JournalKind;
use crate::domain::{Decision, Money, PaymentPhase, SaleStatus, Snapshot, UnpaidReason, decide};
use crate::payments::PaymentView;
use crate::store::{NewOutboxItem, Result, SaleRecord, Writer};

/// What acting on a decision did, for the caller's follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    Nothing,
    /// A capture or cancel was queued: wake the outbox worker.
    Queued,
    Final(KioskEvent),
}

/// Folds the view into the stored payment (only forward, per the state
/// machine), logging what the machine ignores.
pub fn apply_view(
    w: &mut Writer<'_>,
    sale_id: i64,
    view: &PaymentView,
    now: OffsetDateTime,
) -> Result<PaymentPhase> {
    let current = w.reader().payment(sale_id)?;
    let mut phase = current.phase;
    for signal in &view.signals {
        match crate::domain::transition(phase, *signal) {
            crate::domain::Transition::Moved(p) => phase = p,
            crate::domain::Transition::Unchanged => {}
            crate::domain::Transition::Ignored(why) => {
                tracing::info!(
                    reference = %current.reference, ?signal, from = %phase, why,
                    "ignored payment information"
                );
            }
        }
    }
    let amounts_changed = view.amounts.authorized != current.authorized
        || view.amounts.captured != current.captured
        || view.amounts.cancelled != current.cancelled
        || view.amounts.refunded != current.refunded;
    if phase != current.phase || amounts_changed {
        w.update_payment(
            sale_id,
            current.phase,
            phase,
            view.amounts,
            view.psp_reference.as_deref(),
            now,
        )?;
    }
    Ok(phase)
}

/// What acting may need besides the transaction.
pub struct Acting<'a> {
    /// Makes an idempotency key for a capture or cancel this step may queue.
    pub new_key: &'a dyn Fn() -> String,
    /// Where a sale that becomes paid is sent for the books.
    pub books: &'a SyncTargets,
    /// Give a sale that becomes paid the day's next order number.
    pub order_numbers: bool,
    /// And queue its kitchen ticket.
    pub kitchen_ticket: bool,
}

/// Decides and acts for one sale after `apply_view`. `expired` says the
/// payment is past its lifetime plus margin.
pub fn act(
    w: &mut Writer<'_>,
    sale: &SaleRecord,
    expired: bool,
    ctx: &Acting<'_>,
    now: OffsetDateTime,
) -> Result<Acted> {
    let new_key = ctx.new_key;
    let p = w.reader().payment(sale.id)?;
    let snap = Snapshot {
        phase: p.phase,
        authorized: p.authorized,
        captured: p.captured,
        cancelled: p.cancelled,
    };
    match decide(sale.status, sale.total.minor(), snap, expired) {
        Decision::Wait => Ok(Acted::Nothing),
        Decision::Capture => {
            w.set_sale_status(
                sale.id,
                &[SaleStatus::Pending, SaleStatus::Awaiting],
                SaleStatus::Capturing,
            )?;
            w.enqueue(
                &NewOutboxItem {
                    sale_id: Some(sale.id),
                    kind: outbox_kind::CAPTURE.into(),
                    idempotency_key: new_key(),
                    payload: json!({ "amount": sale.total.minor(), "currency": sale.total.currency() }),
                },
                now,
            )?;
            w.journal(
                JournalKind::PaymentAuthorized,
                Some(sale.id),
                json!({ "reference": sale.reference, "authorized": p.authorized }),
                now,
            )?;
            tracing::info!(reference = %sale.reference, "approved; capture queued");
            Ok(Acted::Queued)
        }
        Decision::CancelExpired => {
            queue_cancel(w, sale, "expired", new_key, now)?;
            tracing::info!(reference = %sale.reference, "payment outlived its lifetime; cancel queued");
            Ok(Acted::Queued)
        }
        Decision::MarkPaid => {
            let receipt_no = record_paid_with_order(
                w,
                sale,
                json!({ "captured": p.captured, "method": sale.method.as_str() }),
                ctx,
                now,
            )?;
            Ok(Acted::Final(KioskEvent::Paid {
                sale_id: sale.id,
                reference: sale.reference.clone(),
                amount: Money::new(p.captured, sale.total.currency()),
                receipt_no,
                method: sale.method,
            }))
        }
        Decision::CloseUnpaid(reason) => {
            // Our own cancel of an expired payment reads TERMINATED at Vipps;
            // the volunteer should still hear "not approved in time".
            let reason =
                if reason == UnpaidReason::Cancelled && cancel_reason(w, sale.id)? == "expired" {
                    UnpaidReason::Expired
                } else {
                    reason
                };
            close_unpaid(w, sale, reason, now)
        }
    }
}

/// Closes an open sale as paid with the next receipt number and journals
/// it, with `details` (method, amounts) merged into the journal entry, and
/// queues its receipt and its push to the books in the same transaction.
pub fn record_paid(
    w: &mut Writer<'_>,
    sale: &SaleRecord,
    details: serde_json::Value,
    books: &SyncTargets,
    now: OffsetDateTime,
) -> Result<i64> {
    let receipt_no = w.mark_paid(sale.id, &SaleStatus::OPEN, now)?;
    let mut data = json!({
        "reference": sale.reference,
        "receipt_no": receipt_no,
        "total": sale.total.minor(),
    });
    if sale.training {
        data["training"] = json!(true);
    }
    if let (Some(d), serde_json::Value::Object(extra)) = (data.as_object_mut(), details) {
        d.extend(extra);
    }
    w.journal(JournalKind::SalePaid, Some(sale.id), data, now)?;
    super::stock::take(w, sale, books.training_till)?;
    super::printing::queue_sale_receipt(w, sale.id, now)?;
    books.on_sale_paid(w, sale.id, now)?;
    tracing::info!(reference = %sale.reference, receipt_no, "sale paid");
    Ok(receipt_no)
}

/// [`record_paid`] with the till's order number (the day's next, in the
/// sale-paid entry as `order_no`) and kitchen ticket, where it gives them.
pub fn record_paid_with_order(
    w: &mut Writer<'_>,
    sale: &SaleRecord,
    mut details: serde_json::Value,
    ctx: &Acting<'_>,
    now: OffsetDateTime,
) -> Result<i64> {
    let order_no = if ctx.order_numbers {
        let n = w.next_order_no(&crate::domain::local_time::local_date(now))?;
        details["order_no"] = json!(n);
        Some(n)
    } else {
        None
    };
    let receipt_no = record_paid(w, sale, details, ctx.books, now)?;
    if let (Some(n), true) = (order_no, ctx.kitchen_ticket) {
        super::printing::queue_kitchen_ticket(w, sale.id, n, now)?;
    }
    Ok(receipt_no)
}

/// Whether a payment nobody acted on may be cancelled in `apply_and_act`.
#[derive(Debug, Clone, Copy)]
pub enum Expiry {
    /// Never: the item that read it is about something else (a capture).
    Ignore,
    /// Once its lifetime plus this margin has passed.
    After(time::Duration),
    /// Now: nobody can ever see its QR (a create that was stopped).
    Now,
}

/// Applies a provider's view of the payment and acts on what it means, in
/// the caller's transaction.
pub fn apply_and_act(
    w: &mut Writer<'_>,
    sale_id: i64,
    view: &PaymentView,
    expiry: Expiry,
    ctx: &Acting<'_>,
    now: OffsetDateTime,
) -> Result<Acted> {
    apply_view(w, sale_id, view, now)?;
    let expired = match expiry {
        Expiry::Ignore => false,
        Expiry::Now => true,
        Expiry::After(margin) => w
            .reader()
            .payment(sale_id)?
            .expires_at
            .is_some_and(|at| now > at + margin),
    };
    let sale = w.reader().sale(sale_id)?;
    act(w, &sale, expired, ctx, now)
}

pub fn close_unpaid(
    w: &mut Writer<'_>,
    sale: &SaleRecord,
    reason: UnpaidReason,
    now: OffsetDateTime,
) -> Result<Acted> {
    w.close_unpaid(sale.id, &SaleStatus::OPEN, reason, now)?;
    w.journal(
        JournalKind::SaleUnpaid,
        Some(sale.id),
        json!({
            "reference": sale.reference, "reason": reason.as_str(),
            "total": sale.total.minor(), "training": sale.training,
        }),
        now,
    )?;
    tracing::info!(reference = %sale.reference, reason = reason.as_str(), "sale closed unpaid");
    Ok(Acted::Final(KioskEvent::NotPaid {
        sale_id: sale.id,
        reference: sale.reference.clone(),
        reason,
    }))
}

pub fn queue_cancel(
    w: &mut Writer<'_>,
    sale: &SaleRecord,
    reason: &str,
    new_key: &dyn Fn() -> String,
    now: OffsetDateTime,
) -> Result<()> {
    w.set_sale_status(
        sale.id,
        &[SaleStatus::Pending, SaleStatus::Awaiting],
        SaleStatus::Cancelling,
    )?;
    w.enqueue(
        &NewOutboxItem {
            sale_id: Some(sale.id),
            kind: outbox_kind::CANCEL.into(),
            idempotency_key: new_key(),
            payload: json!({ "reason": reason }),
        },
        now,
    )?;
    w.journal(
        JournalKind::PaymentCancelRequested,
        Some(sale.id),
        json!({ "reference": sale.reference, "reason": reason }),
        now,
    )?;
    Ok(())
}

fn cancel_reason(w: &Writer<'_>, sale_id: i64) -> Result<String> {
    Ok(w.reader()
        .outbox_for_sale(sale_id)?
        .into_iter()
        .rev()
        .find(|i| i.kind == outbox_kind::CANCEL)
        .and_then(|i| i.payload["reason"].as_str().map(str::to_string))
        .unwrap_or_default())
}
