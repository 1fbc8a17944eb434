//! Every page of the till rendered by Slint's software renderer at 800×480
//! (the official Pi 7" display), 1024×600 and 1280×800, from a live till:
//! each image must be non-empty, and the QR on the pay page, decoded from
//! the rendered pixels, must open the simulator's phone page.
//!
//! Images go to `$CARGO_TARGET_DIR/ui-screenshots/`, and to
//! `docs/screenshots/` with `LUKA_UPDATE_SCREENSHOTS=1`.

#[path = "ui_support/mod.rs"]
mod ui_support;

use luka::ui::{AppState, OrganizerAdapter, Page, PinAdapter, SaleAdapter};
use slint::ComponentHandle;
use ui_support::T;

fn main() {
    ui_support::software::SoftwarePlatform::install();
    ui_support::run(|t| async move { screenshots(&t).await });
}

async fn screenshots(t: &T) {
    // Repeaters are filled when the window is laid out: give it a size first.
    t.ui.window
        .window()
        .set_size(slint::PhysicalSize::new(800, 480));
    t.snapshot();
    // A real sale up to its QR, read back off the screen.
    t.tap("Voksen");
    t.tap("Kaffe");
    t.tap("Betal med Vipps");
    t.wait("the QR", || t.page() == Page::Pay && t.pay().get_qr_ready())
        .await;
    let reference = t.pay().get_reference().to_string();
    let sim = t.app.sim.as_ref().unwrap();
    for (w, h) in [(800, 480), (1024, 600), (1280, 800)] {
        t.ui.window
            .window()
            .set_size(slint::PhysicalSize::new(w, h));
        let decoded = t.decode_qr();
        assert_eq!(Some(decoded), sim.phone_url(&reference), "QR at {w}x{h}");
        t.shoot_at("pay", w, h);
    }
    sim.approve(&reference).unwrap();
    t.wait("Betalt", || t.find("Betalt").is_some()).await;
    let state = t.ui.window.global::<AppState>();
    for (w, h) in [(800, 480), (1024, 600), (1280, 800)] {
        t.ui.window
            .window()
            .set_size(slint::PhysicalSize::new(w, h));
        state.set_page(Page::Result);
        t.shoot_at("result-paid", w, h);
        state.set_page(Page::Sale);
        t.ui.window.global::<SaleAdapter>().invoke_clear();
        t.tap("Varer");
        t.shoot_at("sale-empty", w, h);
        for p in ["Voksen", "Voksen", "Barn", "Vaffel", "Brus"] {
            t.tap(p);
        }
        t.shoot_at("sale", w, h);
        t.tap("Vakt");
        t.wait("the shift picker", || t.find("Ola").is_some()).await;
        t.tap("Kari");
        t.shoot_at("operator", w, h);
        t.ui.window
            .global::<luka::ui::OperatorAdapter>()
            .invoke_cancel();
        t.tap("Beløp");
        for k in ["1", "4", "9", ",", "5"] {
            t.tap(k);
        }
        t.shoot_at("sale-keypad", w, h);
        t.tap("Varer");
        t.tap("Kontant");
        t.tap("500");
        t.shoot_at("cash", w, h);
        t.tap("Tilbake");
        // Vipps sent to the customer's app: the scan page, the phone
        // number on the keypad, and the pay page without a QR.
        t.tap("Kundens Vipps");
        t.shoot_at("customer-scan", w, h);
        t.tap("Telefonnummer");
        t.wait("the phone keypad", || t.find("Mobilnummer").is_some())
            .await;
        for k in ["9", "1", "2", "3", "4", "5", "6", "7"] {
            t.tap(k);
        }
        t.shoot_at("customer-phone", w, h);
        t.ui.window
            .global::<luka::ui::CustomerAdapter>()
            .set_phone_mode(false);
        t.tap("Tilbake");
        let pay = t.pay();
        pay.set_sent_to_customer(true);
        pay.set_can_cancel(true);
        pay.set_qr_ready(false);
        pay.set_phone_url("".into());
        pay.set_amount("kr 480,00".into());
        pay.set_countdown("4:52".into());
        pay.set_status("Venter på godkjenning…".into());
        state.set_page(Page::Pay);
        t.shoot_at("pay-customer", w, h);
        pay.set_sent_to_customer(false);
        state.set_page(Page::Pin);
        t.ui.window.global::<PinAdapter>().set_digits(2);
        t.shoot_at("pin", w, h);
        state.set_page(Page::Organizer);
        let o = t.ui.window.global::<OrganizerAdapter>();
        o.set_tab(0);
        o.invoke_refresh();
        t.wait("today's figures", || {
            t.find_value("Omsetning").as_deref() == Some("kr 180,00")
        })
        .await;
        t.shoot_at("organizer-overview", w, h);
        t.tap("Salg");
        t.wait("the sales list", || t.find("Refunder salg 1").is_some())
            .await;
        t.shoot_at("organizer-sales", w, h);
        t.tap("Refunder salg 1");
        t.wait("the refund dialog", || {
            t.find("Beløp å refundere").is_some()
        })
        .await;
        t.shoot_at("organizer-refund", w, h);
        t.tap("Avbryt");
        t.tap("Kø");
        t.shoot_at("organizer-backlog", w, h);
        t.tap("Rapporter");
        t.shoot_at("organizer-reports", w, h);
        t.tap("Åpne skuff");
        t.wait("the drawer dialog", || t.find("Telle kassen").is_some())
            .await;
        t.shoot_at("organizer-drawer", w, h);
        t.tap("Avbryt");
        t.tap("Klubbens hub");
        t.wait("the hub dialog", || t.find("Adresse").is_some())
            .await;
        let hub = t.ui.window.global::<luka::ui::HubAdapter>();
        hub.set_url("https://hub.klubben.no".into());
        hub.set_code("K7M2Q".into());
        hub.set_field(1);
        t.shoot_at("organizer-hub", w, h);
        hub.invoke_close();
        state.set_page(Page::Sale);
    }
    books(t).await;
}

/// The books after the day is closed: the training till posts the Z to its
/// PowerOffice simulator, settles the day on its Vipps simulator and shows
/// the reconciliation in the queue tab.
async fn books(t: &T) {
    let state = t.ui.window.global::<AppState>();
    let o = t.ui.window.global::<OrganizerAdapter>();
    state.set_page(Page::Organizer);
    t.tap("Rapporter");
    t.tap("Z-rapport (avslutt dagen)");
    t.wait("the count dialog", || t.find("Opptalt kontant").is_some())
        .await;
    t.tap("0");
    t.tap("Avslutt dagen");
    t.wait("the Z report", || {
        t.find_value("Rapport")
            .is_some_and(|r| r.starts_with("Z-rapport nr. 1"))
    })
    .await;
    t.tap("Kø");
    let polls = std::cell::Cell::new(0u32);
    t.wait("the Vipps settlement on the queue tab", || {
        polls.set(polls.get() + 1);
        if polls.get().is_multiple_of(25) {
            o.invoke_refresh();
        }
        o.get_books_note().contains("stemmer med kassen")
    })
    .await;
    for (w, h) in [(800, 480), (1280, 800)] {
        t.ui.window
            .window()
            .set_size(slint::PhysicalSize::new(w, h));
        t.shoot_at("organizer-books", w, h);
    }
}
