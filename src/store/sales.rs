//! Sales and their lines, receipt numbers, and the sale's status changes.
//! Payments are in `payments.rs`, refunds in `refunds.rs`.

use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::{Reader, Result, StoreError, Writer, guard};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::domain::reference::payment_reference;
use crate::domain::{Currency, Money, PaymentMethod, SaleLine, SaleStatus, UnpaidReason, VatCode};

/// What is needed to record a new sale.
#[derive(Debug, Clone)]
pub struct NewSale {
    pub till_id: String,
    pub method: PaymentMethod,
    pub status: SaleStatus,
    pub lines: Vec<SaleLine>,
    pub total: Money,
    pub description: String,
    pub training: bool,
    pub cash_given: Option<Money>,
    /// A card sale's reference on the terminal's slip, when given.
    pub terminal_ref: Option<String>,
    /// The random part of the payment reference.
    pub reference_random: u32,
    /// The Vipps sales unit (MSN) a Vipps sale is paid to; `None` on cash
    /// and card, and on a till with one unnamed Vipps account.
    pub msn: Option<String>,
    /// The department the sale is booked under, if its unit has one.
    pub department: Option<String>,
    pub now: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRecord {
    pub id: i64,
    pub till_id: String,
    pub reference: String,
    pub method: PaymentMethod,
    pub status: SaleStatus,
    pub total: Money,
    pub description: String,
    pub unpaid_reason: Option<UnpaidReason>,
    pub receipt_no: Option<i64>,
    pub cash_given: Option<Money>,
    pub training: bool,
    pub created_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
    /// A card sale's reference on the terminal's slip, when given.
    pub terminal_ref: Option<String>,
    /// The Vipps sales unit (MSN) the payment was made to, if known.
    pub msn: Option<String>,
    /// The department the sale is booked under, if any.
    pub department: Option<String>,
}

impl SaleRecord {
    /// What a payment provider is asked to collect for this sale.
    pub fn payment_order(&self) -> crate::domain::payment::PaymentOrder {
        crate::domain::payment::PaymentOrder {
            sale_id: self.id,
            till_id: self.till_id.clone(),
            reference: self.reference.clone(),
            total: self.total,
            description: self.description.clone(),
            customer: None,
        }
    }
}

const SALE_COLUMNS: &str = "id, till_id, reference, method, status, currency, total_minor, \
     description, unpaid_reason, receipt_no, cash_given_minor, training, created_at, closed_at, \
     terminal_ref, msn, department";

pub(super) fn time_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<OffsetDateTime> {
    let s: String = row.get(idx)?;
    parse_rfc3339(&s).ok_or_else(|| bad_column(idx, format!("bad instant '{s}'")))
}

pub(super) fn bad_column(idx: usize, msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        rusqlite::types::Type::Text,
        Box::new(StoreError::Corrupt(msg)),
    )
}

fn sale_from_row(row: &Row<'_>) -> rusqlite::Result<SaleRecord> {
    let method: String = row.get(3)?;
    let status: String = row.get(4)?;
    let currency: String = row.get(5)?;
    let currency =
        Currency::parse(&currency).ok_or_else(|| bad_column(5, format!("currency {currency}")))?;
    let reason: Option<String> = row.get(8)?;
    let closed: Option<String> = row.get(13)?;
    Ok(SaleRecord {
        id: row.get(0)?,
        till_id: row.get(1)?,
        reference: row.get(2)?,
        method: PaymentMethod::parse(&method).ok_or_else(|| bad_column(3, method.clone()))?,
        status: status.parse().map_err(|e: String| bad_column(4, e))?,
        total: Money::new(row.get(6)?, currency),
        description: row.get(7)?,
        unpaid_reason: reason
            .map(|r| r.parse().map_err(|e: String| bad_column(8, e)))
            .transpose()?,
        receipt_no: row.get(9)?,
        cash_given: row
            .get::<_, Option<i64>>(10)?
            .map(|m| Money::new(m, currency)),
        training: row.get(11)?,
        created_at: time_col(row, 12)?,
        closed_at: closed.as_deref().and_then(parse_rfc3339),
        terminal_ref: row.get(14)?,
        msn: row.get(15)?,
        department: row.get(16)?,
    })
}

