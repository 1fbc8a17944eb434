//! Takings over a range of business days (all tills, or one), from the
//! stored `sale.paid` and `sale.refunded` entries (their signed cash
//! transactions, as the tills recorded them): per till and payment method
//! and per hour from their payments, per product, group and operator from
//! their lines. Training sales are left out unless asked for. Read from
//! the per-day sums (`takings_day`, `product_day`, `operator_day`,
//! `department_day`) kept in
//! step as entries are stored, so a year is as quick as a day. Every figure is a sum over
//! indexed rows of the range; `luka bench --hub` measures them at scale.

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

/// Sold of one product (or group, or by one operator): net amount in øre
/// and the quantity (net of full returns; partial returns have none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sold {
    /// The product id, group or operator.
    pub key: String,
    /// What the page shows: the product's name, or the key again.
    pub label: String,
    pub quantity: i64,
    pub amount: i64,
}

/// One department's takings: net per payment method, and in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepartmentTakings {
    pub department: String,
    pub sales: i64,
    pub returns: i64,
    pub net: i64,
    pub by_method: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Takings {
    pub from: Date,
    pub to: Date,
    /// Only this till, or every till.
    pub till: Option<String>,
    pub rows: Vec<TakingsRow>,
    /// Per payment method over every till.
    pub by_method: Vec<(String, i64)>,
    /// Net per local hour (0–23), the hours with sales.
    pub by_hour: Vec<(i16, i64)>,
    pub by_product: Vec<Sold>,
    pub by_group: Vec<Sold>,
    pub by_operator: Vec<Sold>,
    /// Per department (issue 16, part 4), when any sale in the range was
    /// booked under one; `""` is sales booked under none.
    pub by_department: Vec<DepartmentTakings>,
    pub total: i64,
    /// Sales (not returns) in the range.
    pub sales: i64,
}

impl Hub {
    /// Takings from `from` to `to` (both included), of `till` or of all;
    /// training sales only when asked for (`luka hub demo`'s tills).
    pub async fn takings(
        &self,
        from: Date,
        to: Date,
        till: Option<&str>,
        training: bool,
    ) -> Result<Takings, HubError> {
        let client = self.client().await?;
        // $3 NULL: every till.
        const RANGE: &str = "business_date BETWEEN $1 AND $2 AND ($4 OR NOT training) \
                             AND ($3::TEXT IS NULL OR till_id = $3)";
        let args: [&(dyn tokio_postgres::types::ToSql + Sync); 4] = [&from, &to, &till, &training];
        let rows: Vec<TakingsRow> = client
            .query(
                &format!(
                    "SELECT till_id, method, sum(sales)::BIGINT, sum(returns)::BIGINT, \
                        sum(sales + returns)::BIGINT, sum(payments)::BIGINT \
                     FROM takings_day WHERE {RANGE} \
                     GROUP BY till_id, method ORDER BY till_id, method"
                ),
                &args,
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
        let by_hour = client
            .query(
                &format!(
                    "SELECT hour, sum(sales + returns)::BIGINT FROM takings_day WHERE {RANGE} \
                     GROUP BY hour ORDER BY hour"
                ),
                &args,
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let sales: i64 = client
            .query_one(
                &format!(
                    "SELECT COALESCE(sum(sales_count), 0)::BIGINT FROM takings_day WHERE {RANGE}"
                ),
                &args,
            )
            .await?
            .get(0);
        let read = |rows: Vec<tokio_postgres::Row>| -> Vec<Sold> {
            rows.iter()
                .map(|r| Sold {
                    key: r.get(0),
                    label: r.get(1),
                    quantity: r.get(2),
                    amount: r.get(3),
                })
                .collect()
        };
        // A product's name as it was last sold in the range.
        let by_product = read(
            client
                .query(
                    &format!(
                        "SELECT product_id, (array_agg(name ORDER BY business_date DESC))[1], \
                            sum(quantity)::BIGINT, sum(amount)::BIGINT \
                         FROM product_day WHERE {RANGE} GROUP BY product_id ORDER BY 4 DESC, 1"
                    ),
                    &args,
                )
                .await?,
        );
        let by_group = read(
            client
                .query(
                    &format!(
                        "SELECT grp, grp, sum(quantity)::BIGINT, sum(amount)::BIGINT \
                         FROM product_day WHERE {RANGE} GROUP BY grp ORDER BY 4 DESC, 1"
                    ),
                    &args,
                )
                .await?,
        );
        // An operator's name as their till knows it.
        let by_operator = read(
            client
                .query(
                    &format!(
                        "SELECT operator, coalesce(max((SELECT o.name FROM operators o \
                            WHERE o.id = operator AND o.till_id = operator_day.till_id)), operator), \
                            sum(quantity)::BIGINT, sum(amount)::BIGINT \
                         FROM operator_day WHERE {RANGE} GROUP BY operator ORDER BY 4 DESC, 1"
                    ),
                    &args,
                )
                .await?,
        );
        let mut by_department: Vec<DepartmentTakings> = Vec::new();
        for r in client
            .query(
                &format!(
                    "SELECT department, method, sum(sales)::BIGINT, sum(returns)::BIGINT \
                     FROM department_day WHERE {RANGE} GROUP BY department, method \
                     ORDER BY department, method"
                ),
                &args,
            )
            .await?
        {
            let (department, method): (String, String) = (r.get(0), r.get(1));
            let (sales, returns): (i64, i64) = (r.get(2), r.get(3));
            if by_department
                .last()
                .is_none_or(|d| d.department != department)
            {
                by_department.push(DepartmentTakings {
                    department,
                    sales: 0,
                    returns: 0,
                    net: 0,
                    by_method: Vec::new(),
                });
            }
            if let Some(d) = by_department.last_mut() {
                d.sales += sales;
                d.returns += returns;
                d.net += sales + returns;
                d.by_method.push((method, sales + returns));
            }
        }
        // Only a range booked under departments has any to show.
        if by_department.iter().all(|d| d.department.is_empty()) {
            by_department.clear();
        }
        Ok(Takings {
            from,
            to,
            till: till.map(str::to_string),
            rows,
            by_method,
            by_hour,
            by_product,
            by_group,
            by_operator,
            by_department,
            total,
            sales,
        })
    }
}
