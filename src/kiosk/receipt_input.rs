//! A stored sale (or refund) → the printer's [`ReceiptInput`]: receipt
//! number, lines, VAT totals, payment, local time, training flag.
//!
//! Reads only; it must never write, print or decide when to print. Totals
//! come from `domain::sale::totals`, never from arithmetic here, except the
//! split of a partial refund over VAT codes, which is one pure function.

use time::OffsetDateTime;

use super::printer_state::ReceiptSettings;
use crate::domain::local_time::to_oslo as norwegian;
use crate::domain::sale::totals;
use crate::domain::{Money, PaymentMethod, SaleLine, SaleStatus};
use crate::printer::{PaymentInfo, ReceiptInput, ReceiptKind, ReceiptLine};
use crate::store::{Reader, Result, SaleRecord, StoreError};

/// A refund as its receipt needs it (stored in the print item's payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundReceipt {
    pub refund_id: i64,
    pub receipt_no: i64,
    /// Øre given back, positive.
    pub amount: i64,
    pub at: OffsetDateTime,
}

/// The receipt of a paid sale, the original or the one copy.
pub fn sale_receipt(
    r: &Reader<'_>,
    sale_id: i64,
    copy: bool,
    s: &ReceiptSettings,
) -> Result<ReceiptInput> {
    let sale = r.sale(sale_id)?;
    let receipt_no = match (sale.status, sale.receipt_no) {
        (SaleStatus::Paid, Some(n)) => n,
        _ => {
            return Err(StoreError::Rejected(format!(
                "sale {} is {}: only a paid sale has a receipt",
                sale.reference, sale.status
            )));
        }
    };
    let lines = r.sale_lines(sale_id)?;
    let payment = match (sale.method, sale.cash_given) {
        (PaymentMethod::Cash, Some(given)) => PaymentInfo::Cash {
            given,
            change: given.checked_sub(sale.total).unwrap_or(given),
        },
        _ => PaymentInfo::Vipps {
            reference: sale.reference.clone(),
        },
    };
    let at = sale.closed_at.unwrap_or(sale.created_at);
    build(
        ReceiptKind::Sale,
        &sale,
        receipt_no,
        None,
        at,
        &lines,
        payment,
        copy,
        s,
    )
}

/// The Returkvittering for money given back from a sale.
pub fn refund_receipt(
    r: &Reader<'_>,
    sale_id: i64,
    refund: RefundReceipt,
    s: &ReceiptSettings,
) -> Result<ReceiptInput> {
    let sale = r.sale(sale_id)?;
    let lines = refund_lines(&r.sale_lines(sale_id)?, refund.amount, sale.total.minor());
    let payment = PaymentInfo::Vipps {
        reference: sale.reference.clone(),
    };
    build(
        ReceiptKind::Refund,
        &sale,
        refund.receipt_no,
        sale.receipt_no,
        refund.at,
        &lines,
        payment,
        false,
        s,
    )
}

#[allow(clippy::too_many_arguments)]
fn build(
    kind: ReceiptKind,
    sale: &SaleRecord,
    receipt_no: i64,
    refers_to: Option<i64>,
    at: OffsetDateTime,
    lines: &[SaleLine],
    payment: PaymentInfo,
    copy: bool,
    s: &ReceiptSettings,
) -> Result<ReceiptInput> {
    let t = totals(lines).map_err(|e| StoreError::Corrupt(format!("sale {}: {e}", sale.id)))?;
    Ok(ReceiptInput {
        kind,
        merchant: s.merchant.clone(),
        till_id: sale.till_id.clone(),
        receipt_number: receipt_no as u64,
        refers_to: refers_to.map(|n| n as u64),
        timestamp: norwegian(at),
        lines: lines
            .iter()
            .map(|l| ReceiptLine {
                quantity: l.quantity,
                name: l.name.clone(),
                amount: l.amount().unwrap_or(l.unit_price),
                vat: l.vat,
            })
            .collect(),
        vat_totals: t.per_vat,
        total: t.gross,
        payment,
        footer: s.footer.clone(),
        qr: None,
        training: sale.training,
        copy,
    })
}

/// The lines of a refund of `amount` øre from a sale of `total`: the sale's
/// lines negated when all of it goes back; otherwise one "Delvis retur" line
/// per VAT code, the amount shared in proportion to each code's part of the
/// sale (the last code takes the rounding), so the VAT given back matches
/// what was charged.
pub fn refund_lines(lines: &[SaleLine], amount: i64, total: i64) -> Vec<SaleLine> {
    let negate = |l: &SaleLine, unit: Money| SaleLine {
        unit_price: Money::new(-unit.minor(), unit.currency()),
        ..l.clone()
    };
    if amount == total || lines.is_empty() || total <= 0 {
        return lines.iter().map(|l| negate(l, l.unit_price)).collect();
    }
    let mut per_code: Vec<(SaleLine, i64)> = Vec::new();
    for l in lines {
        let gross = l.amount().map(|m| m.minor()).unwrap_or_default();
        match per_code.iter_mut().find(|(p, _)| p.vat == l.vat) {
            Some((_, g)) => *g += gross,
            None => per_code.push((l.clone(), gross)),
        }
    }
    let mut left = amount;
    let n = per_code.len();
    per_code
        .into_iter()
        .enumerate()
        .map(|(i, (l, gross))| {
            let share = if i + 1 == n {
                left
            } else {
                (amount as i128 * gross as i128 / total as i128) as i64
            };
            left -= share;
            let line = SaleLine {
                product_id: None,
                name: "Delvis retur".into(),
                quantity: 1,
                ..l
            };
            negate(&line, Money::new(share, line.unit_price.currency()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::VatCode;

    fn line(q: u32, name: &str, ore: i64, vat: VatCode) -> SaleLine {
        SaleLine {
            product_id: Some(name.to_lowercase()),
            name: name.into(),
            group: "Kiosk".into(),
            quantity: q,
            unit_price: Money::nok(ore),
            vat,
        }
    }

    #[test]
    fn a_full_refund_gives_back_every_line() {
        let lines = [
            line(2, "Kaffe", 3_000, VatCode::ReducedMiddle),
            line(1, "Skjerf", 24_900, VatCode::Regular),
        ];
        let back = refund_lines(&lines, 30_900, 30_900);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].quantity, 2);
        assert_eq!(back[0].unit_price, Money::nok(-3_000));
        assert_eq!(totals(&back).unwrap().gross, Money::nok(-30_900));
    }

    #[test]
    fn a_partial_refund_is_shared_over_vat_codes_to_the_øre() {
        let lines = [
            line(2, "Kaffe", 3_000, VatCode::ReducedMiddle),
            line(1, "Vaffel", 3_500, VatCode::ReducedMiddle),
            line(1, "Skjerf", 24_900, VatCode::Regular),
        ];
        // 9 500 of 34 400 at 15 %, 24 900 at 25 %; 100,01 kr back.
        let back = refund_lines(&lines, 10_001, 34_400);
        let t = totals(&back).unwrap();
        assert_eq!(t.gross, Money::nok(-10_001));
        let by_code: Vec<(VatCode, i64)> =
            t.per_vat.iter().map(|v| (v.vat, v.gross.minor())).collect();
        assert_eq!(
            by_code,
            [(VatCode::Regular, -7_240), (VatCode::ReducedMiddle, -2_761)]
        );
        assert!(back.iter().all(|l| l.name == "Delvis retur"));
        let one_code = refund_lines(&lines[..2], 1_000, 9_500);
        assert_eq!(one_code.len(), 1);
        assert_eq!(one_code[0].unit_price, Money::nok(-1_000));
    }
}
