//! A day of mixed sales (cash and Vipps, a refund, a copy, a training
//! receipt, a price change, two operators) gives X and Z figures equal to
//! hand-computed expectations; the SAF-T export of it validates against
//! Skatteetaten's XSD with xmllint, and a file missing a required element
//! does not.

use crate::day;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use day::{TILL, may1, may2, mixed_day, product, sell};
use luka::bookkeeping::saft::export_file;
use luka::domain::journal::JournalKind;
use luka::domain::report::{Report, ReportKind};
use luka::domain::{Merchant, Money, PaymentMethod};
use luka::reports::{ReportError, close_day, current, to_printer, x_report};
use luka::store::Store;

fn rows(r: &[luka::domain::report::Row]) -> Vec<(String, i64, i64)> {
    r.iter()
        .map(|r| (r.key.clone(), r.count, r.amount.minor()))
        .collect()
}

fn s(k: &str, c: i64, a: i64) -> (String, i64, i64) {
    (k.to_string(), c, a)
}

/// Hand-computed (øre):
/// A cash 2×voksen 300,00 (code 6) · B Vipps kaffe 30 + vaffel 25 (31; VAT
/// 5500·15/115 = 717) · C Vipps skjerf 250 (3; VAT 5000) + brus 35 (31; VAT
/// 457) · price change · D cash 2×kaffe at 35 = 70,00 (31; VAT 913) by
/// operator 1002 · copy of B · B refunded in full · E training 100,00.
fn check_day_figures(r: &Report) {
    assert_eq!((r.sales.count, r.sales.amount.minor()), (4, 71_000));
    assert_eq!((r.returns.count, r.returns.amount.minor()), (1, 5_500));
    assert_eq!(r.net.minor(), 65_500);
    // Net of VAT: 300 + (55-7,17) + (200 + 35-4,57) + (70-9,13)
    assert_eq!(
        r.sales_net_of_vat.minor(),
        30_000 + 4_783 + 20_000 + 3_043 + 6_087
    );
    assert_eq!(
        rows(&r.per_group),
        vec![
            s("Billetter", 2, 30_000),
            s("Kiosk", 3, 10_500),
            s("Klær", 1, 25_000)
        ]
    );
    assert_eq!(
        rows(&r.per_product),
        vec![
            s("brus", 1, 3_500),
            s("kaffe", 2, 7_000),
            s("skjerf", 1, 25_000),
            s("vaffel", 0, 0),
            s("voksen", 2, 30_000),
        ]
    );
    let vat: Vec<(u16, i64, i64, i64)> = r
        .per_vat
        .iter()
        .map(|v| (v.code, v.gross.minor(), v.vat.minor(), v.net.minor()))
        .collect();
    assert_eq!(
        vat,
        vec![
            (3, 25_000, 5_000, 20_000),
            (6, 30_000, 0, 30_000),
            (31, 10_500, 717 + 457 + 913 - 717, 10_500 - 1_370),
        ]
    );
    assert_eq!(
        rows(&r.per_payment),
        vec![s("cash", 2, 37_000), s("vipps", 3, 28_500)]
    );
    assert_eq!(
        rows(&r.per_operator),
        vec![s("1001", 3, 64_000), s("1002", 1, 1_500)]
    );
    let hours: Vec<(String, i64, i64)> = rows(&r.per_hour)
        .into_iter()
        .filter(|h| h.1 != 0 || h.2 != 0)
        .collect();
    assert_eq!(
        hours,
        vec![
            s("10", 2, 35_500),
            s("11", 1, 28_500),
            s("12", 1, 7_000),
            s("13", 0, -5_500)
        ]
    );
    assert_eq!(r.per_hour.len(), 24);
    assert_eq!((r.copies.count, r.copies.amount.minor()), (1, 5_500));
    assert_eq!((r.training.count, r.training.amount.minor()), (1, 10_000));
    assert_eq!((r.discounts.count, r.discounts.amount.minor()), (0, 0));
    assert_eq!(r.receipts_printed, 4);
    assert_eq!(r.drawer_openings_without_sale, 1);
    assert_eq!(r.price_changes, 1);
    assert_eq!(r.cash.float.minor(), 150_000);
    assert_eq!(r.cash.cash_in.minor(), 37_000);
    assert_eq!(r.cash.expected.minor(), 187_000);
}

