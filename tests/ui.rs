//! The real Slint UI under Slint's testing backend, driven by accessible
//! labels as a volunteer would tap it, against the real kiosk service,
//! SQLite file and in-process Vipps simulator: a complete sale, a cancel, a
//! cash sale, a refund from the organizer screen, a cash return and "Åpne
//! skuff", English, a day longer than
//! the sales list, the PIN lockout, and a USB scanner's keystrokes (only the
//! scan page hears them; a scanned personal QR sends the sale to the app). Screens and the QR on them are checked in `ui_screenshots.rs`.
//!
//! One process, one event loop (Slint allows one platform per process), so
//! this test has its own `main` and runs the scenarios in order.

#[path = "ui_support/mod.rs"]
mod ui_support;

use luka::ui::{CustomerAdapter, OrganizerAdapter, Page, PinAdapter};
use slint::{ComponentHandle, Model};
use std::time::Duration;
use ui_support::T;

fn main() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    ui_support::run(|t| async move { scenarios(&t).await });
}

async fn scenarios(t: &T) {
    let run = |name: &str| eprintln!("ui: {name}");
    run("a complete Vipps sale, approved on the simulated phone");
    complete_sale(t).await;
    run("a cancelled sale releases the reservation");
    cancel(t).await;
    run("a volunteer logs in for a shift with their code");
    shift(t).await;
    run("a cash sale with change");
    cash_sale(t).await;
    run("a partial refund from the organizer screen");
    refund(t).await;
    run("a cash return from the drawer, and the drawer opened without a sale");
    cash_return_and_drawer(t).await;
    run("X and Z reports from the organizer screen");
    reports(t).await;
    run("English is selectable");
    english(t).await;
    run("a day with more sales than the list shows keeps every figure");
    long_day(t).await;
    run("the organizer pairs the till with the club's hub from the screen");
    pair_with_hub(t).await;
    run("wrong PINs lock the organizer screen");
    lockout(t).await;
    run("a scanner's keys reach only the scan page, which sends the sale to the app");
    scanner(t).await;
    run("a new price list: the sale page says since when its prices hold");
    prices_since(t).await;
}

/// A real hub (its own PostgreSQL cluster, in a thread with its own
/// runtime) with the till's products and one more, and a code for this
/// till, as the treasurer's "Legg til kasse" gives it. Stop it with the sender; the thread answers
/// with how many of the till's journal entries the hub holds.
struct HubThread {
    url: String,
    code: String,
    stop: tokio::sync::oneshot::Sender<()>,
    done: std::thread::JoinHandle<(usize, bool)>,
}

fn start_hub(till: &str, products: Vec<(String, luka::hub::catalogue::ProductInput)>) -> HubThread {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let till = till.to_string();
    let done = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let pg = luka::hub::cluster::PgCluster::temporary().unwrap_or_else(|e| panic!("{e}"));
            let hub = luka::hub::Hub::connect(&pg.url()).await.unwrap();
            let waffle = luka::hub::catalogue::ProductInput {
                name: "Hubvaffel".into(),
                group: "Kiosk".into(),
                price: "45".into(),
                vat_code: "31".into(),
                position: "1".into(),
            };
            hub.add_product("hubvaffel", &waffle).await.unwrap();
            for (id, p) in &products {
                hub.add_product(id, p).await.unwrap();
            }
            let code = hub.add_till(&till).await.unwrap();
            let serving = luka::hub::web::serve(hub.clone(), ([127, 0, 0, 1], 0).into(), false)
                .await
                .unwrap();
            tx.send((serving.url(), code)).unwrap();
            let _ = stopped.await;
            // The till paired from its screen listens for Vipps events too.
            let asked = std::time::Instant::now();
            while !hub.event_stream_open(&till) && asked.elapsed() < Duration::from_secs(20) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let listening = hub.event_stream_open(&till);
            serving.shutdown().await;
            (hub.journal_of(&till).await.unwrap().len(), listening)
        })
    });
    let (url, code) = rx.recv().unwrap();
    HubThread {
        url,
        code,
        stop,
        done,
    }
}

