//! Several Vipps sales units and departments (issue 16, part 4). Two real
//! simulators on loopback, each one sales unit's merchant account with its
//! own MSN and keys (the way Vipps keeps each MSN's payments and bank
//! account apart), a real SQLite file, the real kiosk and the real binary.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use luka::domain::journal::JournalKind;
use luka::domain::{Money, SaleStatus, SalesUnit};
use luka::kiosk::{Kiosk, KioskSettings, Providers};
use luka::sim::{SimConfig, SimHandle};
use luka::store::Store;

use crate::support::{eventually, fast_settings, tickets, wait_created, write_till_config};

const WAIT: Duration = Duration::from_secs(20);

/// The handball section's own Vipps account: another MSN, other keys.
pub(crate) fn handball_sim_config() -> SimConfig {
    SimConfig {
        client_id: "9a11d8a1-0000-4000-8000-68616e64626c".into(),
        client_secret: "handball-secret".into(),
        subscription_key: "handball-subscription-key".into(),
        merchant_serial_number: "234567".into(),
        ..SimConfig::training()
    }
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

fn entries(store: &Store, kind: JournalKind) -> Vec<luka::store::JournalEntry> {
    store
        .read(|r| r.journal_entries(None))
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind.as_str())
        .collect()
}

async fn paid(k: &Kiosk, sim: &SimHandle, reference: &str, id: i64) {
    wait_created(sim, reference).await;
    sim.approve(reference).unwrap();
    k.wait_final(id, WAIT).await.unwrap();
    assert_eq!(k.sale(id).unwrap().status, SaleStatus::Paid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sale_is_paid_to_its_own_sales_unit_and_booked_under_its_department() {
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
    let settings = KioskSettings {
        sales_unit: football(),
        sales_units: vec![football(), handball()],
        ..fast_settings()
    };
    let (k, running) = Kiosk::start_with_providers(
        store.clone(),
        providers,
        Arc::new(luka::clock::SystemClock),
        Arc::new(luka::clock::RandomIds),
        settings,
    )
    .unwrap();
    let catalog = luka::domain::Catalog::club_default();
    // The first price list journals the unit the till sells under.
    k.apply_catalog(&catalog).unwrap();
    let unit = entries(&store, JournalKind::SalesUnitChanged);
    assert_eq!(unit.len(), 1);
    assert_eq!(
        (
            &unit[0].data["unit"],
            &unit[0].data["msn"],
            &unit[0].data["department"]
        ),
        (&"Fotball".into(), &"123456".into(), &"10".into())
    );

    // The football match: a Vipps sale goes to football's MSN only.
    let first = k.start_vipps_sale(&tickets(1, 0), "").unwrap();
    paid(&k, &football_sim, &first.reference, first.id).await;
    assert!(handball_sim.payment(&first.reference).is_none());
    let first = k.sale(first.id).unwrap();
    assert_eq!(
        (first.msn.as_deref(), first.department.as_deref()),
        (Some("123456"), Some("10"))
    );
    let (cash, _) = k.cash_sale(&tickets(0, 1), Money::nok(10_000), "").unwrap();
    assert_eq!(
        (cash.msn.as_deref(), cash.department.as_deref()),
        (None, Some("10")),
        "cash has no MSN, but its department"
    );

    // The hub's menu for the handball match names the handball unit: the
    // switch is journaled once, with the menu, and a second look changes
    // nothing.
    let n = k
        .apply_hub_catalog(&catalog, Some("Håndballkamp"), Some("Håndball"))
        .unwrap();
    assert_eq!(n, 2, "the menu and the unit");
    assert_eq!(
        k.apply_hub_catalog(&catalog, Some("Håndballkamp"), Some("Håndball"))
            .unwrap(),
        0
    );
    assert_eq!(k.sales_unit(), handball());
    let unit = entries(&store, JournalKind::SalesUnitChanged);
    assert_eq!(unit.len(), 2);
    assert_eq!(
        (
            &unit[1].data["unit"],
            &unit[1].data["msn"],
            &unit[1].data["was"]
        ),
        (&"Håndball".into(), &"234567".into(), &"Fotball".into())
    );
    let second = k.start_vipps_sale(&tickets(2, 0), "").unwrap();
    paid(&k, &handball_sim, &second.reference, second.id).await;
    assert!(football_sim.payment(&second.reference).is_none());
    let started = entries(&store, JournalKind::SaleStarted);
    assert_eq!(
        (&started[1].data["msn"], &started[1].data["department"]),
        (&"234567".into(), &"20".into()),
        "the signed start says where the money goes"
    );

    // The football sale's refund, made while the till sells for handball,
    // goes back through football's keys: the unit it was paid to.
    k.refund(first.id, Money::nok(2_000), "Feil billett")
        .unwrap();
    assert!(
        eventually(WAIT, || {
            football_sim
                .payment(&first.reference)
                .is_some_and(|p| p.refunds == 1)
        })
        .await,
        "the refund reached football's MSN"
    );

    // A menu naming a unit this till has no keys for never stops the till:
    // it sells under its own unit and journals that.
    k.apply_hub_catalog(&catalog, Some("Skirenn"), Some("Ski"))
        .unwrap();
    assert_eq!(k.sales_unit(), football());
    let third = k.start_vipps_sale(&tickets(1, 0), "").unwrap();
    paid(&k, &football_sim, &third.reference, third.id).await;

    // The X report splits the day by department and Vipps by unit, and the
    // parts add up to the whole.
    let x = luka::reports::x_report(&store, "test-till", time::OffsetDateTime::now_utc()).unwrap();
    let departments: Vec<_> = x
        .per_department
        .iter()
        .map(|d| (d.department.as_str(), d.sales.count, d.returns.count))
        .collect();
    assert_eq!(departments, [("10", 3, 1), ("20", 1, 0)]);
    let net: i64 = x.per_department.iter().map(|d| d.net.minor()).sum();
    assert_eq!(net, x.net.minor());
    let units: Vec<_> = x
        .per_vipps_unit
        .iter()
        .map(|u| (u.key.as_str(), u.amount.minor()))
        .collect();
    let price = |id: &str| catalog.get(id).unwrap().price.minor();
    assert_eq!(
        units,
        [
            ("123456", 2 * price("voksen") - 2_000),
            ("234567", 2 * price("voksen"))
        ]
    );
    // The signed cash transactions carry both, and the chain verifies.
    let trans: Vec<serde_json::Value> = store
        .read(|r| {
            let mut out = Vec::new();
            r.chain_rows(|row| {
                if let Some(t) = &row.trans {
                    out.push(serde_json::from_str(t).unwrap());
                }
                true
            })?;
            Ok(out)
        })
        .unwrap();
    let signed: Vec<_> = trans
        .iter()
        .map(|t| (t["department"].as_str(), t["payments"][0]["msn"].as_str()))
        .collect();
    assert_eq!(
        signed,
        [
            (Some("10"), Some("123456")),
            (Some("10"), None),
            (Some("20"), Some("234567")),
            (Some("10"), Some("123456")),
            (Some("10"), Some("123456")),
        ],
        "sale 1, cash, sale 2, the return of sale 1, sale 3"
    );
    let verified = store.verify_journal().unwrap();
    assert!(verified.ok(), "{verified:?}");

    running.shutdown().await;
    football_sim.shutdown().await;
    handball_sim.shutdown().await;
}

/// The wiring from `luka.toml`: `[[vipps.units]]` with its own keys, and
/// `[till] sales_unit`, through the real binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_till_sells_under_the_unit_its_config_names_with_that_units_keys() {
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
        "id = \"kiosk-2\"\n",
        "id = \"kiosk-2\"\nsales_unit = \"Håndball\"\n",
    );
    std::fs::write(&cfg, text).unwrap();

    let child = std::process::Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&cfg)
        .args(["charge", "50", "--timeout", "30"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(eventually(WAIT, || !handball_sim.payments().is_empty()).await);
    let reference = handball_sim.payments()[0].reference.clone();
    handball_sim.approve(&reference).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&line["state"], &line["msn"], &line["department"]),
        (&"paid".into(), &"234567".into(), &"20".into()),
        "{line}"
    );
    assert!(
        football_sim.payments().is_empty(),
        "nothing went to football's MSN"
    );
    let store = Store::open(&dir.path().join("luka.db")).unwrap();
    let sale = store.read(|r| r.sale(1)).unwrap();
    assert_eq!(
        (sale.msn.as_deref(), sale.department.as_deref()),
        (Some("234567"), Some("20"))
    );
    assert!(
        !err.contains(&h.client_secret) && !err.contains(&h.subscription_key),
        "no key in the log"
    );

    // A unit name the config does not have is refused with the fix.
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("sales_unit = \"Håndball\"", "sales_unit = \"Ski\"");
    std::fs::write(&cfg, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&cfg)
        .args(["charge", "50", "--timeout", "5"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        err.contains("[till] sales_unit") && err.contains("Vipps, Håndball"),
        "{err}"
    );
    football_sim.shutdown().await;
    handball_sim.shutdown().await;
}
