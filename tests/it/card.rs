//! Sales paid on the club's own card terminal (issue 16, part 2), over the
//! command line of a production till with a file printer: recorded at once
//! with the slip's reference on the receipt, no drawer, returned the same
//! way, their own line in X/Z (SAF-T payment code 12002) and in the daily
//! voucher (the card clearing account). A till without a terminal refuses.

use std::path::{Path, PathBuf};
use std::process::Command;

use luka::sim::SimConfig;
use serde_json::Value;

use crate::support::escpos_decode;

/// A production till (Vipps' test environment on `sim`) with a file printer
/// and a drawer on its kick port; `till` is added to its `[till]` table.
pub fn config(dir: &Path, sim: &luka::sim::SimHandle, till: &str) -> PathBuf {
    let extra = format!(
        "[till]\nid = \"kiosk-1\"\n{till}\n\n\
         [printer]\ndriver = \"file\"\npath = \"{}\"\nwidth_mm = 80\ndrawer_kick = true\n\n\
         [bookkeeping.accounts]\ncard_clearing = 1581\n",
        dir.join("printer.bin").display()
    );
    let c = SimConfig::training();
    let path = dir.join("luka.toml");
    std::fs::write(
        &path,
        format!(
            "{extra}\n[ui]\npin_hash = \"{pin}\"\n\n[merchant]\nname = \"Testklubben\"\norg_number = \"974760673\"\n\n\
             [store]\npath = \"{db}\"\n\n[vipps]\nenvironment = \"test\"\nbase_url = \"{url}\"\n\
             client_id = \"{id}\"\nclient_secret = \"{secret}\"\nsubscription_key = \"{key}\"\n\
             merchant_serial_number = \"{msn}\"\n",
            pin = luka::pin::PinHash::create("1234").unwrap().as_str(),
            db = dir.join("luka.db").display(),
            url = sim.base_url(),
            id = c.client_id,
            secret = c.client_secret,
            key = c.subscription_key,
            msn = c.merchant_serial_number,
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

pub fn luka(config: &Path, args: &[&str]) -> (i32, Value, String) {
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

fn minor(v: &Value) -> i64 {
    v["minor"].as_i64().or(v.as_i64()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_sale_is_recorded_at_once_and_counted_apart() {
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &sim, "card_terminal = true");

    let (code, sale, err) = luka(
        &cfg,
        &[
            "charge",
            "--product",
            "kaffex2",
            "--card",
            "--terminal-ref",
            "004711",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (
            &sale["state"],
            &sale["method"],
            &sale["amount"],
            &sale["terminal_ref"]
        ),
        (
            &"paid".into(),
            &"card".into(),
            &6_000.into(),
            &"004711".into()
        )
    );
    let (code, _, err) = luka(
        &cfg,
        &["charge", "10", "--card", "--terminal-ref", &"9".repeat(41)],
    );
    assert_ne!(code, 0);
    assert!(err.contains("at most 40"), "{err}");
    let (code, back, err) = luka(
        &cfg,
        &["refund", "1", "--amount", "20", "--reason", "Feil vare"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (&back["method"], &back["state"], &back["return_receipt_no"]),
        (&"card".into(), &"done".into(), &2.into())
    );
    assert!(sim.payments().is_empty(), "nothing went to Vipps");

    let paper = escpos_decode::decode(&std::fs::read(dir.path().join("printer.bin")).unwrap());
    assert!(
        !paper.iter().any(|l| l.contains("[DRAWER]")),
        "no money crosses the till: {paper:#?}"
    );
    let row = |label: &str| {
        paper
            .iter()
            .filter(|l| l.starts_with(label))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(row("Betalt med").len(), 1, "{paper:#?}");
    assert!(
        row("Betalt med")[0].ends_with("Kort (terminal)"),
        "{paper:#?}"
    );
    assert!(row("Terminalref.")[0].ends_with("004711"), "{paper:#?}");
    assert!(
        row("Tilbakebetalt til")[0].ends_with("Kort (terminal)"),
        "{paper:#?}"
    );

    let (_, x, _) = luka(&cfg, &["report", "x", "--json"]);
    let card = x["per_payment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "card")
        .unwrap_or_else(|| panic!("{x:#}"));
    assert_eq!(
        (card["count"].as_i64(), minor(&card["amount"])),
        (Some(2), 4_000)
    );
    assert_eq!(
        minor(&x["cash"]["expected"]),
        0,
        "the drawer has nothing of it"
    );

    let (code, z, err) = luka(&cfg, &["report", "z", "--json"]);
    assert_eq!(code, 0, "{err}");
    let date = z["header"]["business_date"].as_str().unwrap().to_string();
    let saft = dir.path().join("saft.xml");
    let (code, _, err) = luka(
        &cfg,
        &[
            "export",
            "saft",
            "--from",
            &date,
            "--to",
            &date,
            "--out",
            saft.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (valid, why) = crate::reports_day::xmllint(&saft);
    assert!(valid, "{why}");
    let xml = std::fs::read_to_string(&saft).unwrap();
    assert!(
        xml.contains("<paymentType>CARD</paymentType>"),
        "the sale is paid by card"
    );
    assert!(
        xml.contains("<basicID>CARD</basicID>")
            && xml.contains("<predefinedBasicID>12002</predefinedBasicID>"),
        "CARD is declared as SAF-T payment code 12002"
    );
    let (code, _, err) = luka(
        &cfg,
        &[
            "export",
            "vouchers",
            "--date",
            &date,
            "--out",
            dir.path().join("v.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let csv = std::fs::read_to_string(dir.path().join("v.csv")).unwrap();
    assert!(
        csv.lines()
            .any(|l| l.contains(",1581,") && l.contains("40.00")),
        "the day's card takings debit the card clearing account:\n{csv}"
    );

    // A till whose counter has no terminal says how to set one up.
    let other = tempfile::tempdir().unwrap();
    let plain = config(other.path(), &sim, "");
    let (code, _, err) = luka(&plain, &["charge", "50", "--card"]);
    assert_ne!(code, 0);
    assert!(err.contains("[till] card_terminal = true"), "{err}");
    sim.shutdown().await;
}
