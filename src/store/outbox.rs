//! Outbox rows: every effect on the outside world, written in the same
//! transaction as the state change that causes it.
//!
//! Status is TEXT: pending → in_flight → done | failed (| skipped). Claiming
//! increments `attempts` before the call is made, so a crash mid-call still
//! counts the attempt. Items of one sale run strictly in order within their
//! lane, the part of the kind before the dot (`vipps.`, `print.`): a capture
//! is never attempted while that sale's create is still pending, and a
//! receipt held by a printer out of paper never holds up that sale's refund.

use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::{Reader, Result, StoreError, Writer, guard};
use crate::clock::rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    Pending,
    InFlight,
    Done,
    /// Stopped: retrying cannot help; shown to the organizer.
    Failed,
    /// Made unnecessary before its first attempt (e.g. a cancel before
    /// create), or let go by a person (a held receipt the organizer skipped).
    Skipped,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::InFlight => "in_flight",
            OutboxStatus::Done => "done",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Skipped => "skipped",
        }
    }

    fn parse(s: &str) -> Option<OutboxStatus> {
        Some(match s {
            "pending" => OutboxStatus::Pending,
            "in_flight" => OutboxStatus::InFlight,
            "done" => OutboxStatus::Done,
            "failed" => OutboxStatus::Failed,
            "skipped" => OutboxStatus::Skipped,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewOutboxItem {
    pub sale_id: Option<i64>,
    pub kind: String,
    /// Generated once, here, before the first attempt; reused on every retry.
    pub idempotency_key: String,
    /// The exact request, so a retry sends the same body with the same key.
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub sale_id: Option<i64>,
    pub kind: String,
    pub idempotency_key: String,
    pub payload: serde_json::Value,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub next_attempt_at_ms: i64,
    pub last_error: Option<String>,
    pub requeue_reason: Option<String>,
}

pub(super) const COLUMNS: &str = "id, sale_id, kind, idempotency_key, payload, status, attempts, \
                       next_attempt_at, last_error, requeue_reason";

pub(super) fn item_from_row(row: &Row<'_>) -> rusqlite::Result<OutboxItem> {
    let payload: String = row.get(4)?;
    let status: String = row.get(5)?;
    let bad = |idx: usize, msg: String| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            Box::new(StoreError::Corrupt(msg)),
        )
    };
    Ok(OutboxItem {
        id: row.get(0)?,
        sale_id: row.get(1)?,
        kind: row.get(2)?,
        idempotency_key: row.get(3)?,
        payload: serde_json::from_str(&payload).map_err(|e| bad(4, e.to_string()))?,
        status: OutboxStatus::parse(&status).ok_or_else(|| bad(5, status.clone()))?,
        attempts: row.get(6)?,
        next_attempt_at_ms: row.get(7)?,
        last_error: row.get(8)?,
        requeue_reason: row.get(9)?,
    })
}

impl Writer<'_> {
    pub fn enqueue(&mut self, item: &NewOutboxItem, now: OffsetDateTime) -> Result<i64> {
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        self.conn().execute(
            "INSERT INTO outbox (sale_id, kind, idempotency_key, payload, status, attempts, \
             next_attempt_at, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?6, ?6)",
            params![
                item.sale_id,
                item.kind,
                item.idempotency_key,
                item.payload.to_string(),
                now_ms,
                rfc3339(now),
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Claims up to `limit` due items, at most one per sale (the oldest),
    /// marking them in flight and counting the attempt. Bookkeeping sync
    /// items are left to their own in-order worker (`store::sync`).
    pub fn claim_due(&mut self, now_ms: i64, limit: usize) -> Result<Vec<OutboxItem>> {
        let ids: Vec<i64> = {
            let mut stmt = self.conn().prepare(
                "SELECT o.id FROM outbox o \
                 WHERE o.status = 'pending' AND substr(o.kind, 1, 5) <> 'sync.' \
                 AND o.next_attempt_at <= ?1 \
                 AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.sale_id = o.sale_id \
                     AND p.id < o.id AND p.status IN ('pending', 'in_flight') \
                     AND substr(p.kind, 1, instr(p.kind, '.')) \
                       = substr(o.kind, 1, instr(o.kind, '.'))) \
                 ORDER BY o.next_attempt_at, o.id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now_ms, limit as i64], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            let changed = self.conn().execute(
                "UPDATE outbox SET status = 'in_flight', attempts = attempts + 1 \
                 WHERE id = ?1 AND status = 'pending'",
                params![id],
            )?;
            guard(
                changed,
                format!("outbox item {id}"),
                "pending",
                self.found(id),
            )?;
            claimed.push(self.reader().outbox_item(id)?);
        }
        Ok(claimed)
    }

    pub fn outbox_done(&mut self, id: i64, now: OffsetDateTime) -> Result<()> {
        self.outbox_move(id, "in_flight", "done", None, None, now)
    }

    /// Puts an in-flight item back to wait for `next_ms`, keeping its key.
    pub fn outbox_retry_at(
        &mut self,
        id: i64,
        next_ms: i64,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.outbox_move(id, "in_flight", "pending", Some(next_ms), Some(error), now)
    }

    pub fn outbox_fail(&mut self, id: i64, error: &str, now: OffsetDateTime) -> Result<()> {
        self.outbox_move(id, "in_flight", "failed", None, Some(error), now)
    }

    /// Drops a pending item that was never attempted.
    pub fn outbox_skip_unattempted(&mut self, id: i64, now: OffsetDateTime) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE outbox SET status = 'skipped', updated_at = ?1 \
             WHERE id = ?2 AND status = 'pending' AND attempts = 0",
            params![rfc3339(now), id],
        )?;
        Ok(changed == 1)
    }

    /// The organizer's "try again" on a stopped item.
    pub fn outbox_retry_failed(&mut self, id: i64, now: OffsetDateTime) -> Result<()> {
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let changed = self.conn().execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?1, \
             requeue_reason = 'retried by hand', updated_at = ?2 \
             WHERE id = ?3 AND status = 'failed'",
            params![now_ms, rfc3339(now), id],
        )?;
        guard(
            changed,
            format!("outbox item {id}"),
            "failed",
            self.found(id),
        )
    }

    /// Lets an item go without doing it (pending, failed, or in flight in
    /// the handler that decides so); the caller checks which is allowed.
    pub fn outbox_skip(&mut self, id: i64, reason: &str, now: OffsetDateTime) -> Result<()> {
        let changed = self.conn().execute(
            "UPDATE outbox SET status = 'skipped', last_error = ?1, updated_at = ?2 \
             WHERE id = ?3 AND status IN ('pending', 'in_flight', 'failed')",
            params![reason, rfc3339(now), id],
        )?;
        guard(
            changed,
            format!("outbox item {id}"),
            "pending, in_flight or failed",
            self.found(id),
        )
    }

    /// A person's "try again now" for every waiting item whose kind starts
    /// with `prefix`: pending ones become due now, stopped ones pending.
    pub fn outbox_wake(&mut self, prefix: &str, now: OffsetDateTime) -> Result<usize> {
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        Ok(self.conn().execute(
            "UPDATE outbox SET next_attempt_at = MIN(next_attempt_at, ?1), \
             status = 'pending', \
             requeue_reason = CASE status WHEN 'failed' THEN 'retried by hand' \
                 ELSE requeue_reason END, updated_at = ?2 \
             WHERE status IN ('pending', 'failed') AND substr(kind, 1, length(?3)) = ?3",
            params![now_ms, rfc3339(now), prefix],
        )?)
    }

    /// At start-up: items a crash left in flight go back to the queue with
    /// their attempt count and the reason.
    pub fn requeue_in_flight(&mut self, reason: &str, now: OffsetDateTime) -> Result<usize> {
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        Ok(self.conn().execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?1, requeue_reason = ?2, \
             updated_at = ?3 WHERE status = 'in_flight'",
            params![now_ms, reason, rfc3339(now)],
        )?)
    }

    fn outbox_move(
        &mut self,
        id: i64,
        from: &str,
        to: &str,
        next_ms: Option<i64>,
        error: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let changed = self.conn().execute(
            "UPDATE outbox SET status = ?1, next_attempt_at = COALESCE(?2, next_attempt_at), \
             last_error = COALESCE(?3, last_error), updated_at = ?4 \
             WHERE id = ?5 AND status = ?6",
            params![to, next_ms, error, rfc3339(now), id, from],
        )?;
        guard(changed, format!("outbox item {id}"), from, self.found(id))
    }

    fn found(&self, id: i64) -> String {
        self.reader()
            .outbox_item(id)
            .map(|i| i.status.as_str().to_string())
            .unwrap_or_else(|_| "no such item".into())
    }
}

impl Reader<'_> {
    pub fn outbox_item(&self, id: i64) -> Result<OutboxItem> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
                params![id],
                item_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("outbox item {id}")))
    }

    pub fn outbox_for_sale(&self, sale_id: i64) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE sale_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![sale_id], item_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The item with this key, which for a print item names what it prints.
    pub fn outbox_by_key(&self, key: &str) -> Result<Option<OutboxItem>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE idempotency_key = ?1"),
                params![key],
                item_from_row,
            )
            .optional()?)
    }

    /// How many items whose kind starts with `prefix` are not yet done.
    pub fn outbox_open_count(&self, prefix: &str) -> Result<usize> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'in_flight', 'failed') \
             AND substr(kind, 1, length(?1)) = ?1",
            params![prefix],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// Everything not done: the organizer's backlog.
    pub fn outbox_backlog(&self) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE status IN ('pending', 'in_flight', 'failed') \
             ORDER BY id"
        ))?;
        let rows = stmt.query_map([], item_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// When the next pending kiosk item (not a sync item) is due, to sleep
    /// exactly that long.
    pub fn next_due_ms(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT MIN(next_attempt_at) FROM outbox \
                 WHERE status = 'pending' AND substr(kind, 1, 5) <> 'sync.'",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }
}
