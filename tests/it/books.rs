//! The books end to end on loopback with real SQLite files: the signed
//! webhook (every sale arrives, in order, signed, de-duplicable, even after
//! the receiver was down all day), the daily voucher to PowerOffice Go and
//! CSV, and the Vipps settlement reconciliation.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use luka::bookkeeping::webhook::{WebhookKey, WebhookSink};
use luka::bookkeeping::{Sink, SyncHandle, SyncTargets, SyncWorker, kind};
use luka::clock::SystemClock;
use luka::domain::{Cart, Catalog, Money, SaleStatus};
use luka::kiosk::KioskSettings;
use luka::secret::Secret;
use luka::sim::SimConfig;
use support::webhook_receiver::{Receiver, free_port};
use support::*;

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
            training_till: false,
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
        policy: luka::retry::RetryPolicy {
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
    let pending = || store.read(|r| r.sync_lane(lane)).unwrap().pending;
    assert!(
        eventually(timeout, || pending() == 0).await,
        "lane {lane} still has {:?}",
        store.read(|r| r.sync_lane(lane)).unwrap()
    );
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
    // Wait for all six (the refund's once Vipps has refunded it) to be
    // waiting behind a head the lane has tried and failed, not for a while.
    let lane = || rig.store.read(|r| r.sync_lane(kind::WEBHOOK)).unwrap();
    let held = || {
        let l = lane();
        l.pending == 6 && l.head_attempts >= 1 && l.head_error.is_some()
    };
    assert!(support::eventually(WAIT, held).await, "{:?}", lane());
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
    rig.shut().await;
}

/// PowerOffice Go (the simulator) and the lane that posts to it.
async fn poweroffice() -> (luka::sim::poweroffice::PowerOfficeSimHandle, Arc<dyn Sink>) {
    let po = luka::sim::poweroffice::start(
        ([127, 0, 0, 1], 0).into(),
        luka::sim::poweroffice::PowerOfficeSimConfig::training(),
    )
    .await
    .unwrap();
    let keys = po.credentials();
    let client = luka::bookkeeping::poweroffice::PowerOfficeClient::new(
        luka::bookkeeping::poweroffice::PowerOfficeSettings {
            api_base_url: po.api_base_url(),
            token_url: po.token_url(),
            application_key: keys.application_key.clone(),
            client_key: keys.client_key.clone(),
            subscription_key: keys.subscription_key.clone(),
            timeout: Duration::from_secs(5),
        },
    )
    .unwrap();
    let sink =
        luka::bookkeeping::poweroffice::sink::PowerOfficeSink::new(client, &Default::default());
    (po, Arc::new(sink))
}

fn settlements(rig: &Rig) -> luka::bookkeeping::reconcile::VippsSettlements {
    let creds = luka::app::training_credentials(&SimConfig::training());
    luka::bookkeeping::reconcile::VippsSettlements {
        merchant_serial_number: creds.merchant_serial_number.clone(),
        client: luka::vipps::report::ReportClient::new(
            &rig.sim.base_url(),
            creds,
            luka::vipps::SystemInfo::default(),
            Duration::from_secs(5),
        )
        .unwrap(),
        ledger_id: None,
        unit: None,
        department: None,
        bank_account: None,
    }
}

/// Sells `n` Vipps tickets at 150 kr, `batch` customers at a time.
async fn sell_tickets(rig: &Rig, n: usize, batch: usize) -> Vec<luka::store::SaleRecord> {
    let mut paid = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(batch) {
        let mut open = Vec::new();
        for _ in chunk {
            let s = rig.kiosk.start_vipps_sale(&tickets(1, 0), "").unwrap();
            open.push(s);
        }
        for s in &open {
            wait_created(&rig.sim, &s.reference).await;
            rig.sim.approve(&s.reference).unwrap();
        }
        for s in &open {
            let done = rig.kiosk.wait_final(s.id, WAIT).await.unwrap();
            assert_eq!(done.status, SaleStatus::Paid, "{}", s.reference);
            paid.push(done);
        }
    }
    paid
}

async fn wait_refunds_done(rig: &Rig, sale_ids: &[i64]) {
    let done = || {
        sale_ids.iter().all(|id| {
            rig.store
                .read(|r| r.refunds(*id))
                .unwrap()
                .iter()
                .all(|f| f.status == "done")
        })
    };
    assert!(eventually(WAIT, done).await, "refunds never finished");
}

