//! X and Z reports and the cash drawer's float and count: the one API the
//! organizer screen and `luka report` both call. Plain synchronous
//! functions over `&Store` (the UI runs them on a blocking thread).
//!
//! - [`current`]: the figures since the last Z, journaled nowhere (for a
//!   live screen that refreshes);
//! - [`x_report`]: the same, journaled in full as an X report (13008);
//! - [`close_day`]: the Z report (13009): one per till per local day,
//!   numbered, cumulative grand totals; with counted cash it first journals
//!   the difference as a signed transaction (11008);
//! - [`set_float`]: the opening float, a signed transaction (11007);
//! - [`journal_print::journal_paper`]: the electronic journal of a period, for paper.
//!
//! The arithmetic is `domain::report`; the rows come from the journal, so a
//! report shows exactly what the signed, hash-chained record holds. This
//! module never formats for paper beyond [`print::to_printer`].

pub mod journal_print;
pub mod print;

use serde_json::json;
use time::OffsetDateTime;

use crate::domain::Money;
use crate::domain::journal::JournalKind;
use crate::domain::local_time::{local_date, local_time};
use crate::domain::report::{
    EventFact, GrandTotals, Report, ReportBuilder, ReportHeader, ReportKind,
};
use crate::store::{Reader, RecordFilter, Store, StoreError};

pub use print::to_printer;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error(
        "the day {date} is already closed for till {till} (Z report {number}): a till makes \
         one Z report per day. Sales from now on go into the next Z report; \
         use an X report to see them now"
    )]
    AlreadyClosed {
        date: String,
        till: String,
        number: i64,
    },
    #[error("{0}")]
    Invalid(String),
}

/// The figures since the last Z report; nothing is journaled.
pub fn current(store: &Store, till_id: &str, now: OffsetDateTime) -> Result<Report, ReportError> {
    store.read_separately(|r| current_on(r, till_id, now))
}

/// [`current`] on a snapshot the caller holds (the till's day view reads it
/// together with the day's sales).
pub fn current_on(
    r: &Reader<'_>,
    till_id: &str,
    now: OffsetDateTime,
) -> Result<Report, ReportError> {
    Ok(build(r, till_id, ReportKind::X, None, now)?)
}

/// An X report: the figures since the last Z, journaled in full.
pub fn x_report(store: &Store, till_id: &str, now: OffsetDateTime) -> Result<Report, ReportError> {
    Ok(store.write(|w| {
        let report = build(&w.reader(), till_id, ReportKind::X, None, now)?;
        w.journal_action(JournalKind::ReportX, None, to_json(&report)?, now)?;
        Ok(report)
    })?)
}

/// The Z report: closes the day for this till. `counted` is the cash
/// counted in the drawer, if it was counted. Nothing goes to the books.
pub fn close_day(
    store: &Store,
    till_id: &str,
    counted: Option<Money>,
    now: OffsetDateTime,
) -> Result<Report, ReportError> {
    close_day_and_book(store, till_id, counted, &Default::default(), now)
}

/// The Z report, with its daily sales voucher queued to the voucher lanes
/// of `books` in the same transaction that journals the Z.
pub fn close_day_and_book(
    store: &Store,
    till_id: &str,
    counted: Option<Money>,
    books: &crate::bookkeeping::SyncTargets,
    now: OffsetDateTime,
) -> Result<Report, ReportError> {
    if counted.is_some_and(|c| c.minor() < 0) {
        return Err(ReportError::Invalid(
            "counted cash cannot be negative: count the drawer again".into(),
        ));
    }
    store
        .write(|w| {
            let last = w.reader().last_z()?;
            let date = local_date(now);
            if let Some(z) = &last
                && z.header.business_date == date
                && z.header.till_id == till_id
            {
                return Ok(Err(ReportError::AlreadyClosed {
                    date,
                    till: till_id.to_string(),
                    number: z.header.number.unwrap_or_default(),
                }));
            }
            if let Some(counted) = counted {
                let before = build(&w.reader(), till_id, ReportKind::Z, None, now)?;
                let expected = before.cash.expected.minor();
                w.journal(
                    JournalKind::CashDifference,
                    None,
                    json!({
                        "till": till_id,
                        "counted": counted.minor(),
                        "expected": expected,
                        "difference": counted.minor() - expected,
                    }),
                    now,
                )?;
            }
            let report = build(
                &w.reader(),
                till_id,
                ReportKind::Z,
                counted.map(|c| c.minor()),
                now,
            )?;
            w.journal_action(JournalKind::ReportZ, None, to_json(&report)?, now)?;
            books.on_z(w, &report, now)?;
            tracing::info!(
                till = till_id,
                number = report.header.number,
                net = report.net.minor(),
                "Z report made"
            );
            Ok(Ok(report))
        })
        .map_err(ReportError::from)?
}

