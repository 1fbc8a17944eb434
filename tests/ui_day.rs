//! Issue 14's scripted day through the touchscreen of a production till:
//! the real Slint UI under Slint's testing backend, tapped by accessible
//! label; the real kiosk, SQLite file and file printer; Vipps (its test
//! environment) played by a simulator on 127.0.0.1 where the test is the
//! customer. Two volunteers take turns; cash and Vipps sales, corrections in
//! the cart, a refused payment, a cash and a partial Vipps return, the one
//! copy, the drawer opened without a sale, training switched on and off
//! behind the PIN with one training sale, X and Z. The Z's figures are
//! compared with figures computed by hand (below), the printer's bytes for
//! the drawer kicks, and the journal verifies.
//!
//! Its own process (Slint allows one platform per process, and the other UI
//! tests run the demo till). Rendered by the software renderer, so the
//! screens of training mode are photographed on the way
//! (`*-training-on-800x480.png`, see `ui_screenshots.rs` for where they go).

#[path = "ui_support/mod.rs"]
mod ui_support;

#[path = "it/support/escpos_decode.rs"]
mod escpos_decode;

use luka::domain::journal::JournalKind;
use luka::domain::report::{Report, Row};
use luka::ui::{OrganizerAdapter, Page, StatusAdapter};
use slint::{ComponentHandle, Model};
use ui_support::{T, Till};

fn main() {
    // The software renderer, so the training screens can be photographed.
    ui_support::software::SoftwarePlatform::install();
    ui_support::run_till(Till::Production, |t| async move { day(&t).await });
}

async fn organizer(t: &T) {
    t.tap("Arrangør");
    for d in ["1", "2", "3", "4", "OK"] {
        t.tap(d);
    }
    t.wait("the organizer screen", || t.page() == Page::Organizer)
        .await;
}

/// "Vakt", the name, the code: the volunteer at the till from now on.
async fn shift(t: &T, name: &str) {
    t.tap("Vakt");
    t.wait("the shift picker", || t.find(name).is_some()).await;
    t.tap(name);
    for d in ["2", "4", "6", "8", "OK"] {
        t.tap(d);
    }
    t.wait(name, || t.find_value("Vakt").as_deref() == Some(name))
        .await;
}

/// A Vipps sale of what is in the cart, which the customer approves or refuses.
async fn vipps(t: &T, approve: bool) {
    t.tap("Betal med Vipps");
    t.wait("the QR", || t.page() == Page::Pay && t.pay().get_qr_ready())
        .await;
    let reference = t.pay().get_reference().to_string();
    assert_eq!(
        t.pay().get_phone_url().to_string(),
        "",
        "a real sale shows no simulator page"
    );
    let sim = t.vipps.as_ref().unwrap();
    if approve {
        sim.approve(&reference).unwrap();
        t.wait("Betalt", || t.find("Betalt").is_some()).await;
    } else {
        sim.reject(&reference).unwrap();
        t.wait("Ikke betalt", || t.find("Ikke betalt").is_some())
            .await;
    }
    t.tap("Neste kunde");
}

async fn cash_exact(t: &T) {
    t.tap("Kontant");
    t.tap("Gitt akkurat");
    t.tap("Fullfør kontantsalg");
    t.wait("Betalt", || t.find("Betalt").is_some()).await;
    t.tap("Neste kunde");
}

/// A refund from the organizer's sales list, of `kroner` typed over the
/// full amount offered.
async fn refund(t: &T, receipt: u32, kroner: &str, said: &str) {
    t.tap("Salg");
    let button = format!("Refunder salg {receipt}");
    t.tap_eventually(&button).await;
    t.wait("the refund dialog", || {
        t.find("Beløp å refundere").is_some()
    })
    .await;
    while !t.value("Beløp å refundere").is_empty() {
        t.tap("Slett siffer");
    }
    for k in kroner.chars() {
        t.tap(&k.to_string());
    }
    t.tap("Bekreft refusjon");
    t.wait(said, || {
        t.find_value("Melding").is_some_and(|m| m.starts_with(said))
    })
    .await;
}

fn rows(r: &[Row]) -> Vec<(String, i64, i64)> {
    r.iter()
        .map(|r| (r.key.clone(), r.count, r.amount.minor()))
        .collect()
}