/// Arrangør → Rapporter → "Klubbens hub": the address typed on the
/// on-screen keyboard, a wrong code refused in words, the right code typed
/// on a USB keyboard; then, with no restart, the whole journal reaches the
/// hub and the hub's product comes down to the tiles.
async fn pair_with_hub(t: &T) {
    let products = t
        .app
        .kiosk
        .catalog()
        .products()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let input = luka::hub::catalogue::ProductInput {
                name: p.name.clone(),
                group: p.group.clone(),
                price: p.price.format_plain(),
                vat_code: p.vat.code().to_string(),
                position: (i + 2).to_string(),
            };
            (p.id.to_string(), input)
        })
        .collect();
    let hub = start_hub(&t.app.config.till_id, products);
    enter_organizer(t, "1234").await;
    t.wait("the organizer screen", || t.page() == Page::Organizer)
        .await;
    t.tap("Rapporter");
    t.tap("Klubbens hub");
    t.wait("the hub dialog", || t.find("Adresse").is_some())
        .await;
    assert_eq!(t.value("Adresse"), "https://");
    t.tap("Tøm felt");
    for ch in hub.url.chars() {
        t.tap(&ch.to_string());
    }
    assert_eq!(t.value("Adresse"), hub.url);
    t.tap("Kode");
    for ch in "wrong-code".chars() {
        t.tap(&ch.to_string());
    }
    assert_eq!(t.value("Kode"), "WRONG-CODE", "codes read in capitals");
    t.tap("Koble til");
    t.wait("the refusal", || {
        t.find_value("Melding")
            .is_some_and(|m| m.starts_with("Huben godtok ikke koden"))
    })
    .await;
    assert!(t.app.kiosk.hub_link().unwrap().is_none(), "not paired");
    // The right code from a USB keyboard, then Enter.
    t.tap("Tøm felt");
    scanner_types(t, &format!("{}\n", hub.code.to_lowercase()));
    t.wait("paired", || {
        t.find_value("Hub")
            .is_some_and(|h| h.starts_with(&hub.url) && h.contains(&t.app.config.till_id))
    })
    .await;
    let link = t.app.kiosk.hub_link().unwrap().expect("paired");
    assert_eq!(link.url, hub.url);
    t.tap("Lukk");
    t.tap("Lukk");
    t.wait("the sale page", || t.page() == Page::Sale).await;
    // No restart: the hub lane delivers everything, and the catalogue
    // refresher, woken by the pairing, brings the hub's product.
    t.wait(
        "the journal at the hub and the hub's product on a tile",
        || {
            let lane = t
                .app
                .store
                .read(|r| r.sync_lane(luka::store::HUB_LANE))
                .unwrap();
            lane.pending == 0 && lane.done > 0 && t.find("Hubvaffel").is_some()
        },
    )
    .await;
    let (entries, _) = t.app.store.read(|r| r.journal_head()).unwrap();
    hub.stop.send(()).unwrap();
    let (at_hub, listening) = hub.done.join().unwrap();
    assert!(listening, "the till never opened the hub's event stream");
    assert_eq!(
        at_hub as i64, entries,
        "the hub holds every one of the till's journal entries"
    );
}