#[test]
fn x_and_z_of_a_mixed_day_match_the_hand_computed_figures() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("luka.db")).unwrap();
    let d = mixed_day(&store);
    assert!(d.e_training.training);

    let live = current(&store, TILL, may1(15, 0)).unwrap();
    check_day_figures(&live);
    let x = x_report(&store, TILL, may1(15, 1)).unwrap();
    check_day_figures(&x);
    assert_eq!(x.header.kind, ReportKind::X);
    assert_eq!(x.header.number, None);
    // X does not reset: the next X sees the same sales.
    check_day_figures(&current(&store, TILL, may1(15, 2)).unwrap());

    let z = close_day(&store, TILL, Some(Money::nok(186_500)), may1(22, 0)).unwrap();
    check_day_figures(&z);
    assert_eq!(z.header.number, Some(1));
    assert_eq!(z.header.business_date, "2024-05-01");
    assert_eq!(z.cash.counted.map(|m| m.minor()), Some(186_500));
    assert_eq!(z.cash.difference.map(|m| m.minor()), Some(-500));
    assert_eq!(
        (
            z.grand_totals.sales,
            z.grand_totals.returns,
            z.grand_totals.net
        ),
        (71_000, 5_500, 65_500)
    );
    // Journaled in full, with the difference as a signed transaction.
    let kinds: Vec<String> = store
        .read(|r| r.journal_entries(None))
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"report.x".to_string()));
    assert_eq!(
        kinds.iter().rev().take(2).collect::<Vec<_>>(),
        ["report.z", "cash.difference"]
    );

    // One Z per till per day.
    let again = close_day(&store, TILL, None, may1(23, 0)).unwrap_err();
    assert!(
        matches!(again, ReportError::AlreadyClosed { number: 1, .. }),
        "{again}"
    );

    // The next day starts from zero; grand totals carry on.
    let after = current(&store, TILL, may2(9, 0)).unwrap();
    assert_eq!((after.sales.count, after.net.minor()), (0, 0));
    sell(
        &store,
        PaymentMethod::Cash,
        vec![product("barn", 1)],
        false,
        may2(10, 0),
    );
    let z2 = close_day(&store, TILL, None, may2(20, 0)).unwrap();
    assert_eq!(z2.header.number, Some(2));
    assert_eq!((z2.sales.count, z2.net.minor()), (1, 5_000));
    assert_eq!(z2.cash.expected.minor(), 5_000);
    assert_eq!(
        (
            z2.grand_totals.sales,
            z2.grand_totals.returns,
            z2.grand_totals.net
        ),
        (76_000, 5_500, 70_500)
    );

    // The printer's view carries the same figures.
    let print = to_printer(&z, &Merchant::training(), false, may1(22, 0));
    assert_eq!(print.title, "Z-rapport");
    assert_eq!(print.number, Some(1));
    let cash = print
        .sections
        .iter()
        .find(|s| s.heading == "Kontanter")
        .unwrap();
    assert!(
        cash.rows.contains(&("Differanse".into(), "-5,00".into())),
        "{:?}",
        cash.rows
    );
    // The second day's Z was closed without counting: it says so, with no
    // count of 0 kr and no shortage of the 50 kr the drawer should hold.
    assert_eq!((z2.cash.counted, z2.cash.difference), (None, None));
    let print2 = to_printer(&z2, &Merchant::training(), false, may2(20, 0));
    let cash2 = print2
        .sections
        .iter()
        .find(|s| s.heading == "Kontanter")
        .unwrap();
    assert!(
        cash2.rows.contains(&("Opptalt".into(), "ikke talt".into()))
            && !cash2.rows.iter().any(|(l, _)| l == "Differanse"),
        "{:?}",
        cash2.rows
    );

    assert!(store.verify_journal().unwrap().ok());
}

