//! Payments: what the provider holds for each sale (phase, amounts, the
//! QR target), updated from what the provider reports.

use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::SaleRecord;
use super::sales::bad_column;
use super::{Reader, Result, StoreError, Writer, guard};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::domain::PaymentPhase;
use crate::domain::payment::Amounts;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub sale_id: i64,
    pub provider: String,
    pub reference: String,
    pub phase: PaymentPhase,
    pub amount: i64,
    pub authorized: i64,
    pub captured: i64,
    pub cancelled: i64,
    pub refunded: i64,
    pub redirect_url: Option<String>,
    pub psp_reference: Option<String>,
    pub expires_at: Option<OffsetDateTime>,
    pub reads: i64,
}

fn payment_from_row(row: &Row<'_>) -> rusqlite::Result<PaymentRecord> {
    let phase: String = row.get(3)?;
    let expires: Option<String> = row.get(11)?;
    Ok(PaymentRecord {
        sale_id: row.get(0)?,
        provider: row.get(1)?,
        reference: row.get(2)?,
        phase: phase.parse().map_err(|e: String| bad_column(3, e))?,
        amount: row.get(4)?,
        authorized: row.get(5)?,
        captured: row.get(6)?,
        cancelled: row.get(7)?,
        refunded: row.get(8)?,
        redirect_url: row.get(9)?,
        psp_reference: row.get(10)?,
        expires_at: expires.as_deref().and_then(parse_rfc3339),
        reads: row.get(12)?,
    })
}

const PAYMENT_COLUMNS: &str = "sale_id, provider, reference, phase, amount_minor, \
     authorized_minor, captured_minor, cancelled_minor, refunded_minor, redirect_url, \
     psp_reference, expires_at, reads";

impl Writer<'_> {
    fn found_phase(&self, sale_id: i64) -> String {
        self.reader()
            .payment(sale_id)
            .map(|p| p.phase.to_string())
            .unwrap_or_else(|_| "no such payment".into())
    }

    pub fn insert_payment(
        &mut self,
        sale: &SaleRecord,
        provider: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO payments (sale_id, provider, reference, phase, amount_minor, updated_at) \
             VALUES (?1, ?2, ?3, 'initiated', ?4, ?5)",
            params![
                sale.id,
                provider,
                sale.reference,
                sale.total.minor(),
                rfc3339(now)
            ],
        )?;
        Ok(())
    }

    /// The provider confirmed the payment exists and gave us its QR target.
    pub fn payment_created(
        &mut self,
        sale_id: i64,
        redirect_url: Option<&str>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<()> {
        let changed = self.conn().execute(
            "UPDATE payments SET phase = 'created', redirect_url = ?1, expires_at = ?2, \
             updated_at = ?3 WHERE sale_id = ?4 AND phase = 'initiated'",
            params![redirect_url, rfc3339(expires_at), rfc3339(now), sale_id],
        )?;
        guard(
            changed,
            format!("payment of sale {sale_id}"),
            "initiated",
            self.found_phase(sale_id),
        )
    }

    /// Applies what the provider reported, guarded on the phase we read it in.
    pub fn update_payment(
        &mut self,
        sale_id: i64,
        from: PaymentPhase,
        to: PaymentPhase,
        amounts: Amounts,
        psp_reference: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let changed = self.conn().execute(
            "UPDATE payments SET phase = ?1, authorized_minor = ?2, captured_minor = ?3, \
             cancelled_minor = ?4, refunded_minor = ?5, \
             psp_reference = COALESCE(?6, psp_reference), updated_at = ?7 \
             WHERE sale_id = ?8 AND phase = ?9",
            params![
                to.as_str(),
                amounts.authorized,
                amounts.captured,
                amounts.cancelled,
                amounts.refunded,
                psp_reference,
                rfc3339(now),
                sale_id,
                from.as_str(),
            ],
        )?;
        guard(
            changed,
            format!("payment of sale {sale_id}"),
            from.as_str(),
            self.found_phase(sale_id),
        )
    }

    pub fn count_read(&mut self, sale_id: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE payments SET reads = reads + 1 WHERE sale_id = ?1",
            params![sale_id],
        )?;
        Ok(())
    }
}

impl Reader<'_> {
    pub fn payment(&self, sale_id: i64) -> Result<PaymentRecord> {
        self.conn
            .query_row(
                &format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE sale_id = ?1"),
                params![sale_id],
                payment_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("payment of sale {sale_id}")))
    }
}
