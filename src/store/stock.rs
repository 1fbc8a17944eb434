//! What is left to sell (`stock`): a product marked sold out, or counted
//! down with every paid sale and back with a full return.

use rusqlite::{OptionalExtension, params};

use super::{Reader, Result, Writer};
use crate::domain::SaleLine;

/// One product's stock; a product without a row is neither counted nor
/// sold out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stock {
    pub product_id: String,
    /// `None`: not counted.
    pub remaining: Option<i64>,
    pub sold_out: bool,
    pub low_mark: Option<i64>,
}

impl Stock {
    pub fn uncounted(product_id: &str) -> Stock {
        Stock {
            product_id: product_id.to_string(),
            remaining: None,
            sold_out: false,
            low_mark: None,
        }
    }

    /// Whether it can be sold now: not marked sold out, and not counted to zero.
    pub fn available(&self) -> bool {
        !self.sold_out && self.remaining != Some(0)
    }

    /// Counted and down to its low mark (but not out).
    pub fn low(&self) -> bool {
        matches!((self.remaining, self.low_mark), (Some(n), Some(low)) if n > 0 && n <= low)
    }
}

impl Reader<'_> {
    /// Every product with a stock row, by id.
    pub fn stock(&self) -> Result<Vec<Stock>> {
        let mut stmt = self.conn.prepare(
            "SELECT product_id, remaining, sold_out, low_mark FROM stock ORDER BY product_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Stock {
                product_id: r.get(0)?,
                remaining: r.get(1)?,
                sold_out: r.get(2)?,
                low_mark: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// When this till last marked `product_id` sold out or on sale by hand
    /// (not following the club's hub): the journal time of that entry.
    pub fn last_stock_mark(&self, product_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT at FROM journal WHERE kind = 'stock.changed' \
                 AND json_extract(data, '$.product') = ?1 \
                 AND coalesce(json_extract(data, '$.from_hub'), 0) = 0 \
                 ORDER BY seq DESC LIMIT 1",
                params![product_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// One product's stock (uncounted when it has no row).
    pub fn stock_of(&self, product_id: &str) -> Result<Stock> {
        Ok(self
            .conn
            .query_row(
                "SELECT remaining, sold_out, low_mark FROM stock WHERE product_id = ?1",
                params![product_id],
                |r| {
                    Ok(Stock {
                        product_id: product_id.to_string(),
                        remaining: r.get(0)?,
                        sold_out: r.get(1)?,
                        low_mark: r.get(2)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_else(|| Stock::uncounted(product_id)))
    }
}

impl Writer<'_> {
    pub fn set_stock(&mut self, s: &Stock) -> Result<()> {
        self.conn().execute(
            "INSERT INTO stock (product_id, remaining, sold_out, low_mark) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (product_id) DO UPDATE SET remaining = excluded.remaining, \
             sold_out = excluded.sold_out, low_mark = excluded.low_mark",
            params![s.product_id, s.remaining, s.sold_out, s.low_mark],
        )?;
        Ok(())
    }

    /// Counts `lines` out (`sign` 1, a paid sale) or back in (`sign` -1, a
    /// full return) of the counted products. Never below zero: a sale that
    /// was paid is never undone for a miscount. Returns the products touched.
    pub fn count_stock(&mut self, lines: &[SaleLine], sign: i64) -> Result<Vec<String>> {
        let mut touched = Vec::new();
        for l in lines {
            let Some(id) = &l.product_id else { continue };
            let n = self.conn().execute(
                "UPDATE stock SET remaining = max(0, remaining - ?2) \
                 WHERE product_id = ?1 AND remaining IS NOT NULL",
                params![id, sign * i64::from(l.quantity)],
            )?;
            if n > 0 {
                touched.push(id.clone());
            }
        }
        Ok(touched)
    }
}
