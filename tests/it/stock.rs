//! Sold out and counts (issue 16, part 1) over the command line of a
//! production till: a count goes down with every paid sale and back with a
//! full return; a sale of more than is left, or of a sold-out product, is
//! refused before it starts; training sales leave the count alone; every
//! change by hand is journaled with the operator.

use std::path::Path;
use std::process::Command;

use luka::sim::SimConfig;
use serde_json::Value;

fn luka(config: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn left(config: &Path, id: &str) -> Option<i64> {
    let (code, list, err) = luka(config, &["product"]);
    assert_eq!(code, 0, "{err}");
    list["stock"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["product_id"] == id)
        .and_then(|s| s["remaining"].as_i64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_go_down_with_sales_and_a_sold_out_product_is_refused() {
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[[operators]]\nid = \"1001\"\nname = \"Kari\"\ncode_hash = \"{}\"\n\n[training]\nlisten = \"127.0.0.1:0\"\n",
        luka::pin::PinHash::create("2468").unwrap().as_str()
    );
    let cfg = crate::support::write_till_config(dir.path(), &sim, "kiosk-1", "Testklubben", &extra);

    let (code, set, err) = luka(
        &cfg,
        &[
            "product",
            "polse",
            "--count",
            "3",
            "--low",
            "1",
            "--operator",
            "kari",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (&set["remaining"], &set["low_mark"], &set["sold_out"]),
        (&3.into(), &1.into(), &false.into())
    );
    let (code, _, err) = luka(&cfg, &["charge", "--product", "polsex2", "--cash"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(left(&cfg, "polse"), Some(1));
    let (code, _, err) = luka(&cfg, &["charge", "--product", "polsex2", "--cash"]);
    assert_ne!(code, 0);
    assert!(err.contains("only 1 Pølse i brød left"), "{err}");
    let (code, _, err) = luka(
        &cfg,
        &[
            "charge",
            "--product",
            "polse",
            "--product",
            "kaffe",
            "--cash",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(left(&cfg, "polse"), Some(0));
    let (code, _, err) = luka(&cfg, &["charge", "--product", "polse", "--cash"]);
    assert_ne!(code, 0);
    assert!(err.contains("Pølse i brød is sold out"), "{err}");

    // A partial return names no products; the full return puts them back.
    let (code, _, err) = luka(&cfg, &["refund", "2", "--amount", "10", "--reason", "Kald"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(left(&cfg, "polse"), Some(0));
    let (code, _, err) = luka(&cfg, &["refund", "2", "--reason", "Kald"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(left(&cfg, "polse"), Some(1), "the whole sale came back");

    // Training sales are not held to the count and take nothing from it.
    luka(&cfg, &["training", "on"]);
    let (code, practice, err) = luka(&cfg, &["charge", "--product", "polsex3", "--cash"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(practice["training"], true);
    luka(&cfg, &["training", "off"]);
    assert_eq!(left(&cfg, "polse"), Some(1));

    // Sold out by hand, and back.
    let (code, _, err) = luka(
        &cfg,
        &["product", "vaffel", "--sold-out", "--operator", "kari"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = luka(&cfg, &["charge", "--product", "vaffel", "--cash"]);
    assert_ne!(code, 0);
    assert!(err.contains("Vaffel is sold out"), "{err}");
    luka(&cfg, &["product", "vaffel", "--on-sale"]);
    let (code, _, err) = luka(&cfg, &["charge", "--product", "vaffel", "--cash"]);
    assert_eq!(code, 0, "{err}");
    // A new box: +10 on top of what is left.
    let (code, more, err) = luka(&cfg, &["product", "polse", "--add", "10"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(more["remaining"], 11);

    let (code, _, err) = luka(&cfg, &["product", "hamburger", "--sold-out"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("no product 'hamburger'") && err.contains("polse"),
        "{err}"
    );
    let (code, _, err) = luka(&cfg, &["product", "polse"]);
    assert_ne!(code, 0);
    assert!(err.contains("luka product polse --count 40"), "{err}");

    let store = luka::store::Store::open(&dir.path().join("luka.db")).unwrap();
    let changes: Vec<(String, Option<String>)> = store
        .read(|r| r.journal_entries(None))
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "stock.changed")
        .map(|e| {
            (
                e.data["product"].as_str().unwrap().to_string(),
                e.data["operator"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("polse".to_string(), Some("1001".to_string())),
            ("vaffel".to_string(), Some("1001".to_string())),
            ("vaffel".to_string(), None),
            ("polse".to_string(), None),
        ],
        "every change by hand, with who made it"
    );
    sim.shutdown().await;
}

/// Two customers, one pølse left: the second Vipps sale is refused while
/// the first is waiting for its customer, and allowed again once the first
/// closes unpaid (before, both were started and both could be paid).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_waiting_for_its_customer_holds_the_last_counted_items() {
    use luka::domain::{Cart, Catalog, SaleStatus};
    use luka::kiosk::{KioskError, StockChange};
    let rig = crate::support::rig().await;
    let k = &rig.kiosk;
    let catalog = Catalog::club_default();
    k.apply_catalog(&catalog).unwrap();
    k.set_stock(
        "polse",
        StockChange::Count {
            remaining: 2,
            low_mark: None,
        },
    )
    .unwrap();
    let polse = |n: u32| {
        let mut cart = Cart::new();
        for _ in 0..n {
            cart.add_product(catalog.get("polse").unwrap());
        }
        cart
    };
    let first = k.start_vipps_sale(&polse(1), "").unwrap();
    crate::support::wait_created(&rig.sim, &first.reference).await;
    match k.start_vipps_sale(&polse(2), "") {
        Err(KioskError::NotEnoughLeft { left, .. }) => assert_eq!(left, 1, "one is held"),
        other => panic!("two of two with one held: {other:?}"),
    }
    // A cash sale of the one not held goes through; then none is free.
    k.cash_sale(&polse(1), luka::domain::Money::nok(10_000), "")
        .unwrap();
    assert!(matches!(
        k.start_vipps_sale(&polse(1), ""),
        Err(KioskError::NotEnoughLeft { left: 0, .. })
    ));
    // The first customer walks away: what it held is free again.
    k.cancel_sale(first.id).unwrap();
    k.wait_final(first.id, std::time::Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(k.sale(first.id).unwrap().status, SaleStatus::Unpaid);
    k.start_vipps_sale(&polse(1), "").unwrap();
}
