//! The append-only event journal: every entry gets its SAF-T code and its
//! place in the hash chain, and a cash transaction (sale paid, refund,
//! float, cash difference) is built, signed and stored with it, all inside
//! the caller's write transaction. Database triggers refuse updates and
//! deletions; `journal::verify` detects what gets past them.

use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use super::{Reader, Result, StoreError, Writer};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::domain::journal::{JournalKind, signature_message};
use crate::journal::{ChainRow, GENESIS};

#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub sale_id: Option<i64>,
    pub kind: String,
    pub data: serde_json::Value,
}

impl Writer<'_> {
    /// Appends an entry; returns its sequence number. The kind is a
    /// [`JournalKind`], never a free string, so its SAF-T code is always the
    /// one meant. For a cash transaction kind (`sale.paid`, `sale.refunded`,
    /// `cash.float`, `cash.difference`) the SAF-T transaction is built from
    /// the store and signed; a signing key that cannot be read fails the
    /// whole write.
    pub fn journal(
        &mut self,
        kind: JournalKind,
        sale_id: Option<i64>,
        data: serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<i64> {
        let training = data.get("training").and_then(|t| t.as_bool()) == Some(true);
        let code = kind.saft(training).predefined as i64;
        let (trans, signature, key_version) = if kind.is_cash_transaction() {
            let key = self.key.get()?;
            self.register_key(&key, now)?;
            let t = self.cash_transaction(kind, sale_id, &data, now)?;
            let previous = self.last_signature()?;
            let signature = key.sign(&signature_message(previous.as_deref(), &t));
            let text = serde_json::to_string(&t)
                .map_err(|e| StoreError::Corrupt(format!("cash transaction: {e}")))?;
            (Some(text), Some(signature), Some(key.version().to_string()))
        } else {
            (None, None, None)
        };
        self.append(ChainRow {
            seq: 0,
            at: rfc3339(now),
            sale_id,
            kind: kind.as_str().to_string(),
            data: data.to_string(),
            event_code: Some(code),
            trans,
            signature,
            key_version,
            prev_hash: None,
            hash: None,
        })
    }

    /// Links `row` to the current head and inserts it.
    fn append(&mut self, mut row: ChainRow) -> Result<i64> {
        let head: Option<(i64, Option<String>)> = self
            .conn()
            .query_row(
                "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let prev_hash = head
            .as_ref()
            .and_then(|h| h.1.clone())
            .unwrap_or_else(|| GENESIS.to_string());
        row.seq = self.next_seq()?.max(head.map(|h| h.0 + 1).unwrap_or(1));
        row.hash = Some(row.expected_hash(&prev_hash));
        row.prev_hash = Some(prev_hash);
        self.conn().execute(
            "INSERT INTO journal (seq, at, sale_id, kind, data, event_code, trans, signature, \
             key_version, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                row.seq,
                row.at,
                row.sale_id,
                row.kind,
                row.data,
                row.event_code,
                row.trans,
                row.signature,
                row.key_version,
                row.prev_hash,
                row.hash,
            ],
        )?;
        // Paired with a hub: the entry goes up through its lane, queued in
        // this same transaction (no entry without its item, no item without
        // its entry).
        if let Some(link) = self.reader().hub_link()? {
            self.enqueue_hub_entry(&link, &row, OffsetDateTime::now_utc())?;
        }
        Ok(row.seq)
    }

    /// The number AUTOINCREMENT would give next: never reused, even after
    /// a deletion, so a deleted tail shows.
    fn next_seq(&self) -> Result<i64> {
        let used: Option<i64> = self
            .conn()
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'journal'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(used.unwrap_or(0) + 1)
    }

    fn last_signature(&self) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT signature FROM journal WHERE signature IS NOT NULL \
                 ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Stores the key's public half the first time it signs, and journals
    /// it, so the chain itself records which key signs from here on.
    fn register_key(
        &mut self,
        key: &crate::journal::JournalKey,
        now: OffsetDateTime,
    ) -> Result<()> {
        let added = self.conn().execute(
            "INSERT OR IGNORE INTO journal_keys (key_version, algorithm, public_key, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![
                key.version(),
                crate::journal::key::ALGORITHM,
                key.public_pem(),
                rfc3339(now)
            ],
        )?;
        if added == 1 {
            self.journal(
                JournalKind::JournalKey,
                None,
                serde_json::json!({
                    "key_version": key.version(),
                    "algorithm": crate::journal::key::ALGORITHM,
                    "public_key": key.public_pem(),
                }),
                now,
            )?;
        }
        Ok(())
    }

    /// Journals an organizer action (refund, copy, backlog retry, X/Z) with
    /// who did it: the operator logged in now, from the journal itself as
    /// cash transactions record it, or `null` when nobody is (the CLI).
    pub fn journal_action(
        &mut self,
        kind: JournalKind,
        sale_id: Option<i64>,
        mut data: serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<i64> {
        let operator = self.current_operator()?;
        if let Some(fields) = data.as_object_mut() {
            fields.insert("operator".into(), serde_json::json!(operator));
        }
        self.journal(kind, sale_id, data, now)
    }

    /// The operator logged in at this till now: see [`Reader::current_operator`].
    pub(super) fn current_operator(&self) -> Result<Option<String>> {
        self.reader().current_operator()
    }
}

