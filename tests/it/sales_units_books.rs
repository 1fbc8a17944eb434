//! The books of several Vipps sales units (issue 16, part 4): a day sold
//! under two units with their own departments, on two Vipps simulators
//! (one merchant, one MSN and one ledger each), a real SQLite file, the
//! PowerOffice Go simulator with the club's departments and a CSV folder.
//! The Z's voucher is split by department and balances; each MSN's ledger
//! is reconciled with its own sales only, into its own fee and payout
//! vouchers under its department; a department PowerOffice does not have
//! stops the voucher with the reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use luka::bookkeeping::reconcile::{UnitSales, VippsSettlements};
use luka::bookkeeping::{Sink, SyncHandle, SyncTargets, SyncWorker, kind};
use luka::clock::SystemClock;
use luka::domain::{Money, SaleStatus, SalesUnit};
use luka::kiosk::{Kiosk, KioskSettings, Providers};
use luka::sim::poweroffice::{PowerOfficeSimConfig, PowerOfficeSimHandle};
use luka::sim::{SimConfig, SimHandle};
use luka::store::Store;

use crate::support::{eventually, fast_settings, tickets, wait_created, write_till_config};

const WAIT: Duration = Duration::from_secs(30);

/// The handball section's own Vipps account: another MSN, other keys,
/// another ledger.
fn handball_sim_config() -> SimConfig {
    let mut c = SimConfig {
        client_id: "9a11d8a1-0000-4000-8000-68616e64626c".into(),
        client_secret: "handball-secret".into(),
        subscription_key: "handball-subscription-key".into(),
        merchant_serial_number: "234567".into(),
        ..SimConfig::training()
    };
    c.report.ledger_id = "402321".into();
    c
}

fn football() -> SalesUnit {
    SalesUnit {
        name: "Fotball".into(),
        msn: Some("123456".into()),
        department: Some("10".into()),
    }
}

fn handball() -> SalesUnit {
    SalesUnit {
        name: "Håndball".into(),
        msn: Some("234567".into()),
        department: Some("20".into()),
    }
}

fn settlements(sim: &SimHandle, cfg: &SimConfig, own: bool, department: &str) -> VippsSettlements {
    let creds = luka::app::training_credentials(cfg);
    VippsSettlements {
        merchant_serial_number: creds.merchant_serial_number.clone(),
        unit: Some(UnitSales {
            msn: creds.merchant_serial_number.clone(),
            own,
        }),
        department: Some(department.into()),
        bank_account: None,
        client: luka::vipps::report::ReportClient::new(
            &sim.base_url(),
            creds,
            luka::vipps::SystemInfo::default(),
            Duration::from_secs(5),
        )
        .unwrap(),
        ledger_id: None,
    }
}