/// A new catalogue applied between sales (as one from the club's hub is):
/// the tile shows the new price, and the cart says "Priser per hh:mm".
async fn prices_since(t: &T) {
    let kiosk = t.app.kiosk.clone();
    let before = kiosk.catalog();
    let mut products = before.products().to_vec();
    let kaffe = products.iter_mut().find(|p| p.id == "kaffe").unwrap();
    kaffe.price = luka::domain::Money::nok(kaffe.price.minor() + 500);
    let new_price = kaffe.price.format_plain();
    let changed = kiosk
        .apply_catalog(&luka::domain::Catalog::new(products).unwrap())
        .unwrap();
    assert_eq!(changed, 1, "one price change journaled");
    t.wait("the note and the new price", || {
        let a = t.sale();
        let note = a.get_prices_note().to_string();
        let tile = (0..a.get_products().row_count())
            .filter_map(|i| a.get_products().row_data(i))
            .find(|p| p.id == "kaffe")
            .map(|p| p.price.to_string());
        note.starts_with("Priser per ")
            && note.len() == "Priser per 14:05".len()
            && tile.as_deref() == Some(new_price.as_str())
    })
    .await;
    // Back as it was, for whatever runs after.
    kiosk.apply_catalog(&before).unwrap();
}

async fn complete_sale(t: &T) {
    t.tap("Voksen");
    t.tap("Voksen");
    t.tap("Vaffel");
    assert_eq!(
        t.sale().get_cart().row_count(),
        2,
        "two lines: Voksen ×2, Vaffel"
    );
    t.tap("Beløp");
    for k in ["1", "4", "9", ",", "5", "0"] {
        t.tap(k);
    }
    assert_eq!(t.value("Tastet beløp"), "149,50");
    t.tap("Legg til beløp");
    assert_eq!(t.value("Totalbeløp"), "kr 474,50", "2×150 + 25 + 149,50");
    t.tap("Betal med Vipps");
    t.wait("the QR", || t.page() == Page::Pay && t.pay().get_qr_ready())
        .await;
    assert_eq!(t.page(), Page::Pay);
    assert_eq!(t.value("Å betale"), "kr 474,50");
    assert_eq!(t.value("Status"), "Venter på godkjenning…");
    let reference = t.pay().get_reference().to_string();
    let sim = t.app.sim.as_ref().unwrap();
    assert_eq!(
        t.pay().get_phone_url().to_string(),
        sim.phone_url(&reference).unwrap(),
        "training shows the phone page to open"
    );
    sim.approve(&reference).unwrap();
    t.wait("Betalt", || t.find("Betalt").is_some()).await;
    assert_eq!(t.value("Detaljer"), "Kvittering nr. 1");
    let p = sim.payment(&reference).unwrap();
    assert_eq!(
        p.aggregate.captured_amount.value, 47_450,
        "captured once, in full"
    );
    t.tap("Neste kunde");
    assert_eq!(t.page(), Page::Sale);
    assert_eq!(
        t.sale().get_cart().row_count(),
        0,
        "a paid sale empties the cart"
    );
}

async fn cancel(t: &T) {
    t.tap("Varer");
    t.tap("Barn");
    t.tap("Betal med Vipps");
    t.wait("the QR", || t.page() == Page::Pay && t.pay().get_qr_ready())
        .await;
    let reference = t.pay().get_reference().to_string();
    t.tap("Avbryt");
    t.wait("Ikke betalt", || t.find("Ikke betalt").is_some())
        .await;
    assert_eq!(
        t.value("Detaljer"),
        "Salget ble avbrutt. Ingen penger er trukket."
    );
    let sim = t.app.sim.as_ref().unwrap();
    let p = sim.payment(&reference).unwrap();
    assert_eq!(p.aggregate.captured_amount.value, 0);
    assert_eq!(
        p.aggregate.authorized_amount.value, 0,
        "nothing stays reserved"
    );
    t.tap("Neste kunde");
    assert_eq!(
        t.sale().get_cart().row_count(),
        1,
        "the cart survives a cancelled sale"
    );
    t.tap("Færre Barn");
    assert_eq!(t.sale().get_cart().row_count(), 0);
}

