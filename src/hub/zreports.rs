//! Every Z report the tills have journaled (`report.z`, whose data is the
//! whole [`Report`]), for the "Z-rapporter" page: a list per till and
//! business date with the totals, and each report's figures. The figures
//! are the till's as it journaled them, never recomputed here.

use serde::Serialize;
use time::Date;

use super::{Hub, HubError};
use crate::clock::rfc3339;
use crate::domain::journal::JournalKind;
use crate::domain::local_time::start_of_local_day;
use crate::domain::report::Report;

/// One line of the list: a Z report's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZLine {
    pub till_id: String,
    /// The journal entry that holds it: with the till, its address.
    pub seq: i64,
    pub number: Option<i64>,
    pub business_date: String,
    pub made_date: String,
    pub made_time: String,
    pub sales_count: i64,
    /// øre
    pub sales: i64,
    pub returns: i64,
    pub net: i64,
    /// Counted minus expected cash, when the drawer was counted.
    pub cash_difference: Option<i64>,
}

impl ZLine {
    fn of(till_id: String, seq: i64, r: &Report) -> ZLine {
        ZLine {
            till_id,
            seq,
            number: r.header.number,
            business_date: r.header.business_date.clone(),
            made_date: r.header.made_date.clone(),
            made_time: r.header.made_time.clone(),
            sales_count: r.sales.count,
            sales: r.sales.amount.minor(),
            returns: r.returns.amount.minor(),
            net: r.net.minor(),
            cash_difference: r.cash.difference.map(|d| d.minor()),
        }
    }
}

impl Hub {
    /// The Z reports of every till for the business dates `from..=to`,
    /// newest first (date, then till, then number). A report whose data
    /// does not read as a report is left out and logged: the chain check
    /// has raised its alert already.
    pub async fn z_reports(&self, from: Date, to: Date) -> Result<Vec<ZLine>, HubError> {
        // A day's Z is made on the day or after midnight: look a day
        // either side by time, then keep the business dates asked for.
        let start = start_of_local_day(from.previous_day().unwrap_or(from));
        let end = start_of_local_day(to.next_day().and_then(|d| d.next_day()).unwrap_or(to));
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT till_id, seq, data FROM journal WHERE kind = $1 AND at >= $2 AND at < $3",
                &[
                    &JournalKind::ReportZ.as_str(),
                    &rfc3339(start),
                    &rfc3339(end),
                ],
            )
            .await?;
        let (from, to) = (from.to_string(), to.to_string());
        let mut lines: Vec<ZLine> = rows
            .iter()
            .filter_map(|row| {
                let (till, seq): (String, i64) = (row.get(0), row.get(1));
                match serde_json::from_str::<Report>(row.get::<_, &str>(2)) {
                    Ok(r) => Some(ZLine::of(till, seq, &r)),
                    Err(e) => {
                        tracing::warn!(till = %till, seq, "a stored Z report does not read: {e}");
                        None
                    }
                }
            })
            .filter(|z| z.business_date >= from && z.business_date <= to)
            .collect();
        lines.sort_by(|a, b| {
            (&b.business_date, &a.till_id, b.number, b.seq).cmp(&(
                &a.business_date,
                &b.till_id,
                a.number,
                a.seq,
            ))
        });
        Ok(lines)
    }

    /// The Z report in entry `seq` of `till`'s journal, if that entry is one.
    pub async fn z_report(&self, till: &str, seq: i64) -> Result<Option<Report>, HubError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT data FROM journal WHERE till_id = $1 AND seq = $2 AND kind = $3",
                &[&till, &seq, &JournalKind::ReportZ.as_str()],
            )
            .await?;
        Ok(row.and_then(|r| serde_json::from_str(r.get::<_, &str>(0)).ok()))
    }
}
