//! The Report API over real HTTP on 127.0.0.1: payments made, captured and refunded
//! through the ePayment API with `VippsClient` (and one day through the real kiosk),
//! then the ledger date read back with `ReportClient` across several pages, checked
//! against the money that moved and against `report.swagger.yaml`.

use crate::support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use luka::app::training_credentials;
use luka::domain::SaleStatus;
use luka::domain::settlement::{EntryType, SettlementEntry};
use luka::sim::{Faults, LedgerError, ReportConfig, SimConfig, SimHandle};
use luka::vipps::dto::{
    Amount, CreatePaymentRequest, CustomerInteraction, PaymentMethod, PaymentMethodType, QrFormat,
    QrFormatKind, UserFlow,
};
use luka::vipps::report::{LedgerDay, ReportClient, ReportError, Topic};
use luka::vipps::{SystemInfo, VippsClient, VippsError};
use serde_json::Value;
use support::report_spec::{self, report_exchanges};
use support::*;
use time::Date;

const PAGE: usize = 7;

async fn sim_with_pages(page_size: usize) -> SimHandle {
    let cfg = SimConfig {
        report: ReportConfig {
            page_size,
            ..ReportConfig::default()
        },
        ..SimConfig::training()
    };
    luka::sim::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .unwrap()
}

fn clients(sim: &SimHandle) -> (VippsClient, ReportClient) {
    let creds = training_credentials(&sim.config());
    let t = Duration::from_secs(5);
    let sys = SystemInfo::default();
    let base = sim.base_url();
    (
        VippsClient::new(&base, creds.clone(), sys.clone(), t).unwrap(),
        ReportClient::new(&base, creds, sys, t).unwrap(),
    )
}

/// Create, approve as the customer, capture in full.
async fn paid(vipps: &VippsClient, sim: &SimHandle, reference: &str, value: i64) {
    let req = CreatePaymentRequest {
        amount: Amount::nok(value),
        customer: None,
        customer_interaction: Some(CustomerInteraction::CustomerPresent),
        industry_data: None,
        payment_method: PaymentMethod {
            kind: PaymentMethodType::Wallet,
        },
        profile: None,
        reference: reference.into(),
        return_url: None,
        user_flow: UserFlow::Qr,
        expires_at: None,
        qr_format: Some(QrFormat {
            format: QrFormatKind::TextTargetUrl,
            size: None,
        }),
        payment_description: None,
        receipt: None,
        metadata: None,
        receipt_url: None,
    };
    vipps
        .create_payment(&req, &format!("c-{reference}"))
        .await
        .unwrap();
    sim.approve(reference).unwrap();
    let key = format!("k-{reference}");
    vipps
        .capture(reference, Amount::nok(value), &key)
        .await
        .unwrap();
}

/// The ledger dates from `first` through today (more than one only if the test ran
/// across Oslo midnight), closed, so their reports are final.
fn close_through_today(sim: &SimHandle, first: Date) -> Vec<Date> {
    let mut dates = vec![first];
    while *dates.last().unwrap() < sim.current_ledger_date() {
        dates.push(dates.last().unwrap().next_day().unwrap());
    }
    for d in &dates {
        sim.close_ledger_date(*d).unwrap();
    }
    dates
}

async fn ready(
    report: &ReportClient,
    sim: &SimHandle,
    topic: Topic,
    dates: &[Date],
) -> Vec<SettlementEntry> {
    let mut rows = Vec::new();
    for d in dates {
        match report
            .ledger_day(&sim.ledger_id(), topic, *d)
            .await
            .unwrap()
        {
            LedgerDay::Ready(r) => rows.extend(r),
            LedgerDay::NotReady => panic!("{d} was closed but is not ready"),
        }
    }
    rows
}

fn sum(rows: &[SettlementEntry], t: EntryType) -> i64 {
    rows.iter()
        .filter(|r| r.entry_type == t)
        .map(|r| r.amount)
        .sum()
}

