//! Receipts with the sale, end to end: the Vipps simulator and the printer
//! simulator on loopback, a real SQLite file, the real outbox worker, and
//! the printed bytes read back by the test-side ESC/POS decoder.
//!
//! The promise under test: a printer can hold a receipt, never a sale.

use crate::support;

use crate::support::escpos_decode;

use std::time::Duration;

use luka::domain::{Cart, Catalog, Money, SaleStatus};
use luka::kiosk::{
    Kiosk, KioskError, KioskEvent, KioskSettings, PrinterState, ReceiptError, ReceiptSettings,
};
use luka::printer::{Connection, LayoutConfig, PaperWidth, samples, sim::PrinterSim};
use luka::sim::SimConfig;
use luka::store::{JournalEntry, NewOutboxItem, OutboxStatus, Store};
use support::*;

const WAIT: Duration = Duration::from_secs(20);

fn settings(printer: Option<Connection>, drawer: bool) -> KioskSettings {
    KioskSettings {
        receipts: ReceiptSettings {
            printer,
            layout: LayoutConfig {
                open_drawer_for_cash: drawer,
                ..LayoutConfig::new(PaperWidth::Mm58)
            },
            merchant: samples::merchant(),
            footer: vec!["Takk for handelen!".into()],
        },
        ..fast_settings()
    }
}

fn network(sim: &PrinterSim) -> Option<Connection> {
    Some(Connection::Network {
        address: sim.addr().to_string(),
    })
}

/// Waits until `f` holds ([`eventually`]); fails the test naming `what`.
async fn until(what: &str, f: impl Fn() -> bool) {
    assert!(eventually(WAIT, f).await, "gave up waiting: {what}");
}

fn journal(db: &Store, sale_id: Option<i64>) -> Vec<JournalEntry> {
    db.read(|r| r.journal_entries(sale_id)).unwrap()
}

fn has(db: &Store, sale_id: i64, kind: &str) -> bool {
    journal(db, Some(sale_id)).iter().any(|e| e.kind == kind)
}

/// What came out on paper, one receipt (decoded lines) per cut.
fn paper(sim: &PrinterSim) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new()];
    for line in escpos_decode::decode(&sim.printed()) {
        let cut = line == "[CUT]";
        out.last_mut().unwrap().push(line);
        if cut {
            out.push(Vec::new());
        }
    }
    out.pop();
    out
}

fn shows(receipt: &[String], text: &str) -> bool {
    receipt.iter().any(|l| l.contains(text))
}

/// "Kvittering nr" with the number right-aligned at the end of the row.
fn receipt_no(receipt: &[String]) -> Option<i64> {
    receipt
        .iter()
        .find(|l| l.starts_with("Kvittering nr"))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
}

fn kiosk_order() -> Cart {
    let c = Catalog::club_default();
    let mut cart = Cart::new();
    for p in c.products().iter().take(3) {
        cart.add_product(p);
    }
    cart
}

async fn paid_vipps_sale(rig: &Rig, cart: &Cart) -> i64 {
    let sale = rig.kiosk.start_vipps_sale(cart, "").unwrap();
    wait_created(&rig.sim, &sale.reference).await;
    rig.sim.approve(&sale.reference).unwrap();
    let done = rig.kiosk.wait_final(sale.id, WAIT).await.unwrap();
    assert_eq!(done.status, SaleStatus::Paid);
    sale.id
}

