//! Representative receipts: a ticket, a mixed-VAT kiosk order, a refund, a
//! training print, a copy and an X report.
//!
//! Training mode prints these on a desktop, docs show them, and the golden
//! tests and benches measure them, so all of them see the same receipts.
//! Totals come from `domain::sale::totals`, never from arithmetic here.

use time::macros::datetime;

use super::model::{
    Merchant, PaymentInfo, ReceiptInput, ReceiptKind, ReceiptLine, ReportInput, ReportSection,
};
use crate::domain::sale::totals;
use crate::domain::{Money, SaleLine, VatCode};

pub fn merchant() -> Merchant {
    Merchant {
        name: "Fjellvik Idrettslag".into(),
        org_number: "999999999".into(),
        vat_registered: true,
        address: vec!["Stadionvegen 4".into(), "1234 Fjellvik".into()],
    }
}

fn line(quantity: u32, name: &str, unit_ore: i64, vat: VatCode) -> SaleLine {
    SaleLine {
        product_id: None,
        name: name.into(),
        group: String::new(),
        quantity,
        unit_price: Money::nok(unit_ore),
        vat,
    }
}

fn receipt(
    kind: ReceiptKind,
    number: u64,
    lines: &[SaleLine],
    payment: PaymentInfo,
) -> ReceiptInput {
    let t = totals(lines).expect("sample lines are a valid sale");
    ReceiptInput {
        kind,
        merchant: merchant(),
        till_id: "kiosk-1".into(),
        receipt_number: number,
        refers_to: None,
        timestamp: datetime!(2026-06-13 14:32:05 +02:00),
        lines: lines
            .iter()
            .map(|l| ReceiptLine {
                quantity: l.quantity,
                name: l.name.clone(),
                amount: l.amount().expect("sample amounts are small"),
                vat: l.vat,
            })
            .collect(),
        vat_totals: t.per_vat,
        total: t.gross,
        payment,
        footer: vec![
            "Takk for besøket!".into(),
            "Heia Fjellvik – vi ses på tribunen".into(),
        ],
        qr: None,
        training: false,
        copy: false,
        order_no: None,
    }
}

fn vipps(reference: &str) -> PaymentInfo {
    PaymentInfo::Vipps {
        reference: reference.into(),
    }
}

/// One adult ticket to a match: outside the VAT act (code 6), paid with Vipps.
pub fn ticket() -> ReceiptInput {
    let lines = [line(1, "Billett voksen", 15_000, VatCode::OutsideScope)];
    receipt(
        ReceiptKind::Sale,
        1042,
        &lines,
        vipps("luka-kiosk1-000001042"),
    )
}

/// Kiosk food at 15 % and a scarf at 25 %, paid in cash with change.
pub fn kiosk_order() -> ReceiptInput {
    let lines = [
        line(2, "Kaffe", 3_000, VatCode::ReducedMiddle),
        line(
            1,
            "Vaffel med brunost og syltetøy",
            3_500,
            VatCode::ReducedMiddle,
        ),
        line(2, "Pølse i lompe", 4_000, VatCode::ReducedMiddle),
        line(1, "Kvikk Lunsj", 2_500, VatCode::ReducedMiddle),
        line(
            1,
            "Supporterskjerf Fjellvik IL, blå og hvit, strikket i Ålesund",
            24_900,
            VatCode::Regular,
        ),
    ];
    let t = totals(&lines).expect("valid");
    let given = Money::nok(50_000);
    let change = given.checked_sub(t.gross).expect("enough cash");
    receipt(
        ReceiptKind::Sale,
        1043,
        &lines,
        PaymentInfo::Cash { given, change },
    )
}

/// The scarf handed back: a Returkvittering with negative amounts, back to Vipps.
pub fn refund() -> ReceiptInput {
    let lines = [line(
        1,
        "Supporterskjerf Fjellvik IL",
        -24_900,
        VatCode::Regular,
    )];
    let mut r = receipt(
        ReceiptKind::Refund,
        1044,
        &lines,
        vipps("luka-kiosk1-000001040"),
    );
    r.refers_to = Some(1040);
    r
}

/// The kiosk order printed in training mode.
pub fn training() -> ReceiptInput {
    let mut r = kiosk_order();
    r.receipt_number = 7;
    r.training = true;
    r.payment = vipps("trening-kiosk1-000000007");
    r
}

/// The one allowed reprint of the ticket.
pub fn copy() -> ReceiptInput {
    ReceiptInput {
        copy: true,
        ..ticket()
    }
}

/// Every sample receipt with a file-friendly name.
pub fn all() -> Vec<(&'static str, ReceiptInput)> {
    vec![
        ("ticket", ticket()),
        ("kiosk-mixed-vat", kiosk_order()),
        ("refund", refund()),
        ("training", training()),
        ("copy", copy()),
    ]
}

/// An X report mid-match.
pub fn x_report() -> ReportInput {
    let row = |l: &str, v: &str| (l.to_string(), v.to_string());
    ReportInput {
        title: "X-rapport".into(),
        merchant: merchant(),
        till_id: "kiosk-1".into(),
        number: None,
        timestamp: datetime!(2026-06-13 16:00:00 +02:00),
        sections: vec![
            ReportSection {
                heading: "Betalingsmåter".into(),
                rows: vec![
                    row("Vipps (38)", "5 730,00"),
                    row("Kontant (12)", "1 249,00"),
                ],
            },
            ReportSection {
                heading: "MVA".into(),
                rows: vec![
                    row("Utenfor mva-loven", "4 500,00"),
                    row("15 % grunnlag / mva", "1 744,35 / 261,65"),
                    row("25 % grunnlag / mva", "378,40 / 94,60"),
                ],
            },
            ReportSection {
                heading: "Returer".into(),
                rows: vec![row("Antall / beløp", "1 / -249,00")],
            },
        ],
        training: false,
    }
}
