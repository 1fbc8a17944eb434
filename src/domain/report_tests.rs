use super::*;
use crate::domain::journal::{TransLine, TransPayment, TransVat};
use crate::domain::{PaymentMethod, VatCode};

fn header() -> ReportHeader {
    ReportHeader {
        kind: ReportKind::X,
        number: None,
        till_id: "kiosk-1".into(),
        business_date: "2024-05-01".into(),
        made_date: "2024-05-01".into(),
        made_time: "12:00:00".into(),
        from_seq: 0,
        to_seq: 10,
        journal_head: "00".into(),
        system: "Luka 0.1.0".into(),
        installation: "test".into(),
    }
}

fn sale(kind: TransKind, amount: i64, method: PaymentMethod, training: bool) -> CashTransaction {
    let vat = VatCode::ReducedMiddle.vat_of_gross(amount);
    CashTransaction {
        nr: 1,
        kind,
        till_id: "kiosk-1".into(),
        currency: Currency::NOK,
        sale_id: Some(1),
        receipt_no: Some(1),
        refund_id: None,
        date: "2024-05-01".into(),
        time: "18:30:00".into(),
        amount_in: amount,
        amount_ex: amount - vat,
        lines: vec![TransLine {
            product_id: Some("kaffe".into()),
            name: "Kaffe".into(),
            group: "Kiosk".into(),
            quantity: Some(amount.signum()),
            amount_in: amount,
            amount_ex: amount - vat,
            vat: VatCode::ReducedMiddle,
            vat_amount: vat,
        }],
        vat: vec![TransVat {
            vat: VatCode::ReducedMiddle,
            gross: amount,
            vat_amount: vat,
            net: amount - vat,
        }],
        payments: vec![TransPayment {
            method,
            amount,
            reference: None,
        }],
        operator: Some("1001".into()),
        training,
    }
}

#[test]
fn an_empty_period_is_all_zero_with_24_hours() {
    let r = compute(header(), &[], &[], None, GrandTotals::default());
    assert_eq!((r.sales.count, r.net.minor()), (0, 0));
    assert_eq!(r.per_hour.len(), 24);
    assert_eq!(r.cash.difference, None);
    assert_eq!(r.grand_totals, GrandTotals::default());
}

#[test]
fn training_counts_only_as_training_and_cash_returns_leave_the_drawer() {
    let ts = [
        sale(TransKind::Sale, 3_000, PaymentMethod::Cash, false),
        sale(TransKind::Sale, 9_900, PaymentMethod::Cash, true),
        sale(TransKind::Return, -3_000, PaymentMethod::Cash, false),
        CashTransaction {
            kind: TransKind::Float,
            lines: vec![],
            vat: vec![],
            amount_in: 50_000,
            amount_ex: 50_000,
            ..sale(TransKind::Float, 50_000, PaymentMethod::Cash, false)
        },
    ];
    let prev = GrandTotals {
        sales: 100,
        returns: 10,
        net: 90,
    };
    let r = compute(header(), &ts, &[], Some(49_000), prev);
    assert_eq!((r.sales.count, r.sales.amount.minor()), (1, 3_000));
    assert_eq!((r.returns.count, r.returns.amount.minor()), (1, 3_000));
    assert_eq!((r.training.count, r.training.amount.minor()), (1, 9_900));
    assert_eq!(r.cash.expected.minor(), 50_000);
    assert_eq!(r.cash.difference.map(|m| m.minor()), Some(-1_000));
    assert_eq!(r.per_hour[18].count, 1);
    assert_eq!(r.per_hour[18].amount.minor(), 0);
    assert_eq!(
        r.grand_totals,
        GrandTotals {
            sales: 3_100,
            returns: 3_010,
            net: 90
        }
    );
}
