//! GPIO through the fake pins, driven by the real kiosk: a completed Vipps
//! payment pulses the paid LED and buzzer, a cash sale or return and the
//! organizer's "Åpne skuff" pulse the drawer relay (journaled), losing Vipps lights the error LED, and the buttons start
//! and cancel sales. Only the pins are fake; the pulse thread, the event
//! mapping, SQLite and the simulator are the real ones.

use crate::support;

use std::time::Duration;

use luka::domain::{Money, SaleStatus};
use luka::hardware::fake::{PinLog, fake_devices};
use luka::hardware::{Button, GpioConfig};
use luka::kiosk::KioskEvent;

const PAID_LED: u8 = 17;
const BUZZER: u8 = 27;
const ERROR_LED: u8 = 22;
const DRAWER: u8 = 23;
const NEW_SALE: u8 = 5;
const CANCEL: u8 = 6;

fn pins() -> GpioConfig {
    GpioConfig {
        paid_led: Some(PAID_LED),
        error_led: Some(ERROR_LED),
        buzzer: Some(BUZZER),
        drawer_relay: Some(DRAWER),
        button_new_sale: Some(NEW_SALE),
        button_cancel: Some(CANCEL),
        pulse: Duration::from_millis(30),
        drawer_pulse: Duration::from_millis(30),
    }
}

/// A guard against hanging, not a timing assertion.
const PATIENCE: Duration = Duration::from_secs(20);

