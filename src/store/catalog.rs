//! The price list the till last started selling with (`known_prices`), so a
//! change of product, price or VAT code can be journaled with the old value;
//! and the installation's own id (`till_identity`).

use rusqlite::params;

use super::{Reader, Result, Writer};

/// One product as the till last knew it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPrice {
    pub product_id: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub vat_code: u16,
}

impl Reader<'_> {
    /// This installation's unique id (32 hex digits), made with the database.
    pub fn installation_id(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("SELECT installation_id FROM till_identity", [], |r| {
                r.get(0)
            })?)
    }

    /// The price list the till last started with, by product id.
    pub fn known_prices(&self) -> Result<Vec<KnownPrice>> {
        let mut stmt = self.conn.prepare(
            "SELECT product_id, name, price_minor, currency, vat_code FROM known_prices \
             ORDER BY product_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(KnownPrice {
                product_id: r.get(0)?,
                name: r.get(1)?,
                price_minor: r.get(2)?,
                currency: r.get(3)?,
                vat_code: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Writer<'_> {
    /// Replaces the known price list with `prices`.
    pub fn set_known_prices(&mut self, prices: &[KnownPrice]) -> Result<()> {
        self.conn().execute("DELETE FROM known_prices", [])?;
        let mut stmt = self.conn().prepare(
            "INSERT INTO known_prices (product_id, name, price_minor, currency, vat_code) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for p in prices {
            stmt.execute(params![
                p.product_id,
                p.name,
                p.price_minor,
                p.currency,
                p.vat_code
            ])?;
        }
        Ok(())
    }
}
