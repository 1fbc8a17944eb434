//! `systemctl stop luka` sends SIGTERM: the real binary must finish the
//! outbox item it has in flight (not abandon it), record the stop in the
//! journal, flush SQLite and exit on its own, not be killed by the signal.
//! The simulator runs in this test process with a slow network, so the
//! signal lands while a request to "Vipps" is still in the air.

use crate::support;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use luka::sim::{Faults, SimConfig};
use luka::store::{OutboxStatus, Store};
use support::write_till_config;
use tokio::io::{AsyncBufReadExt, BufReader};

fn sigterm(child: &tokio::process::Child) {
    let pid = child.id().expect("the child is running") as libc::pid_t;
    // SAFETY: kill(2) on a child we own with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
}

/// Polls the database (a read-only second connection, as `luka backup`
/// opens it; `Store::open` would race the till's own first migration) until
/// an outbox item is in flight.
async fn wait_in_flight(db: &Path) {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let busy =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| {
                    c.query_row(
                        "SELECT count(*) FROM outbox WHERE status = 'in_flight'",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                })
                .is_ok_and(|n| n > 0);
        if busy {
            return;
        }
        assert!(
            tokio::time::Instant::now() < give_up,
            "no outbox item ever went in flight"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_vipps_request_finishes_it_and_stops_cleanly() {
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    // Every request takes 3 s: long enough for the signal to land mid-flight.
    sim.set_faults(Faults {
        latency: Duration::from_secs(3),
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_till_config(dir.path(), &sim, "stop-till", "Stopp IL", "");
    let db = dir.path().join("luka.db");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&cfg)
        .args(["charge", "150"])
        .env("LUKA_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_in_flight(&db).await;
    sigterm(&child);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("luka stops after SIGTERM")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), None, "killed by the signal:\n{stderr}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "not paid, clean exit:\n{stderr}"
    );
    assert!(stderr.contains("Stopped by SIGTERM"), "{stderr}");

    // SQLite was flushed: the WAL is gone or empty once luka has exited.
    let wal = dir.path().join("luka.db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "WAL left with {wal_len} bytes");

    let line: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .expect("one JSON line"),
    )
    .unwrap();
    let sale_id = line["sale_id"].as_i64().unwrap();
    let store = Store::open(&db).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let items = store.read(|r| r.outbox_for_sale(sale_id)).unwrap();
    let create = items
        .iter()
        .find(|i| i.kind == "vipps.create")
        .expect("the create item");
    assert_eq!(
        create.status,
        OutboxStatus::Done,
        "the in-flight create was abandoned, not finished: {create:?}"
    );
    assert_eq!(line["state"], "awaiting", "{line}");
    assert_eq!(sim.payments().len(), 1, "the payment exists at Vipps once");
    let journal = store.read(|r| r.journal_entries(None)).unwrap();
    let kinds: Vec<&str> = journal.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"app.start"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"app.stop"), "{kinds:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_simulator_with_exit_0() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("simulate")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the simulator prints its URL")
        .unwrap()
        .unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    sigterm(&child);
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the simulator stops")
        .unwrap();
    assert_eq!(status.signal(), None);
    assert_eq!(status.code(), Some(0));
}
