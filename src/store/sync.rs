//! The bookkeeping sync lanes of the outbox: items whose kind starts with
//! `sync.` (one kind per sink: `sync.webhook`, `sync.poweroffice`, …), and
//! the stored reconciliations of Vipps ledger dates.
//!
//! A lane is delivered strictly in order: only its oldest open items are
//! ever claimed, so a receiver that is down holds its lane at the head (with
//! backoff) and gets everything, in order, once it is back. Items are
//! claimed in small batches to spend one commit on many deliveries; an item
//! delivered but not yet marked done when the power goes is delivered
//! again, which every sink recognises (`webhook-id`, `ExternalImportReference`).

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use time::OffsetDateTime;

use super::{Reader, Result, StoreError, Writer};
use crate::clock::rfc3339;
use crate::store::{OutboxItem, OutboxStatus};

/// Every sync kind starts with this.
pub const SYNC_PREFIX: &str = "sync.";

fn ms(now: OffsetDateTime) -> i64 {
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// What one lane looks like, for `luka sync status` and the organizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncLaneStatus {
    pub kind: String,
    pub pending: usize,
    pub failed: usize,
    pub done: usize,
    /// Attempts on the head item so far (the alert rule looks at this).
    pub head_attempts: u32,
    pub head_error: Option<String>,
    /// When the head item was queued (RFC 3339), i.e. how far behind the lane is.
    pub oldest_pending: Option<String>,
    /// When the head item will be tried next (Unix ms).
    pub next_attempt_at_ms: Option<i64>,
}

impl Writer<'_> {
    /// Enqueues unless an item with this idempotency key exists already:
    /// re-running a reconciliation or a Z export never queues twice.
    /// Returns whether it was queued.
    pub fn enqueue_once(
        &mut self,
        item: &crate::store::NewOutboxItem,
        now: OffsetDateTime,
    ) -> Result<bool> {
        if self
            .reader()
            .outbox_by_key(&item.idempotency_key)?
            .is_some()
        {
            return Ok(false);
        }
        self.enqueue(item, now)?;
        Ok(true)
    }

    /// Claims the head of lane `kind`: up to `limit` consecutive pending
    /// items, oldest first, if the first is due. Stops at an item in flight
    /// (another process delivers it) so order is never broken.
    ///
    /// The head is read once, items and all, and each claimed with a cached
    /// guarded `UPDATE`: a batch of hundreds costs one transaction and no
    /// statement parsed twice.
    pub fn sync_claim(
        &mut self,
        kind: &str,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxItem>> {
        let now_ms = ms(now);
        let heads: Vec<OutboxItem> = {
            let mut stmt = self.conn().prepare_cached(&format!(
                "SELECT {} FROM outbox \
                 WHERE kind = ?1 AND status IN ('pending', 'in_flight') \
                 ORDER BY id LIMIT ?2",
                super::outbox::COLUMNS
            ))?;
            let rows = stmt.query_map(params![kind, limit as i64], super::outbox::item_from_row)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut claimed = Vec::with_capacity(heads.len());
        let updated_at = rfc3339(now);
        let mut update = self.conn().prepare_cached(
            "UPDATE outbox SET status = 'in_flight', attempts = attempts + 1, \
             updated_at = ?2 WHERE id = ?1 AND status = 'pending'",
        )?;
        for (i, mut item) in heads.into_iter().enumerate() {
            if item.status != OutboxStatus::Pending {
                break;
            }
            // The head decides: a later item's own schedule never lets it
            // overtake (items behind the head were never tried).
            if i == 0 && item.next_attempt_at_ms > now_ms {
                break;
            }
            let changed = update.execute(params![item.id, updated_at])?;
            if changed != 1 {
                return Err(StoreError::Conflict {
                    what: format!("sync item {}", item.id),
                    expected: "pending".into(),
                    found: "claimed by another process".into(),
                });
            }
            item.status = OutboxStatus::InFlight;
            item.attempts += 1;
            claimed.push(item);
        }
        Ok(claimed)
    }

    /// Records delivered items of a lane as done, in the caller's one
    /// transaction: each must be in flight (a guarded `UPDATE`, cached).
    pub fn sync_done(&mut self, ids: &[i64], now: OffsetDateTime) -> Result<()> {
        let updated_at = rfc3339(now);
        let mut stmt = self.conn().prepare_cached(
            "UPDATE outbox SET status = 'done', updated_at = ?2 \
             WHERE id = ?1 AND status = 'in_flight'",
        )?;
        for id in ids {
            let changed = stmt.execute(params![id, updated_at])?;
            if changed != 1 {
                drop(stmt);
                let found = self
                    .reader()
                    .outbox_item(*id)
                    .map(|i| i.status.as_str().to_string())
                    .unwrap_or_else(|_| "no such item".into());
                return Err(StoreError::Conflict {
                    what: format!("outbox item {id}"),
                    expected: "in_flight".into(),
                    found,
                });
            }
        }
        Ok(())
    }

    /// Gives back claimed items that were never tried (the batch stopped at
    /// an earlier failure): pending again, their claim not counted.
    pub fn sync_unclaim(&mut self, ids: &[i64], now: OffsetDateTime) -> Result<()> {
        let updated_at = rfc3339(now);
        let mut stmt = self.conn().prepare_cached(
            "UPDATE outbox SET status = 'pending', attempts = MAX(attempts - 1, 0), \
             updated_at = ?2 WHERE id = ?1 AND status = 'in_flight'",
        )?;
        for id in ids {
            stmt.execute(params![id, updated_at])?;
        }
        Ok(())
    }

    /// `luka sync` with no till running: items a killed process left in
    /// flight longer than `older_than_ms` go back to the queue.
    pub fn sync_requeue_stale(&mut self, older_than_ms: i64, now: OffsetDateTime) -> Result<usize> {
        let cutoff = rfc3339(now - time::Duration::milliseconds(older_than_ms));
        Ok(self.conn().execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?1, \
             requeue_reason = 'found in flight by luka sync', updated_at = ?2 \
             WHERE status = 'in_flight' AND substr(kind, 1, 5) = 'sync.' AND updated_at < ?3",
            params![ms(now), rfc3339(now), cutoff],
        )?)
    }

    /// Makes every pending item of lane `kind` due now (stopped ones stay
    /// stopped): `luka sync` is a person asking for it. Items due already
    /// are left as they are: a backlog of thousands is not rewritten (and
    /// its pages not written to the WAL again) only to stay due.
    pub fn outbox_wake_pending(&mut self, kind: &str, now: OffsetDateTime) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE outbox SET next_attempt_at = ?1, updated_at = ?2 \
             WHERE status = 'pending' AND kind = ?3 AND next_attempt_at > ?1",
            params![ms(now), rfc3339(now), kind],
        )?)
    }

    /// Stores (or replaces) the reconciliation of one ledger date.
    pub fn save_reconciliation(
        &mut self,
        ledger_id: &str,
        ledger_date: &str,
        ok: bool,
        result: &serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO reconciliations (ledger_id, ledger_date, made_at, ok, result) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (ledger_id, ledger_date) DO UPDATE SET \
             made_at = excluded.made_at, ok = excluded.ok, result = excluded.result",
            params![ledger_id, ledger_date, rfc3339(now), ok, result.to_string()],
        )?;
        Ok(())
    }
}

