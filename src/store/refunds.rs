//! Refunds: requested against a paid sale, finished when the provider
//! (or the drawer) has paid them back.

use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use super::sales::time_col;
use super::{Reader, Result, StoreError, Writer, guard};
use crate::clock::rfc3339;
use crate::domain::{Money, SaleStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub id: i64,
    pub sale_id: i64,
    pub amount: i64,
    pub reason: String,
    pub status: String,
    pub created_at: OffsetDateTime,
}

impl Writer<'_> {
    /// Records a refund request after checking it fits what is left to refund.
    pub fn insert_refund(
        &mut self,
        sale_id: i64,
        amount: i64,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<i64> {
        let sale = self.reader().sale(sale_id)?;
        if sale.status != SaleStatus::Paid {
            return Err(StoreError::Rejected(format!(
                "sale {} is {}, only a paid sale can be refunded",
                sale.reference, sale.status
            )));
        }
        if amount <= 0 {
            return Err(StoreError::Rejected("a refund must be above zero".into()));
        }
        let refundable = sale.total.minor() - self.reader().refunded_or_pending(sale_id)?;
        if amount > refundable {
            return Err(StoreError::Rejected(format!(
                "cannot refund {} of sale {}: only {} is left to refund",
                Money::new(amount, sale.total.currency()),
                sale.reference,
                Money::new(refundable, sale.total.currency())
            )));
        }
        self.conn().execute(
            "INSERT INTO refunds (sale_id, amount_minor, reason, status, created_at) \
             VALUES (?1, ?2, ?3, 'pending', ?4)",
            params![sale_id, amount, reason, rfc3339(now)],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    pub fn finish_refund(&mut self, id: i64, ok: bool, now: OffsetDateTime) -> Result<()> {
        let to = if ok { "done" } else { "failed" };
        let changed = self.conn().execute(
            "UPDATE refunds SET status = ?1, done_at = ?2 WHERE id = ?3 AND status = 'pending'",
            params![to, rfc3339(now), id],
        )?;
        let found = self
            .conn()
            .query_row(
                "SELECT status FROM refunds WHERE id = ?1",
                params![id],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .unwrap_or_else(|| "nothing".into());
        guard(changed, format!("refund {id}"), "pending", found)
    }
}

impl Reader<'_> {
    pub fn refunds(&self, sale_id: i64) -> Result<Vec<RefundRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, sale_id, amount_minor, reason, status, created_at FROM refunds \
             WHERE sale_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![sale_id], |r| {
            Ok(RefundRecord {
                id: r.get(0)?,
                sale_id: r.get(1)?,
                amount: r.get(2)?,
                reason: r.get(3)?,
                status: r.get(4)?,
                created_at: time_col(r, 5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Refunded plus still-pending refund amounts: what can no longer be refunded.
    pub fn refunded_or_pending(&self, sale_id: i64) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM refunds \
             WHERE sale_id = ?1 AND status IN ('pending', 'done')",
            params![sale_id],
            |r| r.get(0),
        )?)
    }
}
