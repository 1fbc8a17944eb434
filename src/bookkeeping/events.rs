//! The bodies pushed to a bookkeeping webhook: one event per completed sale
//! and one per refund, built in the transaction that completes them so a
//! retry sends exactly the same bytes. Shape after Standard Webhooks:
//! `{"type", "timestamp", "data"}`; money in minor units with the currency.
//! A sale made under a sales unit carries its `department` and, for Vipps,
//! the `msn` it was paid to (issue 16, part 4); both are left out when not
//! set, so a receiver written before them sees the same events.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::clock::rfc3339;
use crate::domain::{PaymentMethod, sale::totals};
use crate::store::{Reader, Result};

pub const SALE_COMPLETED: &str = "sale.completed";
pub const SALE_REFUNDED: &str = "sale.refunded";

/// `webhook-id` of a sale's completion: stable across retries and restarts,
/// unique per till and sale, so a receiver can de-duplicate on it.
pub fn sale_event_id(till_id: &str, reference: &str) -> String {
    format!("msg_{till_id}_{reference}_paid")
}

pub fn refund_event_id(till_id: &str, reference: &str, refund_id: i64) -> String {
    format!("msg_{till_id}_{reference}_refund{refund_id}")
}

/// The `sale.completed` event of a paid sale.
pub fn sale_completed(r: &Reader<'_>, sale_id: i64, now: OffsetDateTime) -> Result<Value> {
    let sale = r.sale(sale_id)?;
    let lines = r.sale_lines(sale_id)?;
    let vat: Vec<Value> = totals(&lines)
        .map(|t| {
            t.per_vat
                .iter()
                .map(|v| {
                    json!({
                        "code": v.vat.code(),
                        "rate_bp": v.vat.rate_bp(),
                        "gross": v.gross.minor(),
                        "vat": v.vat_amount.minor(),
                        "net": v.net.minor(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let payment = match sale.method {
        PaymentMethod::Vipps => {
            let p = r.payment(sale_id)?;
            json!({
                "method": "vipps",
                "reference": p.reference,
                "psp_reference": p.psp_reference,
                "captured": p.captured,
            })
        }
        PaymentMethod::Cash => {
            let given = sale
                .cash_given
                .map(|g| g.minor())
                .unwrap_or(sale.total.minor());
            json!({
                "method": "cash",
                "given": given,
                "change": given - sale.total.minor(),
            })
        }
        PaymentMethod::Card => json!({
            "method": "card",
            "terminal_ref": sale.terminal_ref,
        }),
    };
    let mut event = json!({
        "type": SALE_COMPLETED,
        "timestamp": rfc3339(now),
        "data": {
            "till_id": sale.till_id,
            "reference": sale.reference,
            "receipt_no": sale.receipt_no,
            "created_at": rfc3339(sale.created_at),
            "paid_at": rfc3339(now),
            "currency": sale.total.currency().code(),
            "total": sale.total.minor(),
            "lines": lines.iter().map(|l| json!({
                "product_id": l.product_id,
                "name": l.name,
                "group": l.group,
                "quantity": l.quantity,
                "unit_price": l.unit_price.minor(),
                "amount": l.unit_price.minor() * i64::from(l.quantity),
                "vat_code": l.vat.code(),
            })).collect::<Vec<_>>(),
            "vat": vat,
            "payment": payment,
        }
    });
    unit(&mut event, &sale);
    Ok(event)
}

/// The sale's department and MSN, when it has them.
fn unit(event: &mut Value, sale: &crate::store::SaleRecord) {
    if let Some(d) = &sale.department {
        event["data"]["department"] = json!(d);
    }
    if let Some(m) = &sale.msn {
        event["data"]["msn"] = json!(m);
    }
}

/// The `sale.refunded` event of a refund Vipps has made.
pub fn sale_refunded(
    r: &Reader<'_>,
    sale_id: i64,
    refund_id: i64,
    amount: i64,
    receipt_no: i64,
    now: OffsetDateTime,
) -> Result<Value> {
    let sale = r.sale(sale_id)?;
    let reason = r
        .refunds(sale_id)?
        .into_iter()
        .find(|x| x.id == refund_id)
        .map(|x| x.reason)
        .unwrap_or_default();
    // A cash sale has no provider payment: its money went back from the drawer.
    let (refunded_total, payment) = match sale.method {
        PaymentMethod::Vipps => {
            let p = r.payment(sale_id)?;
            (
                p.refunded,
                json!({ "method": "vipps", "reference": p.reference }),
            )
        }
        PaymentMethod::Cash | PaymentMethod::Card => (
            r.refunds(sale_id)?
                .iter()
                .filter(|x| x.status == "done")
                .map(|x| x.amount)
                .sum(),
            json!({ "method": sale.method.as_str() }),
        ),
    };
    let mut event = json!({
        "type": SALE_REFUNDED,
        "timestamp": rfc3339(now),
        "data": {
            "till_id": sale.till_id,
            "reference": sale.reference,
            "sale_receipt_no": sale.receipt_no,
            "refund_id": refund_id,
            "receipt_no": receipt_no,
            "refunded_at": rfc3339(now),
            "currency": sale.total.currency().code(),
            "amount": amount,
            "refunded_total": refunded_total,
            "reason": reason,
            "payment": payment,
        }
    });
    unit(&mut event, &sale);
    Ok(event)
}