/// A print item the till cannot read (a bad row, an older version's shape)
/// stops at once for the organizer, with a reason about the item itself: it
/// never blames Vipps or claims anyone "answered 400".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_print_item_stops_with_its_own_reason_and_blames_no_service() {
    let printer = PrinterSim::start().unwrap();
    let rig = rig_with(SimConfig::training(), settings(network(&printer), false)).await;
    // Due in an hour, so the worker's own look cannot take it before the
    // organizer's "Prøv igjen nå" below makes it due (had it run first, that
    // retry would run it a second time, and the count below would be 2).
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let id = rig
        .store
        .write(|w| {
            w.enqueue(
                &NewOutboxItem {
                    sale_id: None,
                    kind: "print.receipt".into(),
                    idempotency_key: "unreadable-print-item".into(),
                    payload: serde_json::json!({ "not": "a print job" }),
                },
                later,
            )
        })
        .unwrap();
    rig.kiosk.retry_backlog().unwrap();
    let item = || rig.store.read(|r| r.outbox_item(id)).unwrap();
    until("the item stops", || item().status == OutboxStatus::Failed).await;
    let reason = item().last_error.unwrap_or_default();
    assert!(
        reason.contains(&format!("print item {id} is unreadable")),
        "{reason}"
    );
    assert!(reason.contains("cannot change that"), "{reason}");
    assert!(
        !reason.contains("Vipps") && !reason.contains("answered"),
        "{reason}"
    );
    assert_eq!(item().attempts, 1, "stopped at the first attempt");
    rig.shut().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_out_holds_the_receipt_not_the_sale_and_it_prints_after_paper_is_loaded() {
    let printer = PrinterSim::start().unwrap();
    printer.set_paper_out(true);
    let rig = rig_with(SimConfig::training(), settings(network(&printer), false)).await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    let mut events = k.subscribe();
    let sale_id = paid_vipps_sale(&rig, &tickets(2, 1)).await;

    until("the receipt is held", || k.printer_status().state.is_held()).await;
    let view = k.printer_status();
    assert_eq!(view.held, 1);
    assert_eq!(
        view.state.message(),
        "Tom for papir – legg i ny rull og trykk Prøv igjen"
    );
    assert_eq!(k.sale(sale_id).unwrap().status, SaleStatus::Paid);
    assert!(!has(&db, sale_id, "receipt.printed"));
    assert!(printer.printed().is_empty() && printer.pending().is_empty());
    assert!(
        k.wait_settled(Duration::from_secs(5)).await.unwrap(),
        "a held receipt leaves the till settled"
    );
    // A copy cannot jump the queue of a receipt that never came out.
    assert!(matches!(
        k.print_copy(sale_id),
        Err(KioskError::Receipt(ReceiptError::NotPrintedYet(1)))
    ));

    printer.load_paper();
    assert_eq!(k.retry_print().unwrap(), 1);
    until("the receipt is journalled printed", || {
        has(&db, sale_id, "receipt.printed")
    })
    .await;
    let receipts = paper(&printer);
    assert_eq!(receipts.len(), 1, "{receipts:#?}");
    assert!(shows(&receipts[0], "Salgskvittering"), "{receipts:#?}");
    assert_eq!(receipt_no(&receipts[0]), Some(1));
    assert!(shows(&receipts[0], "Fjellvik Idrettslag"));
    assert!(!shows(&receipts[0], "KOPI"));
    // The printer's state follows the journal line a moment later.
    let ready = luka::kiosk::PrinterView {
        state: PrinterState::Ready,
        held: 0,
    };
    until("the printer is ready again", || k.printer_status() == ready).await;
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    assert!(seen.contains(&KioskEvent::ReceiptPrinted {
        sale_id,
        copy: false
    }));
    assert!(seen.iter().any(|e| matches!(e,
        KioskEvent::Printer { state: PrinterState::Held { message, .. } } if message.contains("papir"))));
    assert!(seen.contains(&KioskEvent::Printer {
        state: PrinterState::Ready
    }));
    rig.stop().await;
}