/// The day's figures, computed by hand from the taps below:
/// - Kari (cash): Voksen 150 + 3 × Kaffe 30, one Kaffe taken out again
///   (correction 30,00): 210,00, given 500, change 290.
/// - Ola (Vipps): a typed amount of 250,00, approved; then Brus 35,00,
///   refused by the customer (void), and the Brus left in the cart taken out
///   (correction 35,00).
/// - The organizer: 20,00 of sale 1 back in cash, 50,00 of sale 2 back
///   through Vipps; the one copy of receipt 2; the drawer opened without a
///   sale; training on, one training Kaffe sold for cash by Ola, training off.
///
/// So: 2 sales, 460,00; 2 returns, 70,00; net 390,00; cash 190,00 and Vipps
/// 200,00 (a sale and a return each); Kari 1 cash sale 210,00, Ola 1 Vipps
/// sale 250,00, the organizer's returns −20,00 cash and −50,00 Vipps; 1 void
/// of 35,00; 2 corrections, 65,00; 1 copy of 250,00; training 1 sale,
/// 30,00; 2 sales receipts and 2 return receipts; 1 drawer opening without
/// a sale; 190,00 expected in the drawer (no float), 190,00 counted.
fn check_day(r: &Report) {
    assert_eq!((r.sales.count, r.sales.amount.minor()), (2, 46_000));
    assert_eq!(
        (r.returns.count, r.returns.amount.minor().abs()),
        (2, 7_000)
    );
    assert_eq!(r.net.minor(), 39_000);
    assert_eq!(
        rows(&r.per_payment),
        [
            ("cash".to_string(), 2, 19_000),
            ("vipps".to_string(), 2, 20_000)
        ]
    );
    assert_eq!(
        rows(&r.per_operator_payment),
        [
            ("1001/cash".to_string(), 1, 21_000),
            ("1002/vipps".to_string(), 1, 25_000),
            ("organizer/cash".to_string(), 0, -2_000),
            ("organizer/vipps".to_string(), 0, -5_000)
        ]
    );
    assert_eq!((r.voids.count, r.voids.amount.minor()), (1, 3_500));
    assert_eq!(
        (r.corrections.count, r.corrections.amount.minor()),
        (2, 6_500)
    );
    assert_eq!((r.copies.count, r.copies.amount.minor()), (1, 25_000));
    assert_eq!((r.training.count, r.training.amount.minor()), (1, 3_000));
    assert_eq!((r.receipts_printed, r.return_receipts_printed), (2, 2));
    assert_eq!(r.drawer_openings_without_sale, 1);
    assert_eq!(r.cash.expected.minor(), 19_000);
}

