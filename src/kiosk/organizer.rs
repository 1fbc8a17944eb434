//! What the organizer screen (and the status bar) asks of the till: the
//! organizer's login and logout in the journal, the day's figures and lists,
//! how much of a sale is left to refund, the cash the drawer should hold, the
//! X and Z reports, and the backlog count.
//!
//! Every time comes from the kiosk's clock. Screen reads run on the store's
//! view connection ([`Store::view`](crate::store::Store::view)) with bounded
//! rows; every figure comes from SQL over the whole period, never from the
//! rows that happen to be read. Turning the data into words is the UI's job
//! (`ui/day.rs`); the hub will turn the same data into a web page.

use serde_json::json;
use time::OffsetDateTime;

use super::{Kiosk, KioskError};
use crate::bookkeeping::reconcile::Reconciliation;
use crate::bookkeeping::sync::{LaneView, lane_view};
use crate::domain::journal::JournalKind;
use crate::domain::report::Report;
use crate::domain::{Money, SaleStatus};
use crate::printer::ReportInput;
use crate::reports::ReportError;
use crate::store::{OutboxItem, RefundRecord, SaleRecord, StoreError};

/// The most sales (newest first) and backlog items the day view reads.
/// A cup weekend's thousands of sales would otherwise be read, with their
/// refunds, on every visit to the organizer screen.
pub const MAX_ROWS: usize = 200;

/// One stored sale with what its row needs.
#[derive(Debug, Clone)]
pub struct DaySale {
    pub sale: SaleRecord,
    pub refunds: Vec<RefundRecord>,
    pub copy_printed: bool,
}

/// Today's sales counted in SQL, over the whole day, however many rows the
/// list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub unpaid: u64,
    /// Still being paid (pending, awaiting, capturing, cancelling).
    pub open: u64,
}

impl DayCounts {
    pub fn from_statuses(counts: &[(SaleStatus, u64)]) -> DayCounts {
        let sum = |pick: &dyn Fn(SaleStatus) -> bool| {
            counts
                .iter()
                .filter(|(s, _)| pick(*s))
                .map(|(_, n)| n)
                .sum()
        };
        DayCounts {
            unpaid: sum(&|s| s == SaleStatus::Unpaid),
            open: sum(&|s| SaleStatus::OPEN.contains(&s)),
        }
    }
}

/// Everything the organizer's day view shows, read on one snapshot.
#[derive(Debug, Clone)]
pub struct DayData {
    /// The figures since the last Z (what an X report would print now).
    pub report: Report,
    /// Today's sales from local midnight, newest first, at most [`MAX_ROWS`].
    pub sales: Vec<DaySale>,
    pub counts: DayCounts,
    /// Outbox items not done (sync items only when stopped), oldest first,
    /// at most [`MAX_ROWS`], each with its sale's reference (or empty).
    pub backlog: Vec<(OutboxItem, String)>,
    /// The bookkeeping lanes.
    pub lanes: Vec<LaneView>,
    /// The last ledger date's Vipps settlement reconciliations, one per
    /// sales unit (MSN) reconciled that date (none when none was stored).
    pub reconciliations: Vec<Reconciliation>,
    /// Whether a receipt printer is set up (copies need one).
    pub printer: bool,
}

/// A report that was made: its figures, its paper form, and whether it was
/// queued on the receipt printer.
#[derive(Debug, Clone)]
pub struct MadeReport {
    pub report: Report,
    pub paper: ReportInput,
    pub printed: bool,
}

/// Who logs in on the organizer screen. One shared PIN today; operators
/// with names of their own come with the compliance work (issue 14).
const ORGANIZER: &str = "organizer";

impl Kiosk {
    /// Journals an organizer PIN attempt: a login, or a failed one. An
    /// accepted login opens the overview, whose figures are an X report
    /// (§ 2-8-2: an X figure shown is an X report), so it is journaled as
    /// one (13008), once per visit.
    pub fn organizer_login(&self, accepted: bool) -> Result<(), KioskError> {
        let kind = if accepted {
            JournalKind::OperatorLogin
        } else {
            JournalKind::OperatorLoginFailed
        };
        self.journal_event(kind, json!({ "operator": ORGANIZER }))?;
        if accepted && let Err(e) = self.x_report() {
            // The login stands; the screen shows the same figures from SQL.
            tracing::warn!(error = %e, "could not journal the overview's X report");
        }
        Ok(())
    }

    /// Journals the organizer leaving the organizer screen.
    pub fn organizer_logout(&self) -> Result<(), KioskError> {
        self.journal_event(
            JournalKind::OperatorLogout,
            json!({ "operator": ORGANIZER }),
        )
    }

    fn journal_event(&self, kind: JournalKind, data: serde_json::Value) -> Result<(), KioskError> {
        let now = self.inner.clock.now();
        self.inner
            .store
            .write(|w| w.journal(kind, None, data, now).map(|_| ()))?;
        Ok(())
    }

