//! Vipps settlements per sales unit (issue 16, part 4): the journal's side
//! of one MSN's ledger date, and the reconciliations stored per ledger with
//! the unit they compared.
//!
//! Each MSN is settled in its own ledger, so a date has one reconciliation
//! per ledger (keyed `(ledger_id, ledger_date)` since 003; `msn` from 011
//! says whose sales it compared; NULL: every Vipps sale of the till).

use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use super::{Reader, Result, StoreError, Writer};
use crate::clock::rfc3339;
use crate::domain::settlement::{Booked, JournalSide, UnitSales};

/// One stored reconciliation.
#[derive(Debug, Clone)]
pub struct StoredReconciliation {
    pub ledger_id: String,
    /// The unit's MSN; `None`: every Vipps sale of the till.
    pub msn: Option<String>,
    pub made_at: String,
    pub result: serde_json::Value,
}

impl Writer<'_> {
    /// Stores (or replaces) the reconciliation of one ledger date and the
    /// unit whose sales it compared. A ledger date already reconciled for
    /// another unit's MSN is refused: two MSNs settled in one ledger cannot
    /// be told apart by comparing each with its own sales. (One made for the
    /// whole till, before units, may be replaced by its own unit's.)
    pub fn save_unit_reconciliation(
        &mut self,
        ledger_id: &str,
        ledger_date: &str,
        msn: Option<&str>,
        ok: bool,
        result: &serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<()> {
        let before: Option<Option<String>> = self
            .conn()
            .query_row(
                "SELECT msn FROM reconciliations WHERE ledger_id = ?1 AND ledger_date = ?2",
                params![ledger_id, ledger_date],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(Some(other)) = &before
            && msn.is_some_and(|m| m != other)
        {
            let name =
                |m: Option<&str>| m.map_or("every Vipps sale".to_string(), |m| format!("MSN {m}"));
            return Err(StoreError::Rejected(format!(
                "Vipps ledger {ledger_id} on {ledger_date} was reconciled for {} and now for {}: \
                 each sales unit must be settled in a ledger of its own",
                name(Some(other)),
                name(msn)
            )));
        }
        self.conn().execute(
            "INSERT INTO reconciliations (ledger_id, ledger_date, made_at, ok, result, msn) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (ledger_id, ledger_date) DO UPDATE SET \
             made_at = excluded.made_at, ok = excluded.ok, result = excluded.result, \
             msn = excluded.msn",
            params![
                ledger_id,
                ledger_date,
                rfc3339(now),
                ok,
                result.to_string(),
                msn
            ],
        )?;
        Ok(())
    }
}

impl Reader<'_> {
    /// Vipps captures (sales recorded paid) and refunds made between `from`
    /// and `to`: the journal's side of a settlement date. With `unit`, only
    /// the sales paid to its MSN (and, for `[vipps]`'s own, those that name
    /// none); without, every Vipps sale.
    pub fn vipps_activity_of(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        unit: Option<&UnitSales>,
    ) -> Result<JournalSide> {
        // A production till's training sales never reached Vipps; the demo's
        // database holds nothing else, and its simulator settles them.
        const REAL: &str =
            "(s.training = 0 OR NOT EXISTS (SELECT 1 FROM sales WHERE training = 0))";
        const UNIT: &str = "(?3 IS NULL OR s.msn = ?3 OR (s.msn IS NULL AND ?4))";
        let msn = unit.map(|u| u.msn.as_str());
        let own = unit.is_some_and(|u| u.own);
        let query = |sql: &str| -> Result<Vec<Booked>> {
            let sql = sql.replace("{REAL}", REAL).replace("{UNIT}", UNIT);
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map(params![rfc3339(from), rfc3339(to), msn, own], |r| {
                Ok(Booked {
                    reference: r.get(0)?,
                    amount: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        Ok(JournalSide {
            captures: query(
                "SELECT s.reference, p.captured_minor FROM sales s JOIN payments p ON p.sale_id = s.id \
                 WHERE s.method = 'vipps' AND s.status = 'paid' AND {REAL} AND {UNIT} \
                 AND julianday(s.closed_at) >= julianday(?1) AND julianday(s.closed_at) < julianday(?2) ORDER BY s.id",
            )?,
            refunds: query(
                "SELECT s.reference, f.amount_minor FROM refunds f JOIN sales s ON s.id = f.sale_id \
                 WHERE s.method = 'vipps' AND f.status = 'done' AND {REAL} AND {UNIT} \
                 AND julianday(f.done_at) >= julianday(?1) AND julianday(f.done_at) < julianday(?2) ORDER BY f.id",
            )?,
        })
    }

    /// Every stored reconciliation of a ledger date, by ledger.
    pub fn reconciliations_on(&self, ledger_date: &str) -> Result<Vec<StoredReconciliation>> {
        let mut stmt = self.conn.prepare(
            "SELECT ledger_id, msn, made_at, result FROM reconciliations \
             WHERE ledger_date = ?1 ORDER BY ledger_id",
        )?;
        let rows = stmt.query_map(params![ledger_date], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (ledger_id, msn, made_at, text) = row?;
            let result = serde_json::from_str(&text).map_err(|e| {
                StoreError::Corrupt(format!("reconciliation {ledger_id} {ledger_date}: {e}"))
            })?;
            out.push(StoredReconciliation {
                ledger_id,
                msn,
                made_at,
                result,
            });
        }
        Ok(out)
    }

    /// Whether `ledger_date` is reconciled for `unit` (`None`: for the
    /// whole till, by any ledger). A reconciliation stored without an MSN
    /// counts as `[vipps]`'s own unit's.
    pub fn unit_reconciled(&self, ledger_date: &str, unit: Option<&UnitSales>) -> Result<bool> {
        let msn = unit.map(|u| u.msn.as_str());
        let own = unit.is_none_or(|u| u.own);
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM reconciliations WHERE ledger_date = ?1 \
                 AND (?2 IS NULL OR msn = ?2 OR (msn IS NULL AND ?3)) LIMIT 1",
                params![ledger_date, msn, own],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}
