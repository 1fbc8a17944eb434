//! What the journal records besides sales (kassasystemforskriften § 2-7-1):
//! each price change the till starts selling with, with the old and the new
//! price (13021); each software update (13007); each export of the journal
//! (13020). Real SQLite files, the real kiosk and the real `luka` binary.

use std::sync::Arc;
use std::time::Duration;

use luka::domain::journal::{JournalKind, saft_code};
use luka::domain::{Catalog, Money, Product, VatCode};
use luka::kiosk::{Kiosk, KioskSettings, Running};
use luka::sim::SimConfig;
use luka::store::{JournalEntry, Store};

fn start(store: Arc<Store>) -> (Kiosk, Running) {
    luka::app::start_vipps_kiosk(
        store,
        "http://127.0.0.1:9",
        luka::app::training_credentials(&SimConfig::training()),
        Duration::from_secs(1),
        KioskSettings::default(),
    )
    .unwrap()
}

fn entries(store: &Store, kind: JournalKind) -> Vec<JournalEntry> {
    store
        .read(|r| r.journal_entries(None))
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_price_list_is_journaled_once_with_old_and_new_prices() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("luka.db")).unwrap());
    let (k, running) = start(store.clone());
    let first = Catalog::club_default();
    assert_eq!(
        k.apply_catalog(&first).unwrap(),
        0,
        "the first list is the start"
    );
    assert_eq!(k.apply_catalog(&first).unwrap(), 0, "nothing changed");

    let mut products: Vec<Product> = first
        .products()
        .iter()
        .filter(|p| p.id != "skjerf")
        .cloned()
        .collect();
    products.iter_mut().find(|p| p.id == "kaffe").unwrap().price = Money::nok(3_500);
    products.push(Product {
        id: "te".into(),
        name: "Te".into(),
        group: "Kiosk".into(),
        price: Money::nok(2_000),
        vat: VatCode::ReducedMiddle,
    });
    let second = Catalog::new(products).unwrap();
    assert_eq!(k.apply_catalog(&second).unwrap(), 3);
    assert_eq!(k.apply_catalog(&second).unwrap(), 0, "journaled once");

    let changed = entries(&store, JournalKind::PriceChanged);
    let by_product: Vec<(&str, Option<i64>, Option<i64>)> = changed
        .iter()
        .map(|e| {
            (
                e.data["product"].as_str().unwrap(),
                e.data["old"]["price"].as_i64(),
                e.data["new"]["price"].as_i64(),
            )
        })
        .collect();
    assert_eq!(
        by_product,
        [
            ("kaffe", Some(3_000), Some(3_500)),
            ("skjerf", Some(25_000), None),
            ("te", None, Some(2_000))
        ]
    );
    assert!(
        changed
            .iter()
            .all(|e| saft_code(&e.kind, &e.data).predefined == 13021)
    );
    let x = k.x_report().unwrap().report;
    assert_eq!(x.price_changes, 3, "the X counts them");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_version_is_journaled_as_an_update_at_its_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("luka.db");
    {
        let store = Store::open(&path).unwrap();
        // What an older Luka journaled at its last start.
        store
            .write(|w| {
                w.journal(
                    JournalKind::AppStart,
                    None,
                    serde_json::json!({ "till": "kiosk-1", "version": "0.0.9" }),
                    time::OffsetDateTime::now_utc(),
                )
            })
            .unwrap();
    }
    for _ in 0..2 {
        let store = Arc::new(Store::open(&path).unwrap());
        let (_k, running) = start(store.clone());
        running.shutdown().await;
    }
    let store = Store::open(&path).unwrap();
    let updated = entries(&store, JournalKind::AppUpdated);
    assert_eq!(
        updated.len(),
        1,
        "once, at the first start of the new version"
    );
    assert_eq!(updated[0].data["from"], "0.0.9");
    assert_eq!(updated[0].data["to"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        saft_code(&updated[0].kind, &updated[0].data).predefined,
        13007
    );
    let starts = entries(&store, JournalKind::AppStart);
    assert_eq!(starts.len(), 3);
    assert_eq!(starts[2].data["version"], env!("CARGO_PKG_VERSION"));

    // A brand-new till has nothing to update from.
    let fresh = Arc::new(Store::open(&dir.path().join("new.db")).unwrap());
    let (_k, running) = start(fresh.clone());
    running.shutdown().await;
    assert!(entries(&fresh, JournalKind::AppUpdated).is_empty());
}

