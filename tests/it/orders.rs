//! Order numbers and the kitchen ticket (issue 16, part 5), over the
//! command line of a production till with a file printer: each paid sale,
//! cash or Vipps, gets the day's next order number, large on its receipt;
//! the kitchen gets a second ticket with the number and the lines only.

use std::time::Duration;

use luka::sim::SimConfig;

use crate::card::{config, luka};
use crate::support::{escpos_decode, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_paid_sale_gets_the_days_next_order_number_and_a_kitchen_ticket() {
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &sim, "kitchen_ticket = true");

    let (code, _, err) = luka(
        &cfg,
        &[
            "charge",
            "--product",
            "vaffelx2",
            "--product",
            "kaffe",
            "--cash",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // A Vipps sale: the number is given when Vipps has the money.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&cfg)
        .args(["charge", "--product", "polse"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(eventually(Duration::from_secs(30), || !sim.payments().is_empty()).await);
    sim.approve(&sim.payments()[0].reference).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Whatever the short command left for the printer.
    let (code, _, err) = luka(&cfg, &["resume", "--timeout", "30"]);
    assert_eq!(code, 0, "{err}");

    let paper = escpos_decode::decode(&std::fs::read(dir.path().join("printer.bin")).unwrap());
    let at = |text: &str| paper.iter().filter(|l| l.ends_with(text)).count();
    assert_eq!(
        at("]Ordre 1"),
        2,
        "the receipt and the kitchen ticket: {paper:#?}"
    );
    assert_eq!(at("]Ordre 2"), 2, "{paper:#?}");
    assert_eq!(at("]KJØKKEN"), 2, "{paper:#?}");
    assert_eq!(at("]2 x Vaffel"), 1, "{paper:#?}");
    assert_eq!(at("]1 x Pølse i brød"), 1, "{paper:#?}");
    // The kitchen's ticket has no prices: between KJØKKEN and its end, no "kr".
    let start = paper.iter().position(|l| l.ends_with("]KJØKKEN")).unwrap();
    let end = start
        + paper[start..]
            .iter()
            .position(|l| l.contains("Ikke kvittering"))
            .unwrap();
    assert!(
        !paper[start..end]
            .iter()
            .any(|l| l.contains("kr ") || l.contains(",00")),
        "{:#?}",
        &paper[start..end]
    );

    let store = luka::store::Store::open(&dir.path().join("luka.db")).unwrap();
    let entries = store.read(|r| r.journal_entries(None)).unwrap();
    let orders: Vec<i64> = entries
        .iter()
        .filter(|e| e.kind == "sale.paid")
        .filter_map(|e| e.data["order_no"].as_i64())
        .collect();
    assert_eq!(orders, [1, 2]);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.kind == "ticket.kitchen_printed")
            .count(),
        2
    );
    sim.shutdown().await;
}

/// The numbers restart each business day, per till (one database each).
#[test]
fn order_numbers_restart_each_day() {
    let dir = tempfile::tempdir().unwrap();
    let store = luka::store::Store::open(&dir.path().join("luka.db")).unwrap();
    let n = |date: &str| store.write(|w| w.next_order_no(date)).unwrap();
    assert_eq!(
        (n("2026-12-05"), n("2026-12-05"), n("2026-12-05")),
        (1, 2, 3)
    );
    assert_eq!(n("2026-12-06"), 1);
    assert_eq!(
        n("2026-12-05"),
        4,
        "a day's series never restarts within the day"
    );
}
