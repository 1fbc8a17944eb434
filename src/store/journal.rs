//! The append-only event journal. Database triggers refuse updates and
//! deletions; the hash chain and SAF-T signatures build on this table.

use rusqlite::params;
use time::OffsetDateTime;

use super::{Reader, Result, Writer};
use crate::clock::{parse_rfc3339, rfc3339};

#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub sale_id: Option<i64>,
    pub kind: String,
    pub data: serde_json::Value,
}

impl Writer<'_> {
    pub fn journal(
        &mut self,
        kind: &str,
        sale_id: Option<i64>,
        data: serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<i64> {
        self.conn().execute(
            "INSERT INTO journal (at, sale_id, kind, data) VALUES (?1, ?2, ?3, ?4)",
            params![rfc3339(now), sale_id, kind, data.to_string()],
        )?;
        Ok(self.conn().last_insert_rowid())
    }
}

impl Reader<'_> {
    pub fn journal_entries(&self, sale_id: Option<i64>) -> Result<Vec<JournalEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, sale_id, kind, data FROM journal \
             WHERE ?1 IS NULL OR sale_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![sale_id], |r| {
            let at: String = r.get(1)?;
            let data: String = r.get(4)?;
            Ok(JournalEntry {
                seq: r.get(0)?,
                at: parse_rfc3339(&at).unwrap_or(OffsetDateTime::UNIX_EPOCH),
                sale_id: r.get(2)?,
                kind: r.get(3)?,
                data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