impl Writer<'_> {
    /// Records a sale and its lines; returns it with its id and reference.
    pub fn insert_sale(&mut self, s: &NewSale) -> Result<SaleRecord> {
        let id: i64 =
            self.conn()
                .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM sales", [], |r| {
                    r.get(0)
                })?;
        let reference = payment_reference(&s.till_id, id, s.reference_random);
        self.conn().execute(
            "INSERT INTO sales (id, till_id, reference, method, status, currency, total_minor, \
             description, cash_given_minor, training, created_at, terminal_ref, msn, department) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                id,
                s.till_id,
                reference,
                s.method.as_str(),
                s.status.as_str(),
                s.total.currency().code(),
                s.total.minor(),
                s.description,
                s.cash_given.map(|m| m.minor()),
                s.training,
                rfc3339(s.now),
                s.terminal_ref,
                s.msn,
                s.department,
            ],
        )?;
        for (no, line) in s.lines.iter().enumerate() {
            self.conn().execute(
                "INSERT INTO sale_lines (sale_id, line_no, product_id, name, product_group, \
                 quantity, unit_price_minor, vat_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    id,
                    no as i64 + 1,
                    line.product_id,
                    line.name,
                    line.group,
                    line.quantity,
                    line.unit_price.minor(),
                    line.vat.code(),
                ],
            )?;
        }
        self.reader().sale(id)
    }

    /// Moves a sale from one of `from` to a non-final `to`.
    pub fn set_sale_status(&mut self, id: i64, from: &[SaleStatus], to: SaleStatus) -> Result<()> {
        debug_assert!(
            !to.is_final(),
            "use mark_paid / close_unpaid for final states"
        );
        let changed = self.conn().execute(
            &format!(
                "UPDATE sales SET status = ?1 WHERE id = ?2 AND status IN ({})",
                status_list(from)
            ),
            params![to.as_str(), id],
        )?;
        guard(
            changed,
            format!("sale {id}"),
            &describe(from),
            self.found_status(id),
        )
    }

    /// Closes a sale as paid and gives it the next consecutive receipt number.
    pub fn mark_paid(&mut self, id: i64, from: &[SaleStatus], now: OffsetDateTime) -> Result<i64> {
        let receipt_no = self.next_counter("receipt_no")?;
        let changed = self.conn().execute(
            &format!(
                "UPDATE sales SET status = 'paid', receipt_no = ?1, closed_at = ?2 \
                 WHERE id = ?3 AND status IN ({})",
                status_list(from)
            ),
            params![receipt_no, rfc3339(now), id],
        )?;
        guard(
            changed,
            format!("sale {id}"),
            &describe(from),
            self.found_status(id),
        )?;
        self.forget_customer(id)?;
        Ok(receipt_no)
    }

    /// Forgets who a closed sale was sent to: the phone number or scanned
    /// personal QR in its create request becomes `{}`. That request is
    /// never sent again once the sale is closed, and personal data is kept
    /// no longer than the sale needs it (the journal only ever said which
    /// flow). Called in the transaction that closes the sale.
    fn forget_customer(&mut self, sale_id: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET payload = json_set(payload, '$.customer', json('{}')) \
             WHERE sale_id = ?1 AND json_valid(payload) \
               AND json_type(payload, '$.customer') = 'object' \
               AND payload <> json_set(payload, '$.customer', json('{}'))",
            params![sale_id],
        )?;
        Ok(())
    }

    pub fn close_unpaid(
        &mut self,
        id: i64,
        from: &[SaleStatus],
        reason: UnpaidReason,
        now: OffsetDateTime,
    ) -> Result<()> {
        let changed = self.conn().execute(
            &format!(
                "UPDATE sales SET status = 'unpaid', unpaid_reason = ?1, closed_at = ?2 \
                 WHERE id = ?3 AND status IN ({})",
                status_list(from)
            ),
            params![reason.as_str(), rfc3339(now), id],
        )?;
        guard(
            changed,
            format!("sale {id}"),
            &describe(from),
            self.found_status(id),
        )?;
        self.forget_customer(id)
    }

    /// The next consecutive receipt number, for a receipt that is not a
    /// sale's own (a Returkvittering): one series for every receipt of the till.
    pub fn next_receipt_no(&mut self) -> Result<i64> {
        self.next_counter("receipt_no")
    }

    /// The next order number of a business day (`YYYY-MM-DD`, local): the
    /// number called out at the hatch, from 1 every day.
    pub fn next_order_no(&mut self, business_date: &str) -> Result<i64> {
        self.next_counter(&format!("order:{business_date}"))
    }

    pub(super) fn next_counter(&mut self, name: &str) -> Result<i64> {
        self.conn().execute(
            "INSERT INTO counters (name, value) VALUES (?1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = value + 1",
            params![name],
        )?;
        Ok(self.conn().query_row(
            "SELECT value FROM counters WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )?)
    }

    fn found_status(&self, id: i64) -> String {
        self.reader()
            .sale(id)
            .map(|s| s.status.to_string())
            .unwrap_or_else(|_| "no such sale".into())
    }
}

fn status_list(from: &[SaleStatus]) -> String {
    from.iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(from: &[SaleStatus]) -> String {
    from.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

impl Reader<'_> {
    pub fn sale(&self, id: i64) -> Result<SaleRecord> {
        self.conn
            .query_row(
                &format!("SELECT {SALE_COLUMNS} FROM sales WHERE id = ?1"),
                params![id],
                sale_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("sale {id}")))
    }

    pub fn sale_by_reference(&self, reference: &str) -> Result<SaleRecord> {
        self.conn
            .query_row(
                &format!("SELECT {SALE_COLUMNS} FROM sales WHERE reference = ?1"),
                params![reference],
                sale_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("sale with reference {reference}")))
    }

    pub fn sale_by_receipt_no(&self, receipt_no: i64) -> Result<SaleRecord> {
        self.conn
            .query_row(
                &format!("SELECT {SALE_COLUMNS} FROM sales WHERE receipt_no = ?1"),
                params![receipt_no],
                sale_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("sale with receipt number {receipt_no}")))
    }

    /// Sales not yet paid or closed, oldest first.
    pub fn open_sales(&self) -> Result<Vec<SaleRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SALE_COLUMNS} FROM sales WHERE status NOT IN ('paid', 'unpaid') ORDER BY id"
        ))?;
        let rows = stmt.query_map([], sale_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A training till's database: it has sales, and every one is training
    /// (config keeps training and real sales in separate files).
    pub fn is_training_database(&self) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sales WHERE training = 1) \
                AND NOT EXISTS (SELECT 1 FROM sales WHERE training = 0)",
            [],
            |r| r.get(0),
        )?)
    }

    /// The newest `limit` sales started at or after `since`, newest first.
    /// Bounded in SQL so a long day costs the screen no more than its rows;
    /// figures over the whole day come from [`Self::sale_counts_since`] and
    /// the report, never from these rows.
    pub fn sales_since(&self, since: OffsetDateTime, limit: usize) -> Result<Vec<SaleRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SALE_COLUMNS} FROM sales WHERE created_at >= ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![rfc3339(since), limit], sale_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many sales started at or after `since` are in each status.
    pub fn sale_counts_since(&self, since: OffsetDateTime) -> Result<Vec<(SaleStatus, u64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT status, count(*) FROM sales WHERE created_at >= ?1 GROUP BY status ORDER BY status",
        )?;
        let rows = stmt.query_map(params![rfc3339(since)], |row| {
            let status: String = row.get(0)?;
            let n: i64 = row.get(1)?;
            Ok((
                status.parse().map_err(|e: String| bad_column(0, e))?,
                n.max(0) as u64,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn all_sales(&self) -> Result<Vec<SaleRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {SALE_COLUMNS} FROM sales ORDER BY id"))?;
        let rows = stmt.query_map([], sale_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn last_paid_sale(&self) -> Result<Option<SaleRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {SALE_COLUMNS} FROM sales WHERE status = 'paid' \
                     ORDER BY receipt_no DESC LIMIT 1"
                ),
                [],
                sale_from_row,
            )
            .optional()?)
    }

    pub fn sale_lines(&self, sale_id: i64) -> Result<Vec<SaleLine>> {
        let currency = self.sale(sale_id)?.total.currency();
        let mut stmt = self.conn.prepare(
            "SELECT product_id, name, product_group, quantity, unit_price_minor, vat_code \
             FROM sale_lines WHERE sale_id = ?1 ORDER BY line_no",
        )?;
        let rows = stmt.query_map(params![sale_id], |r| {
            let code: u16 = r.get(5)?;
            Ok(SaleLine {
                product_id: r.get(0)?,
                name: r.get(1)?,
                group: r.get(2)?,
                quantity: r.get(3)?,
                unit_price: Money::new(r.get(4)?, currency),
                vat: VatCode::from_code(code)
                    .ok_or_else(|| bad_column(5, format!("VAT code {code}")))?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