impl Reader<'_> {
    /// The status of every sync lane that has ever had an item, plus the
    /// `expected` kinds (configured sinks) even when empty.
    pub fn sync_status(&self, expected: &[&str]) -> Result<Vec<SyncLaneStatus>> {
        let mut kinds: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT DISTINCT kind FROM outbox WHERE substr(kind, 1, 5) = 'sync.'")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        kinds.extend(expected.iter().map(|k| k.to_string()));
        kinds.sort();
        kinds.dedup();
        kinds.iter().map(|k| self.sync_lane(k)).collect()
    }

    /// The oldest item of `kind` waiting or in flight (`None`: the lane is
    /// empty): one step down the partial index `outbox_sync_open` at any
    /// backlog size, for a drain watching its progress. The head moves
    /// whenever a delivery is recorded; counting the open items instead
    /// walked the whole backlog on every look.
    pub fn sync_head(&self, kind: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM outbox WHERE kind = ?1 AND status IN ('pending', 'in_flight') \
                 ORDER BY id LIMIT 1",
            )?
            .query_row(params![kind], |r| r.get(0))
            .optional()?)
    }

    pub fn sync_lane(&self, kind: &str) -> Result<SyncLaneStatus> {
        let count = |status: &str| -> Result<usize> {
            let n: i64 = self.conn.query_row(
                "SELECT COUNT(*) FROM outbox WHERE kind = ?1 AND status = ?2",
                params![kind, status],
                |r| r.get(0),
            )?;
            Ok(n as usize)
        };
        let head = self
            .conn
            .query_row(
                "SELECT attempts, last_error, created_at, next_attempt_at FROM outbox \
                 WHERE kind = ?1 AND status IN ('pending', 'in_flight') ORDER BY id LIMIT 1",
                params![kind],
                |r| {
                    Ok((
                        r.get::<_, u32>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()?;
        let pending = count("pending")? + count("in_flight")?;
        Ok(SyncLaneStatus {
            kind: kind.to_string(),
            pending,
            failed: count("failed")?,
            done: count("done")?,
            head_attempts: head.as_ref().map(|h| h.0).unwrap_or(0),
            head_error: head.as_ref().and_then(|h| h.1.clone()),
            oldest_pending: head.as_ref().map(|h| h.2.clone()),
            next_attempt_at_ms: head.map(|h| h.3),
        })
    }

    /// How many items are not done (waiting, in flight or stopped), of
    /// every kind: the status bar's "unsent" count, without loading them.
    pub fn outbox_open_total(&self) -> Result<usize> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'in_flight', 'failed')",
            [],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// The backlog without the waiting sync items (a receiver down for a
    /// day may leave thousands; they are shown per lane instead), but with
    /// the stopped ones, which need a person.
    /// `limit`: at most this many, oldest first (`None`: all).
    pub fn outbox_backlog_without_sync(&self, limit: Option<usize>) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.conn.prepare(
            "SELECT id FROM outbox WHERE status IN ('pending', 'in_flight', 'failed') \
             AND (substr(kind, 1, 5) <> 'sync.' OR status = 'failed') ORDER BY id LIMIT ?1",
        )?;
        let limit = limit.map_or(-1, |n| n.min(i64::MAX as usize) as i64);
        let ids: Vec<i64> = stmt
            .query_map([limit], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.into_iter().map(|id| self.outbox_item(id)).collect()
    }

    /// The items of a lane that stopped for a person to look at.
    pub fn sync_failed(&self, kind: &str) -> Result<Vec<OutboxItem>> {
        Ok(self
            .outbox_backlog()?
            .into_iter()
            .filter(|i| i.kind == kind && i.status == crate::store::OutboxStatus::Failed)
            .collect())
    }

    /// The stored reconciliation of a ledger date, newest ledger first.
    pub fn reconciliation(&self, ledger_date: &str) -> Result<Option<(String, serde_json::Value)>> {
        let row = self
            .conn
            .query_row(
                "SELECT made_at, result FROM reconciliations WHERE ledger_date = ?1 \
                 ORDER BY made_at DESC LIMIT 1",
                params![ledger_date],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()?;
        row.map(|(at, text)| {
            serde_json::from_str(&text)
                .map(|v| (at, v))
                .map_err(|e| StoreError::Corrupt(format!("reconciliation {ledger_date}: {e}")))
        })
        .transpose()
    }

    /// Vipps captures (sales recorded paid) and refunds made between `from`
    /// and `to`: the journal's side of a settlement date.
    pub fn vipps_activity(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<crate::domain::settlement::JournalSide> {
        use crate::domain::settlement::Booked;
        // A production till's training sales never reached Vipps; the demo's
        // database holds nothing else, and its simulator settles them.
        const REAL: &str =
            "(s.training = 0 OR NOT EXISTS (SELECT 1 FROM sales WHERE training = 0))";
        let query = |sql: &str| -> Result<Vec<Booked>> {
            let sql = sql.replace("{REAL}", REAL);
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map(params![rfc3339(from), rfc3339(to)], |r| {
                Ok(Booked {
                    reference: r.get(0)?,
                    amount: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        Ok(crate::domain::settlement::JournalSide {
            captures: query(
                "SELECT s.reference, p.captured_minor FROM sales s JOIN payments p ON p.sale_id = s.id \
                 WHERE s.method = 'vipps' AND s.status = 'paid' AND {REAL} \
                 AND julianday(s.closed_at) >= julianday(?1) AND julianday(s.closed_at) < julianday(?2) ORDER BY s.id",
            )?,
            refunds: query(
                "SELECT s.reference, f.amount_minor FROM refunds f JOIN sales s ON s.id = f.sale_id \
                 WHERE s.method = 'vipps' AND f.status = 'done' AND {REAL} \
                 AND julianday(f.done_at) >= julianday(?1) AND julianday(f.done_at) < julianday(?2) ORDER BY f.id",
            )?,
        })
    }

    /// The Z reports journaled for a business date (`YYYY-MM-DD`), oldest
    /// first: what `luka export vouchers` makes the daily vouchers from.
    pub fn z_reports_on(&self, business_date: &str) -> Result<Vec<crate::domain::report::Report>> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, data FROM journal WHERE kind = ?1 ORDER BY seq")?;
        let rows = stmt.query_map(
            params![crate::domain::journal::JournalKind::ReportZ.as_str()],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, data) = row?;
            // Cheap filter before the full parse: the date is in the header.
            if !data.contains(business_date) {
                continue;
            }
            let z: crate::domain::report::Report = serde_json::from_str(&data).map_err(|e| {
                StoreError::Corrupt(format!("the Z report in journal entry {seq}: {e}"))
            })?;
            if z.header.business_date == business_date {
                out.push(z);
            }
        }
        Ok(out)
    }

    /// The most recent reconciliation of any date, for the organizer screen.
    pub fn last_reconciliation(&self) -> Result<Option<(String, serde_json::Value)>> {
        let date: Option<String> = self
            .conn
            .query_row(
                "SELECT ledger_date FROM reconciliations ORDER BY ledger_date DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match date {
            Some(d) => self.reconciliation(&d),
            None => Ok(None),
        }
    }
}