fn xsd() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("specs/saft-cash-register/Norwegian_SAF-T_Cash_Register_Schema_v_1.00.xsd")
}

/// Runs xmllint; panics loudly if it is not installed.
pub fn xmllint(file: &Path) -> (bool, String) {
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd())
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!("xmllint is required for the SAF-T schema test (apt-get install libxml2-utils; scripts/setup.sh does it): {e}")
        });
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn saft_export_of_the_day_validates_against_the_xsd_and_a_broken_file_does_not() {
    assert!(xsd().exists(), "the XSD is missing at {}", xsd().display());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("luka.db")).unwrap();
    let day = mixed_day(&store);
    // A Returkvittering, one journaled before return receipts had their own
    // kind, and an X report on paper: 13013, 13013, 13018.
    let refund = json!({ "receipt_no": 9, "receipt": "refund", "refund_id": 1 });
    day::event(
        &store,
        JournalKind::ReturnReceiptPrinted,
        Some(day.b.id),
        refund.clone(),
        may1(13, 1),
    );
    day::event(
        &store,
        JournalKind::ReceiptPrinted,
        Some(day.b.id),
        refund,
        may1(13, 2),
    );
    let report = json!({ "title": "X-rapport", "number": null });
    day::event(
        &store,
        JournalKind::ReportPrinted,
        None,
        report,
        may1(14, 30),
    );
    x_report(&store, TILL, may1(15, 0)).unwrap();
    close_day(&store, TILL, Some(Money::nok(187_000)), may1(22, 0)).unwrap();
    let mut merchant = Merchant::training();
    merchant.vat_registered = true;
    let opts = day::saft_may1(merchant, may2(8, 0));
    let out = dir.path().join("saft.xml");
    let summary = export_file(&store, &opts, &out).unwrap();
    // 4 sales + training sale + return + float + cash difference
    assert_eq!(summary.transactions, 8);
    let xml = std::fs::read_to_string(&out).unwrap();
    assert_eq!(summary.bytes as usize, xml.len());
    let (ok, err) = xmllint(&out);
    assert!(ok, "xmllint rejected the export:\n{err}");
    for needle in [
        "<auditfile xmlns=\"urn:StandardAuditFile-Taxation-CashRegister:NO\">",
        "<taxRegIdent>999999999MVA</taxRegIdent>",
        "<predefinedBasicID>12011</predefinedBasicID>",
        "<predefinedBasicID>13014</predefinedBasicID>",
        "<predefinedBasicID>13013</predefinedBasicID>",
        "<predefinedBasicID>13018</predefinedBasicID>",
        "<predefinedBasicID>13999</predefinedBasicID>",
        "<predefinedBasicID>13021</predefinedBasicID>",
        "<predefinedBasicID>11007</predefinedBasicID>",
        "<predefinedBasicID>11008</predefinedBasicID>",
        "<reportType>Z report</reportType>",
        "<reportType>X report</reportType>",
        "<transType>RETURNSAL</transType>",
        "<trainingID>true</trainingID>",
        "<empID>1002</empID>",
        "<standardVatCode>31</standardVatCode>",
        "<reportGrandTotalSalesNet>655.00</reportGrandTotalSalesNet>",
    ] {
        assert!(xml.contains(needle), "the export lacks {needle}");
    }

    assert_eq!(xml.matches("<eventType>RETREC</eventType>").count(), 2);
    assert_eq!(xml.matches("<eventType>OTHERREP</eventType>").count(), 1);

    // Negative control: drop a required element and the schema must say no.
    let first = xml.find("<transAmntIn>").unwrap();
    let end = xml[first..].find('\n').unwrap() + first + 1;
    let broken = format!("{}{}", &xml[..first], &xml[end..]);
    let bad = dir.path().join("broken.xml");
    std::fs::write(&bad, broken).unwrap();
    let (ok, err) = xmllint(&bad);
    assert!(!ok, "xmllint accepted a file without transAmntIn");
    assert!(err.contains("transAmntEx"), "{err}");

    // A reversed range is refused with a message naming the fix.
    let mut reversed = opts.clone();
    reversed.to = time::macros::date!(2024 - 04 - 30);
    let e = export_file(&store, &reversed, &dir.path().join("x.xml")).unwrap_err();
    assert!(e.to_string().contains("before --from"), "{e}");
}