/// The raw items of every 200 by-date answer for `topic`, in order.
fn raw_items(sim: &SimHandle, topic: &str) -> Vec<Value> {
    report_exchanges(&sim.exchanges())
        .into_iter()
        .filter(|e| e.status == Some(200) && e.path.contains(&format!("/{topic}/dates/")))
        .filter(|e| {
            e.response_body
                .as_ref()
                .is_some_and(|b| b["tryLater"] == false)
        })
        .flat_map(|e| {
            e.response_body.clone().unwrap()["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

fn assert_balances_chain_to_zero(items: &[Value]) {
    let mut balance = 0;
    for it in items {
        assert_eq!(it["balanceBefore"].as_i64(), Some(balance), "{it}");
        balance += it["amount"].as_i64().unwrap();
        assert_eq!(it["balanceAfter"].as_i64(), Some(balance), "{it}");
    }
    assert_eq!(balance, 0, "the balance ends at 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_day_adds_up_across_pages_and_matches_the_spec() {
    let sim = sim_with_pages(PAGE).await;
    let (vipps, report) = clients(&sim);
    let first = sim.current_ledger_date();
    let mut captured = HashMap::new();
    for i in 0..25 {
        let (reference, value) = (format!("report-sale-{i:04}"), 5_000 + i * 1_337);
        paid(&vipps, &sim, &reference, value).await;
        captured.insert(reference, value);
    }
    vipps
        .refund("report-sale-0003", Amount::nok(5_000 + 3 * 1_337), "r-3")
        .await
        .unwrap();
    vipps
        .refund("report-sale-0010", Amount::nok(2_500), "r-10")
        .await
        .unwrap();
    let refunded = 5_000 + 3 * 1_337 + 2_500;

    // Open: the rows so far are there but `tryLater` says they are not final.
    let today = sim.current_ledger_date();
    for topic in [Topic::Funds, Topic::Fees] {
        let day = report
            .ledger_day(&sim.ledger_id(), topic, today)
            .await
            .unwrap();
        assert_eq!(day, LedgerDay::NotReady, "{topic:?} before closing");
    }
    let tomorrow = today.next_day().unwrap();
    let future = report
        .ledger_day(&sim.ledger_id(), Topic::Funds, tomorrow)
        .await
        .unwrap();
    assert_eq!(
        future,
        LedgerDay::NotReady,
        "a date that has not begun (404)"
    );
    let statuses: Vec<Option<u16>> = report_exchanges(&sim.exchanges())
        .iter()
        .map(|e| e.status)
        .collect();
    assert!(
        statuses.contains(&Some(404)) && statuses.contains(&Some(200)),
        "{statuses:?}"
    );

    let dates = close_through_today(&sim, first);
    let funds = ready(&report, &sim, Topic::Funds, &dates).await;
    let fees = ready(&report, &sim, Topic::Fees, &dates).await;

    let cfg = ReportConfig::default();
    let total: i64 = captured.values().sum();
    let fee_total: i64 = captured.values().map(|v| cfg.capture_fee(*v)).sum();
    assert_eq!(sum(&funds, EntryType::Capture), total);
    assert_eq!(sum(&funds, EntryType::Refund), -refunded);
    assert_eq!(sum(&fees, EntryType::CaptureFee), fee_total);
    assert_eq!(sum(&funds, EntryType::FeesRetained), -fee_total);
    assert_eq!(
        sum(&funds, EntryType::ScheduledForPayout),
        -(total - refunded - fee_total)
    );
    assert_eq!(
        funds.iter().map(|r| r.amount).sum::<i64>(),
        0,
        "funds end at 0"
    );
    assert_eq!(
        fees.iter().map(|r| r.amount).sum::<i64>(),
        0,
        "fees settled"
    );

    let captures: Vec<&str> = funds
        .iter()
        .filter(|r| r.entry_type == EntryType::Capture)
        .filter_map(|r| r.reference.as_deref())
        .collect();
    let wanted: HashSet<&str> = captured.keys().map(String::as_str).collect();
    assert_eq!(captures.len(), 25);
    assert_eq!(
        captures.iter().copied().collect::<HashSet<_>>(),
        wanted,
        "every capture's reference"
    );
    for r in fees
        .iter()
        .filter(|r| r.entry_type == EntryType::CaptureFee)
    {
        let reference = r.reference.as_deref().unwrap();
        assert_eq!(
            r.amount,
            cfg.capture_fee(captured[reference]),
            "fee of {reference}"
        );
    }
    let psps: HashSet<&str> = funds
        .iter()
        .chain(&fees)
        .map(|r| r.psp_reference.as_str())
        .collect();
    assert_eq!(
        psps.len(),
        funds.len() + fees.len(),
        "pspReference unique per row"
    );
    assert!(
        funds
            .iter()
            .all(|r| r.currency == "NOK" && !r.time.is_empty())
    );

    // 25 + 2 + 2 funds rows at 7 a page: the cursor was followed.
    let paged = report_exchanges(&sim.exchanges())
        .iter()
        .filter(|e| e.path.contains("cursor="))
        .count();
    assert!(paged >= 3, "only {paged} follow-up pages");
    if dates.len() == 1 {
        assert_balances_chain_to_zero(&raw_items(&sim, "funds"));
        assert_balances_chain_to_zero(&raw_items(&sim, "fees"));
    }

    let ledgers = report.ledgers().await.unwrap();
    assert_eq!(ledgers.len(), 1);
    assert_eq!(ledgers[0].ledger_id, sim.ledger_id());
    assert_eq!(ledgers[0].settles_for_recipient_handles, ["api:123456"]);
    assert_eq!(report.token_fetches(), 1, "one token for every page");

    report_spec::validate_all(&sim.exchanges());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_rows_foreign_captures_and_dropped_captures_reach_the_till() {
    let sim = sim_with_pages(4).await;
    let (vipps, report) = clients(&sim);
    let first = sim.current_ledger_date();
    for i in 0..3 {
        paid(&vipps, &sim, &format!("mismatch-{i:04}"), 10_000).await;
    }
    let odd = sim.inject_unknown_entry("interchange-adjustment", -42);
    let foreign = sim.inject_foreign_capture("never-journaled-1", 5_000);
    sim.drop_capture("mismatch-0001").unwrap();
    assert_eq!(
        sim.drop_capture("no-such-sale"),
        Err(LedgerError::NoCapture("no-such-sale".into()))
    );

    let dates = close_through_today(&sim, first);
    let funds = ready(&report, &sim, Topic::Funds, &dates).await;
    let by_psp = |p: &str| funds.iter().find(|r| r.psp_reference == p).unwrap().clone();
    let adj = by_psp(&odd);
    assert_eq!(
        adj.entry_type,
        EntryType::Other("interchange-adjustment".into())
    );
    assert_eq!((adj.amount, adj.reference), (-42, None));
    assert_eq!(
        by_psp(&foreign).reference.as_deref(),
        Some("never-journaled-1")
    );
    let refs: Vec<&str> = funds
        .iter()
        .filter_map(|r| r.reference.as_deref())
        .collect();
    assert!(
        !refs.contains(&"mismatch-0001"),
        "the dropped capture is gone"
    );
    let fee = ReportConfig::default().capture_fee(10_000) * 2
        + ReportConfig::default().capture_fee(5_000);
    let payout = -(20_000 + 5_000 - 42 - fee);
    assert_eq!(sum(&funds, EntryType::ScheduledForPayout), payout);

    // A closed date is final.
    let closed = sim.drop_capture("mismatch-0002");
    assert!(matches!(closed, Err(LedgerError::Closed(_))), "{closed:?}");
    assert_eq!(
        sim.close_ledger_date(first),
        Ok(()),
        "closing twice is a no-op"
    );

    // After an early close, a sale lands on the next date, which can be closed too;
    // the closed date's report does not change.
    let last = *dates.last().unwrap();
    let next = last.next_day().unwrap();
    let far = next.next_day().unwrap();
    assert_eq!(
        sim.close_ledger_date(far),
        Err(LedgerError::NotStarted(far))
    );
    paid(&vipps, &sim, "late-sale-0001", 20_000).await;
    assert_eq!(sim.current_ledger_date(), next);
    sim.close_ledger_date(next).unwrap();
    let late = ready(&report, &sim, Topic::Funds, &[next]).await;
    let kinds: Vec<&str> = late.iter().map(|r| r.entry_type.as_str()).collect();
    assert_eq!(kinds, ["capture", "fees-retained", "scheduled-for-payout"]);
    assert_eq!(ready(&report, &sim, Topic::Funds, &dates).await, funds);

    // The validator is not blind: the unknown type breaks the spec's enum, every other
    // answer passes.
    let exchanges = sim.exchanges();
    let (bad, good): (Vec<_>, Vec<_>) = report_exchanges(&exchanges).into_iter().partition(|e| {
        e.response_body
            .as_ref()
            .is_some_and(|b| b.to_string().contains("interchange-adjustment"))
    });
    assert_eq!(bad.len(), 2, "the page with the odd row, read twice");
    for ex in bad {
        let why = report_spec::validate_exchange(ex).unwrap_err();
        assert!(why.contains("entryType"), "{why}");
    }
    assert!(
        good.iter()
            .all(|e| report_spec::validate_exchange(e).is_ok())
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_classified_for_retry() {
    let sim = sim_with_pages(PAGE).await;
    let (_, report) = clients(&sim);
    let today = sim.current_ledger_date();

    let wrong = report
        .ledger_day("999999", Topic::Funds, today)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &wrong,
            ReportError::Vipps(VippsError::Http { status: 403, .. })
        ),
        "{wrong}"
    );
    assert!(!wrong.is_retryable());
    let bad_id = report
        .ledger_day("../x", Topic::Funds, today)
        .await
        .unwrap_err();
    assert!(!bad_id.is_retryable(), "{bad_id}");

    sim.set_faults(Faults {
        error_5xx_rate: 1.0,
        ..Faults::default()
    });
    let down = report
        .ledger_day(&sim.ledger_id(), Topic::Funds, today)
        .await
        .unwrap_err();
    assert!(down.is_retryable(), "{down}");
    sim.set_faults(Faults::default());

    let http = reqwest::Client::new();
    let path = format!(
        "{}/report/v2/ledgers/{}/funds/dates/{today}",
        sim.base_url(),
        sim.ledger_id()
    );
    let anon = http.get(&path).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let body: Value = anon.json().await.unwrap();
    assert_eq!(body["code"], "Unauthorized", "the spec's 401 shape: {body}");
    let ledgers = http
        .get(format!("{}/settlement/v1/ledgers", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ledgers.status(), 401);

    report_spec::validate_all(&sim.exchanges());
    sim.shutdown().await;
}

/// The real till path: sales through the kiosk, approved on the "phone", captured by
/// the till's outbox, found on the ledger under the till's own references.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_sales_appear_on_the_ledger_under_their_references() {
    let rig = rig().await;
    let first = rig.sim.current_ledger_date();
    let mut sales = Vec::new();
    for adults in 1..=3 {
        let sale = rig.kiosk.start_vipps_sale(&tickets(adults, 0), "").unwrap();
        wait_created(&rig.sim, &sale.reference).await;
        rig.sim.approve(&sale.reference).unwrap();
        let done = rig
            .kiosk
            .wait_final(sale.id, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(done.status, SaleStatus::Paid);
        sales.push(sale);
    }
    let (_, report) = clients(&rig.sim);
    let dates = close_through_today(&rig.sim, first);
    let funds = ready(&report, &rig.sim, Topic::Funds, &dates).await;
    for sale in &sales {
        let row = funds
            .iter()
            .find(|r| r.reference.as_deref() == Some(sale.reference.as_str()))
            .unwrap_or_else(|| panic!("{} is not on the ledger", sale.reference));
        assert_eq!(
            (row.entry_type.clone(), row.amount),
            (EntryType::Capture, sale.total.minor())
        );
    }
    rig.stop().await;
}

/// A hand-written Report server for what the simulator never does: ledgers over two
/// pages, a page with `hasMore` but no cursor, `tryLater` on a later page, a row with
/// nothing but an amount.
async fn odd_server() -> String {
    use axum::extract::{Path, Query};
    use axum::routing::{get, post};
    use serde_json::json;
    let token = || async {
        axum::Json(json!({
            "token_type": "Bearer", "expires_in": "3600", "ext_expires_in": "3600",
            "expires_on": "0", "not_before": "0", "resource": "r", "access_token": "t"
        }))
    };
    let ledgers = |Query(q): Query<HashMap<String, String>>| async move {
        axum::Json(match q.get("cursor").map(String::as_str) {
            None => json!({"cursor": "cGFnZTI=", "items": [{"ledgerId": "1"}]}),
            _ => json!({"items": [{"ledgerId": "2", "settlesForRecipientHandles": ["NO:9"]}]}),
        })
    };
    let day = |Path((_, topic)): Path<(String, String)>,
               Query(q): Query<HashMap<String, String>>| async move {
        let first = !q.contains_key("cursor");
        axum::Json(match (topic.as_str(), first) {
            ("funds", _) => json!({"hasMore": true, "items": [{"amount": 1}]}),
            (_, true) => json!({"hasMore": true, "cursor": "Mg==", "items": [{"amount": 7}]}),
            (_, false) => json!({"hasMore": false, "tryLater": true, "items": []}),
        })
    };
    let app = axum::Router::new()
        .route("/accesstoken/get", post(token))
        .route("/settlement/v1/ledgers", get(ledgers))
        .route("/report/v2/ledgers/{id}/{topic}/dates/2024-05-02", get(day));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_client_follows_and_distrusts_pages() {
    let base = odd_server().await;
    let creds = training_credentials(&SimConfig::training());
    let report =
        ReportClient::new(&base, creds, SystemInfo::default(), Duration::from_secs(5)).unwrap();
    let ids: Vec<String> = report
        .ledgers()
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.ledger_id)
        .collect();
    assert_eq!(ids, ["1", "2"], "both pages of ledgers");
    let date = time::macros::date!(2024 - 05 - 02);
    let cut = report
        .ledger_day("1", Topic::Funds, date)
        .await
        .unwrap_err();
    assert!(matches!(cut, ReportError::Incomplete(_)), "{cut}");
    let later = report.ledger_day("1", Topic::Fees, date).await.unwrap();
    assert_eq!(
        later,
        LedgerDay::NotReady,
        "tryLater on page 2 voids page 1"
    );
}