/// What a USB 2D scanner in keyboard mode does: a key press and release
/// per character (Shift before capitals), then Enter.
fn scanner_types(t: &T, text: &str) {
    use slint::platform::{Key, WindowEvent};
    let w = t.ui.window.window();
    for ch in text.chars() {
        if ch.is_ascii_uppercase() {
            w.dispatch_event(WindowEvent::KeyPressed {
                text: Key::Shift.into(),
            });
        }
        let text: slint::SharedString = ch.to_string().into();
        w.dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
        w.dispatch_event(WindowEvent::KeyReleased { text });
        if ch.is_ascii_uppercase() {
            w.dispatch_event(WindowEvent::KeyReleased {
                text: Key::Shift.into(),
            });
        }
    }
}

async fn scanner(t: &T) {
    const QR: &str = "https://qr.vipps.no/28/2/01/031/4791234567?v=1";
    let sim = t.app.sim.as_ref().unwrap();
    let payments = sim.payments().len();
    // On the sale page, with the amount keypad showing: a scan goes nowhere.
    t.tap("Beløp");
    scanner_types(t, &format!("{QR}\n"));
    scanner_types(t, "149,50\n");
    assert_eq!(t.page(), Page::Sale, "a scan elsewhere opens nothing");
    assert_eq!(t.value("Tastet beløp"), "", "no key reached the amount");
    assert_eq!(t.sale().get_cart().row_count(), 0);
    assert_eq!(sim.payments().len(), payments, "no sale started");

    t.tap("Varer");
    t.tap("Kaffe");
    t.tap("Kundens Vipps");
    assert_eq!(t.page(), Page::Customer);
    let c = t.ui.window.global::<CustomerAdapter>();
    assert_eq!(t.value("Å betale"), "kr 30,00");
    // A wrong scan (too short to be a code) is refused on the page.
    scanner_types(t, "Ab1\n");
    assert_eq!(t.page(), Page::Customer);
    assert!(
        c.get_message()
            .starts_with("Skanningen er ikke en Vipps-kode")
    );
    // A landline typed on the keypad: refused before anything is sent.
    t.tap("Telefonnummer");
    t.wait("the phone keypad", || t.find("Mobilnummer").is_some())
        .await;
    for k in ["2", "2", "3", "3", "4", "4", "5", "5"] {
        t.tap(k);
    }
    assert_eq!(t.value("Mobilnummer"), "22334455");
    t.tap("Send til telefonen");
    assert!(
        c.get_message().contains("norsk mobilnummer"),
        "{}",
        c.get_message()
    );
    // Keys typed on this page go to the scan, never into the number.
    scanner_types(t, "999");
    assert_eq!(t.value("Mobilnummer"), "22334455");
    assert_eq!(sim.payments().len(), payments, "nothing reached Vipps");

    // The real scan: the sale goes to the customer's app, no QR.
    t.tap("Skann kode");
    scanner_types(t, &format!("\n{QR}\n"));
    t.wait("sent to the app", || {
        t.page() == Page::Pay && t.pay().get_sent_to_customer()
    })
    .await;
    assert!(!t.pay().get_qr_ready());
    assert_eq!(t.value("Status"), "Venter på godkjenning…");
    let reference = t.pay().get_reference().to_string();
    let p = sim.payment(&reference).unwrap();
    assert_eq!(p.user_flow, luka::vipps::dto::UserFlow::PushMessage);
    // A second scan while the customer decides starts nothing.
    scanner_types(t, &format!("{QR}\n"));
    assert_eq!(sim.payments().len(), payments + 1);
    sim.approve(&reference).unwrap();
    t.wait("Betalt", || t.find("Betalt").is_some()).await;
    assert_eq!(
        sim.payment(&reference)
            .unwrap()
            .aggregate
            .captured_amount
            .value,
        3_000
    );
    t.tap("Neste kunde");
    assert_eq!(t.page(), Page::Sale);
    assert_eq!(t.sale().get_cart().row_count(), 0);
}

