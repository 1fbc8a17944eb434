//! Receipts and reports through the outbox: queued in the transaction that
//! makes them due (a sale paid, a refund done, a copy asked for), printed by
//! the outbox worker on a blocking thread, journalled when they come out.
//!
//! The rule it keeps: a printer can hold a receipt, never a sale. A sale is
//! paid before its receipt is queued; paper out, cover open or an unplugged
//! printer leave the receipt item waiting (held) with the printer's own
//! Norwegian message, retried with the outbox backoff and at once on Retry.
//! It must never change a sale or a payment, and never talk to a printer
//! on an async thread.
//!
//! Item keys name what they print (`print:<sale>:sale`, `print:<sale>:copy`,
//! `print:<sale>:refund:<refund>`), so the outbox's unique key makes "one
//! original, one copy per sale" a database rule, not a hope.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::printer_state::{Failed, PrinterState};
use super::receipt_input::{self, RefundReceipt};
use super::{Kiosk, KioskEvent, outbox_kind};
use crate::domain::PaymentMethod;
use crate::domain::journal::JournalKind;
use crate::printer::{
    Connection, Document, PrintError, PrintProblem, ReportInput, connect, escpos, layout,
    layout_report, print,
};
use crate::retry::{Failure, RetryClass};
use crate::store::{NewOutboxItem, OutboxItem, Reader, Result, StoreError, Writer};

/// Every print item's kind starts with this: its lane in the outbox.
pub const PREFIX: &str = "print.";

