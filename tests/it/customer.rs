//! Vipps sent to the customer's app (issue 16, part 3): the personal QR a
//! scanner read from the customer's Vipps app, or a typed mobile number. The
//! till creates the payment with `userFlow: PUSH_MESSAGE` and `customer`, no
//! QR, and then it is the same Vipps sale: polled, captured, receipted and
//! journaled. Against the simulator on loopback with a real SQLite file; the
//! traffic is checked against the ePayment spec when the rig stops.

use std::time::Duration;

use luka::domain::{Customer, PaymentPhase, SaleStatus, UnpaidReason};
use luka::kiosk::KioskEvent;
use luka::sim::SimConfig;
use luka::vipps::dto::UserFlow;
use serde_json::Value;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(20);
const QR: &str = "https://qr.vipps.no/28/2/01/031/4791234567?v=1";

/// The create request the simulator got for `reference`.
fn create_body(rig: &Rig, reference: &str) -> Value {
    rig.sim
        .exchanges()
        .into_iter()
        .find(|e| e.operation == "createPayment" && e.reference.as_deref() == Some(reference))
        .and_then(|e| e.request_body)
        .expect("a create request")
}

fn journal(rig: &Rig, sale_id: i64) -> Vec<(String, Value)> {
    rig.store
        .read(|r| r.journal_entries(Some(sale_id)))
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.data))
        .filter(|(k, _)| !k.starts_with("receipt."))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_phone_number_gets_the_payment_in_the_app_and_it_is_captured() {
    let rig = rig().await;
    let mut events = rig.kiosk.subscribe();
    let customer = Customer::phone("912 34 567").unwrap();
    let sale = rig
        .kiosk
        .start_vipps_sale_to(&tickets(2, 0), "", Some(&customer))
        .unwrap();
    wait_created(&rig.sim, &sale.reference).await;

    let body = create_body(&rig, &sale.reference);
    assert_eq!(body["userFlow"], "PUSH_MESSAGE");
    assert_eq!(
        body["customer"],
        serde_json::json!({"phoneNumber": "4791234567"})
    );
    assert!(body.get("qrFormat").is_none(), "no QR asked for: {body}");
    let p = rig.sim.payment(&sale.reference).unwrap();
    assert_eq!((p.user_flow, p.redirect_url), (UserFlow::PushMessage, None));
    // The screen hears "sent to the customer", never a QR.
    let sent = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(KioskEvent::QrReady { .. }) => panic!("a QR for a push sale"),
                Ok(KioskEvent::SentToCustomer { sale_id, .. }) if sale_id == sale.id => break,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await;
    assert!(sent.is_ok(), "no SentToCustomer event");

    rig.sim.approve(&sale.reference).unwrap();
    let done = rig.kiosk.wait_final(sale.id, WAIT).await.unwrap();
    assert_eq!(done.status, SaleStatus::Paid);
    assert_eq!(done.receipt_no, Some(1));
    let v = sim_view(&rig.sim, &sale.reference);
    assert_eq!((v.captured, v.captures), (30_000, 1));
    let p = rig.store.read(|r| r.payment(sale.id)).unwrap();
    assert_eq!(p.phase, PaymentPhase::Captured);

    let entries = journal(&rig, sale.id);
    let kinds: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "sale.started",
            "payment.created",
            "payment.authorized",
            "sale.paid"
        ]
    );
    assert_eq!(entries[0].1["customer"], "phone", "the flow, journaled");
    let all = serde_json::to_string(&entries).unwrap();
    assert!(
        !all.contains("91234567"),
        "the number is personal data: never in the journal"
    );
    // Nor kept in the outbox once the sale is closed: the create request
    // that carried it is never sent again.
    let items = rig.store.read(|r| r.outbox_for_sale(sale.id)).unwrap();
    let create = items.iter().find(|i| i.kind == "vipps.create").unwrap();
    assert_eq!(create.payload["customer"], serde_json::json!({}));
    assert!(
        items
            .iter()
            .all(|i| !i.payload.to_string().contains("91234567")),
        "the number is gone from the outbox"
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_personal_qr_is_sent_whole_and_approved() {
    let rig = rig().await;
    let customer = Customer::personal_qr(&format!("{QR}\n")).unwrap();
    let sale = rig
        .kiosk
        .start_vipps_sale_to(&tickets(0, 1), "", Some(&customer))
        .unwrap();
    wait_created(&rig.sim, &sale.reference).await;
    assert_eq!(
        create_body(&rig, &sale.reference)["customer"],
        serde_json::json!({ "personalQr": QR })
    );
    rig.sim.approve(&sale.reference).unwrap();
    let done = rig.kiosk.wait_final(sale.id, WAIT).await.unwrap();
    assert_eq!((done.status, done.receipt_no), (SaleStatus::Paid, Some(1)));
    assert_eq!(journal(&rig, sale.id)[0].1["customer"], "personal_qr");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_who_declines_in_the_app_is_not_charged() {
    let rig = rig().await;
    let customer = Customer::phone("41234567").unwrap();
    let sale = rig
        .kiosk
        .start_vipps_sale_to(&tickets(1, 0), "", Some(&customer))
        .unwrap();
    wait_created(&rig.sim, &sale.reference).await;
    rig.sim.reject(&sale.reference).unwrap();
    let done = rig.kiosk.wait_final(sale.id, WAIT).await.unwrap();
    assert_eq!(done.status, SaleStatus::Unpaid);
    assert_eq!(done.unpaid_reason, Some(UnpaidReason::Aborted));
    assert_eq!(done.receipt_no, None);
    let v = sim_view(&rig.sim, &sale.reference);
    assert_eq!(
        (v.state.as_str(), v.captured, v.captures),
        ("ABORTED", 0, 0)
    );
    rig.stop().await;
}

/// A number Vipps cannot send to (here another country's: the spec takes
/// only Norwegian mobile numbers) and a scan that is not a personal Vipps
/// code (a product's barcode): Vipps refuses the create, nothing exists
/// there, and the sale closes at once with the reason the screen explains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_vipps_does_not_know_closes_the_sale_with_its_reason() {
    let rig = rig().await;
    for customer in [
        Customer::phone("+45 12 34 56 78").unwrap(),
        Customer::personal_qr("7038010009457").unwrap(),
    ] {
        let sale = rig
            .kiosk
            .start_vipps_sale_to(&tickets(1, 0), "", Some(&customer))
            .unwrap();
        let done = rig.kiosk.wait_final(sale.id, WAIT).await.unwrap();
        assert_eq!(done.status, SaleStatus::Unpaid, "{customer:?}");
        assert_eq!(done.unpaid_reason, Some(UnpaidReason::CustomerRefused));
        assert!(rig.sim.payment(&sale.reference).is_none());
    }
    assert!(
        rig.kiosk.wait_settled(WAIT).await.unwrap(),
        "no sale left hanging"
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_refuses_a_bad_number_before_calling_vipps_and_sells_by_scan() {
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_till_config(dir.path(), &sim, "kiosk-1", "Testklubben", "");
    let luka = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_luka"))
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .output()
            .unwrap()
    };

    for (number, says) in [
        ("1234", "not a phone number"),
        ("22 33 44 55", "start with 4 or 9"),
    ] {
        let out = luka(&["charge", "50", "--phone", number]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0));
        assert!(err.contains(says), "{err}");
    }
    let out = luka(&["charge", "50", "--phone", "91234567", "--cash"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap: --phone conflicts with --cash"
    );
    assert!(
        sim.exchanges()
            .iter()
            .all(|e| e.operation != "createPayment"),
        "nothing reached Vipps"
    );
    assert!(
        !dir.path().join("luka.db").exists() || {
            let store = luka::store::Store::open(&dir.path().join("luka.db")).unwrap();
            store.read(|r| r.open_sales()).unwrap().is_empty()
        }
    );

    // A scan from the command line: the customer approves in the app.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&cfg)
        .args([
            "charge",
            "--product",
            "kaffe",
            "--personal-qr",
            QR,
            "--timeout",
            "30",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(eventually(WAIT, || !sim.payments().is_empty()).await);
    let reference = sim.payments()[0].reference.clone();
    sim.approve(&reference).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("Sent to the customer's Vipps app"), "{err}");
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&line["state"], &line["customer"], &line["captured"]),
        (&"paid".into(), &"personal_qr".into(), &line["amount"])
    );
    sim.shutdown().await;
}