async fn poweroffice(cfg: PowerOfficeSimConfig) -> (PowerOfficeSimHandle, Arc<dyn Sink>) {
    let po = luka::sim::poweroffice::start(([127, 0, 0, 1], 0).into(), cfg)
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

fn start_lanes(
    store: Arc<Store>,
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

async fn lane_settled(store: &Store, lane: &str) {
    let open = || {
        let l = store.read(|r| r.sync_lane(lane)).unwrap();
        l.pending == 0
    };
    assert!(
        eventually(WAIT, open).await,
        "{lane}: {:?}",
        store.read(|r| r.sync_lane(lane)).unwrap()
    );
}

struct Day {
    dir: tempfile::TempDir,
    store: Arc<Store>,
    kiosk: Kiosk,
    running: luka::kiosk::Running,
    football_sim: SimHandle,
    handball_sim: SimHandle,
    books: SyncTargets,
    handle: SyncHandle,
}

/// Football sells two tickets by Vipps and a coffee in cash (department
/// 10); the hub's menu switches the till to handball, which sells one
/// ticket by Vipps (department 20); one football ticket is refunded.
async fn a_day_under_two_units() -> Day {
    let football_sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let handball_sim = luka::sim::start(([127, 0, 0, 1], 0).into(), handball_sim_config())
        .await
        .unwrap();
    let provider = |sim: &SimHandle, cfg: &SimConfig| {
        luka::app::vipps_provider(
            &sim.base_url(),
            luka::app::training_credentials(cfg),
            Duration::from_secs(5),
        )
        .unwrap()
    };
    let main = provider(&football_sim, &SimConfig::training());
    let providers = Providers {
        main: main.clone(),
        training: None,
        by_msn: HashMap::from([
            ("123456".to_string(), main),
            (
                "234567".to_string(),
                provider(&handball_sim, &handball_sim_config()),
            ),
        ]),
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("luka.db")).unwrap());
    let handle = SyncHandle::default();
    let books = SyncTargets {
        webhook: false,
        voucher_kinds: vec![kind::POWEROFFICE, kind::CSV],
        accounts: Default::default(),
        training_till: false,
    };
    let settings = KioskSettings {
        sales_unit: football(),
        sales_units: vec![football(), handball()],
        books: books.clone(),
        sync: handle.clone(),
        ..fast_settings()
    };
    let (kiosk, running) = Kiosk::start_with_providers(
        store.clone(),
        providers,
        Arc::new(SystemClock),
        Arc::new(luka::clock::RandomIds),
        settings,
    )
    .unwrap();
    let catalog = luka::domain::Catalog::club_default();
    kiosk.apply_catalog(&catalog).unwrap();
    let mut football_sales = Vec::new();
    for _ in 0..2 {
        let s = kiosk.start_vipps_sale(&tickets(1, 0), "").unwrap();
        wait_created(&football_sim, &s.reference).await;
        football_sim.approve(&s.reference).unwrap();
        let done = kiosk.wait_final(s.id, WAIT).await.unwrap();
        assert_eq!(done.status, SaleStatus::Paid);
        football_sales.push(done);
    }
    let mut coffee = luka::domain::Cart::new();
    coffee.add_product(catalog.get("kaffe").unwrap());
    kiosk.cash_sale(&coffee, Money::nok(10_000), "").unwrap();
    kiosk
        .apply_hub_catalog(&catalog, Some("Håndballkamp"), Some("Håndball"))
        .unwrap();
    let s = kiosk.start_vipps_sale(&tickets(1, 0), "").unwrap();
    wait_created(&handball_sim, &s.reference).await;
    handball_sim.approve(&s.reference).unwrap();
    assert_eq!(
        kiosk.wait_final(s.id, WAIT).await.unwrap().status,
        SaleStatus::Paid
    );
    kiosk
        .refund(football_sales[0].id, Money::nok(5_000), "Feil billett")
        .unwrap();
    let refunded = || {
        store
            .read(|r| r.refunds(football_sales[0].id))
            .unwrap()
            .iter()
            .all(|f| f.status == "done")
    };
    assert!(
        eventually(WAIT, refunded).await,
        "the refund never finished"
    );
    Day {
        dir,
        store,
        kiosk,
        running,
        football_sim,
        handball_sim,
        books,
        handle,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_units_books_split_by_department_and_each_msn_reconciled_on_its_own() {
    let day = a_day_under_two_units().await;
    let catalog = luka::domain::Catalog::club_default();
    let ticket = catalog.get("voksen").unwrap().price.minor();
    let coffee = catalog.get("kaffe").unwrap().price.minor();

    // The signed webhook's bodies name the department, and for Vipps the
    // MSN the money went to.
    let now = time::OffsetDateTime::now_utc();
    let events = day
        .store
        .read(|r| {
            let refund = r.refunds(1)?[0].id;
            Ok([
                luka::bookkeeping::events::sale_completed(r, 3, now)?,
                luka::bookkeeping::events::sale_completed(r, 4, now)?,
                luka::bookkeeping::events::sale_refunded(r, 1, refund, 5_000, 9, now)?,
            ])
        })
        .unwrap();
    let unit = |e: &serde_json::Value| (e["data"]["department"].clone(), e["data"]["msn"].clone());
    assert_eq!(
        unit(&events[0]),
        ("10".into(), serde_json::Value::Null),
        "cash: no MSN"
    );
    assert_eq!(unit(&events[1]), ("20".into(), "234567".into()));
    assert_eq!(unit(&events[2]), ("10".into(), "123456".into()));
    assert!(!events[0]["data"].as_object().unwrap().contains_key("msn"));

    // The Z: its daily voucher is split by department and balances.
    let z = luka::reports::close_day_and_book(
        &day.store,
        "test-till",
        None,
        &day.books,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let depts: Vec<_> = z
        .per_department
        .iter()
        .map(|d| (d.department.as_str(), d.net.minor()))
        .collect();
    assert_eq!(depts, [("10", 2 * ticket + coffee - 5_000), ("20", ticket)]);
    let voucher = luka::domain::voucher::daily_sales(&z, &day.books.accounts).unwrap();
    assert_eq!(voucher.check(), Ok(()));
    let of = |d: &str| -> Vec<(u32, i64)> {
        voucher
            .lines
            .iter()
            .filter(|l| l.department.as_deref() == Some(d))
            .map(|l| (l.account, l.amount))
            .collect()
    };
    assert_eq!(
        of("10"),
        [
            (1900, coffee),
            (1903, 2 * ticket - 5_000),
            (3200, -(2 * ticket - 5_000)),
            (3030, -coffee)
        ]
    );
    assert_eq!(of("20"), [(1903, ticket), (3200, -ticket)]);
    assert!(voucher.lines.iter().all(|l| l.department.is_some()));

    // It reaches PowerOffice with the departments' ids, and the CSV file
    // with their codes.
    let (po, po_sink) = poweroffice(
        PowerOfficeSimConfig::training().with_departments(&[("10", "Fotball"), ("20", "Håndball")]),
    )
    .await;
    let csv_dir = day.dir.path().join("bilag");
    let csv_sink: Arc<dyn Sink> = Arc::new(luka::bookkeeping::csv::CsvSink::new(&csv_dir));
    let (stop, lanes) = start_lanes(
        day.store.clone(),
        vec![po_sink, csv_sink],
        day.handle.clone(),
    );
    lane_settled(&day.store, kind::POWEROFFICE).await;
    lane_settled(&day.store, kind::CSV).await;
    let posted = po.vouchers();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let (ten, twenty) = (po.department_id("10"), po.department_id("20"));
    let by_dept = |id| -> i64 {
        posted[0]
            .lines
            .iter()
            .filter(|l| l.department_id == id)
            .map(|l| l.amount)
            .sum::<i64>()
    };
    assert_eq!(
        (by_dept(ten), by_dept(twenty)),
        (0, 0),
        "each department balances"
    );
    assert!(posted[0].lines.iter().all(|l| l.department_id.is_some()));
    assert_eq!(po.balance(1903), 3 * ticket - 5_000);
    let month = &z.header.business_date[..7];
    let csv = std::fs::read_to_string(csv_dir.join(format!("vouchers-{month}.csv"))).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], luka::bookkeeping::csv::HEADER);
    assert!(rows[0].ends_with(",department"));
    assert_eq!(rows.len(), 1 + voucher.lines.len());
    assert_eq!(rows.iter().filter(|r| r.ends_with(",10")).count(), 4);
    assert_eq!(rows.iter().filter(|r| r.ends_with(",20")).count(), 2);

    // Vipps closes the date at both MSNs; each ledger is reconciled with
    // the sales paid to its MSN only.
    let date = day.football_sim.current_ledger_date();
    day.football_sim.close_ledger_date(date).unwrap();
    day.handball_sim.close_ledger_date(date).unwrap();
    let sources = [
        settlements(&day.football_sim, &SimConfig::training(), true, "10"),
        // Handball's Vipps pays out to its own bank account.
        VippsSettlements {
            bank_account: Some(1921),
            ..settlements(&day.handball_sim, &handball_sim_config(), false, "20")
        },
    ];
    let now = time::OffsetDateTime::now_utc();
    let mut recs = Vec::new();
    for source in &sources {
        assert!(!luka::bookkeeping::reconcile::reconciled(&day.store, source, date).unwrap());
        let out = luka::bookkeeping::reconcile::run(&day.store, source, date, &day.books, now)
            .await
            .unwrap();
        assert!(out.reconciliation.ok(), "{}", out.reconciliation.summary());
        assert_eq!(out.queued, 4, "fee and payout vouchers, to both lanes");
        assert!(luka::bookkeeping::reconcile::reconciled(&day.store, source, date).unwrap());
        recs.push(out);
    }
    let (f, h) = (&recs[0].reconciliation, &recs[1].reconciliation);
    assert_eq!(
        (
            f.ledger_id.as_str(),
            f.msn.as_deref(),
            f.matched_captures,
            f.matched_refunds
        ),
        ("302321", Some("123456"), 2, 1)
    );
    assert_eq!(
        (
            h.ledger_id.as_str(),
            h.msn.as_deref(),
            h.matched_captures,
            h.matched_refunds
        ),
        ("402321", Some("234567"), 1, 0)
    );
    assert_eq!(h.captured, ticket);
    for (rec, dept) in [(&recs[0], "10"), (&recs[1], "20")] {
        let numbers: Vec<_> = rec.vouchers.iter().map(|v| v.number.clone()).collect();
        let msn = rec.reconciliation.msn.clone().unwrap();
        assert_eq!(
            numbers,
            [
                format!("VIPPS-{msn}-{date}-FEES"),
                format!("VIPPS-{msn}-{date}-PAYOUT")
            ]
        );
        assert!(
            rec.vouchers
                .iter()
                .flat_map(|v| &v.lines)
                .all(|l| l.department.as_deref() == Some(dept))
        );
    }
    let stored = day
        .store
        .read(|r| r.reconciliations_on(&date.to_string()))
        .unwrap();
    let stored: Vec<_> = stored
        .iter()
        .map(|s| (s.ledger_id.as_str(), s.msn.as_deref()))
        .collect();
    assert_eq!(
        stored,
        [("302321", Some("123456")), ("402321", Some("234567"))]
    );

    day.handle.wake();
    lane_settled(&day.store, kind::POWEROFFICE).await;
    lane_settled(&day.store, kind::CSV).await;
    let posted = po.vouchers();
    assert_eq!(posted.len(), 5, "the Z, and fee and payout per unit");
    assert_eq!(po.balance(1903), 0, "Vipps clearing is exactly zero");
    assert_eq!(po.balance(7770), f.fees + h.fees);
    for (id, rec, bank) in [(ten, f, 1920), (twenty, h, 1921)] {
        let on = |account: u32| -> i64 {
            posted
                .iter()
                .flat_map(|v| &v.lines)
                .filter(|l| l.department_id == id && l.account == account)
                .map(|l| l.amount)
                .sum()
        };
        assert_eq!(on(7770), rec.fees);
        assert_eq!(
            on(bank),
            rec.payout,
            "each unit's payout to its own bank account"
        );
        assert_eq!(on(1903), 0, "each department's clearing is zero");
    }
    // A second run books nothing again.
    let again = luka::bookkeeping::reconcile::run(&day.store, &sources[1], date, &day.books, now)
        .await
        .unwrap();
    assert_eq!(again.queued, 0);
    // The organizer's day shows both units' settlements of the date.
    let organizer = day.kiosk.day_view().unwrap();
    let msns: Vec<_> = organizer
        .reconciliations
        .iter()
        .map(|r| r.msn.as_deref())
        .collect();
    assert_eq!(msns, [Some("123456"), Some("234567")]);

    let _ = stop.send(true);
    lanes.await.unwrap();
    day.running.shutdown().await;
    drop(day.kiosk);
    po.shutdown().await;
    day.football_sim.shutdown().await;
    day.handball_sim.shutdown().await;
}

/// A department the club never created in PowerOffice: the Z's voucher is
/// stopped with the code and the fix, nothing is posted without it, and the
/// lane says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_department_stops_the_poweroffice_voucher_with_the_reason() {
    let day = a_day_under_two_units().await;
    luka::reports::close_day_and_book(
        &day.store,
        "test-till",
        None,
        &day.books,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    // Only football's department exists.
    let (po, po_sink) =
        poweroffice(PowerOfficeSimConfig::training().with_departments(&[("10", "Fotball")])).await;
    let (stop, lanes) = start_lanes(day.store.clone(), vec![po_sink], day.handle.clone());
    let failed = || {
        !day.store
            .read(|r| r.sync_failed(kind::POWEROFFICE))
            .unwrap()
            .is_empty()
    };
    assert!(
        eventually(WAIT, failed).await,
        "the voucher was not stopped"
    );
    let items = day
        .store
        .read(|r| r.sync_failed(kind::POWEROFFICE))
        .unwrap();
    let reason = items[0].last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("department 20 does not exist in PowerOffice Go")
            && reason.contains("create it there")
            && reason.contains("[[vipps.units]] in luka.toml"),
        "{reason}"
    );
    assert!(
        po.vouchers().is_empty(),
        "never posted without the dimension"
    );
    assert_eq!(
        po.requests_to(luka::sim::poweroffice::Endpoint::PostCashJournal),
        0
    );
    let _ = stop.send(true);
    lanes.await.unwrap();
    day.running.shutdown().await;
    po.shutdown().await;
    day.football_sim.shutdown().await;
    day.handball_sim.shutdown().await;
}

/// Two units whose MSNs are settled in one ledger cannot be reconciled
/// each against its own sales: the second is refused with the reason,
/// rather than overwriting the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_units_in_one_ledger_are_refused_not_mixed() {
    let day = a_day_under_two_units().await;
    let date = day.football_sim.current_ledger_date();
    day.football_sim.close_ledger_date(date).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let football = settlements(&day.football_sim, &SimConfig::training(), true, "10");
    luka::bookkeeping::reconcile::run(&day.store, &football, date, &day.books, now)
        .await
        .unwrap();
    // Handball's unit, read (wrongly) from football's ledger.
    let mut wrong = settlements(&day.football_sim, &SimConfig::training(), false, "20");
    wrong.unit = Some(UnitSales {
        msn: "234567".into(),
        own: false,
    });
    let e = luka::bookkeeping::reconcile::run(&day.store, &wrong, date, &day.books, now)
        .await
        .unwrap_err();
    let e = e.to_string();
    assert!(
        e.contains("302321") && e.contains("MSN 123456") && e.contains("MSN 234567"),
        "{e}"
    );
    day.running.shutdown().await;
    day.football_sim.shutdown().await;
    day.handball_sim.shutdown().await;
}