async fn cash_sale(t: &T) {
    t.tap("Kaffe");
    t.tap("Flere Kaffe");
    t.tap("Kontant");
    assert_eq!(t.page(), Page::Cash);
    t.tap("500");
    assert_eq!(t.value("Vekslepenger"), "kr 440,00", "500 − 2×30");
    t.tap("Fullfør kontantsalg");
    t.wait("Betalt", || t.find("Betalt").is_some()).await;
    assert_eq!(t.result().get_extra(), "Vekslepenger: kr 440,00");
    assert_eq!(
        t.value("Detaljer"),
        "Kvittering nr. 2",
        "receipt numbers run on"
    );
    t.tap("Neste kunde");
    let paid = t
        .app
        .store
        .read(|r| r.journal_entries(None))
        .unwrap()
        .into_iter()
        .rfind(|e| e.kind == "sale.paid")
        .unwrap();
    let mut operator = None;
    t.app
        .store
        .read(|r| {
            r.records_by_seq(
                paid.seq - 1,
                paid.seq,
                luka::store::RecordFilter::Transactions,
                |rec| {
                    operator = rec.trans.and_then(|tr| tr.operator);
                    Ok::<(), luka::store::StoreError>(())
                },
            )
        })
        .unwrap();
    assert_eq!(operator.as_deref(), Some("1001"), "Kari made the sale");
}

/// § 2-8-2 h: a volunteer taps "Vakt", their name and their code; a wrong
/// code is refused in words; the sales after carry them.
async fn shift(t: &T) {
    assert_eq!(t.value("Vakt"), "", "nobody at the till yet");
    t.tap("Vakt");
    t.wait("the shift picker", || t.find("Ola").is_some()).await;
    t.tap("Kari");
    for d in ["1", "1", "1", "1"] {
        t.tap(d);
    }
    t.tap("OK");
    t.wait("the wrong code refused", || {
        t.find_value("Melding om vakt")
            .is_some_and(|m| m.starts_with("Feil kode"))
    })
    .await;
    for d in ["2", "4", "6", "8"] {
        t.tap(d);
    }
    t.tap("OK");
    t.wait("Kari at the till", || {
        t.find_value("Vakt").as_deref() == Some("Kari")
    })
    .await;
}

async fn enter_organizer(t: &T, pin: &str) {
    t.tap("Arrangør");
    assert_eq!(t.page(), Page::Pin);
    for d in pin.chars() {
        t.tap(&d.to_string());
    }
    t.tap("OK");
}

async fn refund(t: &T) {
    enter_organizer(t, "1234").await;
    t.wait("the organizer screen", || t.page() == Page::Organizer)
        .await;
    t.wait("today's figures", || {
        t.find_value("Omsetning").as_deref() == Some("kr 534,50")
    })
    .await;
    t.tap("Salg");
    t.wait("the sales list", || t.find("Refunder salg 1").is_some())
        .await;
    t.tap("Refunder salg 1");
    t.wait("the refund dialog", || {
        t.find("Beløp å refundere").is_some()
    })
    .await;
    assert_eq!(
        t.value("Beløp å refundere"),
        "474,50",
        "the full amount is offered"
    );
    for _ in 0..6 {
        t.tap("Slett siffer");
    }
    for k in ["1", "5", "0"] {
        t.tap(k);
    }
    t.tap("Bekreft refusjon");
    t.wait("the refund to reach Vipps", || {
        t.find_value("Melding")
            .is_some_and(|m| m.starts_with("Refundert: kr 150,00"))
    })
    .await;
    let sim = t.app.sim.as_ref().unwrap();
    let paid = sim
        .payments()
        .into_iter()
        .find(|p| p.aggregate.captured_amount.value == 47_450)
        .unwrap();
    assert_eq!(paid.aggregate.refunded_amount.value, 15_000);
    t.wait("the list to show it", || {
        t.find("Salg 1")
            .and_then(|e| e.accessible_value())
            .is_some_and(|v| v.starts_with("Delvis refundert"))
    })
    .await;
    t.tap("Kø");
    t.tap("Rapporter");
    t.tap("Lukk");
    assert_eq!(t.page(), Page::Sale);
}

