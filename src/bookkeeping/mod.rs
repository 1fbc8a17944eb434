//! Getting the till's numbers into the club's books.
//!
//! | file            | owns                                                              |
//! |-----------------|-------------------------------------------------------------------|
//! | `mod.rs`        | [`SyncTargets`]: what each completed sale, refund, Z report and settlement queues, in the caller's transaction |
//! | `events.rs`     | the webhook bodies (`sale.completed`, `sale.refunded`)            |
//! | `sink.rs`       | the [`Sink`] trait every adapter implements                        |
//! | `sync.rs`       | the in-order sync worker (one lane per sink) and `luka sync`      |
//! | `webhook.rs`    | signed JSON webhook (Standard Webhooks signatures)                |
//! | `csv.rs`        | vouchers as CSV: a file sink and `luka export vouchers`           |
//! | `poweroffice/`  | PowerOffice Go v2: token, look-ups, voucher posting               |
//! | `reconcile.rs`  | Vipps settlement vs journal: mismatches, fee and payout vouchers  |
//! | `saft/`         | the SAF-T Cash Register export (Skatteetaten's XML)               |
//!
//! Everything that leaves for the books is an outbox row (kind `sync.*`)
//! written in the same transaction as what caused it, so a power cut can
//! never lose it nor send it without a record. Never writes sales or payments.

pub mod csv;
pub mod events;
pub mod poweroffice;
pub mod reconcile;
pub mod saft;
pub mod sink;
pub mod sync;
pub mod webhook;

pub use sink::Sink;
pub use sync::{SyncHandle, SyncWorker};

use serde_json::json;
use time::OffsetDateTime;

use crate::domain::report::Report;
use crate::domain::voucher::{self, Accounts, Voucher};
use crate::store::{NewOutboxItem, Result, Writer};

/// Outbox kinds of the sync lanes, one per sink.
pub mod kind {
    pub const WEBHOOK: &str = "sync.webhook";
    pub const POWEROFFICE: &str = "sync.poweroffice";
    pub const CSV: &str = "sync.csv";
}

/// Which sinks are configured, so the kiosk and the Z report queue exactly
/// what will be delivered. The default queues nothing.
#[derive(Debug, Clone, Default)]
pub struct SyncTargets {
    /// Each completed sale and refund goes to the webhook.
    pub webhook: bool,
    /// Voucher lanes (`kind::POWEROFFICE`, `kind::CSV`) that get the Z and
    /// settlement vouchers.
    pub voucher_kinds: Vec<&'static str>,
    pub accounts: Accounts,
    /// The demo's training till, whose books are simulators: its training
    /// sales go to them. A production till's training sales never reach the
    /// books (kassasystemforskriften § 2-8-2 w; `kiosk/training.rs`).
    pub training_till: bool,
}

impl SyncTargets {
    /// Every lane this till delivers to.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k = Vec::new();
        if self.webhook {
            k.push(kind::WEBHOOK);
        }
        k.extend(self.voucher_kinds.iter().copied());
        k
    }

    /// A sale was just recorded paid (in `w`'s transaction).
    pub fn on_sale_paid(
        &self,
        w: &mut Writer<'_>,
        sale_id: i64,
        now: OffsetDateTime,
    ) -> Result<()> {
        if !self.webhook {
            return Ok(());
        }
        let sale = w.reader().sale(sale_id)?;
        if sale.training && !self.training_till {
            return Ok(());
        }
        let body = events::sale_completed(&w.reader(), sale_id, now)?;
        w.enqueue_once(
            &NewOutboxItem {
                sale_id: Some(sale_id),
                kind: kind::WEBHOOK.into(),
                idempotency_key: events::sale_event_id(&sale.till_id, &sale.reference),
                payload: body,
            },
            now,
        )?;
        Ok(())
    }

    /// Vipps made a refund (in `w`'s transaction).
    pub fn on_refund(
        &self,
        w: &mut Writer<'_>,
        sale_id: i64,
        refund_id: i64,
        amount: i64,
        receipt_no: i64,
        now: OffsetDateTime,
    ) -> Result<()> {
        if !self.webhook {
            return Ok(());
        }
        let sale = w.reader().sale(sale_id)?;
        if sale.training && !self.training_till {
            return Ok(());
        }
        let body = events::sale_refunded(&w.reader(), sale_id, refund_id, amount, receipt_no, now)?;
        w.enqueue_once(
            &NewOutboxItem {
                sale_id: Some(sale_id),
                kind: kind::WEBHOOK.into(),
                idempotency_key: events::refund_event_id(&sale.till_id, &sale.reference, refund_id),
                payload: body,
            },
            now,
        )?;
        Ok(())
    }

    /// A Z report closed the day (in `w`'s transaction): its daily sales
    /// voucher goes to every voucher lane. Returns the voucher, if any.
    pub fn on_z(
        &self,
        w: &mut Writer<'_>,
        report: &Report,
        now: OffsetDateTime,
    ) -> Result<Option<Voucher>> {
        let Some(v) = voucher::daily_sales(report, &self.accounts) else {
            return Ok(None);
        };
        self.queue_vouchers(w, std::slice::from_ref(&v), now)?;
        Ok(Some(v))
    }

    /// Queues vouchers to every voucher lane, once each (keyed by lane and
    /// `external_ref`). Returns how many items were queued.
    pub fn queue_vouchers(
        &self,
        w: &mut Writer<'_>,
        vouchers: &[Voucher],
        now: OffsetDateTime,
    ) -> Result<usize> {
        let mut n = 0;
        for v in vouchers {
            v.check()
                .map_err(|e| crate::store::StoreError::Rejected(e.to_string()))?;
            for k in &self.voucher_kinds {
                let queued = w.enqueue_once(
                    &NewOutboxItem {
                        sale_id: None,
                        kind: (*k).into(),
                        idempotency_key: format!("{k}:{}", v.external_ref),
                        payload: json!({ "voucher": v }),
                    },
                    now,
                )?;
                n += usize::from(queued);
            }
        }
        Ok(n)
    }
}
