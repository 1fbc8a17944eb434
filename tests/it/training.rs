//! Training mode inside a production till (kassasystemforskriften § 2-8-2 w,
//! SAF-T 13023/13024): the switch is journaled; training sales go to the
//! training simulator and never to Vipps, never open the drawer, never reach
//! the books, print as Treningskvittering and are counted apart in the X.
//! Two real simulators on loopback (one plays Vipps, one is the training
//! simulator), a real SQLite file, the real kiosk.

use std::sync::Arc;
use std::time::Duration;

use luka::bookkeeping::SyncTargets;
use luka::domain::Money;
use luka::domain::journal::JournalKind;
use luka::kiosk::{Kiosk, KioskError, KioskEvent, KioskSettings};
use luka::sim::SimConfig;
use luka::store::Store;

use crate::support::{eventually, fast_settings, tickets, wait_created};

fn kinds(store: &Store, kind: JournalKind) -> Vec<luka::store::JournalEntry> {
    store
        .read(|r| r.journal_entries(None))
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_sales_of_a_production_till_go_to_the_simulator_and_are_counted_apart() {
    let live = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let practice = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let creds = luka::app::training_credentials(&SimConfig::training());
    let provider = |url: String| {
        luka::app::vipps_provider(&url, creds.clone(), Duration::from_secs(5)).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("luka.db")).unwrap());
    let settings = KioskSettings {
        // A webhook for the books and a drawer on a relay: both must see the
        // real sales and neither the training ones.
        books: SyncTargets {
            webhook: true,
            ..Default::default()
        },
        drawer_relay: true,
        ..fast_settings()
    };
    let (k, running) = Kiosk::start_with_training(
        store.clone(),
        provider(live.base_url()),
        Some(provider(practice.base_url())),
        Arc::new(luka::clock::SystemClock),
        Arc::new(luka::clock::RandomIds),
        settings,
    )
    .unwrap();
    let mut events = k.subscribe();
    assert!(k.can_switch_training());
    assert!(!k.is_training().unwrap());

    // A real cash sale first: the relay opens, the books get it.
    let cart = tickets(1, 0);
    let (real, _) = k.cash_sale(&cart, Money::nok(15_000), "").unwrap();
    assert!(!real.training);

    // On, journaled once; a second "on" changes nothing.
    assert!(k.set_training(true).await.unwrap());
    assert!(!k.set_training(true).await.unwrap());
    assert!(k.is_training().unwrap());
    let on = kinds(&store, JournalKind::TrainingOn);
    assert_eq!(on.len(), 1);
    let code: i64 = store
        .read(|r| {
            let mut found = 0;
            r.chain_rows(|row| {
                if row.kind == "training.on" {
                    found = row.event_code.unwrap_or_default();
                }
                true
            })?;
            Ok(found)
        })
        .unwrap();
    assert_eq!(code, 13023, "training on is SAF-T 13023");

    // A training cash sale and a training Vipps sale.
    let (cash, _) = k.cash_sale(&cart, Money::nok(20_000), "").unwrap();
    assert!(cash.training);
    let vipps = k.start_vipps_sale(&tickets(0, 1), "").unwrap();
    assert!(vipps.training);
    wait_created(&practice, &vipps.reference).await;
    assert!(
        live.payment(&vipps.reference).is_none(),
        "a training payment must never reach Vipps"
    );
    practice.approve(&vipps.reference).unwrap();
    k.wait_final(vipps.id, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(
        k.sale(vipps.id).unwrap().status,
        luka::domain::SaleStatus::Paid
    );
    // Its partial refund goes to the training simulator as well.
    k.refund(vipps.id, Money::nok(2_000), "Øving").unwrap();
    assert!(
        eventually(Duration::from_secs(20), || {
            practice
                .payment(&vipps.reference)
                .is_some_and(|p| p.refunds == 1)
        })
        .await,
        "the training refund reached the training simulator"
    );

    // Off again; the next sale is real.
    assert!(k.set_training(false).await.unwrap());
    assert_eq!(kinds(&store, JournalKind::TrainingOff).len(), 1);
    let (after, _) = k.cash_sale(&cart, Money::nok(15_000), "").unwrap();
    assert!(!after.training);

    // The drawer opened for the two real sales only.
    let opened: Vec<Option<i64>> = kinds(&store, JournalKind::DrawerOpened)
        .iter()
        .map(|e| e.sale_id)
        .collect();
    assert_eq!(opened, [Some(real.id), Some(after.id)]);
    let mut relays = Vec::new();
    while let Ok(ev) = events.try_recv() {
        match ev {
            KioskEvent::DrawerRelay { sale_id } => relays.push(sale_id),
            KioskEvent::Training { on } => relays.push(Some(if on { -1 } else { -2 })),
            _ => {}
        }
    }
    assert_eq!(relays, [Some(real.id), Some(-1), Some(-2), Some(after.id)]);
    // The books got the real sales and nothing of the training ones.
    let to_books = |id: i64| {
        store
            .read(|r| r.outbox_for_sale(id))
            .unwrap()
            .iter()
            .any(|i| i.kind == luka::bookkeeping::kind::WEBHOOK)
    };
    assert!(to_books(real.id) && to_books(after.id));
    assert!(!to_books(cash.id) && !to_books(vipps.id));

    // The X counts the training sales (and the return) apart.
    let x = k.x_report().unwrap().report;
    assert_eq!((x.sales.count, x.sales.amount.minor()), (2, 30_000));
    assert_eq!(x.returns.count, 0);
    // SAF-T's reportTrainingNum/Amnt: the training sales, at what they came to.
    assert_eq!(x.training.count, 2);
    assert_eq!(x.training.amount.minor(), 15_000 + 5_000);
    running.shutdown().await;
    live.shutdown().await;
    practice.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_mode_is_refused_where_it_cannot_be_kept_apart() {
    // A production till without a training simulator: never "on", so a
    // training sale can never go to Vipps.
    let rig = crate::support::rig().await;
    assert!(!rig.kiosk.can_switch_training());
    let e = rig.kiosk.set_training(true).await.unwrap_err();
    assert!(matches!(e, KioskError::NoTrainingSimulator), "{e}");
    assert!(kinds(&rig.store, JournalKind::TrainingOn).is_empty());
    rig.shut().await;
    // The demo is a training till throughout: nothing to switch.
    let demo = crate::support::rig_with(
        SimConfig::training(),
        KioskSettings {
            training: true,
            ..fast_settings()
        },
    )
    .await;
    assert!(demo.kiosk.is_training().unwrap());
    let e = demo.kiosk.set_training(false).await.unwrap_err();
    assert!(matches!(e, KioskError::TrainingTill), "{e}");
    demo.shut().await;
}