async fn lockout(t: &T) {
    for attempt in 1..=3 {
        enter_organizer(t, "9999").await;
        t.wait("the PIN check", || {
            !t.ui.window.global::<PinAdapter>().get_checking()
        })
        .await;
        assert_eq!(
            t.page(),
            Page::Pin,
            "attempt {attempt} must not open the screen"
        );
        if attempt < 3 {
            assert_eq!(t.value("Melding"), "Feil PIN-kode.");
            t.tap("Tilbake til salg");
        }
    }
    assert!(
        t.value("Melding")
            .starts_with("For mange feil. Prøv igjen om"),
        "{}",
        t.value("Melding")
    );
    // Locked: the keypad refuses even the right PIN.
    assert_eq!(
        t.find("1").and_then(|e| e.accessible_enabled()),
        Some(false)
    );
    t.tap("1");
    assert_eq!(t.ui.window.global::<PinAdapter>().get_digits(), 0);
    t.tap("Tilbake til salg");
}

/// Kassasystemforskriften § 2-8-2 m and p: a cash sale is refunded from the
/// drawer, and the organizer opens the drawer without a sale with a reason
/// (the second tap); both are journaled, the drawer kicked on the printer.
async fn cash_return_and_drawer(t: &T) {
    enter_organizer(t, "1234").await;
    t.wait("the organizer screen", || t.page() == Page::Organizer)
        .await;
    t.tap("Salg");
    t.wait("the cash sale", || t.find("Refunder salg 2").is_some())
        .await;
    t.tap("Refunder salg 2");
    t.wait("the refund dialog", || {
        t.find("Beløp å refundere").is_some()
    })
    .await;
    assert_eq!(t.value("Beløp å refundere"), "60,00");
    for _ in 0..5 {
        t.tap("Slett siffer");
    }
    for k in ["2", "0"] {
        t.tap(k);
    }
    t.tap("Bekreft refusjon");
    t.wait("the cash to go back", || {
        t.find_value("Melding")
            .is_some_and(|m| m.starts_with("Gi kunden kr 20,00 fra skuffen"))
    })
    .await;
    t.tap("Rapporter");
    t.tap("Åpne skuff");
    t.tap("Telle kassen");
    t.wait("the drawer to open", || {
        t.find_value("Melding").as_deref() == Some("Skuffen er åpnet.")
    })
    .await;
    let opened: Vec<(Option<i64>, String)> = t
        .app
        .store
        .read(|r| r.journal_entries(None))
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "drawer.opened")
        .map(|e| {
            (
                e.sale_id,
                e.data["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        opened.contains(&(None, "Telle kassen".to_string())),
        "{opened:?}"
    );
    assert!(
        opened
            .iter()
            .any(|(s, r)| s.is_some() && r == "cash return"),
        "the return opened it too: {opened:?}"
    );
    t.tap("Lukk");
    assert_eq!(t.page(), Page::Sale);
}

async fn reports(t: &T) {
    enter_organizer(t, "1234").await;
    t.wait("the organizer screen", || t.page() == Page::Organizer)
        .await;
    t.tap("Rapporter");
    t.tap("X-rapport");
    t.wait("the X report", || {
        t.find_value("Rapport")
            .is_some_and(|r| r.starts_with("X-rapport"))
    })
    .await;
    let x = t.value("Rapport");
    assert!(
        x.contains("TRENING"),
        "a training till's report says so:\n{x}"
    );
    assert!(x.contains("534,50"), "the day's sales are in it:\n{x}");
    t.tap("Z-rapport (avslutt dagen)");
    t.wait("the count dialog", || t.find("Opptalt kontant").is_some())
        .await;
    for k in ["6", "0"] {
        t.tap(k);
    }
    assert_eq!(t.value("Opptalt kontant"), "60");
    t.tap("Avslutt dagen");
    t.wait("the Z report", || {
        t.find_value("Rapport")
            .is_some_and(|r| r.starts_with("Z-rapport nr. 1"))
    })
    .await;
    assert!(t.value("Melding").starts_with("Dagen er avsluttet"));
    // One Z per till per day: a second is refused with the reason, in the
    // screen's language (not the report error's English).
    t.tap("Z-rapport (avslutt dagen)");
    t.wait("the count dialog", || t.find("Opptalt kontant").is_some())
        .await;
    // Nothing typed is "not counted", never "kr 0".
    assert!(t.find("Ikke talt").is_some(), "a blank count says so");
    t.tap("Avslutt dagen");
    t.wait("the refusal", || {
        t.find("Z-rapporten avslutter dagen for denne kassen og kan ikke angres.")
            .is_some()
            && t.ui
                .window
                .global::<luka::ui::CountAdapter>()
                .get_message()
                .starts_with("Dagen er allerede avsluttet med Z-rapport 1.")
    })
    .await;
    t.tap("Avbryt");
    t.tap("Oversikt");
    t.wait("figures since the Z", || {
        t.find_value("Omsetning").as_deref() == Some("kr 0,00")
    })
    .await;
    t.tap("Lukk");
}

async fn english(t: &T) {
    enter_organizer(t, "1234").await;
    t.wait("the organizer screen", || t.page() == Page::Organizer)
        .await;
    t.tap("Rapporter");
    t.tap("English");
    t.wait("English", || t.find("Close").is_some()).await;
    t.tap("Overview");
    t.wait("figures in English", || {
        t.find("Sales").is_some() && t.find_value("Takings").is_some()
    })
    .await;
    t.tap("Close");
    t.wait("the sale page in English", || {
        t.find("Pay with Vipps").is_some()
    })
    .await;
    t.tap("Organizer");
    for d in ["1", "2", "3", "4", "OK"] {
        t.tap(d);
    }
    t.wait("the organizer screen", || t.page() == Page::Organizer)
        .await;
    t.tap("Reports");
    t.tap("Norsk");
    t.tap_eventually("Lukk").await;
    assert!(t.find("Betal med Vipps").is_some());
}

/// The sales list shows the newest rows only; the figures above it must
/// still count every sale of the day, down to the oldest (the cancelled sale
/// from `cancel`, which a list-based count would lose).
async fn long_day(t: &T) {
    let shown = luka::kiosk::MAX_ROWS;
    let coffee = t.app.config.catalog.get("kaffe").unwrap();
    let mut cart = luka::domain::Cart::new();
    cart.add_product(coffee);
    let more = shown + 5;
    for _ in 0..more {
        t.app
            .kiosk
            .cash_sale(&cart, luka::domain::Money::nok(3_000), "")
            .unwrap();
    }
    enter_organizer(t, "1234").await;
    t.wait("the organizer screen", || t.page() == Page::Organizer)
        .await;
    let o = t.ui.window.global::<OrganizerAdapter>();
    let figure = |label: &str| {
        o.get_counts()
            .iter()
            .find(|f| f.label == label)
            .map(|f| f.value.to_string())
    };
    t.wait("the figures since the Z", || {
        figure("Salg").as_deref() == Some(more.to_string().as_str())
    })
    .await;
    let takings = luka::domain::Money::nok(3_000 * more as i64).to_string();
    assert_eq!(t.value("Omsetning"), takings, "every sale since the Z");
    assert_eq!(
        figure("Ikke betalt i dag").as_deref(),
        Some("1"),
        "the cancelled sale is older than every row shown"
    );
    assert_eq!(o.get_sales().row_count(), shown, "the newest rows only");
    let coffee_row = o
        .get_per_product()
        .iter()
        .find(|f| f.label == "Kaffe")
        .map(|f| f.value.to_string());
    assert_eq!(coffee_row, Some(format!("{more} × · {takings}")));
    t.tap("Lukk");
}