/// `[[vipps.units]]` in luka.toml: one settlement source per unit with
/// keys, each with its own MSN, base URL and department.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_gives_one_settlement_source_per_unit() {
    let football_sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let h = handball_sim_config();
    let handball_sim = luka::sim::start(([127, 0, 0, 1], 0).into(), h.clone())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let unit = format!(
        "[[vipps.units]]\nname = \"Håndball\"\nmerchant_serial_number = \"234567\"\n\
         base_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
         subscription_key = \"{}\"\ndepartment = \"20\"\n",
        handball_sim.base_url(),
        h.client_id,
        h.client_secret,
        h.subscription_key
    );
    let cfg = write_till_config(dir.path(), &football_sim, "kiosk-2", "Luka IL", &unit);
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[vipps]\n",
        "[vipps]\nname = \"Fotball\"\ndepartment = \"10\"\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let config = luka::config::Config::load(Some(cfg.as_path())).unwrap();
    let sources = luka::app::reconcile_sources(&config, None).unwrap();
    let got: Vec<_> = sources
        .iter()
        .map(|s| {
            (
                s.merchant_serial_number.as_str(),
                s.unit.clone().map(|u| (u.msn, u.own)),
                s.department.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("123456", Some(("123456".to_string(), true)), Some("10")),
            ("234567", Some(("234567".to_string(), false)), Some("20")),
        ]
    );
    // Each reads its own ledger with its own keys.
    use luka::bookkeeping::reconcile::SettlementSource;
    assert_eq!(sources[0].ledger().await.unwrap().0, "302321");
    assert_eq!(sources[1].ledger().await.unwrap().0, "402321");
    football_sim.shutdown().await;
    handball_sim.shutdown().await;
}
