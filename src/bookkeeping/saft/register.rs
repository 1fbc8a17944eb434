//! The cash register's content in SAF-T: one `<event>` per journal event
//! (with the full `<eventReport>` for X and Z reports) and one
//! `<cashtransaction>` per signed transaction, signature included.

use std::io::{self, Write};

use super::company::{group_id, id35};
use super::xml::Xml;
use super::{FileScope, Meta, Register};
use crate::domain::journal::{CashTransaction, JournalKind, TransKind, saft_amount, saft_code};
use crate::domain::local_time::{local_date, local_time};
use crate::domain::report::{Report, ReportKind, Row};
use crate::domain::{PaymentMethod, VatCode};
use crate::store::{JournalRecord, operator_id};

fn amnt_tp(minor: i64) -> &'static str {
    if minor < 0 { "D" } else { "C" }
}

fn perc(rate_bp: i64) -> String {
    format!("{}.{:02}", rate_bp / 100, rate_bp % 100)
}

fn payment_basic(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Cash => "CASH",
        PaymentMethod::Vipps => "VIPPS",
        PaymentMethod::Card => "CARD",
    }
}

pub fn write_event<W: Write>(
    x: &mut Xml<W>,
    o: &FileScope,
    m: &Meta,
    reg: &Register,
    rec: &JournalRecord,
) -> io::Result<()> {
    let code = saft_code(&rec.kind, &rec.data);
    x.open("event")?;
    x.val("eventID", rec.seq)?;
    x.leaf("eventType", code.basic_id, 35)?;
    let trans = rec
        .data
        .get("refund_id")
        .and_then(|r| r.as_i64())
        .and_then(|r| reg.refund_nr.get(&r))
        .or_else(|| rec.sale_id.and_then(|s| reg.sale_nr.get(&s)));
    if let Some(nr) = trans {
        x.val("transID", nr)?;
    }
    let kind = JournalKind::parse(&rec.kind);
    if matches!(
        kind,
        Some(JournalKind::OperatorLogin | JournalKind::OperatorLogout)
    ) && let Some(op) = operator_id(&rec.data)
        && m.employees.contains_key(&id35(&op))
    {
        x.leaf("empID", &op, 35)?;
    }
    x.val("eventDate", local_date(rec.at))?;
    x.val("eventTime", local_time(rec.at))?;
    let report = matches!(kind, Some(JournalKind::ReportX | JournalKind::ReportZ))
        .then(|| serde_json::from_value::<Report>(rec.data.clone()).ok())
        .flatten();
    match &report {
        Some(r) => x.leaf(
            "eventText",
            &format!("{} {}", rec.kind, r.header.business_date),
            9999,
        )?,
        None => {
            let data = rec.data.to_string();
            let short: String = data.chars().take(300).collect();
            x.leaf("eventText", &format!("{} {short}", rec.kind), 9999)?
        }
    }
    if let Some(r) = report {
        write_report(x, o, rec, &r)?;
    }
    x.close("event")
}

fn write_rows<W: Write>(
    x: &mut Xml<W>,
    outer: &str,
    inner: &str,
    fields: [&str; 3],
    rows: &[(String, String, String)],
) -> io::Result<()> {
    x.open(outer)?;
    for (a, b, c) in rows {
        x.open(inner)?;
        x.leaf(fields[0], a, 35)?;
        x.val(fields[1], b)?;
        x.val(fields[2], c)?;
        x.close(inner)?;
    }
    x.close(outer)
}

