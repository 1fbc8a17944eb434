//! Takings per till and payment method over a range of business days,
//! from the payments of the stored `sale.paid` and `sale.refunded` entries
//! (their signed cash transactions, as the tills recorded them). Training
//! sales are left out.

use serde::Serialize;
use time::Date;

use super::{Hub, HubError};

/// One till's takings by one payment method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TakingsRow {
    pub till_id: String,
    pub method: String,
    /// Sales and returns, in øre (returns negative).
    pub sales: i64,
    pub returns: i64,
    pub net: i64,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Takings {
    pub from: Date,
    pub to: Date,
    pub rows: Vec<TakingsRow>,
    /// Per payment method over every till.
    pub by_method: Vec<(String, i64)>,
    pub total: i64,
}

impl Hub {
    pub async fn takings(&self, from: Date, to: Date) -> Result<Takings, HubError> {
        let client = self.client().await?;
        let rows: Vec<TakingsRow> = client
            .query(
                "SELECT till_id, method, \
                        COALESCE(sum(amount) FILTER (WHERE kind = 'sale.paid'), 0)::BIGINT, \
                        COALESCE(sum(amount) FILTER (WHERE kind = 'sale.refunded'), 0)::BIGINT, \
                        sum(amount)::BIGINT, count(*) \
                 FROM payments WHERE business_date BETWEEN $1 AND $2 AND NOT training \
                 GROUP BY till_id, method ORDER BY till_id, method",
                &[&from, &to],
            )
            .await?
            .iter()
            .map(|r| TakingsRow {
                till_id: r.get(0),
                method: r.get(1),
                sales: r.get(2),
                returns: r.get(3),
                net: r.get(4),
                count: r.get(5),
            })
            .collect();
        let mut by_method: Vec<(String, i64)> = Vec::new();
        for r in &rows {
            match by_method.iter_mut().find(|(m, _)| *m == r.method) {
                Some((_, n)) => *n += r.net,
                None => by_method.push((r.method.clone(), r.net)),
            }
        }
        by_method.sort();
        let total = rows.iter().map(|r| r.net).sum();
        Ok(Takings {
            from,
            to,
            rows,
            by_method,
            total,
        })
    }
}
