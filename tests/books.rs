//! The books end to end on loopback with real SQLite files: the signed
//! webhook (every sale arrives, in order, signed, de-duplicable, even after
//! the receiver was down all day), the daily voucher to PowerOffice Go and
//! CSV, and the Vipps settlement reconciliation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::support::webhook_receiver::{Receiver, free_port};
use common::*;
use luka::bookkeeping::webhook::{WebhookKey, WebhookSink};
use luka::bookkeeping::{Sink, SyncHandle, SyncTargets, SyncWorker, kind};
use luka::clock::SystemClock;
use luka::domain::{Cart, Catalog, Money, SaleStatus};
use luka::kiosk::KioskSettings;
use luka::secret::Secret;
use luka::sim::SimConfig;

const SECRET: &str = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0xMjM0NTY3OA==";
const WAIT: Duration = Duration::from_secs(30);

fn books_settings(
    handle: &SyncHandle,
    webhook: bool,
    voucher_kinds: Vec<&'static str>,
) -> KioskSettings {
    KioskSettings {
        books: SyncTargets {
            webhook,
            voucher_kinds,
            accounts: Default::default(),
        },
        sync: handle.clone(),
        ..fast_settings()
    }
}

fn start_lanes(
    store: Arc<luka::store::Store>,
    sinks: Vec<Arc<dyn Sink>>,
    handle: SyncHandle,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let worker = SyncWorker {
        store,
        clock: Arc::new(SystemClock),
        policy: luka::outbox::RetryPolicy {
            base: Duration::from_millis(50),
            max: Duration::from_millis(400),
            max_invalid_responses: 5,
        },
        sinks,
        batch: 16,
        handle,
    };
    (stop, tokio::spawn(worker.run(shutdown)))
}

fn webhook_sink(url: &str) -> Arc<dyn Sink> {
    let key = WebhookKey::parse(&Secret::new(SECRET)).unwrap();
    Arc::new(WebhookSink::new(url, key, Duration::from_secs(2), Arc::new(SystemClock)).unwrap())
}

fn kiosk_item(name: &str) -> Cart {
    let c = Catalog::club_default();
    let mut cart = Cart::new();
    cart.add_product(c.get(name).unwrap());
    cart
}

async fn wait_lane_empty(store: &luka::store::Store, lane: &str, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let s = store.read(|r| r.sync_lane(lane)).unwrap();
        if s.pending == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "lane {lane} still has {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The receiver is down (nothing listens) for the whole selling day; when
/// it comes up, every sale and refund arrives once, in order, signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_receiver_down_all_day_gets_everything_in_order() {
    let addr = free_port();
    let handle = SyncHandle::default();
    let rig = rig_with(SimConfig::training(), books_settings(&handle, true, vec![])).await;
    let (stop, lanes) = start_lanes(
        rig.store.clone(),
        vec![webhook_sink(&format!("http://{addr}/hook"))],
        handle.clone(),
    );
    // The day: Vipps tickets, cash kiosk sales, a refund.
    let mut vipps = Vec::new();
    for _ in 0..3 {
        let s = rig.kiosk.start_vipps_sale(&tickets(1, 0), "").unwrap();
        wait_created(&rig.sim, &s.reference).await;
        rig.sim.approve(&s.reference).unwrap();
        vipps.push(rig.kiosk.wait_final(s.id, WAIT).await.unwrap());
    }
    assert!(vipps.iter().all(|s| s.status == SaleStatus::Paid));
    for item in ["kaffe", "vaffel"] {
        rig.kiosk
            .cash_sale(&kiosk_item(item), Money::nok(10_000), "")
            .unwrap();
    }
    rig.kiosk
        .refund(vipps[0].id, Money::nok(15_000), "feil billett")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = rig.store.read(|r| r.sync_lane(kind::WEBHOOK)).unwrap();
    assert_eq!(waiting.pending, 6, "{waiting:?}");
    assert!(
        waiting.head_attempts >= 1 && waiting.head_error.is_some(),
        "{waiting:?}"
    );
    assert!(
        rig.kiosk.wait_settled(WAIT).await.unwrap(),
        "selling is not held up by the books"
    );

    // Morning: the receiver is back.
    let receiver = Receiver::start(addr, SECRET).await;
    handle.wake();
    wait_lane_empty(&rig.store, kind::WEBHOOK, WAIT).await;
    let got = receiver.received();
    assert_eq!(got.len(), 6, "{got:#?}");
    assert!(got.iter().all(|r| r.verified), "every signature verifies");
    let types: Vec<&str> = got
        .iter()
        .map(|r| r.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "sale.completed",
            "sale.completed",
            "sale.completed",
            "sale.completed",
            "sale.completed",
            "sale.refunded"
        ]
    );
    let receipt_nos: Vec<i64> = got[..5]
        .iter()
        .map(|r| r.body["data"]["receipt_no"].as_i64().unwrap())
        .collect();
    assert_eq!(receipt_nos, [1, 2, 3, 4, 5], "in the order they were sold");
    let first = &got[0].body["data"];
    assert_eq!(first["reference"], vipps[0].reference.as_str());
    assert_eq!(first["total"], 15_000);
    assert_eq!(first["payment"]["method"], "vipps");
    assert_eq!(first["lines"][0]["vat_code"], 6);
    assert_eq!(got[3].body["data"]["payment"]["method"], "cash");
    assert_eq!(got[5].body["data"]["amount"], 15_000);
    assert_eq!(got[5].body["data"]["reason"], "feil billett");
    let ids: std::collections::HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 6, "one webhook-id per event");
    let _ = stop.send(true);
    lanes.await.unwrap();
    rig.stop().await;
}

/// A retried delivery carries the same `webhook-id` (and body), so the
/// receiver recognises the duplicate; the signature is made anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_retry_keeps_the_id_and_body() {
    let receiver = Receiver::start(([127, 0, 0, 1], 0).into(), SECRET).await;
    let handle = SyncHandle::default();
    let rig = rig_with(SimConfig::training(), books_settings(&handle, true, vec![])).await;
    let (sale, _) = rig
        .kiosk
        .cash_sale(&kiosk_item("kaffe"), Money::nok(5_000), "")
        .unwrap();
    let id = luka::bookkeeping::events::sale_event_id("test-till", &sale.reference);
    receiver.fail_first_attempt_of(&id);
    let (stop, lanes) = start_lanes(
        rig.store.clone(),
        vec![webhook_sink(&receiver.url())],
        handle,
    );
    wait_lane_empty(&rig.store, kind::WEBHOOK, WAIT).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    let item = rig.store.read(|r| r.outbox_by_key(&id)).unwrap().unwrap();
    assert_eq!(item.attempts, 2, "answered 503 once, then delivered");
    assert_eq!(
        got[0].body, item.payload,
        "the stored body, byte for byte the same event"
    );
    let _ = stop.send(true);
    lanes.await.unwrap();
    // Cash only: nothing went to Vipps, so no exchanges to check.
    let mut rig = rig;
    rig.running.take().unwrap().shutdown().await;
}