/// The operator id in an `operator.login` entry: `operator`, else `id`, else `name`.
pub fn operator_id(data: &serde_json::Value) -> Option<String> {
    ["operator", "id", "name"]
        .iter()
        .find_map(|k| data.get(*k))
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
}

impl Reader<'_> {
    /// The operator logged in at this till now, from the journal itself.
    ///
    /// Logins nest: an organizer who logs in over a volunteer's shift and
    /// out again hands the till back to that volunteer. So the current one
    /// is the newest login whose operator has not logged out since (looked
    /// for among the last 200 logins and logouts; a shift is never deeper).
    pub fn current_operator(&self) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, data FROM journal WHERE kind IN (?1, ?2) ORDER BY seq DESC LIMIT 200",
        )?;
        let rows = stmt.query_map(
            params![
                JournalKind::OperatorLogin.as_str(),
                JournalKind::OperatorLogout.as_str()
            ],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )?;
        let mut left: Vec<String> = Vec::new();
        for row in rows {
            let (kind, data) = row?;
            let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
            let Some(id) = operator_id(&v) else { continue };
            if kind == JournalKind::OperatorLogout.as_str() {
                left.push(id);
            } else if let Some(i) = left.iter().position(|l| *l == id) {
                // This login ended with that logout.
                left.swap_remove(i);
            } else {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    pub fn journal_entries(&self, sale_id: Option<i64>) -> Result<Vec<JournalEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, sale_id, kind, data FROM journal \
             WHERE ?1 IS NULL OR sale_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![sale_id], entry_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The newest entry of `kind`, if any.
    pub fn last_journal_of(&self, kind: JournalKind) -> Result<Option<JournalEntry>> {
        let found = self
            .conn
            .query_row(
                "SELECT seq, at, sale_id, kind, data FROM journal \
                 WHERE kind = ?1 ORDER BY seq DESC LIMIT 1",
                params![kind.as_str()],
                entry_row,
            )
            .optional()?;
        Ok(found)
    }

    /// Whether training mode is switched on in this till's journal: its last
    /// `training.on` is newer than its last `training.off` (§ 2-8-2 w). The
    /// journal is the one record of it, so a switch made by `luka training`
    /// beside a running till holds for that till's next sale too.
    pub fn training_switched_on(&self) -> Result<bool> {
        let on = self
            .last_journal_of(JournalKind::TrainingOn)?
            .map(|e| e.seq);
        let off = self
            .last_journal_of(JournalKind::TrainingOff)?
            .map(|e| e.seq);
        Ok(on > off)
    }

    /// Streams every entry, as stored, in order; `f` returns false to stop.
    pub fn chain_rows(&self, mut f: impl FnMut(&ChainRow) -> bool) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, sale_id, kind, data, event_code, trans, signature, key_version, \
             prev_hash, hash FROM journal ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            if !f(&chain_row(r)?) {
                break;
            }
        }
        Ok(())
    }

    /// Up to `limit` entries after entry `after`, as stored, in order.
    pub fn chain_rows_after(&self, after: i64, limit: usize) -> Result<Vec<ChainRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, at, sale_id, kind, data, event_code, trans, signature, key_version, \
             prev_hash, hash FROM journal WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], chain_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The highest entry number ever handed out (AUTOINCREMENT's memory).
    pub fn highest_journal_seq(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'journal'",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every signing key used: (key version, algorithm, public key PEM).
    pub fn journal_keys(&self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT key_version, algorithm, public_key FROM journal_keys ORDER BY created_at",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The newest entry's number and hash.
    pub fn journal_head(&self) -> Result<(i64, String)> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?)),
            )
            .optional()?
            .map(|(s, h)| (s, h.unwrap_or_else(|| GENESIS.to_string())))
            .unwrap_or((0, GENESIS.to_string())))
    }
}

/// A row of `SELECT seq, at, …, prev_hash, hash FROM journal`, as stored.
fn chain_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChainRow> {
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
        prev_hash: r.get(9)?,
        hash: r.get(10)?,
    })
}

/// A row of `SELECT seq, at, sale_id, kind, data FROM journal`.
fn entry_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JournalEntry> {
    let at: String = r.get(1)?;
    let data: String = r.get(4)?;
    Ok(JournalEntry {
        seq: r.get(0)?,
        at: parse_rfc3339(&at).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        sale_id: r.get(2)?,
        kind: r.get(3)?,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
    })
}
