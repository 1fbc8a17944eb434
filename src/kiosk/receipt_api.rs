//! What the UI and the CLI may ask of the printer: Retry, the one copy,
//! skipping a held receipt, printing an X/Z report, and the printer's state.
//!
//! Every request is a guarded change in one write transaction plus a wake
//! of the outbox worker; it must never print itself (the worker does, off
//! the async threads) and never block on a printer.

use serde_json::json;

use super::printer_state::PrinterView;
use super::printing::{self, PREFIX, PrintJob};
use super::{Kiosk, KioskError, outbox_kind};
use crate::domain::SaleStatus;
use crate::domain::journal::JournalKind;
use crate::printer::ReportInput;
use crate::store::OutboxStatus;

/// Why a receipt request was refused. The message names the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("no receipt printer is set up: add [printer] to luka.toml")]
    NoPrinter,
    #[error("sale {0} is not paid, so it has no receipt")]
    NotPaid(i64),
    #[error(
        "the copy of receipt {0} was already printed: the rules allow one copy per sale, \
         so a further copy cannot be given"
    )]
    CopyAlreadyPrinted(i64),
    #[error(
        "receipt {0} has not printed yet: fix the printer and press Retry (or skip it) \
         before asking for a copy"
    )]
    NotPrintedYet(i64),
    #[error("receipt {0} is printing right now: wait a moment and look at the printer")]
    PrintingNow(i64),
    #[error("receipt {0} has already printed: there is nothing to skip")]
    AlreadyPrinted(i64),
}

impl Kiosk {
    /// The printer's state and how many receipts wait: cheap, no SQL, safe
    /// to call from the UI thread.
    pub fn printer_status(&self) -> PrinterView {
        self.inner.printer.view()
    }

    /// Retry: every held receipt and report is tried again now (stopped
    /// ones too). Returns how many were waiting.
    pub fn retry_print(&self) -> Result<usize, KioskError> {
        let now = self.inner.clock.now();
        let n = self.inner.store.write(|w| w.outbox_wake(PREFIX, now))?;
        // Forget the last failure so this attempt really asks the printer.
        self.inner.printer.succeeded();
        self.inner.wake.notify_one();
        Ok(n)
    }

    /// Queues the one allowed copy ("KOPI") of a paid sale's receipt.
    pub fn print_copy(&self, sale_id: i64) -> Result<(), KioskError> {
        if self.inner.settings.receipts.printer.is_none() {
            return Err(ReceiptError::NoPrinter.into());
        }
        let now = self.inner.clock.now();
        self.inner.store.write(|w| {
            let no = match printing::copy_allowed(&w.reader(), sale_id)? {
                Ok(no) => no,
                Err(refused) => return Ok(Err(refused)),
            };
            printing::enqueue(
                w,
                Some(sale_id),
                outbox_kind::PRINT_RECEIPT,
                printing::copy_key(sale_id),
                &PrintJob::Copy,
                now,
            )?;
            // Not filed under the sale: the sale's own entries are the SAF-T
            // events (the copy itself is `receipt.copy_printed` when it prints).
            w.journal_action(
                JournalKind::CopyRequested,
                None,
                json!({ "sale_id": sale_id, "receipt_no": no }),
                now,
            )?;
            Ok(Ok(()))
        })??;
        printing::refresh(self, None);
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Concludes a paid sale without its receipt (the organizer gives up on
    /// a held print): the item is let go and the journal records it.
    pub fn skip_receipt(&self, sale_id: i64) -> Result<(), KioskError> {
        let now = self.inner.clock.now();
        self.inner.store.write(|w| {
            let sale = w.reader().sale(sale_id)?;
            let Some(no) = sale.receipt_no.filter(|_| sale.status == SaleStatus::Paid) else {
                return Ok(Err(ReceiptError::NotPaid(sale_id)));
            };
            let item = w.reader().outbox_by_key(&printing::original_key(sale_id))?;
            let Some(item) = item else {
                return Ok(Err(ReceiptError::AlreadyPrinted(no)));
            };
            match item.status {
                OutboxStatus::InFlight => return Ok(Err(ReceiptError::PrintingNow(no))),
                OutboxStatus::Done => return Ok(Err(ReceiptError::AlreadyPrinted(no))),
                OutboxStatus::Skipped => return Ok(Ok(())),
                OutboxStatus::Pending | OutboxStatus::Failed => {}
            }
            w.outbox_skip(item.id, "skipped by the organizer", now)?;
            let mut data = json!({
                "receipt_no": no,
                "receipt": "sale",
                "reason": "skipped by the organizer",
                "printer_error": item.last_error,
            });
            if sale.training {
                data["training"] = json!(true);
            }
            w.journal_action(JournalKind::ReceiptNotPrinted, Some(sale_id), data, now)?;
            Ok(Ok(()))
        })??;
        printing::refresh(self, None);
        Ok(())
    }

    /// Queues the electronic journal of `from`..=`to` (local dates) on the
    /// receipt printer (§ 2-3 (1)); returns how many entries it holds.
    pub fn print_journal(&self, from: time::Date, to: time::Date) -> Result<usize, KioskError> {
        let s = &self.inner.settings;
        let (paper, entries) = crate::reports::journal_print::journal_paper(
            &self.inner.store,
            from,
            to,
            &s.receipts.merchant,
            &s.till_id,
            s.training,
            self.inner.clock.now(),
        )?;
        self.print_report(paper)?;
        Ok(entries)
    }

    /// Queues an X or Z report on the receipt printer.
    pub fn print_report(&self, report: ReportInput) -> Result<(), KioskError> {
        if self.inner.settings.receipts.printer.is_none() {
            return Err(ReceiptError::NoPrinter.into());
        }
        let now = self.inner.clock.now();
        let key = format!("print:report:{}", self.new_key());
        let job = PrintJob::Report { report };
        self.inner
            .store
            .write(|w| printing::enqueue(w, None, outbox_kind::PRINT_REPORT, key, &job, now))?;
        printing::refresh(self, None);
        self.inner.wake.notify_one();
        Ok(())
    }
}