/// Waits (off the runtime) until `pin` has gone high and back low `n` times.
async fn wait_pulses(log: &PinLog, pin: u8, n: usize) -> bool {
    let log = log.clone();
    tokio::task::spawn_blocking(move || {
        log.wait_until(PATIENCE, |w| {
            let levels: Vec<bool> = w.iter().filter(|x| x.pin == pin).map(|x| x.high).collect();
            levels.windows(2).filter(|p| p[0] && !p[1]).count() >= n
        })
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_payment_pulses_the_paid_led_and_buzzer() {
    let rig = support::rig().await;
    let (devices, log, _presser) = fake_devices(&pins());
    tokio::spawn(luka::hardware::drive(
        rig.kiosk.subscribe(),
        devices.hardware.clone(),
    ));
    let sale = rig
        .kiosk
        .start_vipps_sale(&support::tickets(1, 0), "")
        .unwrap();
    // Nothing blinks before the money is in.
    assert_eq!(log.levels(PAID_LED), vec![false]);
    support::wait_created(&rig.sim, &sale.reference).await;
    rig.sim.approve(&sale.reference).unwrap();
    let done = rig.kiosk.wait_final(sale.id, PATIENCE).await.unwrap();
    assert_eq!(done.status, SaleStatus::Paid);
    assert!(wait_pulses(&log, PAID_LED, 1).await, "{:?}", log.writes());
    assert!(wait_pulses(&log, BUZZER, 1).await, "{:?}", log.writes());
    // Exactly one pulse each (start low, high, low), no drawer for Vipps,
    // and the error LED never lit (Vipps was reachable throughout).
    assert_eq!(log.levels(PAID_LED), vec![false, true, false]);
    assert_eq!(log.levels(BUZZER), vec![false, true, false]);
    assert_eq!(log.levels(DRAWER), vec![false]);
    assert!(!log.levels(ERROR_LED).contains(&true), "{:?}", log.writes());
}

/// Every relay opening is journaled before the pulse (§ 2-8-2 m): a cash
/// sale, a cash return and the organizer's opening without a sale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cash_sales_returns_and_the_organizer_pulse_the_drawer_relay_and_journal_it() {
    let rig = support::rig_with(
        luka::sim::SimConfig::training(),
        luka::kiosk::KioskSettings {
            drawer_relay: true,
            ..support::fast_settings()
        },
    )
    .await;
    let (devices, log, _presser) = fake_devices(&pins());
    tokio::spawn(luka::hardware::drive(
        rig.kiosk.subscribe(),
        devices.hardware.clone(),
    ));
    let (sale, _) = rig
        .kiosk
        .cash_sale(&support::tickets(1, 0), Money::nok(20_000), "")
        .unwrap();
    assert!(wait_pulses(&log, DRAWER, 1).await, "{:?}", log.writes());
    assert!(wait_pulses(&log, PAID_LED, 1).await, "{:?}", log.writes());
    rig.kiosk
        .refund(sale.id, Money::nok(1_000), "Feil vare")
        .unwrap();
    assert!(wait_pulses(&log, DRAWER, 2).await, "{:?}", log.writes());
    let device = rig.kiosk.open_drawer("Veksel").await.unwrap();
    assert_eq!(device, luka::kiosk::DrawerDevice::Relay);
    assert!(wait_pulses(&log, DRAWER, 3).await, "{:?}", log.writes());
    let opened: Vec<(Option<i64>, String)> = rig
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
    assert_eq!(
        opened,
        [
            (Some(sale.id), "cash sale".to_string()),
            (Some(sale.id), "cash return".to_string()),
            (None, "Veksel".to_string())
        ]
    );
    let x = rig.kiosk.x_report().unwrap().report;
    assert_eq!(x.drawer_openings_without_sale, 1);
}

/// Without `[gpio] drawer_relay` a cash sale pulses no relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_relay_a_cash_sale_pulses_nothing_but_the_paid_led() {
    let rig = support::rig().await;
    let (devices, log, _presser) = fake_devices(&pins());
    tokio::spawn(luka::hardware::drive(
        rig.kiosk.subscribe(),
        devices.hardware.clone(),
    ));
    rig.kiosk
        .cash_sale(&support::tickets(1, 0), Money::nok(20_000), "")
        .unwrap();
    assert!(wait_pulses(&log, PAID_LED, 1).await, "{:?}", log.writes());
    assert_eq!(log.levels(DRAWER), vec![false]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_error_led_follows_connectivity_and_goes_off_at_the_end() {
    let (tx, rx) = tokio::sync::broadcast::channel(8);
    let (devices, log, _presser) = fake_devices(&pins());
    let task = tokio::spawn(luka::hardware::drive(rx, devices.hardware.clone()));
    let reach = |reachable| KioskEvent::Connectivity {
        reachable,
        detail: String::new(),
    };
    tx.send(reach(false)).unwrap();
    let on = log.clone();
    let lit = tokio::task::spawn_blocking(move || {
        on.wait_until(PATIENCE, |w| {
            w.last().is_some_and(|x| x.pin == ERROR_LED && x.high)
        })
    })
    .await
    .unwrap();
    assert!(lit, "{:?}", log.writes());
    tx.send(reach(true)).unwrap();
    drop(tx);
    task.await.unwrap();
    // The pulse thread applies the last command after `drive` returns: wait
    // for it (the hardware is still alive, so nothing else turns it off).
    let off = log.clone();
    let went_off = tokio::task::spawn_blocking(move || {
        off.wait_until(PATIENCE, |w| {
            w.iter()
                .rev()
                .find(|x| x.pin == ERROR_LED)
                .is_some_and(|x| !x.high)
        })
    })
    .await
    .unwrap();
    assert!(went_off, "{:?}", log.writes());
    let levels = log.levels(ERROR_LED);
    assert_eq!(levels.first(), Some(&false));
    assert_eq!(levels.last(), Some(&false), "{levels:?}");
    assert!(levels.contains(&true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_press_starts_a_new_sale_and_cancel_cancels_it() {
    let rig = support::rig().await;
    let (mut devices, _log, presser) = fake_devices(&pins());
    // What the UI does with presses, reduced to its core.
    let kiosk = rig.kiosk.clone();
    let ui = tokio::spawn(async move {
        let mut current = None;
        while let Some(b) = devices.buttons.recv().await {
            match b {
                Button::NewSale => {
                    current = Some(kiosk.start_vipps_sale(&support::tickets(0, 1), "").unwrap())
                }
                Button::Cancel => {
                    if let Some(s) = &current {
                        kiosk.cancel_sale(s.id).unwrap();
                        return kiosk.wait_final(s.id, PATIENCE).await.unwrap();
                    }
                }
            }
        }
        panic!("the button stream ended");
    });
    assert_eq!(presser.press(9), None, "an unwired pin is no button");
    assert_eq!(presser.press(NEW_SALE), Some(Button::NewSale));
    let started = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(s) = rig.store.read(|r| r.open_sales())
                && let Some(s) = s.first()
            {
                return s.clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a press on the new-sale button starts a sale");
    assert_eq!(started.total, Money::nok(5_000));
    assert_eq!(presser.press(CANCEL), Some(Button::Cancel));
    let closed = ui.await.unwrap();
    assert_eq!(closed.id, started.id);
    assert_eq!(closed.status, SaleStatus::Unpaid);
}