/// The predefined codes of one of Skatteetaten's code lists (`-11`:
/// transactions, `-13`: events) as (code, English description). The files
/// are read as published: `-11` is Latin-1, `-13` UTF-8 with CRLF.
fn code_list(which: &str) -> Vec<(u32, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "specs/saft-cash-register/Norwegian SAF-T Cash Register data - Code list - PredefinedBasicID-{which}.csv"
    ));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8_lossy(&bytes)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(';');
            let code = f.next()?.trim().parse().ok()?;
            Some((code, f.next()?.trim().to_string()))
        })
        .collect()
}

/// Every kind the journal can be written with carries a code (and its
/// description) from Skatteetaten's predefined lists, in the right list:
/// cash transactions 11xxx, events 13xxx. A made-up code would pass the XSD
/// (it only says "a string") but not an auditor.
#[test]
fn every_journal_kind_has_a_predefined_saft_code() {
    let transactions = code_list("11");
    let events = code_list("13");
    assert!(
        transactions.len() > 10 && events.len() > 25,
        "code lists not read"
    );
    for kind in JournalKind::ALL {
        for training in [false, true] {
            let c = kind.saft(training);
            let list = if kind.is_cash_transaction() {
                &transactions
            } else {
                &events
            };
            let found = list.iter().find(|(code, _)| *code == c.predefined);
            let Some((_, description)) = found else {
                panic!(
                    "{kind:?}: {} is not a predefined code in its list",
                    c.predefined
                );
            };
            assert_eq!(c.description, description, "{kind:?} ({})", c.predefined);
        }
    }
    let code = |k: JournalKind| k.saft(false).predefined;
    assert_eq!(code(JournalKind::ReturnReceiptPrinted), 13013);
    assert_eq!(code(JournalKind::ReportPrinted), 13018);
    assert_eq!(code(JournalKind::CopyPrinted), 13014);
    assert_eq!(
        JournalKind::ReturnReceiptPrinted.saft(true).predefined,
        13017
    );
}