/// `luka export saft` journals that the journal left the till (13020).
#[test]
fn a_saft_export_is_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("luka-training.db");
    let config = dir.path().join("luka.toml");
    std::fs::write(&config, format!("[store]\npath = \"{}\"\n", db.display())).unwrap();
    let out = dir.path().join("saft.xml");
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&config)
        .args(["export", "saft", "--from", &today, "--to", &today, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let store = Store::open(&db).unwrap();
    let exported = entries(&store, JournalKind::JournalExported);
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].data["what"], "saft");
    assert_eq!(exported[0].data["file"], out.display().to_string());
    assert_eq!(
        saft_code(&exported[0].kind, &exported[0].data).predefined,
        13020
    );
}

/// § 2-8-2 r: a sale cancelled or not paid is counted in the X with what it
/// would have come to, and the sales receipts are counted apart from the
/// return receipts (§ 2-8-2 l), the same on paper and in SAF-T.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_sales_are_counted_as_voids_and_receipts_apart_from_returns() {
    let rig = crate::support::rig().await;
    let k = rig.kiosk.clone();
    let cart = crate::support::tickets(1, 1);
    let total = cart.totals().unwrap().gross;
    let sale = k.start_vipps_sale(&cart, "").unwrap();
    crate::support::wait_created(&rig.sim, &sale.reference).await;
    k.cancel_sale(sale.id).unwrap();
    let closed = k
        .wait_final(sale.id, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(closed.status.is_final() && closed.receipt_no.is_none());
    let (paid, _) = k
        .cash_sale(&crate::support::tickets(1, 0), Money::nok(15_000), "")
        .unwrap();
    k.refund(paid.id, Money::nok(5_000), "Feil billett")
        .unwrap();
    let x = k.x_report().unwrap();
    assert_eq!((x.report.voids.count, x.report.voids.amount), (1, total));
    let lines = x.paper.sections.iter().flat_map(|s| s.rows.iter());
    let voids = lines
        .clone()
        .find(|(label, _)| label == "Avbrutte og ubetalte salg")
        .unwrap();
    assert!(voids.1.starts_with("1 "), "{voids:?}");
    assert!(
        lines
            .clone()
            .any(|(l, _)| l == "Returkvitteringer skrevet ut")
    );
    // § 2-8-2 d: the system, its version and the installation on every X/Z.
    let installation = rig.store.read(|r| r.installation_id()).unwrap();
    assert_eq!(installation.len(), 32, "{installation}");
    assert_eq!(x.report.header.installation, installation);
    let system = format!("Luka {}", env!("CARGO_PKG_VERSION"));
    assert!(lines.clone().any(|(l, v)| l == "System" && *v == system));
    assert!(
        lines
            .clone()
            .any(|(l, v)| l == "Installasjon" && *v == installation)
    );
    let doc = luka::printer::layout_report(
        &x.paper,
        &luka::printer::LayoutConfig::new(luka::printer::PaperWidth::Mm58),
    );
    let paper = doc.plain_lines().join("\n");
    assert!(
        paper.contains(&installation),
        "the whole id fits 58 mm paper:\n{paper}"
    );
    rig.stop().await;
}

/// A volunteer whose code is 1234.
fn volunteer(id: &str, name: &str) -> luka::kiosk::OperatorAccount {
    luka::kiosk::OperatorAccount {
        operator: luka::kiosk::Operator {
            id: id.into(),
            name: name.into(),
        },
        code: luka::pin::PinHash::create("1234").unwrap(),
        marks_stock: false,
    }
}

