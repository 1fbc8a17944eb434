//! Issue 14's scripted day, over the command line only, as a volunteer and
//! an organizer would run it over SSH: a production till (Vipps' test
//! environment played by the simulator on 127.0.0.1, a receipt printer that
//! writes its ESC/POS bytes to a file, a drawer on its kick port, two
//! volunteers). Cash and Vipps sales by two operators, a line correction, a
//! sale the customer refused, a cash and a partial Vipps return, the one
//! copy, the drawer opened without a sale, training on and off with one
//! training sale, X and Z. The X/Z figures are compared with figures
//! computed by hand below; the SAF-T file validates against the XSD and
//! carries the same counts; the journal verifies.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use luka::sim::SimConfig;
use serde_json::Value;

use crate::support::{escpos_decode, eventually};

struct Till {
    config: PathBuf,
}

impl Till {
    /// Runs `luka ARGS`; the exit code, its JSON output (one line or pretty),
    /// and what it said on standard error.
    fn run(&self, args: &[&str]) -> (i32, Value, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_luka"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.code().unwrap_or(-1),
            json,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// Runs a command that must succeed; its JSON.
    fn ok(&self, args: &[&str]) -> Value {
        let (code, json, err) = self.run(args);
        assert_eq!(code, 0, "luka {args:?} failed: {err}");
        json
    }
}

fn write_config(dir: &Path, sim: &luka::sim::SimHandle) -> PathBuf {
    let c = SimConfig::training();
    let path = dir.join("luka.toml");
    let code = luka::pin::PinHash::create("2468").unwrap();
    std::fs::write(
        &path,
        format!(
            "[till]\nid = \"kiosk-1\"\n\n[ui]\npin_hash = \"{pin}\"\n\n\
             [merchant]\nname = \"Testklubben\"\norg_number = \"974760673\"\n\n\
             [printer]\ndriver = \"file\"\npath = \"{printer}\"\nwidth_mm = 80\ndrawer_kick = true\n\n\
             [store]\npath = \"{db}\"\n\n[training]\nlisten = \"127.0.0.1:0\"\n\n\
             [vipps]\nenvironment = \"test\"\nbase_url = \"{url}\"\n\
             client_id = \"{id}\"\nclient_secret = \"{secret}\"\nsubscription_key = \"{key}\"\n\
             merchant_serial_number = \"{msn}\"\npoll_initial_delay_ms = 50\npoll_interval_ms = 500\n\n\
             [[operators]]\nid = \"1001\"\nname = \"Kari\"\ncode_hash = \"{code}\"\n\n\
             [[operators]]\nid = \"1002\"\nname = \"Ola\"\ncode_hash = \"{code}\"\n",
            pin = luka::pin::PinHash::create("1234").unwrap().as_str(),
            printer = dir.join("printer.bin").display(),
            db = dir.join("luka.db").display(),
            url = sim.base_url(),
            id = c.client_id,
            secret = c.client_secret,
            key = c.subscription_key,
            msn = c.merchant_serial_number,
            code = code.as_str(),
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A Vipps sale from the command line while the customer (the test) answers
/// on the phone: approves, or refuses.
async fn vipps_charge(
    till: &Till,
    sim: &luka::sim::SimHandle,
    args: &[&str],
    approve: bool,
) -> Value {
    let before = sim.payments().len();
    let child = Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&till.config)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        eventually(Duration::from_secs(30), || sim.payments().len() > before).await,
        "luka {args:?} created no payment"
    );
    let reference = sim.payments().last().unwrap().reference.clone();
    if approve {
        sim.approve(&reference).unwrap();
    } else {
        sim.reject(&reference).unwrap();
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.success(),
        approve,
        "luka {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn tally(v: &Value) -> (i64, i64) {
    let amount = v["amount"]["minor"]
        .as_i64()
        .or(v["amount"].as_i64())
        .unwrap_or_else(|| panic!("no amount in {v}"));
    (v["count"].as_i64().unwrap(), amount)
}

fn rows(v: &Value) -> Vec<(String, i64, i64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let (count, amount) = tally(r);
            (r["key"].as_str().unwrap().to_string(), count, amount)
        })
        .collect()
}

fn money(v: &Value) -> i64 {
    v["minor"]
        .as_i64()
        .or(v.as_i64())
        .unwrap_or_else(|| panic!("not money: {v}"))
}

/// The figures of the day, computed by hand from the script:
/// - sales: Kari's cash sale, 1 × voksen 150 + 2 × kaffe 30 = 210,00 (the
///   third kaffe taken out again); Ola's Vipps sale 250,00. 2 sales, 460,00.
/// - returns: 20,00 cash (Kari) and 50,00 Vipps (Ola): 2, −70,00; net 390,00.
/// - per method (payments in and out, so a sale and its return are 2):
///   cash 2, 210 − 20 = 190,00; Vipps 2, 250 − 50 = 200,00.
/// - per operator and method (sales counted, returns in the amount): Kari
///   cash 1, 190,00; Ola Vipps 1, 200,00.
/// - not paid: Ola's brus, 35,00, refused by the customer: 1 void.
/// - corrections: 1 line (one kaffe), 30,00.
/// - the one copy: of receipt 2 (250,00).
/// - training: 1 sale, 30,00, counted nowhere else.
/// - receipts: 2 sales receipts, 2 return receipts (3 and 4); the training
///   receipt is neither.
/// - drawer: opened once without a sale.
/// - cash: float 500,00 + 210,00 − 20,00 = 690,00 expected in the drawer.
fn check_figures(r: &Value) {
    assert_eq!(tally(&r["sales"]), (2, 46_000), "{r:#}");
    assert_eq!(tally(&r["returns"]).0, 2, "{r:#}");
    assert_eq!(tally(&r["returns"]).1.abs(), 7_000, "{r:#}");
    assert_eq!(money(&r["net"]), 39_000, "{r:#}");
    let per_method = rows(&r["per_payment"]);
    assert_eq!(
        per_method,
        [
            ("cash".to_string(), 2, 19_000),
            ("vipps".to_string(), 2, 20_000)
        ],
        "{r:#}"
    );
    assert_eq!(
        rows(&r["per_operator_payment"]),
        [
            ("1001/cash".to_string(), 1, 19_000),
            ("1002/vipps".to_string(), 1, 20_000)
        ],
        "{r:#}"
    );
    assert_eq!(tally(&r["voids"]), (1, 3_500), "{r:#}");
    assert_eq!(tally(&r["corrections"]), (1, 3_000), "{r:#}");
    assert_eq!(tally(&r["copies"]), (1, 25_000), "{r:#}");
    assert_eq!(tally(&r["training"]), (1, 3_000), "{r:#}");
    assert_eq!(r["receipts_printed"], 2, "{r:#}");
    assert_eq!(r["return_receipts_printed"], 2, "{r:#}");
    assert_eq!(r["drawer_openings_without_sale"], 1, "{r:#}");
    assert_eq!(money(&r["cash"]["float"]), 50_000, "{r:#}");
    assert_eq!(money(&r["cash"]["expected"]), 69_000, "{r:#}");
}

/// The value of every `<name>` element in a SAF-T file, in order.
fn values(xml: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    xml.match_indices(&open)
        .map(|(i, _)| {
            let rest = &xml[i + open.len()..];
            rest[..rest.find(&close).unwrap()].to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_day_over_the_cli_gives_the_hand_computed_x_z_and_saft() {
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let till = Till {
        config: write_config(dir.path(), &sim),
    };

    till.ok(&["cash", "float", "500"]);
    // Kari: a ticket and three coffees, one coffee taken out again; cash.
    let first = till.ok(&[
        "charge",
        "--product",
        "voksen",
        "--product",
        "kaffex3",
        "--remove",
        "kaffe",
        "--cash",
        "--tendered",
        "300",
        "--operator",
        "kari",
    ]);
    assert_eq!(
        (
            &first["state"],
            &first["amount"],
            &first["change"],
            &first["receipt_no"],
            &first["training"]
        ),
        (
            &"paid".into(),
            &21_000.into(),
            &9_000.into(),
            &1.into(),
            &false.into()
        )
    );
    // Ola: a Vipps sale the customer approves, one the customer refuses.
    let second = vipps_charge(&till, &sim, &["charge", "250", "--operator", "ola"], true).await;
    assert_eq!(
        (&second["state"], &second["receipt_no"]),
        (&"paid".into(), &2.into())
    );
    let refused = vipps_charge(
        &till,
        &sim,
        &["charge", "--product", "brus", "--operator", "ola"],
        false,
    )
    .await;
    assert_eq!(refused["state"], "unpaid", "{refused}");
    // Returns: 20,00 of the cash sale, 50,00 of the Vipps sale.
    let cash_back = till.ok(&[
        "refund",
        "1",
        "--amount",
        "20",
        "--reason",
        "Feil vare",
        "--operator",
        "kari",
    ]);
    assert_eq!(
        (&cash_back["method"], &cash_back["return_receipt_no"]),
        (&"cash".into(), &3.into())
    );
    let vipps_back = till.ok(&[
        "refund",
        "2",
        "--amount",
        "50",
        "--reason",
        "Kunden angret",
        "--operator",
        "ola",
    ]);
    assert_eq!(
        (
            &vipps_back["method"],
            &vipps_back["state"],
            &vipps_back["return_receipt_no"]
        ),
        (&"vipps".into(), &"done".into(), &4.into()),
        "{vipps_back}"
    );
    // The one copy of the last sale, and a second one refused.
    till.ok(&["receipt", "--last", "--copy"]);
    let (code, _, err) = till.run(&["receipt", "--last", "--copy"]);
    assert_ne!(code, 0);
    assert!(err.contains("copy"), "{err}");
    // The drawer opened without a sale.
    let opened = till.ok(&["drawer", "open", "--reason", "Veksel", "--operator", "kari"]);
    assert_eq!(opened["device"], "printer");
    // Training on, one training sale, off.
    assert_eq!(
        till.ok(&["training", "on", "--operator", "kari"])["changed"],
        true
    );
    let practice = till.ok(&["charge", "30", "--cash", "--operator", "kari"]);
    assert_eq!(practice["training"], true, "{practice}");
    assert_eq!(
        till.ok(&["training", "off", "--operator", "kari"])["changed"],
        true
    );
    // Whatever a short command left for the printer, printed before the X.
    till.ok(&["resume", "--timeout", "30"]);

    let x = till.ok(&["report", "x", "--json"]);
    check_figures(&x);
    let z = till.ok(&["report", "z", "--json", "--counted", "680"]);
    check_figures(&z);
    assert_eq!(money(&z["cash"]["counted"]), 68_000, "{z:#}");
    assert_eq!(money(&z["cash"]["difference"]), -1_000, "{z:#}");

    // On paper: the printer opened the drawer for the two cash sales' money
    // movements (the sale and the return) and the opening without a sale,
    // never for the training sale; the training receipt has no sales title.
    let paper = escpos_decode::decode(&std::fs::read(dir.path().join("printer.bin")).unwrap());
    let drawer = paper.iter().filter(|l| l.contains("[DRAWER]")).count();
    assert_eq!(drawer, 3, "{paper:#?}");
    assert!(
        paper.iter().any(|l| l.contains("Treningskvittering")),
        "{paper:#?}"
    );
    let titled = |t: &str| paper.iter().filter(|l| l.ends_with(t)).count();
    assert_eq!(
        titled("]Salgskvittering"),
        3,
        "two sales receipts and the copy: {paper:#?}"
    );
    assert_eq!(titled("]KOPI"), 2, "the copy says KOPI at its top and foot");
    assert_eq!(titled("]Returkvittering"), 2, "{paper:#?}");

    // SAF-T of the day: valid, and its Z carries the same counts.
    let today = &z["header"]["business_date"].as_str().unwrap().to_string();
    let file = dir.path().join("saft.xml");
    till.ok(&[
        "export",
        "saft",
        "--from",
        today,
        "--to",
        today,
        "--out",
        file.to_str().unwrap(),
    ]);
    let (valid, why) = crate::reports_day::xmllint(&file);
    assert!(valid, "{why}");
    let xml = std::fs::read_to_string(&file).unwrap();
    let last = |name: &str| values(&xml, name).last().cloned().unwrap_or_default();
    assert_eq!(last("reportReceiptNum"), "2");
    assert_eq!(last("reportReceiptCopyNum"), "1");
    assert_eq!(last("reportReturnNum"), "2");
    assert_eq!(last("reportVoidTransNum"), "1");
    assert_eq!(last("reportVoidTransAmnt"), "35.00");
    assert_eq!(last("reportTrainingNum"), "1");
    assert_eq!(last("reportTrainingAmnt"), "30.00");
    // Training on and off are their own events (TRAINON 13023, TRAINOFF 13024).
    let codes = values(&xml, "eventType");
    for code in ["TRAINON", "TRAINOFF"] {
        assert_eq!(
            codes.iter().filter(|c| *c == code).count(),
            1,
            "{code} in {codes:?}"
        );
    }
    let verified = till.ok(&["journal", "verify", "--json"]);
    assert!(verified["problem"].is_null(), "{verified}");
    sim.shutdown().await;
}