async fn day(t: &T) {
    let step = |name: &str| eprintln!("ui day: {name}");
    t.ui.window
        .window()
        .set_size(slint::PhysicalSize::new(800, 480));
    t.snapshot();
    assert!(!t.ui.window.global::<StatusAdapter>().get_training());

    step("Kari sells a ticket and coffees for cash, one coffee taken out again");
    shift(t, "Kari").await;
    t.tap("Voksen");
    t.tap("Kaffe");
    t.tap("Flere Kaffe");
    t.tap("Flere Kaffe");
    t.tap("Færre Kaffe");
    assert_eq!(t.value("Totalbeløp"), "kr 210,00");
    t.tap("Kontant");
    t.tap("500");
    assert_eq!(t.value("Vekslepenger"), "kr 290,00");
    t.tap("Fullfør kontantsalg");
    t.wait("Betalt", || t.find("Betalt").is_some()).await;
    assert_eq!(t.value("Detaljer"), "Kvittering nr. 1");
    t.wait("the order number", || {
        t.find_value("Ordrenummer").as_deref() == Some("Ordre 1")
    })
    .await;
    t.tap("Neste kunde");

    step("Ola takes over: a Vipps sale approved, one refused");
    shift(t, "Ola").await;
    t.tap("Beløp");
    for k in ["2", "5", "0"] {
        t.tap(k);
    }
    t.tap("Legg til beløp");
    vipps(t, true).await;
    t.tap("Varer");
    t.tap("Brus");
    vipps(t, false).await;
    t.tap("Færre Brus");

    step("the organizer: a cash and a partial Vipps return, the copy, the drawer");
    organizer(t).await;
    refund(t, 1, "20", "Gi kunden kr 20,00 fra skuffen").await;
    refund(t, 2, "50", "Refundert: kr 50,00").await;
    t.tap("Salg");
    t.tap_eventually("Kopi av kvittering 2").await;
    t.wait("the copy", || {
        t.app
            .store
            .read(|r| r.last_journal_of(JournalKind::CopyPrinted))
            .unwrap()
            .is_some()
    })
    .await;
    t.tap("Rapporter");
    t.tap("Åpne skuff");
    t.tap("Veksel inn eller ut");
    t.wait("the drawer to open", || {
        t.find_value("Melding").as_deref() == Some("Skuffen er åpnet.")
    })
    .await;

    step("training on behind the PIN, one training sale, training off");
    t.tap("Slå på treningsmodus");
    t.wait("training on", || {
        t.ui.window.global::<StatusAdapter>().get_training()
    })
    .await;
    assert!(
        t.value("Melding").starts_with("Treningsmodus er på"),
        "{}",
        t.value("Melding")
    );
    t.shoot("organizer-training-on");
    t.tap("Lukk");
    assert!(
        t.find("TRENING").is_some(),
        "the banner says so on the sale page"
    );
    t.shoot("sale-training-on");
    t.tap("Kaffe");
    cash_exact(t).await;
    organizer(t).await;
    t.tap("Rapporter");
    t.tap("Slå av treningsmodus");
    t.wait("training off", || {
        !t.ui.window.global::<StatusAdapter>().get_training()
    })
    .await;
    assert!(t.value("Melding").starts_with("Treningsmodus er av"));

    step("X and Z");
    t.tap("X-rapport");
    t.wait("the X report", || {
        t.find_value("Rapport")
            .is_some_and(|r| r.starts_with("X-rapport"))
    })
    .await;
    let x = t.value("Rapport");
    assert!(x.contains("390,00"), "the net on screen:\n{x}");
    t.tap("Z-rapport (avslutt dagen)");
    t.wait("the count dialog", || t.find("Opptalt kontant").is_some())
        .await;
    for k in ["1", "9", "0"] {
        t.tap(k);
    }
    t.tap("Avslutt dagen");
    t.wait("the Z report", || {
        t.find_value("Rapport")
            .is_some_and(|r| r.starts_with("Z-rapport nr. 1"))
    })
    .await;
    let z: Report = serde_json::from_value(
        t.app
            .store
            .read(|r| r.last_journal_of(JournalKind::ReportZ))
            .unwrap()
            .unwrap()
            .data,
    )
    .unwrap();
    check_day(&z);
    assert_eq!(z.cash.counted.map(|m| m.minor()), Some(19_000));
    assert_eq!(z.cash.difference.map(|m| m.minor()), Some(0));
    let o = t.ui.window.global::<OrganizerAdapter>();
    assert!(!o.get_training());
    t.tap("Lukk");

    // The training sale never reached Vipps, and its receipt never opened
    // the drawer: the kicks are the cash sale's, its return's and the
    // opening without a sale.
    let training = t
        .app
        .store
        .read(|r| r.all_sales())
        .unwrap()
        .into_iter()
        .filter(|s| s.training)
        .collect::<Vec<_>>();
    assert_eq!(training.len(), 1);
    let vipps = t.vipps.as_ref().unwrap();
    assert_eq!(
        vipps.payments().len(),
        2,
        "the approved and the refused sale"
    );
    t.wait("the training receipt on paper", || {
        std::fs::read(&t.printer)
            .map(|b| String::from_utf8_lossy(&b).contains("Treningskvittering"))
            .unwrap_or(false)
    })
    .await;
    let paper = escpos_decode::decode(&std::fs::read(&t.printer).unwrap());
    let kicks = paper.iter().filter(|l| l.contains("[DRAWER]")).count();
    assert_eq!(kicks, 3, "the drawer opened three times: {paper:#?}");
    let verified = t.app.store.verify_journal().unwrap();
    assert!(verified.ok(), "{:?}", verified.problem);

    step("the next day's first sale paid on the club's card terminal");
    card(t).await;
    step("the organizer counts the sausages and marks the waffles sold out");
    stock(t).await;
}

