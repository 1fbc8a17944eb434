//! A stored sale (or refund) → the printer's [`ReceiptInput`]: receipt
//! number, lines, VAT totals, payment, local time, training flag.
//!
//! Reads only; it must never write, print or decide when to print. Totals
//! come from `domain::sale::totals`, never from arithmetic here; the split of
//! a partial refund over VAT codes is the journal's (`domain::journal`).

use time::OffsetDateTime;

use super::printer_state::ReceiptSettings;
use crate::domain::journal::{is_full_return, return_per_vat};
use crate::domain::local_time::to_oslo as norwegian;
use crate::domain::sale::totals;
use crate::domain::{Money, PaymentMethod, SaleLine, SaleStatus};
use crate::printer::{KitchenTicket, PaymentInfo, ReceiptInput, ReceiptKind, ReceiptLine};
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
        (PaymentMethod::Card, _) => PaymentInfo::Card {
            terminal_ref: sale.terminal_ref.clone(),
        },
        _ => PaymentInfo::Vipps {
            reference: sale.reference.clone(),
        },
    };
    let at = sale.closed_at.unwrap_or(sale.created_at);
    let mut input = build(
        ReceiptKind::Sale,
        &sale,
        receipt_no,
        None,
        at,
        &lines,
        payment,
        copy,
        s,
    )?;
    input.order_no = order_no(r, sale_id)?;
    Ok(input)
}

/// The order number a paid sale was given (`order_no` in its sale-paid entry).
pub fn order_no(r: &Reader<'_>, sale_id: i64) -> Result<Option<u64>> {
    Ok(r.journal_entries(Some(sale_id))?
        .iter()
        .find(|e| e.kind == crate::domain::journal::JournalKind::SalePaid.as_str())
        .and_then(|e| e.data["order_no"].as_u64()))
}

/// The kitchen's ticket of a paid sale with order number `order_no`.
pub fn kitchen_ticket(r: &Reader<'_>, sale_id: i64, order_no: u64) -> Result<KitchenTicket> {
    let sale = r.sale(sale_id)?;
    Ok(KitchenTicket {
        order_no,
        till_id: sale.till_id.clone(),
        timestamp: norwegian(sale.closed_at.unwrap_or(sale.created_at)),
        lines: r
            .sale_lines(sale_id)?
            .into_iter()
            .map(|l| (l.quantity, l.name))
            .collect(),
        training: sale.training,
    })
}

/// The Returkvittering for money given back from a sale.
pub fn refund_receipt(
    r: &Reader<'_>,
    sale_id: i64,
    refund: RefundReceipt,
    s: &ReceiptSettings,
) -> Result<ReceiptInput> {
    let sale = r.sale(sale_id)?;
    let lines = refund_lines(&r.sale_lines(sale_id)?, refund.amount);
    let payment = match sale.method {
        // Paid out of the drawer: "Utbetalt kontant".
        PaymentMethod::Cash => {
            let out = Money::new(refund.amount, sale.total.currency());
            PaymentInfo::Cash {
                given: out,
                change: Money::new(0, sale.total.currency()),
            }
        }
        PaymentMethod::Vipps => PaymentInfo::Vipps {
            reference: sale.reference.clone(),
        },
        // Paid back on the card terminal (its own slip).
        PaymentMethod::Card => PaymentInfo::Card { terminal_ref: None },
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
        order_no: None,
    })
}

/// The lines of a refund of `amount` øre: the sale's lines negated when all
/// of it goes back; otherwise one "Delvis retur" line per VAT code with what
/// that code gives back. The split is `domain::journal::return_per_vat`, the
/// same rule the signed return transaction uses, so the receipt's VAT per
/// code is the journal's to the øre (kassasystemforskriften § 2-8-5).
pub fn refund_lines(lines: &[SaleLine], amount: i64) -> Vec<SaleLine> {
    let negate = |l: &SaleLine, unit: Money| SaleLine {
        unit_price: Money::new(-unit.minor(), unit.currency()),
        ..l.clone()
    };
    if lines.is_empty() || is_full_return(lines, amount) {
        return lines.iter().map(|l| negate(l, l.unit_price)).collect();
    }
    return_per_vat(lines, amount)
        .into_iter()
        .filter_map(|(vat, share)| {
            let first = lines.iter().find(|l| l.vat == vat)?;
            let line = SaleLine {
                product_id: None,
                name: "Delvis retur".into(),
                quantity: 1,
                ..first.clone()
            };
            Some(negate(&line, Money::new(share, line.unit_price.currency())))
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
        let back = refund_lines(&lines, 30_900);
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
        // 9 500 of 34 400 at 15 %, 24 900 at 25 %; 100,01 kr back. Per line
        // (largest remainder, as the journal signs it): 17,44 + 10,18 + 72,39.
        let back = refund_lines(&lines, 10_001);
        let t = totals(&back).unwrap();
        assert_eq!(t.gross, Money::nok(-10_001));
        let by_code: Vec<(VatCode, i64)> =
            t.per_vat.iter().map(|v| (v.vat, v.gross.minor())).collect();
        assert_eq!(
            by_code,
            [(VatCode::Regular, -7_239), (VatCode::ReducedMiddle, -2_762)]
        );
        assert!(back.iter().all(|l| l.name == "Delvis retur"));
        let one_code = refund_lines(&lines[..2], 1_000);
        assert_eq!(one_code.len(), 1);
        assert_eq!(one_code[0].unit_price, Money::nok(-1_000));
    }

    /// Issue 14's example: 50,00 back from 33,33 (A) + 33,33 + 33,34 (B)
    /// printed A 16,66 / B 33,34 while the journal signed A 16,67 / B 33,33.
    /// The receipt's VAT per code must be the signed transaction's.
    #[test]
    fn a_partial_refund_prints_what_the_journal_signs() {
        let lines = [
            line(1, "A", 3_333, VatCode::Regular),
            line(1, "B1", 3_333, VatCode::ReducedMiddle),
            line(1, "B2", 3_334, VatCode::ReducedMiddle),
        ];
        let printed = totals(&refund_lines(&lines, 5_000)).unwrap();
        let (_, signed) = crate::domain::journal::return_lines(&lines, 5_000);
        let printed: Vec<(VatCode, i64, i64)> = printed
            .per_vat
            .iter()
            .map(|v| (v.vat, v.gross.minor(), v.vat_amount.minor()))
            .collect();
        let signed: Vec<(VatCode, i64, i64)> = signed
            .iter()
            .map(|v| (v.vat, v.gross, v.vat_amount))
            .collect();
        assert_eq!(printed, signed);
        assert_eq!(
            printed.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
            [(VatCode::Regular, -1_667), (VatCode::ReducedMiddle, -3_333)]
        );
    }
}