/// The receipts held for paper come out once paper is loaded, even when
/// nobody presses Retry: the till's own retries, closer together than the
/// printer's "failed a moment ago" window, must not keep that window open
/// for ever (it did: each retry that skipped the printer restarted it, and
/// a Retry pressed while one was in flight was undone the same way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_receipts_print_by_themselves_once_paper_is_loaded() {
    let printer = PrinterSim::start().unwrap();
    printer.set_paper_out(true);
    let rig = rig_with(SimConfig::training(), settings(network(&printer), false)).await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    let first = paid_vipps_sale(&rig, &tickets(1, 0)).await;
    let second = paid_vipps_sale(&rig, &tickets(0, 1)).await;
    until("both receipts are held", || k.printer_status().held == 2).await;
    // Retries keep coming (fast_settings: at most 800 ms apart).
    tokio::time::sleep(Duration::from_secs(3)).await;
    printer.load_paper();
    until("both receipts came out without Retry", || {
        has(&db, first, "receipt.printed") && has(&db, second, "receipt.printed")
    })
    .await;
    // Each held receipt retries on its own schedule: once each, in any order.
    let mut numbers: Vec<_> = paper(&printer).iter().map(|r| receipt_no(r)).collect();
    numbers.sort();
    assert_eq!(numbers, [Some(1), Some(2)], "once each");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cash_sale_opens_the_drawer_once_and_the_one_copy_says_kopi() {
    let printer = PrinterSim::start().unwrap();
    let rig = rig_with(SimConfig::training(), settings(network(&printer), true)).await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    let (sale, change) = k.cash_sale(&kiosk_order(), Money::nok(50_000), "").unwrap();
    until("printed", || has(&db, sale.id, "receipt.printed")).await;
    k.print_copy(sale.id).unwrap();
    until("copy printed", || has(&db, sale.id, "receipt.copy_printed")).await;
    let second = k.print_copy(sale.id).unwrap_err();
    assert!(matches!(
        second,
        KioskError::Receipt(ReceiptError::CopyAlreadyPrinted(1))
    ));
    assert!(second.to_string().contains("one copy per sale"), "{second}");

    let receipts = paper(&printer);
    assert_eq!(receipts.len(), 2, "{receipts:#?}");
    let (original, copy) = (&receipts[0], &receipts[1]);
    assert!(shows(original, "[DRAWER]") && !shows(copy, "[DRAWER]"));
    assert!(shows(original, "Tilbake"));
    assert!(shows(original, &change.format_plain()));
    assert!(!shows(original, "KOPI"));
    assert_eq!(
        copy.iter().filter(|l| l.ends_with("[2x]KOPI")).count(),
        2,
        "KOPI in large type at top and bottom: {copy:#?}"
    );
    assert_eq!(receipt_no(copy), Some(1));
    let kinds: Vec<String> = journal(&db, Some(sale.id))
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "sale.paid",
            "receipt.printed",
            "drawer.opened",
            "receipt.copy_printed"
        ]
    );
    rig.shut().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_cash_sale_still_opens_the_drawer_with_the_real_time_pulse() {
    let printer = PrinterSim::start().unwrap();
    printer.set_cover_open(true);
    let rig = rig_with(SimConfig::training(), settings(network(&printer), true)).await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    let (sale, _) = k.cash_sale(&tickets(1, 0), Money::nok(20_000), "").unwrap();
    until("the drawer opened", || has(&db, sale.id, "drawer.opened")).await;
    assert_eq!(printer.drawer_pulses(), 1);
    // The printer's state follows the journal line a moment later.
    until("the cover shows as open", || {
        k.printer_status().state.message().contains("Lokket")
    })
    .await;
    printer.set_cover_open(false);
    k.retry_print().unwrap();
    until("printed", || has(&db, sale.id, "receipt.printed")).await;
    let receipts = paper(&printer);
    assert!(!shows(&receipts[0], "[DRAWER]"), "opened once, not twice");
    assert_eq!(printer.drawer_pulses(), 1);
    rig.shut().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_receipts_carry_the_training_text() {
    let printer = PrinterSim::start().unwrap();
    let mut s = settings(network(&printer), false);
    s.training = true;
    let rig = rig_with(SimConfig::training(), s).await;
    let db = rig.store.clone();
    let sale_id = paid_vipps_sale(&rig, &tickets(1, 0)).await;
    until("printed", || has(&db, sale_id, "receipt.printed")).await;
    let receipts = paper(&printer);
    let r = &receipts[0];
    assert!(
        r.iter()
            .any(|l| l.starts_with("[C][B][2x]") && l.contains("IKKJE")),
        "{r:#?}"
    );
    let entry = journal(&db, Some(sale_id))
        .into_iter()
        .find(|e| e.kind == "receipt.printed")
        .unwrap();
    assert_eq!(entry.data["training"], true);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_prints_a_returkvittering_with_its_own_number() {
    let printer = PrinterSim::start().unwrap();
    let rig = rig_with(SimConfig::training(), settings(network(&printer), false)).await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    let sale_id = paid_vipps_sale(&rig, &tickets(1, 1)).await;
    until("printed", || has(&db, sale_id, "receipt.printed")).await;
    let total = k.sale(sale_id).unwrap().total;
    k.refund(sale_id, total, "feil billett").unwrap();
    until("refund receipt printed", || {
        journal(&db, Some(sale_id))
            .iter()
            .any(|e| e.kind == "receipt.return_printed" && e.data["receipt"] == "refund")
    })
    .await;
    // Journaled as a return receipt: SAF-T 13013, not a sales receipt (13012).
    let codes: Vec<u32> = journal(&db, Some(sale_id))
        .iter()
        .filter(|e| e.kind.starts_with("receipt."))
        .map(|e| luka::domain::journal::saft_code(&e.kind, &e.data).predefined)
        .collect();
    assert_eq!(codes, [13012, 13013]);
    let receipts = paper(&printer);
    assert_eq!(receipts.len(), 2);
    let refund = &receipts[1];
    assert!(shows(refund, "Returkvittering"), "{refund:#?}");
    assert!(!shows(refund, "Salgskvittering"));
    assert_eq!(receipt_no(refund), Some(2));
    assert!(
        refund
            .iter()
            .any(|l| l.starts_with("Gjelder kvittering nr") && l.ends_with(" 1"))
    );
    assert!(shows(refund, &format!("-{}", total.format_plain())));
    let refunded = journal(&db, Some(sale_id))
        .into_iter()
        .find(|e| e.kind == "sale.refunded")
        .unwrap();
    assert_eq!(refunded.data["receipt_no"], 2);
    rig.stop().await;
}

/// Skips a held receipt as an organizer would. If the till is trying the
/// printer at that very moment the till says so ("skrives ut akkurat nå")
/// and the organizer taps again; on a loaded machine that moment is longer.
async fn skip_when_not_printing(k: &Kiosk, sale_id: i64) {
    for _ in 0..400 {
        match k.skip_receipt(sale_id) {
            Err(KioskError::Receipt(ReceiptError::PrintingNow(_))) => {
                tokio::time::sleep(Duration::from_millis(25)).await
            }
            other => return other.unwrap(),
        }
    }
    panic!("the receipt of sale {sale_id} never left the printer's hands");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplugged_printer_never_blocks_or_loses_a_sale() {
    // A port nobody listens on: connection refused, like a printer switched off.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = dead.local_addr().unwrap().to_string();
    drop(dead);
    let rig = rig_with(
        SimConfig::training(),
        settings(Some(Connection::Network { address }), true),
    )
    .await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    let mut sales = Vec::new();
    for _ in 0..3 {
        sales.push(paid_vipps_sale(&rig, &tickets(1, 0)).await);
    }
    let (cash, _) = k.cash_sale(&tickets(2, 0), Money::nok(40_000), "").unwrap();
    sales.push(cash.id);
    until("four receipts held", || k.printer_status().held == 4).await;
    assert!(
        k.printer_status()
            .state
            .message()
            .contains("Får ikke kontakt med skriveren")
    );
    for id in &sales {
        assert_eq!(k.sale(*id).unwrap().status, SaleStatus::Paid);
    }
    // The refund of a sale whose receipt is held goes through all the same.
    let first = sales[0];
    let total = k.sale(first).unwrap().total;
    k.refund(first, total, "angret").unwrap();
    until("refunded", || has(&db, first, "sale.refunded")).await;
    assert_eq!(
        sim_view(&rig.sim, &k.sale(first).unwrap().reference).refunded,
        total.minor()
    );
    // The organizer gives up on one: journalled, no longer counted.
    skip_when_not_printing(&k, sales[1]).await;
    let skipped = journal(&db, Some(sales[1]))
        .into_iter()
        .find(|e| e.kind == "receipt.not_printed")
        .unwrap();
    assert_eq!(skipped.data["reason"], "skipped by the organizer");
    assert!(
        skipped.data["printer_error"]
            .as_str()
            .is_some_and(|e| e.contains("skriveren")),
        "{skipped:?}"
    );
    until("one fewer held", || k.printer_status().held == 4).await; // + the refund receipt
    assert!(
        k.skip_receipt(sales[1]).is_ok(),
        "skipping twice is harmless"
    );
    // After a skip the customer may still get the one copy, once the printer works.
    k.print_copy(sales[1]).unwrap();
    assert!(k.wait_settled(Duration::from_secs(10)).await.unwrap());
    assert!(
        !has(&db, cash.id, "drawer.opened"),
        "an unplugged printer opens nothing"
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_printer_each_sale_is_journalled_as_concluded_without_a_receipt() {
    let rig = rig_with(SimConfig::training(), settings(None, false)).await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    assert_eq!(k.printer_status().state, PrinterState::NotConfigured);
    let (sale, _) = k.cash_sale(&tickets(1, 0), Money::nok(15_000), "").unwrap();
    until("journalled", || has(&db, sale.id, "receipt.not_printed")).await;
    let e = journal(&db, Some(sale.id)).pop().unwrap();
    assert_eq!(
        (e.data["reason"].as_str(), e.data["receipt_no"].as_i64()),
        (Some("no printer configured"), Some(1))
    );
    assert!(matches!(
        k.print_copy(sale.id),
        Err(KioskError::Receipt(ReceiptError::NoPrinter))
    ));
    assert!(k.print_report(samples::x_report()).is_err());
    assert_eq!(k.printer_status().held, 0);
    rig.shut().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_print_on_the_same_printer_and_held_receipts_survive_a_restart() {
    let printer = PrinterSim::start().unwrap();
    printer.set_paper_out(true);
    let rig = rig_with(SimConfig::training(), settings(network(&printer), false)).await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    let (sale, _) = k.cash_sale(&tickets(1, 0), Money::nok(15_000), "").unwrap();
    until("held", || k.printer_status().state.is_held()).await;
    k.print_report(samples::x_report()).unwrap();
    until("both held", || k.printer_status().held == 2).await;
    // The till stops with both waiting, and starts again with paper loaded.
    let mut rig = rig;
    rig.running.take().unwrap().shutdown().await;
    let (store, base_url) = (rig.store.clone(), rig.sim.base_url());
    printer.load_paper();
    let (k, again) = luka::app::start_vipps_kiosk(
        store,
        &base_url,
        luka::app::training_credentials(&SimConfig::training()),
        Duration::from_secs(5),
        settings(network(&printer), false),
    )
    .unwrap();
    assert!(k.printer_status().state.message().contains("papir"));
    assert_eq!(k.printer_status().held, 2);
    k.retry_print().unwrap();
    until("both printed", || k.printer_status().held == 0).await;
    let receipts = paper(&printer);
    assert_eq!(receipts.len(), 2, "{receipts:#?}");
    let titles: Vec<bool> = receipts.iter().map(|r| shows(r, "X-rapport")).collect();
    assert_eq!(titles.iter().filter(|t| **t).count(), 1);
    assert!(receipts.iter().any(|r| shows(r, "Salgskvittering")));
    assert!(has(&db, sale.id, "receipt.printed"));
    let report = journal(&db, None)
        .into_iter()
        .find(|e| e.kind == "report.printed" && e.data["title"] == "X-rapport")
        .expect("the printed X report is journaled");
    // A report on paper: "other reports or receipts" (13018), not 13999.
    assert_eq!(
        luka::domain::journal::saft_code(&report.kind, &report.data).predefined,
        13018
    );
    again.shutdown().await;
    rig.shut().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_the_one_copy_once_and_draws_a_preview() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("luka-training.db");
    let bytes = dir.path().join("printer.bin");
    let store = std::sync::Arc::new(luka::store::Store::open(&db).unwrap());
    let db_path = db;
    let db = store.clone();
    let mut s = settings(
        Some(Connection::File {
            path: bytes.clone(),
        }),
        false,
    );
    s.training = true;
    let (k, running) = luka::app::start_vipps_kiosk(
        store,
        "http://127.0.0.1:9",
        luka::app::training_credentials(&SimConfig::training()),
        Duration::from_secs(1),
        s,
    )
    .unwrap();
    let (sale, _) = k.cash_sale(&tickets(1, 0), Money::nok(15_000), "").unwrap();
    until("printed", || has(&db, sale.id, "receipt.printed")).await;
    // The till stops before the CLI prints: one process runs a database's outbox.
    running.shutdown().await;
    // The store holds the outbox claim: dropping its last handle releases it.
    drop((k, db));
    let config = dir.path().join("luka.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n[printer]\ndriver = \"file\"\npath = \"{}\"\nwidth_mm = 58\n",
            db_path.display(),
            bytes.display()
        ),
    )
    .unwrap();
    let luka = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_luka"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap()
    };
    let original = luka(&["receipt", "--last"]);
    assert_eq!(
        original.status.code(),
        Some(2),
        "already printed: use --copy"
    );
    assert!(String::from_utf8_lossy(&original.stderr).contains("--copy"));
    let copy = luka(&["receipt", "--last", "--copy"]);
    assert!(copy.status.success(), "{copy:?}");
    let line: serde_json::Value = serde_json::from_slice(&copy.stdout).unwrap();
    assert_eq!(
        (line["printed"].as_bool(), line["receipt_no"].as_i64()),
        (Some(true), Some(1))
    );
    let again = luka(&["receipt", "--last", "--copy"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("one copy per sale"));
    let decoded = escpos_decode::decode(&std::fs::read(&bytes).unwrap());
    assert_eq!(decoded.iter().filter(|l| l.as_str() == "[CUT]").count(), 2);
    assert_eq!(
        decoded.iter().filter(|l| l.ends_with("[2x]KOPI")).count(),
        2
    );
    let png = dir.path().join("r.png");
    let preview = luka(&["receipt", "--preview", "1", "--out", png.to_str().unwrap()]);
    assert!(preview.status.success(), "{preview:?}");
    let img = image::open(&png).unwrap();
    assert_eq!(
        img.width(),
        384 + 32,
        "58 mm: 384 dots and the paper margins"
    );
    let missing = luka(&["receipt", "--preview", "77", "--out", png.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("receipt number 77"));
}

/// Kassasystemforskriften § 2-8-6: at most one copy, marked KOPI. A PNG of a
/// real sale's receipt (`luka receipt --preview`) can be handed over like
/// paper, so it is that one copy: drawn with KOPI, journaled as the copy
/// (SAF-T 13014, counted on the X report), and refused once the copy was
/// given, drawn or printed, whichever came first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_of_a_real_sale_is_its_one_copy() {
    use luka::cli::receipt::preview_to;
    use luka::kiosk::receipt_input::sale_receipt;
    let printer = PrinterSim::start().unwrap();
    let s = settings(network(&printer), false);
    let receipts = s.receipts.clone();
    let rig = rig_with(SimConfig::training(), s).await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("copy.png");
    let now = time::OffsetDateTime::now_utc();
    let copies = |db: &Store, sale_id: i64| {
        journal(db, Some(sale_id))
            .into_iter()
            .filter(|e| e.kind == "receipt.copy_printed")
            .collect::<Vec<_>>()
    };

    // Drawn first: the picture is the copy, and the printed copy is refused.
    let first = paid_vipps_sale(&rig, &tickets(1, 0)).await;
    assert!(!rig.kiosk.sale(first).unwrap().training);
    until("printed", || has(&db, first, "receipt.printed")).await;
    let no = k.sale(first).unwrap().receipt_no.unwrap();
    let drawn = preview_to(&db, &receipts, &no.to_string(), &png, now).unwrap();
    assert_eq!((drawn.receipt_no, drawn.copy), (no, true));
    let render = |copy: bool| {
        let input = db
            .read(|r| sale_receipt(r, first, copy, &receipts))
            .unwrap();
        luka::printer::preview::render_png(&luka::printer::layout(&input, &receipts.layout))
            .unwrap()
    };
    let picture = std::fs::read(&png).unwrap();
    assert_eq!(picture, render(true), "the picture is the KOPI receipt");
    assert_ne!(picture, render(false), "never a second original");
    let journaled = copies(&db, first);
    assert_eq!(journaled.len(), 1);
    assert_eq!(journaled[0].data["receipt_no"], no);
    assert_eq!(
        luka::domain::journal::saft_code(&journaled[0].kind, &journaled[0].data).predefined,
        13014
    );
    std::fs::remove_file(&png).unwrap();
    let again = preview_to(&db, &receipts, &no.to_string(), &png, now).unwrap_err();
    assert!(again.to_string().contains("one copy per sale"), "{again}");
    assert!(!png.exists(), "a refused copy is not drawn");
    let printed = k.print_copy(first).unwrap_err();
    assert!(
        matches!(
            printed,
            KioskError::Receipt(ReceiptError::CopyAlreadyPrinted(n)) if n == no
        ),
        "{printed}"
    );
    assert_eq!(copies(&db, first).len(), 1);

    // Printed first: the picture is refused.
    let second = paid_vipps_sale(&rig, &tickets(1, 0)).await;
    until("printed", || has(&db, second, "receipt.printed")).await;
    k.print_copy(second).unwrap();
    until("copy printed", || copies(&db, second).len() == 1).await;
    let no2 = k.sale(second).unwrap().receipt_no.unwrap();
    let e = preview_to(&db, &receipts, &no2.to_string(), &png, now).unwrap_err();
    assert!(e.to_string().contains("one copy per sale"), "{e}");
    assert!(!png.exists());
    assert_eq!(copies(&db, second).len(), 1);

    // Both copies are counted where copies are counted.
    let x = luka::reports::x_report(&db, "test-till", now).unwrap();
    assert_eq!(x.copies.count, 2);
    rig.shut().await;
}

/// Decoded printer output including what follows the last cut (a drawer
/// kick alone prints no paper and cuts nothing).
fn all_output(sim: &PrinterSim) -> Vec<String> {
    escpos_decode::decode(&sim.printed())
}

/// Kassasystemforskriften § 2-8-2 p and § 2-8-4: a cash sale is refunded
/// from the drawer, fully or in part, with a reason: at once (nothing to
/// wait for), with a Returkvittering of its own number that refers to the
/// sale, a signed SAF-T return transaction, the drawer opening journaled,
/// and the X report counting the return and the cash that left the drawer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cash_return_pays_out_of_the_drawer_with_its_own_returkvittering() {
    let printer = PrinterSim::start().unwrap();
    let rig = rig_with(SimConfig::training(), settings(network(&printer), true)).await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    let mut events = k.subscribe();
    let cart = kiosk_order();
    let total = cart.totals().unwrap().gross;
    let (sale, _) = k.cash_sale(&cart, total, "").unwrap();
    until("printed", || has(&db, sale.id, "drawer.opened")).await;

    let no_reason = k.refund(sale.id, Money::nok(1_000), "  ").unwrap_err();
    assert!(no_reason.to_string().contains("reason"), "{no_reason}");
    let part = Money::nok(5_000);
    let refund_id = k.refund(sale.id, part, "Feil vare").unwrap();
    // Done on return: the money left the drawer with the return receipt.
    let refunds = db.read(|r| r.refunds(sale.id)).unwrap();
    assert_eq!(
        (refunds[0].id, refunds[0].status.as_str()),
        (refund_id, "done")
    );
    let event = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(KioskEvent::Refunded { method, amount, .. }) = events.recv().await {
                return (method, amount);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(event, (luka::domain::PaymentMethod::Cash, part));
    until("return receipt printed", || {
        has(&db, sale.id, "receipt.return_printed")
    })
    .await;

    let receipts = paper(&printer);
    assert_eq!(receipts.len(), 2, "{receipts:#?}");
    let ret = &receipts[1];
    assert!(
        shows(ret, "[DRAWER]"),
        "the money comes out of the drawer: {ret:#?}"
    );
    assert!(shows(ret, "Returkvittering") && !shows(ret, "Salgskvittering"));
    assert_eq!(receipt_no(ret), Some(2));
    assert!(
        ret.iter()
            .any(|l| l.starts_with("Gjelder kvittering nr") && l.ends_with(" 1"))
    );
    assert!(shows(ret, "Utbetalt kontant") && shows(ret, &part.format_plain()));
    assert!(!shows(ret, "Vipps"), "{ret:#?}");

    let entries = journal(&db, Some(sale.id));
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "sale.paid",
            "receipt.printed",
            "drawer.opened",
            "refund.requested",
            "sale.refunded",
            "receipt.return_printed",
            "drawer.opened"
        ]
    );
    let refunded = &entries[4];
    assert_eq!(refunded.data["receipt_no"], 2);
    assert_eq!(refunded.data["amount"], part.minor());
    let drawer = &entries[6];
    assert_eq!(drawer.data["reason"], "cash return");
    assert_eq!(drawer.data["refund_id"], refund_id);
    // The return is a signed cash transaction of its own, and the chain holds.
    let verified = db.verify_journal().unwrap();
    assert!(verified.ok(), "{:?}", verified.problem);
    assert_eq!(verified.signed, 2, "the sale and its return are signed");

    // The rest, then nothing more.
    let rest = total.checked_sub(part).unwrap();
    let too_much = k
        .refund(sale.id, rest.checked_add(Money::nok(1)).unwrap(), "x")
        .unwrap_err();
    assert!(too_much.to_string().contains("only"), "{too_much}");
    k.refund(sale.id, rest, "Kunden angret").unwrap();
    until("second return printed", || paper(&printer).len() == 3).await;
    let none_left = k.refund(sale.id, Money::nok(100), "x").unwrap_err();
    assert!(none_left.to_string().contains("only"), "{none_left}");

    let x = k.x_report().unwrap().report;
    assert_eq!((x.sales.count, x.sales.amount), (1, total));
    assert_eq!((x.returns.count, x.returns.amount), (2, total));
    assert_eq!(x.net.minor(), 0);
    assert_eq!(x.cash.cash_in.minor(), 0, "all of it went back out");
    assert_eq!(x.drawer_openings_without_sale, 0, "these had a sale");
    let cash = x.per_payment.iter().find(|r| r.key == "cash").unwrap();
    assert_eq!(cash.amount.minor(), 0);
    rig.shut().await;
}

/// § 2-8-2 m: the organizer opens the drawer without a sale, with a reason,
/// and the X report counts it. A printer that cannot open it refuses (and
/// nothing is journaled); a till without a drawer says how to set one up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organizer_opens_the_drawer_without_a_sale() {
    let printer = PrinterSim::start().unwrap();
    let rig = rig_with(SimConfig::training(), settings(network(&printer), true)).await;
    let k = rig.kiosk.clone();
    let db = rig.store.clone();
    let no_reason = k.open_drawer(" ").await.unwrap_err();
    assert!(no_reason.to_string().contains("reason"), "{no_reason}");
    let device = k.open_drawer("Veksel til kassen").await.unwrap();
    assert_eq!(device, luka::kiosk::DrawerDevice::Printer);
    let out = all_output(&printer);
    assert_eq!(
        out.iter().filter(|l| l.contains("[DRAWER]")).count(),
        1,
        "{out:#?}"
    );
    assert!(
        !out.iter().any(|l| l == "[CUT]"),
        "no paper for a drawer: {out:#?}"
    );
    let opened: Vec<JournalEntry> = journal(&db, None)
        .into_iter()
        .filter(|e| e.kind == "drawer.opened")
        .collect();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].sale_id, None);
    assert_eq!(opened[0].data["reason"], "Veksel til kassen");
    assert_eq!(opened[0].data["device"], "printer");
    assert!(
        opened[0].data.get("operator").is_some(),
        "{:?}",
        opened[0].data
    );

    // The cover is open: the drawer does not open, and nothing says it did.
    printer.set_cover_open(true);
    let held = k.open_drawer("Telling").await.unwrap_err();
    assert!(held.to_string().contains("did not open"), "{held}");
    printer.set_cover_open(false);
    let x = k.x_report().unwrap().report;
    assert_eq!(x.drawer_openings_without_sale, 1);
    rig.shut().await;

    let rig = rig_with(SimConfig::training(), settings(None, false)).await;
    let none = rig.kiosk.open_drawer("Veksel").await.unwrap_err();
    assert!(none.to_string().contains("drawer_kick"), "{none}");
    assert!(none.to_string().contains("drawer_relay"), "{none}");
    rig.shut().await;
}

