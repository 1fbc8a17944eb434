//! Reading the journal back for reports and the SAF-T export: entries with
//! their parsed cash transaction, by entry number or by time, streamed so a
//! year of sales never has to sit in memory at once.

use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use super::{Reader, Result, StoreError};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::domain::journal::{CashTransaction, JournalKind};
use crate::domain::report::{GrandTotals, ReportHeader};
use crate::journal::ChainRow;

/// A journal entry as reports and the export use it.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalRecord {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub sale_id: Option<i64>,
    pub kind: String,
    pub data: serde_json::Value,
    pub event_code: Option<i64>,
    pub trans: Option<CashTransaction>,
    pub signature: Option<String>,
    pub key_version: Option<String>,
}

/// Which entries to stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFilter {
    All,
    /// Signed cash transactions only.
    Transactions,
    /// Everything but cash transactions.
    Events,
}

impl RecordFilter {
    fn sql(self) -> &'static str {
        match self {
            RecordFilter::All => "",
            RecordFilter::Transactions => " AND signature IS NOT NULL",
            RecordFilter::Events => " AND signature IS NULL",
        }
    }
}

/// The newest Z report of the till: what the next report builds on. Read
/// from the journaled report, ignoring fields a newer Luka may have added.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct LastZ {
    #[serde(skip)]
    pub seq: i64,
    pub header: ReportHeader,
    pub grand_totals: GrandTotals,
}

const COLUMNS: &str =
    "seq, at, sale_id, kind, data, event_code, trans, signature, key_version FROM journal";

/// A row of `SELECT {COLUMNS}`, as stored (no chain hashes: reports and
/// the export do not read them).
fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChainRow> {
    Ok(ChainRow {
        seq: r.get(0)?,
        at: r.get(1)?,
        sale_id: r.get(2)?,
        kind: r.get(3)?,
        data: r.get(4)?,
        event_code: r.get(5)?,
        trans: r.get(6)?,
        signature: r.get(7)?,
        key_version: r.get(8)?,
        prev_hash: None,
        hash: None,
    })
}

impl JournalRecord {
    /// A journal entry as it is stored (the till's own row, or the hub's
    /// verbatim copy of it), parsed: the one reading of a stored entry, so
    /// the till and the hub see the same record. A cash transaction that
    /// does not parse is corrupt; a bad time or data reads as the epoch
    /// and `null`, as they always have.
    pub fn from_stored(row: ChainRow) -> Result<JournalRecord> {
        let trans = match row.trans {
            Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
                StoreError::Corrupt(format!("journal entry {}: cash transaction: {e}", row.seq))
            })?),
            None => None,
        };
        Ok(JournalRecord {
            seq: row.seq,
            at: parse_rfc3339(&row.at).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            sale_id: row.sale_id,
            kind: row.kind,
            data: serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null),
            event_code: row.event_code,
            trans,
            signature: row.signature,
            key_version: row.key_version,
        })
    }
}

impl Reader<'_> {
    /// Entries after `after_seq` up to and including `to_seq`.
    pub fn records_by_seq<E: From<StoreError>>(
        &self,
        after_seq: i64,
        to_seq: i64,
        filter: RecordFilter,
        mut f: impl FnMut(JournalRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = format!(
            "SELECT {COLUMNS} WHERE seq > ?1 AND seq <= ?2{} ORDER BY seq",
            filter.sql()
        );
        let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query(params![after_seq, to_seq])
            .map_err(StoreError::from)?;
        while let Some(r) = rows.next().map_err(StoreError::from)? {
            f(JournalRecord::from_stored(
                record(r).map_err(StoreError::from)?,
            )?)?;
        }
        Ok(())
    }

    /// Entries with `from <= at < to`, in journal order.
    pub fn records_by_time<E: From<StoreError>>(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        filter: RecordFilter,
        mut f: impl FnMut(JournalRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = format!(
            "SELECT {COLUMNS} WHERE at >= ?1 AND at < ?2{} ORDER BY seq",
            filter.sql()
        );
        let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query(params![rfc3339(from), rfc3339(to)])
            .map_err(StoreError::from)?;
        while let Some(r) = rows.next().map_err(StoreError::from)? {
            f(JournalRecord::from_stored(
                record(r).map_err(StoreError::from)?,
            )?)?;
        }
        Ok(())
    }

    pub fn last_z(&self) -> Result<Option<LastZ>> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT seq, data FROM journal WHERE kind = ?1 ORDER BY seq DESC LIMIT 1",
                params![JournalKind::ReportZ.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(seq, data)| {
            let z: LastZ = serde_json::from_str(&data).map_err(|e| {
                StoreError::Corrupt(format!("the Z report in journal entry {seq}: {e}"))
            })?;
            Ok(LastZ { seq, ..z })
        })
        .transpose()
    }

    /// The amount of a sale, for copies of its receipt.
    pub fn sale_total_minor(&self, sale_id: i64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT total_minor FROM sales WHERE id = ?1",
                params![sale_id],
                |r| r.get(0),
            )
            .optional()?)
    }
}

impl super::Store {
    /// Checks the whole journal (hash chain, signatures, sequence) on its own
    /// read connection: what `luka journal verify` reports.
    pub fn verify_journal(&self) -> Result<crate::journal::VerifyReport> {
        self.read_separately(|r| {
            let keys: std::collections::HashMap<String, String> = r
                .journal_keys()?
                .into_iter()
                .map(|(version, _, pem)| (version, pem))
                .collect();
            let mut v = crate::journal::Verifier::new(&keys);
            r.chain_rows(|row| v.push(row))?;
            Ok(v.finish(r.highest_journal_seq()?))
        })
    }
}