/// What a print item prints; stored as its payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "receipt", rename_all = "snake_case")]
pub(crate) enum PrintJob {
    Sale,
    Copy,
    Refund {
        refund_id: i64,
        receipt_no: i64,
        amount: i64,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    Report {
        report: ReportInput,
    },
    /// The kitchen's ticket of a paid sale with its order number.
    Kitchen {
        order_no: u64,
    },
}

pub(crate) fn original_key(sale_id: i64) -> String {
    format!("print:{sale_id}:sale")
}

pub(crate) fn copy_key(sale_id: i64) -> String {
    format!("print:{sale_id}:copy")
}

/// Whether the one copy of a paid sale's receipt may still be given; the
/// receipt number when it may. Kassasystemforskriften § 2-8-6: at most one
/// copy of a sales receipt, marked "KOPI". The copy is one, whether it is
/// printed (the `print:<sale>:copy` item) or drawn as a picture by `luka
/// receipt --preview` (a `receipt.copy_printed` entry without that item);
/// either refuses the other. A copy waits until the original is out of the
/// printer (or was let go): it is a copy of something the customer has.
/// Call it in the write transaction that then gives the copy.
pub fn copy_allowed(
    r: &Reader<'_>,
    sale_id: i64,
) -> Result<std::result::Result<i64, super::ReceiptError>> {
    use super::ReceiptError;
    use crate::domain::SaleStatus;
    use crate::store::OutboxStatus;
    let sale = r.sale(sale_id)?;
    let no = match (sale.status, sale.receipt_no) {
        (SaleStatus::Paid, Some(no)) => no,
        _ => return Ok(Err(ReceiptError::NotPaid(sale_id))),
    };
    let copied = r.outbox_by_key(&copy_key(sale_id))?.is_some()
        || r.journal_entries(Some(sale_id))?
            .iter()
            .any(|e| e.kind == JournalKind::CopyPrinted.as_str());
    if copied {
        return Ok(Err(ReceiptError::CopyAlreadyPrinted(no)));
    }
    let original = r.outbox_by_key(&original_key(sale_id))?;
    if original.is_some_and(|o| {
        matches!(
            o.status,
            OutboxStatus::Pending | OutboxStatus::InFlight | OutboxStatus::Failed
        )
    }) {
        return Ok(Err(ReceiptError::NotPrintedYet(no)));
    }
    Ok(Ok(no))
}

pub(crate) fn enqueue(
    w: &mut Writer<'_>,
    sale_id: Option<i64>,
    kind: &str,
    key: String,
    job: &PrintJob,
    now: OffsetDateTime,
) -> Result<i64> {
    let payload = serde_json::to_value(job).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    w.enqueue(
        &NewOutboxItem {
            sale_id,
            kind: kind.into(),
            idempotency_key: key,
            payload,
        },
        now,
    )
}

/// Queues a paid sale's receipt, in the transaction that records it paid.
pub fn queue_sale_receipt(w: &mut Writer<'_>, sale_id: i64, now: OffsetDateTime) -> Result<i64> {
    let key = original_key(sale_id);
    enqueue(
        w,
        Some(sale_id),
        outbox_kind::PRINT_RECEIPT,
        key,
        &PrintJob::Sale,
        now,
    )
}

/// Queues the kitchen's ticket of a sale just paid with order number
/// `order_no` (after its receipt, in the same transaction).
pub fn queue_kitchen_ticket(
    w: &mut Writer<'_>,
    sale_id: i64,
    order_no: i64,
    now: OffsetDateTime,
) -> Result<i64> {
    enqueue(
        w,
        Some(sale_id),
        outbox_kind::PRINT_RECEIPT,
        format!("print:{sale_id}:kitchen"),
        &PrintJob::Kitchen {
            order_no: order_no.max(0) as u64,
        },
        now,
    )
}

/// Gives a completed refund the next receipt number and queues its
/// Returkvittering, in the refund's transaction; returns the number.
pub fn queue_refund_receipt(
    w: &mut Writer<'_>,
    sale_id: i64,
    refund_id: i64,
    amount: i64,
    now: OffsetDateTime,
) -> Result<i64> {
    let receipt_no = w.next_receipt_no()?;
    let job = PrintJob::Refund {
        refund_id,
        receipt_no,
        amount,
        at: now,
    };
    let key = format!("print:{sale_id}:refund:{refund_id}");
    enqueue(w, Some(sale_id), outbox_kind::PRINT_RECEIPT, key, &job, now)?;
    Ok(receipt_no)
}

/// What one attempt will print and what to journal when it comes out.
struct Prepared {
    doc: Document,
    /// Journal kind on success, and its data.
    printed: (JournalKind, Value),
    /// A cash sale or return whose drawer has not opened yet, on a till that
    /// opens it on the printer's kick port.
    kick: bool,
    /// What the drawer opening is journaled with, when `kick`.
    drawer: Value,
    copy: bool,
}

fn with_training(mut data: Value, training: bool) -> Value {
    if training && let Some(d) = data.as_object_mut() {
        d.insert("training".into(), Value::Bool(true));
    }
    data
}

/// Whether the printer already opened the drawer for this sale (`refund_id`
/// `None`) or this return: a held receipt's real-time pulse may have, and a
/// retry must not open it twice. Relay openings are the relay's own.
fn drawer_opened(r: &Reader<'_>, sale_id: i64, refund_id: Option<i64>) -> Result<bool> {
    Ok(r.journal_entries(Some(sale_id))?.iter().any(|e| {
        e.kind == JournalKind::DrawerOpened.as_str()
            && e.data["device"].as_str() != Some("relay")
            && e.data["refund_id"].as_i64() == refund_id
    }))
}

fn prepare(r: &Reader<'_>, sale_id: Option<i64>, job: &PrintJob, k: &Kiosk) -> Result<Prepared> {
    let s = &k.inner.settings.receipts;
    let mut cfg = s.layout.clone();
    let need_sale =
        || sale_id.ok_or_else(|| StoreError::Corrupt("print item without a sale".into()));
    Ok(match job {
        PrintJob::Sale | PrintJob::Copy => {
            let sale_id = need_sale()?;
            let copy = *job == PrintJob::Copy;
            let input = receipt_input::sale_receipt(r, sale_id, copy, s)?;
            let cash = r.sale(sale_id)?.method == PaymentMethod::Cash;
            // A training sale never opens the drawer (kiosk/training.rs).
            let kick = !copy
                && cash
                && cfg.open_drawer_for_cash
                && !k.practice_only(input.training)
                && !drawer_opened(r, sale_id, None)?;
            cfg.open_drawer_for_cash = kick;
            let kind = if copy {
                JournalKind::CopyPrinted
            } else {
                JournalKind::ReceiptPrinted
            };
            let data = json!({ "receipt_no": input.receipt_number, "receipt": if copy { "copy" } else { "sale" } });
            Prepared {
                printed: (kind, with_training(data, input.training)),
                doc: layout(&input, &cfg),
                kick,
                drawer: with_training(
                    json!({ "reason": "cash sale", "device": "printer" }),
                    input.training,
                ),
                copy,
            }
        }
        PrintJob::Refund {
            refund_id,
            receipt_no,
            amount,
            at,
        } => {
            let refund = RefundReceipt {
                refund_id: *refund_id,
                receipt_no: *receipt_no,
                amount: *amount,
                at: *at,
            };
            let sale_id = need_sale()?;
            let input = receipt_input::refund_receipt(r, sale_id, refund, s)?;
            // A cash return's money comes out of the drawer.
            let cash = r.sale(sale_id)?.method == PaymentMethod::Cash;
            let kick = cash
                && cfg.open_drawer_for_cash
                && !k.practice_only(input.training)
                && !drawer_opened(r, sale_id, Some(*refund_id))?;
            cfg.open_drawer_for_cash = kick;
            let data =
                json!({ "receipt_no": receipt_no, "receipt": "refund", "refund_id": refund_id });
            Prepared {
                // A Returkvittering is its own SAF-T event (13013).
                printed: (
                    JournalKind::ReturnReceiptPrinted,
                    with_training(data, input.training),
                ),
                doc: layout(&input, &cfg),
                kick,
                drawer: with_training(
                    json!({ "reason": "cash return", "device": "printer", "refund_id": refund_id }),
                    input.training,
                ),
                copy: false,
            }
        }
        PrintJob::Kitchen { order_no } => {
            let sale_id = need_sale()?;
            let ticket = receipt_input::kitchen_ticket(r, sale_id, *order_no)?;
            Prepared {
                printed: (
                    JournalKind::KitchenTicketPrinted,
                    with_training(json!({ "order_no": order_no }), ticket.training),
                ),
                doc: crate::printer::layout_kitchen(&ticket, &cfg),
                kick: false,
                drawer: Value::Null,
                copy: false,
            }
        }
        PrintJob::Report { report } => {
            let data = json!({ "title": report.title, "number": report.number });
            Prepared {
                // An X/Z report on paper: "other reports or receipts" (13018).
                printed: (
                    JournalKind::ReportPrinted,
                    with_training(data, report.training),
                ),
                doc: layout_report(report, &cfg),
                kick: false,
                drawer: Value::Null,
                copy: false,
            }
        }
    })
}

/// How one attempt at the printer ended.
enum Attempt {
    Printed,
    Failed {
        failed: Failed,
        /// The drawer of a held cash sale opened with the real-time pulse.
        drawer_opened: bool,
    },
    /// Not tried: the printer failed a moment ago (`recent_failure`). Its
    /// failure is not new, so it does not restart that moment: otherwise
    /// retries closer together than `FAIL_FAST` would never ask the
    /// printer again, even after paper was loaded.
    Recently(Failed),
}

/// Talks to the printer; runs on the blocking pool, one job at a time.
fn attempt(k: &Kiosk, connection: &Connection, bytes: &[u8], kick: bool) -> Attempt {
    let cell = &k.inner.printer;
    let _job = cell.job.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(failed) = cell.recent_failure() {
        return Attempt::Recently(failed);
    }
    let mut driver = connect(connection);
    match print(driver.as_mut(), bytes) {
        Ok(()) => Attempt::Printed,
        Err(e) => {
            let drawer_opened =
                kick && e.is_held() && driver.send(&escpos::REALTIME_DRAWER_PULSE).is_ok();
            tracing::warn!(printer = %driver.describe(), error = %e, "receipt held");
            Attempt::Failed {
                failed: Failed::of(&e),
                drawer_opened,
            }
        }
    }
}

fn store_failure(e: StoreError) -> Failure {
    Failure {
        class: RetryClass::Transient,
        message: format!("could not read or record a print job: {e}"),
    }
}

/// Runs one print item (the outbox handler's `print.*` branch).
pub(super) async fn handle(k: &Kiosk, item: &OutboxItem) -> std::result::Result<(), Failure> {
    let job: PrintJob = serde_json::from_value(item.payload.clone())
        .map_err(|e| Failure::local(format!("print item {} is unreadable: {e}", item.id)))?;
    let Some(connection) = k.inner.settings.receipts.printer.clone() else {
        return not_printed(k, item, &job, "no printer configured").map_err(store_failure);
    };
    let prepared = k
        .inner
        .store
        .read(|r| prepare(r, item.sale_id, &job, k))
        .map_err(store_failure)?;
    let bytes = match escpos::render(&prepared.doc) {
        Ok(b) => b,
        Err(e) => return stop(k, item, &Failed::of(&e)),
    };
    let kiosk = k.clone();
    let kick = prepared.kick;
    let outcome = tokio::task::spawn_blocking(move || attempt(&kiosk, &connection, &bytes, kick))
        .await
        .unwrap_or_else(|e| Attempt::Failed {
            failed: Failed {
                retry_can_help: true,
                ..Failed::of(&PrintError::Render(format!("the print job stopped: {e}")))
            },
            drawer_opened: false,
        });
    match outcome {
        Attempt::Printed => printed(k, item, prepared),
        Attempt::Recently(failed) => {
            if !failed.retry_can_help {
                return stop(k, item, &failed);
            }
            Err(Failure {
                class: RetryClass::Transient,
                message: failed.message,
            })
        }
        Attempt::Failed {
            failed,
            drawer_opened,
        } => {
            if drawer_opened {
                journal_drawer(k, item.sale_id, &prepared).map_err(store_failure)?;
            }
            if !failed.retry_can_help {
                return stop(k, item, &failed);
            }
            k.inner.printer.failed(failed.clone());
            refresh(k, Some(failed.held()));
            Err(Failure {
                class: RetryClass::Transient,
                message: failed.message,
            })
        }
    }
}

fn printed(k: &Kiosk, item: &OutboxItem, p: Prepared) -> std::result::Result<(), Failure> {
    let now = k.inner.clock.now();
    let (kind, data) = p.printed.clone();
    k.inner
        .store
        .write(|w| {
            w.outbox_done(item.id, now)?;
            w.journal(kind, item.sale_id, data, now)?;
            if p.kick {
                w.journal_action(
                    JournalKind::DrawerOpened,
                    item.sale_id,
                    p.drawer.clone(),
                    now,
                )?;
            }
            Ok(())
        })
        .map_err(store_failure)?;
    k.inner.printer.succeeded();
    refresh(k, Some(PrinterState::Ready));
    if let (Some(sale_id), true) = (
        item.sale_id,
        kind.is_receipt_printed() || kind == JournalKind::CopyPrinted,
    ) {
        k.emit(KioskEvent::ReceiptPrinted {
            sale_id,
            copy: p.copy,
        });
    }
    Ok(())
}

fn journal_drawer(k: &Kiosk, sale_id: Option<i64>, p: &Prepared) -> Result<()> {
    let now = k.inner.clock.now();
    k.inner.store.write(|w| {
        w.journal_action(JournalKind::DrawerOpened, sale_id, p.drawer.clone(), now)
            .map(|_| ())
    })
}

/// Opens the drawer on the printer's kick port now, without paper: the
/// organizer's "Åpne skuff". Waits for the printer (one job at a time);
/// the printer's message when it could not.
pub(super) async fn kick_drawer(
    k: &Kiosk,
    connection: Connection,
) -> std::result::Result<(), String> {
    let doc = Document {
        width: k.inner.settings.receipts.layout.width,
        blocks: vec![crate::printer::Block::DrawerKick],
    };
    let bytes = escpos::render(&doc).map_err(|e| e.to_string())?;
    let kiosk = k.clone();
    let outcome = tokio::task::spawn_blocking(move || attempt(&kiosk, &connection, &bytes, false))
        .await
        .map_err(|e| format!("the printer job stopped: {e}"))?;
    match outcome {
        Attempt::Printed => Ok(()),
        Attempt::Failed { failed, .. } | Attempt::Recently(failed) => Err(failed.message),
    }
}

/// A failure only a change of setup can fix: the item stops (Retry still
/// wakes it) and the printer shows as held with the message.
fn stop(k: &Kiosk, item: &OutboxItem, failed: &Failed) -> std::result::Result<(), Failure> {
    let now = k.inner.clock.now();
    k.inner
        .store
        .write(|w| w.outbox_fail(item.id, &failed.message, now))
        .map_err(store_failure)?;
    let failed = Failed {
        retry_can_help: false,
        ..failed.clone()
    };
    k.inner.printer.failed(failed.clone());
    refresh(k, Some(failed.held()));
    Ok(())
}

/// No printer: the sale is concluded without a receipt, and the journal says so.
fn not_printed(k: &Kiosk, item: &OutboxItem, job: &PrintJob, reason: &str) -> Result<()> {
    let now = k.inner.clock.now();
    k.inner.store.write(|w| {
        w.outbox_skip(item.id, reason, now)?;
        let Some(sale_id) = item.sale_id else {
            return Ok(());
        };
        let sale = w.reader().sale(sale_id)?;
        let (receipt_no, what) = match job {
            PrintJob::Refund { receipt_no, .. } => (Some(*receipt_no), "refund"),
            PrintJob::Copy => (sale.receipt_no, "copy"),
            _ => (sale.receipt_no, "sale"),
        };
        let data = json!({ "receipt_no": receipt_no, "receipt": what, "reason": reason });
        w.journal(
            JournalKind::ReceiptNotPrinted,
            Some(sale_id),
            with_training(data, sale.training),
            now,
        )?;
        Ok(())
    })
}

/// Re-reads how many print items wait and emits `Printer` if the view changed.
pub(super) fn refresh(k: &Kiosk, state: Option<PrinterState>) {
    let held = k.inner.store.read(|r| r.outbox_open_count(PREFIX)).ok();
    if k.inner.printer.update(state, held) {
        k.emit(KioskEvent::Printer {
            state: k.inner.printer.view().state,
        });
    }
}

/// At start-up: receipts still waiting from before show as held at once.
pub(super) fn on_start(k: &Kiosk) {
    let last = k.inner.store.read(|r| {
        Ok(r.outbox_backlog_without_sync(None)?
            .into_iter()
            .filter(|i| i.kind.starts_with(PREFIX))
            .find_map(|i| i.last_error))
    });
    let state = match last {
        // Only the words were stored; the screen says the printer needs a look.
        Ok(Some(message)) if k.inner.settings.receipts.printer.is_some() => {
            Some(PrinterState::Held {
                problem: PrintProblem::Unknown,
                message,
            })
        }
        _ => None,
    };
    refresh(k, state);
}