fn write_report<W: Write>(
    x: &mut Xml<W>,
    o: &FileScope,
    rec: &JournalRecord,
    r: &Report,
) -> io::Result<()> {
    let h = &r.header;
    let none = || vec![("None".to_string(), "0".to_string(), "0.00".to_string())];
    let or_none = |rows: Vec<(String, String, String)>| if rows.is_empty() { none() } else { rows };
    let count_rows = |rows: &[Row], id: &dyn Fn(&Row) -> String| -> Vec<(String, String, String)> {
        rows.iter()
            .map(|row| {
                (
                    id(row),
                    row.count.to_string(),
                    saft_amount(row.amount.minor()),
                )
            })
            .collect()
    };
    x.open("eventReport")?;
    match h.kind {
        ReportKind::Z => x.val("reportID", format!("Z{}", h.number.unwrap_or_default()))?,
        ReportKind::X => x.val("reportID", format!("X{}", rec.seq))?,
    }
    x.val(
        "reportType",
        if h.kind == ReportKind::Z {
            "Z report"
        } else {
            "X report"
        },
    )?;
    x.leaf("companyIdent", &o.merchant.org_digits(), 35)?;
    x.leaf("companyName", &o.merchant.name, 100)?;
    x.val("reportDate", &h.made_date)?;
    x.val("reportTime", &h.made_time)?;
    x.leaf("registerID", &h.till_id, 100)?;
    x.open("reportTotalCashSales")?;
    x.val("totalCashSaleAmnt", saft_amount(r.net.minor()))?;
    x.close("reportTotalCashSales")?;
    let groups = count_rows(&r.per_group, &|row| group_id(&row.key));
    write_rows(
        x,
        "reportArtGroups",
        "reportArtGroup",
        ["artGroupID", "artGroupNum", "artGroupAmnt"],
        &or_none(groups),
    )?;
    let payments = count_rows(&r.per_payment, &|row| {
        PaymentMethod::parse(&row.key)
            .map(payment_basic)
            .unwrap_or("OTHER")
            .to_string()
    });
    let payments = if payments.is_empty() {
        vec![("CASH".into(), "0".into(), "0.00".into())]
    } else {
        payments
    };
    write_rows(
        x,
        "reportPayments",
        "reportPayment",
        ["paymentType", "paymentNum", "paymentAmnt"],
        &payments,
    )?;
    x.open("reportCashSalesVat")?;
    let vat_rows: Vec<(u16, i64, i64, i64)> = if r.per_vat.is_empty() {
        vec![(VatCode::Regular.code(), VatCode::Regular.rate_bp(), 0, 0)]
    } else {
        r.per_vat
            .iter()
            .map(|v| (v.code, v.rate_bp, v.net.minor(), v.vat.minor()))
            .collect()
    };
    for (code, rate_bp, net, vat) in vat_rows {
        x.open("reportCashSaleVat")?;
        x.val("vatCode", code)?;
        x.val("vatPerc", perc(rate_bp))?;
        x.val("cashSaleAmnt", saft_amount(net))?;
        x.val("vatAmnt", saft_amount(vat))?;
        x.val("vatAmntTp", amnt_tp(-vat))?;
        x.close("reportCashSaleVat")?;
    }
    x.close("reportCashSalesVat")?;
    x.val(
        "reportOpeningChangeFloat",
        saft_amount(r.cash.float.minor()),
    )?;
    // The same count the paper report prints (§ 2-8-2 l).
    x.val("reportReceiptNum", r.receipts_printed)?;
    x.val("reportOpenCashBoxNum", r.drawer_openings_without_sale)?;
    x.val("reportReceiptCopyNum", r.copies.count)?;
    x.val(
        "reportReceiptCopyAmnt",
        saft_amount(r.copies.amount.minor()),
    )?;
    x.val("reportReceiptProformaNum", 0)?;
    x.val("reportReceiptProformaAmnt", "0.00")?;
    x.val("reportReturnNum", r.returns.count)?;
    x.val("reportReturnAmnt", saft_amount(r.returns.amount.minor()))?;
    x.val("reportDiscountNum", r.discounts.count)?;
    x.val(
        "reportDiscountAmnt",
        saft_amount(r.discounts.amount.minor()),
    )?;
    x.val("reportVoidTransNum", r.voids.count)?;
    x.val("reportVoidTransAmnt", saft_amount(r.voids.amount.minor()))?;
    let corr = ["corrLineType", "corrLineNum", "corrLineAmnt"];
    let corr_rows = if r.corrections.count > 0 {
        vec![(
            "Line correction".into(),
            r.corrections.count.to_string(),
            saft_amount(r.corrections.amount.minor()),
        )]
    } else {
        none()
    };
    write_rows(x, "reportCorrLines", "reportCorrLine", corr, &corr_rows)?;
    let price = ["priceInquiryGroup", "priceInquiryNum", "priceInquiryAmnt"];
    write_rows(
        x,
        "reportPriceInquiries",
        "reportPriceInquiry",
        price,
        &none(),
    )?;
    let other = ["otherCorrType", "otherCorrNum", "otherCorrAmnt"];
    let other_rows = if r.price_changes > 0 {
        vec![(
            "Price change".into(),
            r.price_changes.to_string(),
            "0.00".into(),
        )]
    } else {
        none()
    };
    write_rows(x, "reportOtherCorrs", "reportOtherCorr", other, &other_rows)?;
    x.val("reportReceiptDeliveryNum", 0)?;
    x.val("reportReceiptDeliveryAmnt", "0.00")?;
    x.val("reportTrainingNum", r.training.count)?;
    x.val("reportTrainingAmnt", saft_amount(r.training.amount.minor()))?;
    let g = r.grand_totals;
    x.val("reportGrandTotalSales", saft_amount(g.sales))?;
    x.val("reportGrandTotalReturn", saft_amount(g.returns))?;
    x.val("reportGrandTotalSalesNet", saft_amount(g.net))?;
    x.close("eventReport")
}