    /// The organizer's day: figures since the last Z, today's sales, the
    /// backlog, the books' lanes and the last reconciliation.
    pub fn day_view(&self) -> Result<DayData, ReportError> {
        let now = self.inner.clock.now();
        let till = self.inner.settings.till_id.clone();
        let midnight = crate::domain::local_time::to_oslo(now).replace_time(time::Time::MIDNIGHT);
        let printer = self.printer_status().state != super::PrinterState::NotConfigured;
        let data = self.inner.store.view(|r| {
            let report = crate::reports::current_on(r, &till, now)?;
            let mut sales = Vec::new();
            for sale in r.sales_since(midnight, MAX_ROWS)? {
                let refunds = r.refunds(sale.id)?;
                let copy_printed = r
                    .outbox_by_key(&super::printing::copy_key(sale.id))?
                    .is_some();
                sales.push(DaySale {
                    sale,
                    refunds,
                    copy_printed,
                });
            }
            let counts = DayCounts::from_statuses(&r.sale_counts_since(midnight)?);
            let mut backlog = Vec::new();
            for item in r.outbox_backlog_without_sync(Some(MAX_ROWS))? {
                let reference = match item.sale_id {
                    Some(id) => r.sale(id).map(|s| s.reference).unwrap_or_default(),
                    None => String::new(),
                };
                backlog.push((item, reference));
            }
            let lanes = r.sync_status(&[])?.into_iter().map(lane_view).collect();
            let last = r.last_reconciliation()?;
            let reconciliations = match last.as_ref().and_then(|(_, v)| v["ledger_date"].as_str()) {
                Some(date) => r
                    .reconciliations_on(date)?
                    .into_iter()
                    .filter_map(|s| serde_json::from_value(s.result).ok())
                    .collect(),
                None => Vec::new(),
            };
            Ok::<_, ReportError>(DayData {
                report,
                sales,
                counts,
                backlog,
                lanes,
                reconciliations,
                printer,
            })
        })?;
        Ok(data)
    }

    /// A sale and how much of it may still be refunded (its total less what
    /// is refunded or being refunded).
    pub fn refund_limit(&self, sale_id: i64) -> Result<(SaleRecord, Money), KioskError> {
        let (sale, done) = self.inner.store.view(|r| {
            let sale = r.sale(sale_id)?;
            let done = r.refunded_or_pending(sale_id)?;
            Ok::<_, StoreError>((sale, done))
        })?;
        let left = Money::new(sale.total.minor() - done, sale.total.currency());
        Ok((sale, left))
    }

    /// The cash the drawer should hold now (float, cash sales, cash
    /// returns since the last Z), for the count before a Z.
    pub fn expected_cash(&self) -> Result<Money, ReportError> {
        let now = self.inner.clock.now();
        let till = &self.inner.settings.till_id;
        let report = self
            .inner
            .store
            .view(|r| crate::reports::current_on(r, till, now))?;
        Ok(report.cash.expected)
    }

    /// An X report: journaled, and queued on the printer when there is one.
    pub fn x_report(&self) -> Result<MadeReport, ReportError> {
        let now = self.inner.clock.now();
        let report =
            crate::reports::x_report(&self.inner.store, &self.inner.settings.till_id, now)?;
        Ok(self.paper(report, now))
    }

    /// Closes the day with a Z report (`counted`: the cash counted in the
    /// drawer, `None` when it was not counted), queues its voucher for the
    /// books in the same transaction, and prints it when there is a printer.
    pub fn close_day(&self, counted: Option<Money>) -> Result<MadeReport, ReportError> {
        let now = self.inner.clock.now();
        let s = &self.inner.settings;
        let report = crate::reports::close_day_and_book(
            &self.inner.store,
            &s.till_id,
            counted,
            &s.books,
            now,
        )?;
        s.sync.wake();
        Ok(self.paper(report, now))
    }

    fn paper(&self, report: Report, now: OffsetDateTime) -> MadeReport {
        let s = &self.inner.settings;
        let paper = crate::reports::to_printer(&report, &s.receipts.merchant, s.training, now);
        // Without a printer this is refused (and nothing is queued).
        let printed = self.print_report(paper.clone()).is_ok();
        MadeReport {
            report,
            paper,
            printed,
        }
    }

    /// Outbox items not done yet (Vipps calls, receipts, the books), and
    /// whether a bookkeeping lane needs a person: the status bar's figures.
    pub fn backlog(&self) -> Result<(usize, bool), StoreError> {
        self.inner.store.view(|r| {
            let open = r.outbox_open_total()?;
            let alert = r
                .sync_status(&[])?
                .into_iter()
                .map(lane_view)
                .any(|l| l.alert);
            Ok((open, alert))
        })
    }
}
