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
            msn: None,
        }],
        operator: Some("1001".into()),
        training,
        department: None,
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

/// Issue 16, part 4: two departments and a sale booked under none, with
/// Vipps paid to two sales units. Hand-computed: department 10 took two
/// Vipps sales of 50 kr to MSN 111111 and gave 20 kr back; department 20
/// one cash sale of 30 kr and one Vipps sale of 40 kr to MSN 222222; the
/// unbooked one 10 kr in cash.
#[test]
fn departments_and_sales_units_split_the_period_and_add_up_to_it() {
    let under = |amount, method, dept: Option<&str>, msn: Option<&str>| {
        let mut t = sale(
            if amount > 0 {
                TransKind::Sale
            } else {
                TransKind::Return
            },
            amount,
            method,
            false,
        );
        t.department = dept.map(String::from);
        t.payments[0].msn = msn.map(String::from);
        t
    };
    let ts = [
        under(5_000, PaymentMethod::Vipps, Some("10"), Some("111111")),
        under(5_000, PaymentMethod::Vipps, Some("10"), Some("111111")),
        under(-2_000, PaymentMethod::Vipps, Some("10"), Some("111111")),
        under(3_000, PaymentMethod::Cash, Some("20"), None),
        under(4_000, PaymentMethod::Vipps, Some("20"), Some("222222")),
        under(1_000, PaymentMethod::Cash, None, None),
    ];
    let r = compute(header(), &ts, &[], None, GrandTotals::default());
    let d: Vec<_> = r
        .per_department
        .iter()
        .map(|d| {
            (
                d.department.as_str(),
                d.sales.count,
                d.returns.amount.minor(),
                d.net.minor(),
            )
        })
        .collect();
    assert_eq!(
        d,
        [
            ("", 1, 0, 1_000),
            ("10", 2, 2_000, 8_000),
            ("20", 2, 0, 7_000)
        ]
    );
    let ten = &r.per_department[1];
    assert_eq!(ten.per_payment.len(), 1);
    assert_eq!(
        (
            ten.per_payment[0].key.as_str(),
            ten.per_payment[0].amount.minor()
        ),
        ("vipps", 8_000)
    );
    assert_eq!(ten.per_vat[0].gross.minor(), 8_000);
    let twenty: Vec<_> = r.per_department[2]
        .per_payment
        .iter()
        .map(|p| (p.key.as_str(), p.amount.minor()))
        .collect();
    assert_eq!(twenty, [("cash", 3_000), ("vipps", 4_000)]);
    let units: Vec<_> = r
        .per_vipps_unit
        .iter()
        .map(|u| (u.key.as_str(), u.count, u.amount.minor()))
        .collect();
    assert_eq!(units, [("111111", 2, 8_000), ("222222", 1, 4_000)]);
    // The parts add up to the whole.
    let sum: i64 = r.per_department.iter().map(|d| d.net.minor()).sum();
    assert_eq!(sum, r.net.minor());
    assert_eq!(r.net.minor(), 16_000);
}

#[test]
fn a_period_without_departments_has_no_department_rows() {
    let ts = [sale(TransKind::Sale, 3_000, PaymentMethod::Cash, false)];
    let r = compute(header(), &ts, &[], None, GrandTotals::default());
    assert!(r.per_department.is_empty());
    assert!(r.per_vipps_unit.is_empty());
}