/// The treasurer's day: 120 tickets by Vipps, 3 refunds and some cash. The
/// Z's daily voucher balances and reaches PowerOffice once even though the
/// first answer is lost; after the settlement date, the fee and payout
/// vouchers bring the Vipps clearing account back to exactly zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_tickets_lands_in_poweroffice_once_and_clears_to_zero() {
    let handle = SyncHandle::default();
    let rig = rig_with(
        SimConfig::training(),
        books_settings(&handle, false, vec![kind::POWEROFFICE]),
    )
    .await;
    let (po, sink) = poweroffice().await;
    let paid = sell_tickets(&rig, 120, 20).await;
    for s in &paid[..3] {
        rig.kiosk
            .refund(s.id, Money::nok(15_000), "avlyst kamp")
            .unwrap();
    }
    wait_refunds_done(&rig, &paid[..3].iter().map(|s| s.id).collect::<Vec<_>>()).await;
    let mut cash = 0;
    for item in ["kaffe", "vaffel", "brus", "kaffe"] {
        let (s, _) = rig
            .kiosk
            .cash_sale(&kiosk_item(item), Money::nok(10_000), "")
            .unwrap();
        cash += s.total.minor();
    }
    let books = rig.kiosk.settings().books.clone();
    let z = luka::reports::close_day_and_book(
        &rig.store,
        "test-till",
        Some(Money::nok(cash)),
        &books,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert_eq!(z.net.minor(), 117 * 15_000 + cash);
    let queued = rig.store.read(|r| r.sync_lane(kind::POWEROFFICE)).unwrap();
    assert_eq!(queued.pending, 1, "one daily voucher");

    // The first post is applied by PowerOffice, but its answer is lost.
    po.set_faults(luka::sim::poweroffice::PowerOfficeFaults {
        endpoints: vec![luka::sim::poweroffice::Endpoint::PostCashJournal],
        drop_response_next: 1,
        ..Default::default()
    });
    let (stop, lanes) = start_lanes(rig.store.clone(), vec![sink.clone()], handle.clone());
    wait_lane_empty(&rig.store, kind::POWEROFFICE, WAIT).await;
    let posted = po.vouchers();
    assert_eq!(
        posted.len(),
        1,
        "posted once, though sent twice: {posted:#?}"
    );
    let lines: i64 = posted[0].lines.iter().map(|l| l.amount).sum();
    assert_eq!(lines, 0, "the daily voucher balances");
    assert_eq!(
        po.balance(1903),
        117 * 15_000,
        "Vipps clearing holds the day's Vipps net"
    );
    assert_eq!(po.balance(1900), cash);
    assert_eq!(po.balance(3200), -117 * 15_000, "tickets: outside VAT");
    let item = rig
        .store
        .read(|r| r.sync_failed(kind::POWEROFFICE))
        .unwrap();
    assert!(item.is_empty());

    // Vipps closes the date; the till reconciles it and books fees and payout.
    let date = rig.sim.current_ledger_date();
    rig.sim.close_ledger_date(date).unwrap();
    let source = settlements(&rig);
    let out = luka::bookkeeping::reconcile::run(
        &rig.store,
        &source,
        date,
        &books,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let r = &out.reconciliation;
    assert!(r.ok(), "{}", r.summary());
    assert_eq!((r.matched_captures, r.matched_refunds), (120, 3));
    assert_eq!(r.captured, 120 * 15_000);
    assert_eq!(r.fees, 120 * 263, "1.75 % of 150 kr, rounded, per capture");
    assert_eq!(r.payout, 117 * 15_000 - r.fees);
    assert_eq!(out.queued, 2, "fee and payout vouchers");
    handle.wake();
    wait_lane_empty(&rig.store, kind::POWEROFFICE, WAIT).await;
    assert_eq!(po.vouchers().len(), 3);
    assert_eq!(po.balance(1903), 0, "the clearing account is exactly zero");
    assert_eq!(po.balance(7770), r.fees);
    assert_eq!(po.balance(1920), r.payout);

    // A second run finds everything booked: nothing is queued again.
    let again = luka::bookkeeping::reconcile::run(
        &rig.store,
        &source,
        date,
        &books,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    assert_eq!(again.queued, 0);
    let _ = stop.send(true);
    lanes.await.unwrap();
    let report_exchanges = rig.sim.exchanges();
    support::report_spec::validate_all(&report_exchanges);
    po.shutdown().await;
    rig.stop().await;
}

/// A capture Vipps has that the journal does not, a journaled sale Vipps
/// never captured, and a row of a type nobody expects: all three are named,
/// none crashes the reconciliation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_names_what_only_one_side_has() {
    let rig = rig().await;
    let paid = sell_tickets(&rig, 4, 4).await;
    rig.sim.drop_capture(&paid[1].reference).unwrap();
    rig.sim.inject_foreign_capture("ghost-sale-0001", 9_900);
    rig.sim.inject_unknown_entry("interchange-adjustment", -12);
    let date = rig.sim.current_ledger_date();
    let source = settlements(&rig);
    let targets = SyncTargets::default();
    let early = luka::bookkeeping::reconcile::run(
        &rig.store,
        &source,
        date,
        &targets,
        time::OffsetDateTime::now_utc(),
    )
    .await;
    assert!(
        matches!(
            early,
            Err(luka::bookkeeping::reconcile::ReconcileError::NotReady(_))
        ),
        "an open date is not reconciled: {early:?}"
    );
    rig.sim.close_ledger_date(date).unwrap();
    let out = luka::bookkeeping::reconcile::run(
        &rig.store,
        &source,
        date,
        &targets,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let r = &out.reconciliation;
    assert!(!r.ok());
    assert_eq!(r.matched_captures, 3);
    assert_eq!(r.captured_not_in_journal.len(), 1);
    assert_eq!(r.captured_not_in_journal[0].reference, "ghost-sale-0001");
    assert_eq!(r.captured_not_in_journal[0].amount, 9_900);
    assert_eq!(r.journaled_not_captured.len(), 1);
    assert_eq!(r.journaled_not_captured[0].reference, paid[1].reference);
    assert_eq!(r.for_review.len(), 1);
    assert_eq!(
        r.for_review[0].entry_type.as_str(),
        "interchange-adjustment"
    );
    let summary = r.summary();
    assert!(
        summary.contains("ghost-sale-0001") && summary.contains(&paid[1].reference),
        "{summary}"
    );
    // Stored for the organizer screen and `luka export vouchers`.
    let (_, stored) = rig
        .store
        .read(|r| r.reconciliation(&date.to_string()))
        .unwrap()
        .unwrap();
    assert_eq!(
        stored["captured_not_in_journal"][0]["reference"],
        "ghost-sale-0001"
    );
    rig.stop().await;
}

/// A training till shows the treasurer's whole flow without credentials:
/// the Z's daily voucher goes to the in-process PowerOffice simulator, the
/// in-process Vipps simulator settles the day, and the till reconciles it
/// and books fees and payout, leaving the clearing account at zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_training_till_runs_the_books_on_simulators() {
    let dir = tempfile::tempdir().unwrap();
    let config = luka::config::Config::parse(
        &format!(
            "[store]\npath = \"{}\"\n[training]\nlisten = \"127.0.0.1:0\"\n[vipps]\npoll_initial_delay_ms = 50\npoll_interval_ms = 500\n",
            dir.path().join("luka.db").display()
        ),
        &dir.path().join("luka.toml"),
        &|_| None,
    )
    .unwrap();
    assert!(config.is_training());
    let app = luka::app::App::start(config).await.unwrap();
    let sim = app.sim.clone().unwrap();
    for _ in 0..2 {
        let s = app.kiosk.start_vipps_sale(&tickets(1, 0), "").unwrap();
        wait_created(&sim, &s.reference).await;
        sim.approve(&s.reference).unwrap();
        let done = app.kiosk.wait_final(s.id, WAIT).await.unwrap();
        assert_eq!(done.status, SaleStatus::Paid);
    }
    app.kiosk
        .cash_sale(&kiosk_item("kaffe"), Money::nok(5_000), "")
        .unwrap();
    let books = app.kiosk.settings().books.clone();
    assert_eq!(books.voucher_kinds, vec![kind::POWEROFFICE]);
    luka::reports::close_day_and_book(
        &app.store,
        &app.config.till_id,
        None,
        &books,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    app.kiosk.settings().sync.wake();
    let po = app.books.as_ref().unwrap().poweroffice_sim.clone().unwrap();
    assert!(
        eventually(WAIT, || po.vouchers().len() >= 3).await,
        "vouchers: {:#?}",
        po.vouchers()
    );
    assert_eq!(po.balance(1903), 0, "Vipps clearing settled to zero");
    assert_eq!(po.balance(3200), -30_000);
    let today = luka::domain::local_time::to_oslo(time::OffsetDateTime::now_utc()).date();
    let (_, rec) = app
        .store
        .read(|r| r.reconciliation(&today.to_string()))
        .unwrap()
        .unwrap();
    assert_eq!(rec["matched_captures"], 2);
    app.shutdown().await;
}

/// A cash return reaches the books like a Vipps one: a signed
/// `sale.refunded` event, its payment "cash", what is refunded so far.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cash_return_reaches_the_webhook_as_a_cash_refund() {
    let receiver = Receiver::start(([127, 0, 0, 1], 0).into(), SECRET).await;
    let handle = SyncHandle::default();
    let rig = rig_with(SimConfig::training(), books_settings(&handle, true, vec![])).await;
    let (sale, _) = rig
        .kiosk
        .cash_sale(&kiosk_item("kaffe"), Money::nok(5_000), "")
        .unwrap();
    rig.kiosk
        .refund(sale.id, Money::nok(1_000), "Sølt kaffe")
        .unwrap();
    let (stop, lanes) = start_lanes(
        rig.store.clone(),
        vec![webhook_sink(&receiver.url())],
        handle,
    );
    wait_lane_empty(&rig.store, kind::WEBHOOK, WAIT).await;
    let got = receiver.received();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got.iter().all(|r| r.verified));
    let refund = &got[1].body;
    assert_eq!(refund["type"], "sale.refunded");
    assert_eq!(refund["data"]["payment"]["method"], "cash");
    assert_eq!(refund["data"]["amount"], 1_000);
    assert_eq!(refund["data"]["refunded_total"], 1_000);
    assert_eq!(refund["data"]["reason"], "Sølt kaffe");
    assert_eq!(refund["data"]["sale_receipt_no"], 1);
    assert_eq!(refund["data"]["receipt_no"], 2);
    let _ = stop.send(true);
    lanes.await.unwrap();
    // Cash only: nothing went to Vipps, so no exchanges to check.
    rig.shut().await;
}