/// A cash return (§ 2-8-2 p) is a signed RETURNSAL paid back in cash: in
/// the X by payment method (cash nets to what stayed in the drawer), and in
/// a SAF-T file that validates.
#[test]
fn a_cash_return_is_a_returnsal_paid_in_cash_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("luka.db")).unwrap();
    let sale = sell(
        &store,
        PaymentMethod::Cash,
        vec![product("voksen", 2)],
        false,
        may1(12, 0),
    );
    day::refund(&store, &sale, 15_000, may1(12, 30));
    day::event(
        &store,
        JournalKind::CartLineCorrected,
        None,
        json!({ "product": "kaffe", "quantity": 1, "total": 3_000 }),
        may1(12, 40),
    );
    let x = x_report(&store, TILL, may1(13, 0)).unwrap();
    assert_eq!(
        (x.corrections.count, x.corrections.amount.minor()),
        (1, 3_000)
    );
    assert_eq!((x.returns.count, x.returns.amount.minor()), (1, 15_000));
    assert_eq!(rows(&x.per_payment), vec![s("cash", 2, 15_000)]);
    assert_eq!(x.cash.cash_in.minor(), 15_000);
    let opts = day::saft_may1(Merchant::training(), may2(8, 0));
    let out = dir.path().join("saft.xml");
    let summary = export_file(&store, &opts, &out).unwrap();
    assert_eq!(summary.transactions, 2);
    let (ok, err) = xmllint(&out);
    assert!(ok, "xmllint rejected the export:\n{err}");
    let xml = std::fs::read_to_string(&out).unwrap();
    let ret = &xml[xml.find("<transType>RETURNSAL</transType>").unwrap()..];
    let ret = &ret[..ret.find("</cashtransaction>").unwrap()];
    assert!(ret.contains("<paymentType>CASH</paymentType>"), "{ret}");
    assert!(ret.contains("<transAmntIn>-150.00</transAmntIn>"), "{ret}");
    // § 2-8-2 s: the correction in the X's reportCorrLines.
    let corr = &xml[xml.find("<reportCorrLines>").unwrap()..];
    let corr = &corr[..corr.find("</reportCorrLines>").unwrap()];
    for part in [
        "<corrLineType>Line correction</corrLineType>",
        "<corrLineNum>1</corrLineNum>",
        "<corrLineAmnt>30.00</corrLineAmnt>",
    ] {
        assert!(corr.contains(part), "{part} in {corr}");
    }
    // § 2-8-2 d: which system and installation made the file.
    let installation = store.read(|r| r.installation_id()).unwrap();
    assert!(
        xml.contains(&format!(
            "<regDesc>Luka {} till {TILL}, installation {installation}</regDesc>",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        &xml[xml.find("<cashregister>").unwrap()..][..300]
    );
}

/// The system documentation a product declaration rests on lists every kind
/// of journal entry with the SAF-T code this Luka gives it: a new kind, or a
/// changed code, cannot ship undocumented.
#[test]
fn the_system_documentation_lists_every_journal_kind_with_its_code() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/KASSASYSTEM.md"))
            .unwrap();
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
    for kind in JournalKind::ALL {
        let name = format!("`{}`", kind.as_str());
        let code = kind.saft(false).predefined.to_string();
        let row = rows
            .iter()
            .find(|r| r.split('|').nth(1).is_some_and(|c| c.contains(&name)))
            .unwrap_or_else(|| panic!("docs/KASSASYSTEM.md has no journal row for {name}"));
        let codes = row.split('|').nth(2).unwrap_or_default();
        assert!(
            codes.contains(&code),
            "{name} is {code}, the doc says {codes}"
        );
    }
}

/// Writes `docs/receipts/day-x-*.png` and `day-z-*.png`: the X and the Z of
/// the scripted mixed day above (not hand-made samples), as the receipt
/// printer prints them, for the product declaration's documentation.
#[test]
#[ignore = "generator: writes docs/receipts/day-*.png"]
fn generate_day_report_previews() {
    use luka::printer::{LayoutConfig, PaperWidth, layout_report, preview};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("luka.db")).unwrap();
    mixed_day(&store);
    let mut merchant = Merchant::training();
    merchant.vat_registered = true;
    let x = x_report(&store, TILL, may1(15, 0)).unwrap();
    check_day_figures(&x);
    let z = close_day(&store, TILL, Some(Money::nok(187_000)), may1(22, 0)).unwrap();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/receipts");
    for (name, report, at) in [("day-x", &x, may1(15, 0)), ("day-z", &z, may1(22, 0))] {
        let paper = to_printer(report, &merchant, false, at);
        for (width, tag) in [(PaperWidth::Mm58, "58mm"), (PaperWidth::Mm80, "80mm")] {
            let doc = layout_report(&paper, &LayoutConfig::new(width));
            let png = preview::render_png(&doc).unwrap();
            std::fs::write(out.join(format!("{name}-{tag}.png")), png).unwrap();
        }
    }
}