pub fn write_transaction<W: Write>(x: &mut Xml<W>, rec: &JournalRecord) -> io::Result<()> {
    let (Some(t), Some(sig), Some(version)) = (&rec.trans, &rec.signature, &rec.key_version) else {
        return Ok(());
    };
    x.open("cashtransaction")?;
    x.val("nr", t.nr)?;
    x.val("transID", t.nr)?;
    x.val("transType", trans_type(t))?;
    x.val("transAmntIn", saft_amount(t.amount_in))?;
    x.val("transAmntEx", saft_amount(t.amount_ex))?;
    x.val("amntTp", amnt_tp(t.amount_in))?;
    if let Some(op) = &t.operator {
        x.leaf("empID", op, 35)?;
    }
    x.val("transDate", &t.date)?;
    x.val("transTime", &t.time)?;
    if let Some(no) = t.receipt_no {
        let what = if t.kind == TransKind::Return {
            "Retur av kvittering"
        } else {
            "Kvittering"
        };
        x.leaf("desc", &format!("{what} {no}"), 9999)?;
    }
    let line_type = if t.kind == TransKind::Return {
        "RET"
    } else {
        "SAL"
    };
    for (i, l) in t.lines.iter().enumerate() {
        x.open("ctLine")?;
        x.val("nr", t.nr)?;
        x.val("lineID", i + 1)?;
        x.val("lineType", line_type)?;
        x.leaf("artGroupID", &group_id(&l.group), 35)?;
        if let Some(id) = &l.product_id {
            x.leaf("artID", &id35(id), 35)?;
        }
        if let Some(q) = l.quantity {
            x.val("qnt", q)?;
        }
        x.val("lineAmntIn", saft_amount(l.amount_in))?;
        x.val("lineAmntEx", saft_amount(l.amount_ex))?;
        x.val("amntTp", amnt_tp(l.amount_in))?;
        if let Some(op) = &t.operator {
            x.leaf("empID", op, 35)?;
        }
        x.leaf("cashTransLineDescr", &l.name, 9999)?;
        x.open("vat")?;
        x.val("vatCode", l.vat.code())?;
        x.val("vatPerc", perc(l.vat.rate_bp()))?;
        x.val("vatAmnt", saft_amount(l.vat_amount))?;
        x.val("vatAmntTp", amnt_tp(l.vat_amount))?;
        x.val("vatBasAmnt", saft_amount(l.amount_ex))?;
        x.close("vat")?;
        x.close("ctLine")?;
    }
    for v in &t.vat {
        x.open("vat")?;
        x.val("vatCode", v.vat.code())?;
        x.val("vatPerc", perc(v.vat.rate_bp()))?;
        x.val("vatAmnt", saft_amount(v.vat_amount))?;
        x.val("vatAmntTp", amnt_tp(v.vat_amount))?;
        x.val("vatBasAmnt", saft_amount(v.net))?;
        x.close("vat")?;
    }
    for p in &t.payments {
        x.open("payment")?;
        x.val("paymentType", payment_basic(p.method))?;
        x.val("paidAmnt", saft_amount(p.amount))?;
        if let Some(op) = &t.operator {
            x.leaf("empID", op, 35)?;
        }
        x.val("curCode", t.currency.code())?;
        if let Some(r) = &p.reference {
            x.leaf("paymentRefID", r, 999)?;
        }
        x.close("payment")?;
    }
    x.leaf("signature", sig, 999)?;
    x.leaf("keyVersion", version, 50)?;
    if matches!(t.kind, TransKind::Sale | TransKind::Return) {
        x.val("receiptNum", 1)?;
    }
    x.val("voidTransaction", "false")?;
    x.val("trainingID", t.training)?;
    x.close("cashtransaction")
}

fn trans_type(t: &CashTransaction) -> &'static str {
    match t.kind {
        TransKind::Sale => "CASHSAL",
        TransKind::Return => "RETURNSAL",
        TransKind::Float => "FLOAT",
        TransKind::Difference => "CASHDIFF",
    }
}