/// § 2-8-2 h: volunteers log in with their code for a shift; each sale and
/// return carries who made it; the organizer's visit nests over a shift;
/// the X shows each operator per payment method.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sale_carries_its_operator_and_the_x_splits_them_by_payment_method() {
    let rig = crate::support::rig_with(
        SimConfig::training(),
        KioskSettings {
            operators: vec![volunteer("1001", "Kari"), volunteer("1002", "Ola")],
            ..crate::support::fast_settings()
        },
    )
    .await;
    let k = rig.kiosk.clone();
    assert_eq!(k.operators().len(), 2);
    let wrong = k.operator_login("1001", "9999").unwrap_err();
    assert!(wrong.to_string().contains("wrong code for Kari"), "{wrong}");
    assert_eq!(k.current_operator().unwrap(), None);
    let unknown = k.operator_login("1003", "1234").unwrap_err();
    assert!(unknown.to_string().contains("1001, 1002"), "{unknown}");

    let kari = k.operator_login("1001", "1234").unwrap();
    assert_eq!(kari.name, "Kari");
    let cart = crate::support::tickets(1, 0);
    let (first, _) = k.cash_sale(&cart, Money::nok(15_000), "").unwrap();
    // The organizer looks in and leaves: the till is Kari's again.
    k.organizer_login(true).unwrap();
    k.refund(first.id, Money::nok(5_000), "Feil billett")
        .unwrap();
    k.organizer_logout().unwrap();
    assert_eq!(
        k.current_operator().unwrap().map(|o| o.id),
        Some("1001".into())
    );
    let vipps = k.start_vipps_sale(&cart, "").unwrap();
    crate::support::wait_created(&rig.sim, &vipps.reference).await;
    rig.sim.approve(&vipps.reference).unwrap();
    k.wait_final(vipps.id, Duration::from_secs(20))
        .await
        .unwrap();
    k.operator_logout().unwrap();
    assert_eq!(k.current_operator().unwrap(), None);

    // Switching volunteer: Ola logs in over nobody.
    k.operator_login("Ola", "1234").unwrap();
    k.cash_sale(&cart, Money::nok(20_000), "").unwrap();

    let x = k.x_report().unwrap().report;
    let ops: Vec<(String, i64, i64)> = x
        .per_operator
        .iter()
        .map(|r| (r.key.clone(), r.count, r.amount.minor()))
        .collect();
    assert_eq!(
        ops,
        [
            ("1001".to_string(), 2, 30_000),
            ("1002".to_string(), 1, 15_000),
            ("organizer".to_string(), 0, -5_000)
        ]
    );
    let by_method: Vec<(String, i64, i64)> = x
        .per_operator_payment
        .iter()
        .map(|r| (r.key.clone(), r.count, r.amount.minor()))
        .collect();
    assert_eq!(
        by_method,
        [
            ("1001/cash".to_string(), 1, 15_000),
            ("1001/vipps".to_string(), 1, 15_000),
            ("1002/cash".to_string(), 1, 15_000),
            ("organizer/cash".to_string(), 0, -5_000)
        ]
    );
    let journal = rig.store.read(|r| r.journal_entries(None)).unwrap();
    let failed = journal
        .iter()
        .filter(|e| e.kind == "operator.login_failed")
        .count();
    assert_eq!(
        failed, 1,
        "the wrong code is journaled; the unknown id never got that far"
    );
    rig.stop().await;
}

/// § 2-8-2 s: lines taken out of the cart before payment are journaled with
/// their amount and counted in the X and in SAF-T's reportCorrLines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cart_corrections_before_payment_are_counted_with_their_amount() {
    let rig = crate::support::rig().await;
    let k = rig.kiosk.clone();
    let mut cart = crate::support::tickets(2, 1);
    let adults = cart.lines()[0].clone();
    assert_eq!(adults.quantity, 2);
    k.cart_line_corrected(&adults, 1).unwrap();
    cart.set_quantity(0, 1).unwrap();
    let child = cart.remove(1).unwrap();
    k.cart_line_corrected(&child, child.quantity).unwrap();
    k.cart_line_corrected(&child, 0).unwrap(); // nothing left the cart
    k.cash_sale(&cart, Money::nok(15_000), "").unwrap();
    let x = k.x_report().unwrap().report;
    let expected = adults.unit_price.minor() + child.unit_price.minor();
    assert_eq!(
        (x.corrections.count, x.corrections.amount.minor()),
        (2, expected)
    );
    let corrected: Vec<JournalEntry> = entries(&rig.store, JournalKind::CartLineCorrected);
    assert_eq!(corrected.len(), 2);
    assert_eq!(corrected[0].data["product"], "voksen");
    assert_eq!(corrected[0].data["quantity"], 1);
    // Cash only: nothing went to Vipps, so no exchanges to check.
    rig.shut().await;
}