/// "Varer": +10 on Pølse i brød (a count from nothing), Vaffel sold out;
/// the sale page's tiles follow, and a sold-out tile adds nothing.
async fn stock(t: &T) {
    organizer(t).await;
    t.tap("Varer og lager");
    t.tap_eventually("10 flere Pølse i brød").await;
    t.wait("the count", || {
        t.find_value("Vare Pølse i brød").as_deref() == Some("10 igjen")
    })
    .await;
    t.tap("Vaffel utsolgt");
    t.wait("sold out", || {
        t.find_value("Vare Vaffel").as_deref() == Some("Utsolgt")
    })
    .await;
    t.shoot("organizer-stock");
    t.tap("Lukk");
    t.wait("the tiles", || {
        t.find_value("Pølse i brød").as_deref() == Some("10 igjen")
            && t.find_value("Vaffel").as_deref() == Some("Utsolgt")
    })
    .await;
    t.tap("Vaffel");
    assert_eq!(
        t.sale().get_cart().row_count(),
        0,
        "a sold-out tile adds nothing"
    );
    t.shoot("sale-stock");
    t.tap("Pølse i brød");
    t.tap("Kontant");
    t.tap("Gitt akkurat");
    t.tap("Fullfør kontantsalg");
    t.wait("Betalt", || t.find("Betalt").is_some()).await;
    t.tap("Neste kunde");
    t.wait("one fewer", || {
        t.find_value("Pølse i brød").as_deref() == Some("9 igjen")
    })
    .await;

    // Two taps from the sale page, for the kioskansvarlig only: Ola is not
    // one, Kari is (`stock = true`).
    assert!(t.find("Utsolgt…").is_none(), "Ola may not mark");
    shift(t, "Kari").await;
    t.tap_eventually("Utsolgt…").await;
    t.shoot("sale-mark-sold-out");
    t.tap("Kaffe");
    t.wait("Kaffe sold out", || {
        t.find_value("Kaffe").as_deref() == Some("Utsolgt")
    })
    .await;
    let mark = t
        .app
        .store
        .read(|r| r.last_journal_of(JournalKind::StockChanged))
        .unwrap()
        .unwrap();
    assert_eq!(mark.data["product"], "kaffe", "{}", mark.data);
    assert_eq!(mark.data["sold_out"], true);
    assert_eq!(mark.data["operator"], "1001", "journaled with Kari");
    // A grey tile answers while marking: the waffles are back on sale.
    t.tap("Utsolgt…");
    t.tap("Vaffel");
    t.wait("Vaffel on sale", || {
        t.find_value("Vaffel").as_deref() != Some("Utsolgt")
    })
    .await;
    t.tap("Vaffel");
    assert_eq!(t.sale().get_cart().row_count(), 1, "one tap sells again");
    t.tap("Tøm");
}

/// "Kort": the amount is taken on the terminal, the slip's reference typed,
/// "Betalt på terminalen"; recorded with the reference, no drawer opened.
async fn card(t: &T) {
    let kicks_before = escpos_decode::decode(&std::fs::read(&t.printer).unwrap())
        .iter()
        .filter(|l| l.contains("[DRAWER]"))
        .count();
    t.tap("Vaffel");
    t.tap("Kort");
    assert_eq!(t.page(), Page::Card);
    assert_eq!(t.value("Å betale"), "kr 25,00");
    for d in ["4", "7", "1", "1"] {
        t.tap(d);
    }
    assert_eq!(t.value("Terminalreferanse"), "4711");
    for (w, h) in [(800, 480), (1280, 800)] {
        t.ui.window
            .window()
            .set_size(slint::PhysicalSize::new(w, h));
        t.snapshot();
        t.shoot_at("card", w, h);
    }
    t.tap("Betalt på terminalen");
    t.wait("Betalt", || t.find("Betalt").is_some()).await;
    t.tap("Neste kunde");
    let sale = t.app.store.read(|r| r.last_paid_sale()).unwrap().unwrap();
    assert_eq!(
        (
            sale.method,
            sale.terminal_ref.as_deref(),
            sale.total.minor()
        ),
        (luka::domain::PaymentMethod::Card, Some("4711"), 2_500)
    );
    t.wait("its receipt", || {
        escpos_decode::decode(&std::fs::read(&t.printer).unwrap())
            .iter()
            .any(|l| l.starts_with("Terminalref.") && l.ends_with("4711"))
    })
    .await;
    let kicks = escpos_decode::decode(&std::fs::read(&t.printer).unwrap())
        .iter()
        .filter(|l| l.contains("[DRAWER]"))
        .count();
    assert_eq!(kicks, kicks_before, "a card sale never opens the drawer");
    t.ui.window
        .window()
        .set_size(slint::PhysicalSize::new(800, 480));
}
