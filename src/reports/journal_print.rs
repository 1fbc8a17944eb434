//! The electronic journal of a period on paper (kassasystemforskriften
//! § 2-3 (1): the journal can be printed at the till): one row per entry
//! with its number, local time, SAF-T code and kind, and the amount of each
//! cash transaction; a section per local day. Printed through the same path
//! as an X or Z (journaled as another report, 13018).

use time::Date;

use crate::domain::Merchant;
use crate::domain::journal::saft_code;
use crate::domain::local_time::{local_date, local_time, start_of_local_day, to_oslo};
use crate::printer::{ReportInput, ReportSection};
use crate::store::{RecordFilter, Store, StoreError};

/// The journal from `from` to `to` (local dates, both included) as a
/// printable report, and how many entries it holds.
pub fn journal_paper(
    store: &Store,
    from: Date,
    to: Date,
    merchant: &Merchant,
    till_id: &str,
    training: bool,
    now: time::OffsetDateTime,
) -> Result<(ReportInput, usize), StoreError> {
    if to < from {
        return Err(StoreError::Rejected(format!(
            "--to {to} is before --from {from}: give the first date, then the last"
        )));
    }
    let start = start_of_local_day(from);
    let end = start_of_local_day(to.next_day().unwrap_or(to));
    let mut sections: Vec<ReportSection> = Vec::new();
    let mut entries = 0;
    store.read_separately(|r| {
        r.records_by_time(start, end, RecordFilter::All, |rec| {
            entries += 1;
            let day = local_date(rec.at);
            if sections.last().is_none_or(|s| s.heading != day) {
                sections.push(ReportSection {
                    heading: day,
                    rows: Vec::new(),
                });
            }
            let code = saft_code(&rec.kind, &rec.data).predefined;
            let label = format!("{} {} {code} {}", rec.seq, local_time(rec.at), rec.kind);
            let value = match (&rec.trans, rec.data["receipt_no"].as_i64()) {
                (Some(t), _) => crate::domain::Money::new(t.amount_in, t.currency).format_plain(),
                (None, Some(n)) => format!("nr {n}"),
                (None, None) => String::new(),
            };
            if let Some(s) = sections.last_mut() {
                s.rows.push((label, value));
            }
            Ok::<(), StoreError>(())
        })
    })?;
    if sections.is_empty() {
        sections.push(ReportSection {
            heading: format!("{from} – {to}"),
            rows: vec![("Ingen oppføringer".into(), String::new())],
        });
    }
    Ok((
        ReportInput {
            title: "Elektronisk journal".into(),
            merchant: merchant.clone(),
            till_id: till_id.to_string(),
            number: None,
            timestamp: to_oslo(now),
            sections,
            training,
        },
        entries,
    ))
}