/// The headless commands a treasurer or a test uses over SSH: a cash sale, a
/// partial and a full cash return, the drawer opened without a sale, each
/// one JSON line; then the X report counts them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sells_for_cash_refunds_and_opens_the_drawer() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = dir.path().join("printer.bin");
    let config = dir.path().join("luka.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n[printer]\ndriver = \"file\"\npath = \"{}\"\nwidth_mm = 58\ndrawer_kick = true\n\
             [[operators]]\nid = \"1001\"\nname = \"Kari\"\ncode_hash = \"{}\"\n",
            dir.path().join("luka-training.db").display(),
            bytes.display(),
            luka::pin::PinHash::create("1234").unwrap().as_str()
        ),
    )
    .unwrap();
    let luka = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_luka"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        let line = serde_json::from_slice::<serde_json::Value>(&out.stdout).ok();
        (
            out.status.code(),
            line,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, sale, err) = luka(&[
        "charge",
        "100",
        "--cash",
        "--tendered",
        "200",
        "--operator",
        "kari",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let sale = sale.unwrap();
    assert_eq!(
        (
            sale["state"].as_str(),
            sale["receipt_no"].as_i64(),
            sale["change"].as_i64()
        ),
        (Some("paid"), Some(1), Some(10_000))
    );
    let (code, part, err) = luka(&["refund", "1", "--amount", "40", "--reason", "Feil vare"]);
    assert_eq!(code, Some(0), "{err}");
    let part = part.unwrap();
    assert_eq!(
        (
            part["state"].as_str(),
            part["method"].as_str(),
            part["amount"].as_i64(),
            part["return_receipt_no"].as_i64()
        ),
        (Some("done"), Some("cash"), Some(4_000), Some(2))
    );
    let (code, rest, err) = luka(&["refund", "1", "--reason", "Kunden angret"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        rest.unwrap()["amount"].as_i64(),
        Some(6_000),
        "the rest by default"
    );
    let (code, _, err) = luka(&["refund", "1", "--reason", "x"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("refunded in full"), "{err}");
    let (code, _, err) = luka(&["refund", "2", "--reason", "x"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("receipt 2 is not a sale"), "{err}");
    let (code, opened, err) = luka(&["drawer", "open", "--reason", "Veksel"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(opened.unwrap()["device"].as_str(), Some("printer"));

    let decoded = escpos_decode::decode(&std::fs::read(&bytes).unwrap());
    assert_eq!(
        decoded.iter().filter(|l| l.contains("[DRAWER]")).count(),
        4,
        "the sale, two returns and the opening without a sale: {decoded:#?}"
    );
    assert_eq!(
        decoded
            .iter()
            // A training till: its returns are titled "Retur", never
            // "Returkvittering" (§ 2-8-2 w).
            .filter(|l| l.as_str() == "[C][B][2h]Retur")
            .count(),
        2
    );
    let (code, x, err) = luka(&["report", "x", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let x = x.unwrap();
    assert_eq!(x["returns"]["count"], 2, "{x:#}");
    assert_eq!(x["drawer_openings_without_sale"], 1, "{x:#}");
    // --operator: Kari made the sale (logged in and out for that command).
    let kari = x["per_operator_payment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "1001/cash")
        .unwrap_or_else(|| panic!("{x:#}"));
    assert_eq!(kari["count"], 1);
    let (code, _, err) = luka(&["drawer", "open", "--reason", "x", "--operator", "nobody"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("the operators are 1001"), "{err}");
    assert_eq!(
        x["net"]["minor"].as_i64().or(x["net"].as_i64()),
        Some(0),
        "{x:#}"
    );

    // § 2-3 (1): the electronic journal printed at the till, and as text.
    let today = luka::domain::local_time::local_date(time::OffsetDateTime::now_utc());
    let (code, printed, err) = luka(&["journal", "print", "--from", &today, "--to", &today]);
    assert_eq!(code, Some(0), "{err}");
    let printed = printed.unwrap();
    assert_eq!(printed["printed"], true, "{printed}");
    let entries = printed["entries"].as_i64().unwrap();
    assert!(entries > 10, "{printed}");
    let decoded = escpos_decode::decode(&std::fs::read(&bytes).unwrap());
    let from_journal = decoded
        .iter()
        .skip_while(|l| !l.ends_with("Elektronisk")) // the title, in large type, wraps
        .collect::<Vec<_>>();
    assert!(!from_journal.is_empty(), "{decoded:#?}");
    for kind in [
        "11001 sale.paid",
        "11006 sale.refunded",
        "13005 drawer.opened",
    ] {
        assert!(
            from_journal.iter().any(|l| l.contains(kind)),
            "{kind}: {from_journal:#?}"
        );
    }
    let text = dir.path().join("journal.txt");
    let (code, written, err) = luka(&[
        "journal",
        "print",
        "--from",
        &today,
        "--to",
        &today,
        "--out",
        text.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    // Since the paper print: it was journaled (13018), then the stop.
    assert_eq!(written.unwrap()["entries"].as_i64(), Some(entries + 2));
    let lines = std::fs::read_to_string(&text).unwrap();
    assert!(
        lines.contains("Elektronisk") && lines.contains("11001 sale.paid"),
        "{lines}"
    );
}