/// Declares the opening float (cash put in the drawer) for this till.
pub fn set_float(
    store: &Store,
    till_id: &str,
    amount: Money,
    now: OffsetDateTime,
) -> Result<i64, ReportError> {
    if amount.minor() < 0 {
        return Err(ReportError::Invalid(
            "the float cannot be negative: type the cash put in the drawer".into(),
        ));
    }
    Ok(store.write(|w| {
        w.journal(
            JournalKind::CashFloat,
            None,
            json!({ "till": till_id, "amount": amount.minor() }),
            now,
        )
    })?)
}

fn to_json(report: &Report) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(report).map_err(|e| StoreError::Corrupt(format!("report: {e}")))
}

/// Gathers the period since the last Z and computes the report.
fn build(
    r: &Reader<'_>,
    till_id: &str,
    kind: ReportKind,
    counted: Option<i64>,
    now: OffsetDateTime,
) -> Result<Report, StoreError> {
    let last = r.last_z()?;
    let after = last.as_ref().map(|z| z.seq).unwrap_or(0);
    let previous = last
        .as_ref()
        .map(|z| z.grand_totals)
        .unwrap_or_else(GrandTotals::default);
    let (to_seq, head) = r.journal_head()?;
    let mut b = if r.is_training_database()? {
        ReportBuilder::for_training_till()
    } else {
        ReportBuilder::default()
    };
    fold_period(r, after, to_seq, &mut b)?;
    let number = match kind {
        ReportKind::Z => Some(last.as_ref().and_then(|z| z.header.number).unwrap_or(0) + 1),
        ReportKind::X => None,
    };
    let header = ReportHeader {
        kind,
        number,
        till_id: till_id.to_string(),
        business_date: local_date(now),
        made_date: local_date(now),
        made_time: local_time(now),
        from_seq: after,
        to_seq,
        journal_head: head,
        system: format!("Luka {}", env!("CARGO_PKG_VERSION")),
        installation: r.installation_id()?,
    };
    Ok(b.finish(header, counted, previous))
}

/// Folds the signed transactions and the events reports count, in one
/// period, into `b`.
pub fn fold_period(
    r: &Reader<'_>,
    after_seq: i64,
    to_seq: i64,
    b: &mut ReportBuilder,
) -> Result<(), StoreError> {
    r.records_by_seq(after_seq, to_seq, RecordFilter::All, |rec| {
        if let Some(t) = rec.trans {
            b.transaction(&t);
            return Ok::<(), StoreError>(());
        }
        use JournalKind::*;
        let kind = JournalKind::parse(&rec.kind);
        let Some(
            kind @ (ReceiptPrinted | ReturnReceiptPrinted | CopyPrinted | ReceiptNotPrinted
            | DrawerOpened | PriceChanged | SaleUnpaid | CartLineCorrected),
        ) = kind
        else {
            return Ok(());
        };
        let amount = match (rec.data.get("total").and_then(|t| t.as_i64()), rec.sale_id) {
            (Some(t), _) => Some(t),
            // Entries from before the total was journaled with them.
            (None, Some(id)) if matches!(kind, CopyPrinted | SaleUnpaid) => {
                r.sale_total_minor(id)?
            }
            _ => None,
        };
        b.event(&EventFact {
            kind,
            sale_id: rec.sale_id,
            amount,
            training: rec.data.get("training").and_then(|t| t.as_bool()) == Some(true),
        });
        Ok(())
    })
}
