//! The real `luka` binary killed with SIGKILL at several points of a sale,
//! then `luka resume`: the sale ends paid exactly once, or unpaid with
//! nothing reserved. The simulator runs in this test process, so it
//! outlives the till, as Vipps would.

use crate::support;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use luka::sim::{SimConfig, SimHandle};
use support::{sim_view, write_till_config};

fn luka(config: &Path, args: &[&str], crash_at: Option<&str>) -> tokio::process::Child {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_luka"));
    cmd.arg("--config").arg(config).args(args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.env_remove("FAILPOINTS");
    if let Some(point) = crash_at {
        cmd.env("FAILPOINTS", format!("{point}=return"));
    }
    cmd.kill_on_drop(true);
    cmd.spawn().expect("luka binary starts")
}

fn killed_by_sigkill(out: &Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal() == Some(libc::SIGKILL)
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Approves every payment the simulator holds in CREATED, until stopped.
fn approve_all_until(sim: SimHandle, stop: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        while !*stop.borrow() {
            for p in sim.payments() {
                let _ = sim.approve(&p.reference);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}

async fn crash_then_resume(point: &str, approve_before_crash: bool) {
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_till_config(dir.path(), &sim, "crash-till", "Crash IL", "");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if approve_before_crash {
        approve_all_until(sim.clone(), stop_rx.clone());
    }
    let charge = luka(&cfg, &["charge", "150"], Some(point));
    let out = tokio::time::timeout(Duration::from_secs(30), charge.wait_with_output())
        .await
        .expect("charge ends")
        .unwrap();
    assert!(
        killed_by_sigkill(&out),
        "charge should have died at {point}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // The customer approves whatever is waiting; then the till comes back.
    approve_all_until(sim.clone(), stop_rx);
    let resume = luka(&cfg, &["resume", "--timeout", "30"], None);
    let out = tokio::time::timeout(Duration::from_secs(45), resume.wait_with_output())
        .await
        .expect("resume ends")
        .unwrap();
    let _ = stop_tx.send(true);
    assert!(
        out.status.success(),
        "resume failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "one JSON line per settled sale: {lines:?}");
    let line = &lines[0];
    let reference = line["reference"].as_str().unwrap();
    assert_eq!(line["state"], "paid", "{line}");
    assert_eq!(line["captured"], 15_000);
    let v = sim_view(&sim, reference);
    assert_eq!(
        (v.captured, v.captures),
        (15_000, 1),
        "captured exactly once"
    );
    assert_eq!(sim.payments().len(), 1, "exactly one payment");
    // A second resume finds nothing to do.
    let again = luka(&cfg, &["resume", "--timeout", "5"], None)
        .wait_with_output()
        .await
        .unwrap();
    assert!(again.status.success());
    assert!(json_lines(&again).is_empty());
    let store = luka::store::Store::open(&dir.path().join("luka.db")).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    // What the real binary sent, checked against the official schemas.
    support::openapi::validate_all(&sim.exchanges());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_commit_before_create() {
    crash_then_resume("after_sale_commit", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_create() {
    crash_then_resume("after_create", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_authorization_before_capture() {
    crash_then_resume("after_authorized", true).await;
}

/// SIGKILL from outside at several instants of a sale the customer approves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_from_outside_at_random_instants() {
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    approve_all_until(sim.clone(), stop_rx);
    // Kills before the sale is written leave nothing to check; the later
    // delays must have reached the simulator, or the test checked nothing.
    let mut reached_vipps = 0;
    for delay_ms in [5u64, 40, 120, 300, 700] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_till_config(dir.path(), &sim, "crash-till", "Crash IL", "");
        let mut charge = luka(&cfg, &["charge", "150"], None);
        // The scenario: a kill at an arbitrary instant, not at a known state.
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let _ = charge.start_kill();
        let _ = charge.wait().await;
        let out = luka(&cfg, &["resume", "--timeout", "30"], None)
            .wait_with_output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let store = luka::store::Store::open(&dir.path().join("luka.db")).unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok");
        for sale in store.read(|r| r.all_sales()).unwrap() {
            assert!(
                sale.status.is_final(),
                "sale {} left {}",
                sale.reference,
                sale.status
            );
            if let Some(p) = sim.payment(&sale.reference) {
                reached_vipps += 1;
                let v = sim_view(&sim, &sale.reference);
                assert!(v.captures <= 1, "captured twice");
                assert_eq!(
                    v.authorized - v.captured - v.cancelled,
                    0,
                    "reservation left open"
                );
                let paid = sale.status == luka::domain::SaleStatus::Paid;
                assert_eq!(
                    paid,
                    v.captured == sale.total.minor(),
                    "{} {:?}",
                    sale.reference,
                    p.state
                );
            }
        }
    }
    assert!(
        reached_vipps > 0,
        "no kill happened after a payment was created"
    );
    let _ = stop_tx.send(true);
    sim.shutdown().await;
}
