//! `luka bench --records`: how long the Z report, the SAF-T export and
//! `journal verify` take for a busy day (5,000 sales) and a year (500,000),
//! and how big the file and the database get. Rerunnable; real SQLite files
//! (fsync on) in a temporary folder, sales written through the same store
//! calls the kiosk makes (signed, hash-chained), in batches so building a
//! year does not take a year.

use std::path::Path;
use std::time::Instant;

use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::bookkeeping::saft::{SaftOptions, export_file};
use crate::domain::journal::JournalKind;
use crate::domain::local_time::to_oslo;
use crate::domain::{Catalog, Merchant, Money, PaymentMethod, SaleLine, SaleStatus};
use crate::store::{NewSale, Store};

pub struct RecordsBenchOptions {
    pub day_sales: usize,
    pub year_sales: usize,
}

pub(crate) const TILL: &str = "bench-1";
const BATCH: usize = 500;

/// Writes `n` sales spread evenly from `start` over `span`: two in three
/// Vipps, one to three products, every 50th refunded in full.
fn fill(
    store: &Store,
    n: usize,
    start: OffsetDateTime,
    span: time::Duration,
) -> anyhow::Result<()> {
    fill_for_books(store, TILL, n, start, span, &Default::default())
}

/// `fill`, with each paid sale queued for `books` as the kiosk would.
pub(crate) fn fill_for_books(
    store: &Store,
    till: &str,
    n: usize,
    start: OffsetDateTime,
    span: time::Duration,
    books: &crate::bookkeeping::SyncTargets,
) -> anyhow::Result<()> {
    let catalog = Catalog::club_default();
    let products = catalog.products();
    let step = span / (n.max(1) as f64);
    let mut i = 0;
    while i < n {
        let end = (i + BATCH).min(n);
        store.write(|w| {
            for k in i..end {
                let now = start + step * (k as f64);
                let lines: Vec<SaleLine> = (0..1 + k % 3)
                    .map(|j| {
                        SaleLine::from_product(
                            &products[(k + j) % products.len()],
                            1 + (j as u32 % 2),
                        )
                    })
                    .collect();
                let total = Money::nok(
                    lines
                        .iter()
                        .filter_map(|l| l.amount())
                        .map(|m| m.minor())
                        .sum(),
                );
                let method = if k % 3 == 0 {
                    PaymentMethod::Cash
                } else {
                    PaymentMethod::Vipps
                };
                let sale = w.insert_sale(&NewSale {
                    till_id: till.into(),
                    method,
                    status: SaleStatus::Pending,
                    lines,
                    total,
                    description: String::new(),
                    training: false,
                    cash_given: (method == PaymentMethod::Cash).then_some(total),
                    terminal_ref: None,
                    reference_random: k as u32,
                    msn: None,
                    department: None,
                    now,
                })?;
                if method == PaymentMethod::Vipps {
                    w.insert_payment(&sale, "vipps", now)?;
                }
                crate::kiosk::settle::record_paid(
                    w,
                    &sale,
                    json!({ "method": method.as_str() }),
                    books,
                    now,
                )?;
                w.journal(
                    JournalKind::ReceiptPrinted,
                    Some(sale.id),
                    json!({ "kind": "sale" }),
                    now,
                )?;
                if k % 50 == 49 {
                    let id = w.insert_refund(sale.id, total.minor(), "bench", now)?;
                    w.finish_refund(id, true, now)?;
                    w.journal(
                        JournalKind::SaleRefunded,
                        Some(sale.id),
                        json!({ "refund_id": id, "amount": total.minor() }),
                        now,
                    )?;
                }
            }
            Ok(())
        })?;
        i = end;
    }
    Ok(())
}

fn ms(since: Instant) -> String {
    format!("{:.0} ms", since.elapsed().as_secs_f64() * 1000.0)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn db_size(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

fn saft(
    store: &Store,
    from: time::Date,
    to: time::Date,
    out: &Path,
) -> anyhow::Result<(String, u64)> {
    let opts = SaftOptions {
        from,
        to,
        merchant: Merchant::training(),
        till_id: TILL.into(),
        catalog: Catalog::club_default(),
        now: OffsetDateTime::now_utc(),
    };
    let t = Instant::now();
    let s = export_file(store, &opts, out)?;
    Ok((ms(t), s.bytes))
}

/// Runs both scenarios and returns a markdown table.
pub fn run(opts: &RecordsBenchOptions) -> anyhow::Result<String> {
    let mut out = String::from("| measure | value |\n|---|---|\n");
    let mut row = |k: &str, v: String| out.push_str(&format!("| {k} | {v} |\n"));
    let dir = tempfile::tempdir()?;

    // A busy day: 5,000 sales between 08:00 and 22:00 local.
    let path = dir.path().join("day.db");
    let store = Store::open(&path)?;
    let day_start = datetime!(2024-06-01 06:00 UTC);
    let t = Instant::now();
    fill(&store, opts.day_sales, day_start, time::Duration::hours(14))?;
    let secs = t.elapsed().as_secs_f64();
    row(
        &format!(
            "day: write {} signed sales (batches of {BATCH})",
            opts.day_sales
        ),
        format!(
            "{:.1} s ({:.0} sales/s)",
            secs,
            opts.day_sales as f64 / secs
        ),
    );
    let t = Instant::now();
    let z = crate::reports::close_day(
        &store,
        TILL,
        Some(Money::nok(0)),
        day_start + time::Duration::hours(15),
    )?;
    row(&format!("day: Z report ({} sales)", z.sales.count), ms(t));
    let date = to_oslo(day_start).date();
    let (took, bytes) = saft(&store, date, date, &dir.path().join("day.xml"))?;
    row("day: SAF-T export", took);
    row("day: SAF-T file size", mb(bytes));
    let t = Instant::now();
    let v = store.verify_journal()?;
    row(
        &format!("day: journal verify ({} entries)", v.entries),
        ms(t),
    );
    row("day: database size", mb(db_size(&path)));
    drop(store);

    // A year: 500,000 sales over 365 days, no Z in between (the worst case).
    let path = dir.path().join("year.db");
    let store = Store::open(&path)?;
    let year_start = datetime!(2024-01-01 07:00 UTC);
    let t = Instant::now();
    fill(
        &store,
        opts.year_sales,
        year_start,
        time::Duration::days(365),
    )?;
    row(
        &format!("year: write {} signed sales", opts.year_sales),
        format!("{:.0} s", t.elapsed().as_secs_f64()),
    );
    let t = Instant::now();
    let x = crate::reports::current(&store, TILL, year_start + time::Duration::days(366))?;
    row(
        &format!("year: report over {} sales (Z after a year)", x.sales.count),
        ms(t),
    );
    let (took, bytes) = saft(
        &store,
        time::macros::date!(2024 - 01 - 01),
        time::macros::date!(2024 - 12 - 31),
        &dir.path().join("year.xml"),
    )?;
    row("year: SAF-T export", took);
    row("year: SAF-T file size", mb(bytes));
    let t = Instant::now();
    let v = store.verify_journal()?;
    row(
        &format!("year: journal verify ({} entries)", v.entries),
        ms(t),
    );
    row("year: database size", mb(db_size(&path)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_small() {
        let table = super::run(&super::RecordsBenchOptions {
            day_sales: 60,
            year_sales: 120,
        })
        .unwrap();
        assert!(table.contains("day: Z report (60 sales)"), "{table}");
        assert!(table.contains("year: SAF-T file size"), "{table}");
    }
}
