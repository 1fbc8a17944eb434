//! The books from the command line, on the real `luka` binary: a day sold
//! by the kiosk against the simulator, then `luka report z`, `luka
//! reconcile`, `luka export vouchers`, `luka sync status` and `luka sync`
//! into a CSV folder, as a treasurer would run them.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use luka::domain::SaleStatus;
use luka::sim::{SimConfig, SimHandle};
use support::*;

fn luka(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The simulator, a temp folder and a production `luka.toml` there with a CSV
/// books folder, as the real binary reads it.
async fn books_till() -> (SimHandle, tempfile::TempDir, PathBuf) {
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_till_config(
        dir.path(),
        &sim,
        "test-till",
        "Books IL",
        &format!(
            "[bookkeeping.csv]\ndir = \"{}\"\n",
            dir.path().join("vouchers").display()
        ),
    );
    (sim, dir, config)
}

/// A kiosk selling on the same database as the config in `dir`.
fn kiosk_on(dir: &Path, sim: &SimHandle) -> (luka::kiosk::Kiosk, luka::kiosk::Running) {
    let store = Arc::new(luka::store::Store::open(&dir.join("luka.db")).unwrap());
    luka::app::start_vipps_kiosk(
        store,
        &sim.base_url(),
        luka::app::training_credentials(&SimConfig::training()),
        Duration::from_secs(5),
        fast_settings(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_treasurer_closes_reconciles_and_exports_the_day() {
    let (sim, dir, config) = books_till().await;
    // The day, sold by a kiosk on the same database.
    {
        let (kiosk, running) = kiosk_on(dir.path(), &sim);
        for _ in 0..3 {
            let s = kiosk.start_vipps_sale(&tickets(1, 1), "").unwrap();
            wait_created(&sim, &s.reference).await;
            sim.approve(&s.reference).unwrap();
            let done = kiosk
                .wait_final(s.id, Duration::from_secs(20))
                .await
                .unwrap();
            assert_eq!(done.status, SaleStatus::Paid);
        }
        running.shutdown().await;
    }
    let date = sim.current_ledger_date().to_string();

    // Vipps has not closed the date yet.
    let (code, _, err) = luka(&config, &["reconcile", "--date", &date]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("has not closed"), "{err}");

    let (code, out, err) = luka(&config, &["report", "z", "--counted", "0"]);
    assert_eq!(code, 0, "{out}{err}");
    sim.close_ledger_date(sim.current_ledger_date()).unwrap();
    let (code, out, err) = luka(&config, &["reconcile", "--date", &date]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("OK: the journal and Vipps agree"), "{out}");
    assert!(out.contains("captured 600.00 kr"), "{out}");

    // The day's vouchers: the Z's daily sales, Vipps fees and payout.
    let (code, csv, err) = luka(&config, &["export", "vouchers", "--date", &date]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<&str> = csv.lines().collect();
    // The department column came last (issue 16, part 4): the first eight
    // are where they always were.
    assert_eq!(
        rows[0],
        "date,voucher_no,account,vat_code,amount,currency,text,reference,department"
    );
    assert!(
        rows.iter().any(|r| r.contains(",Z1,1903,,600.00,")),
        "{csv}"
    );
    assert!(
        rows.iter().any(|r| r.contains(",Z1,3200,6,-600.00,")),
        "{csv}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains(&format!("VIPPS-{date}-FEES,7770,,10.50,"))),
        "{csv}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains(&format!("VIPPS-{date}-PAYOUT,1920,,589.50,"))),
        "{csv}"
    );
    let clearing: i64 = rows[1..]
        .iter()
        .filter(|r| r.split(',').nth(2) == Some("1903"))
        .map(|r| {
            let amount = r.split(',').nth(4).unwrap().replace('.', "");
            amount.parse::<i64>().unwrap()
        })
        .sum();
    assert_eq!(
        clearing, 0,
        "1903 nets to zero over the day's vouchers:\n{csv}"
    );

    // The CSV lane has them waiting; `luka sync` writes them, once.
    let (code, out, _) = luka(&config, &["sync", "status"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("sync.csv") && out.contains("waiting      3"),
        "{out}"
    );
    let (code, out, err) = luka(&config, &["sync"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, _) = luka(&config, &["sync"]);
    assert_eq!(code, 0);
    let file = std::fs::read_dir(dir.path().join("vouchers"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let written = std::fs::read_to_string(file).unwrap();
    assert_eq!(
        written, csv,
        "the folder holds exactly the day's export, each voucher once"
    );
}

/// `luka sync` by hand while the till runs would re-queue the till's items in
/// flight and deliver a lane out of order: it is refused, with what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_by_hand_is_refused_while_the_till_runs_on_the_database() {
    let (sim, dir, config) = books_till().await;
    {
        let (kiosk, running) = kiosk_on(dir.path(), &sim);
        let (code, out, err) = luka(&config, &["sync"]);
        assert_ne!(code, 0, "{out}{err}");
        assert!(
            err.contains("another Luka is already working on") && err.contains("stop it first"),
            "{err}"
        );
        // Reading is still fine beside the till.
        let (code, out, err) = luka(&config, &["sync", "status"]);
        assert_eq!(code, 0, "{out}{err}");
        running.shutdown().await;
        drop(kiosk);
    }
    let (code, out, err) = luka(&config, &["sync"]);
    assert_eq!(code, 0, "once the till has stopped: {out}{err}");
}
