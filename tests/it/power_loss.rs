//! Power-loss realism (issue 8, RELIABILITY.md): the database the real till
//! makes is in WAL mode, and the till syncs the WAL to the medium on every
//! commit (`synchronous=FULL`). That is what lets a sale that was
//! committed survive a power cut: SIGKILL (the campaign) only proves the
//! process can die anywhere; a power cut also loses what the OS had not
//! yet written, and only an fsync before the commit returns makes the
//! commit safe from that.
//!
//! `journal_mode` is stored in the file (header bytes 18–19 are 2 for WAL);
//! `synchronous` is a setting of each connection, not of the file, so it is
//! read from the store's own connection and, where `strace` is installed,
//! seen in what the real binary does: one sync of the WAL per commit.

use crate::chaos;

use std::process::Stdio;
use std::time::Duration;

use chaos::till::{Kill, Secrets, Till, Wiring, run};

const WAIT: Duration = Duration::from_secs(30);

fn approve_everything(sim: &luka::sim::SimHandle) -> tokio::task::JoinHandle<()> {
    let sim = sim.clone();
    tokio::spawn(async move {
        loop {
            for p in sim.payments() {
                let _ = sim.approve(&p.reference);
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    })
}

fn journal_entries(till: &Till) -> i64 {
    till.peek()
        .query_row("SELECT COUNT(*) FROM journal", [], |r| r.get(0))
        .unwrap()
}

/// Runs `luka charge` under `strace -y` and counts the syncs of the WAL
/// (`fsync`/`fdatasync` on `luka.db-wal`); `None` without strace.
async fn wal_syncs_of_a_sale(till: &Till) -> Option<usize> {
    let have = std::process::Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        return None;
    }
    let trace = till.dir.path().join("strace.txt");
    let mut cmd = tokio::process::Command::new("strace");
    cmd.args(["-f", "-qq", "-y", "-e", "trace=fsync,fdatasync", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&till.config)
        .args(["charge", "100"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let r = run(cmd, Kill::Never, WAIT).await;
    assert!(r.status.success(), "{}", r.stderr);
    let text = std::fs::read_to_string(&trace).unwrap();
    Some(
        text.lines()
            .filter(|l| {
                (l.contains("fdatasync(") || l.contains(" fsync(")) && l.contains("luka.db-wal>")
            })
            .count(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tills_database_is_wal_and_every_commit_is_synced() {
    let secrets = Secrets::random();
    let sim = luka::sim::start(
        ([127, 0, 0, 1], 0).into(),
        secrets.sim_config(Duration::from_secs(600), 3),
    )
    .await
    .unwrap();
    let till = Till::new(
        "power-1",
        &secrets,
        &Wiring {
            vipps_url: &sim.base_url(),
            printer: None,
            webhook_url: None,
            payment_lifetime_secs: 600,
            expiry_margin_secs: 30,
        },
    );
    let customers = approve_everything(&sim);
    let first = run(till.command(&["charge", "100"], None), Kill::Never, WAIT).await;
    assert!(first.status.success(), "{}", first.stderr);

    // The file the till made says WAL in its header, and reads as WAL.
    let header = std::fs::read(&till.db).unwrap();
    assert_eq!(&header[..16], b"SQLite format 3\0");
    assert_eq!((header[18], header[19]), (2, 2), "not a WAL database");
    let mode: String = till
        .peek()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // The connection the till opens (the same `Store::open`) syncs FULL (2).
    let store = luka::store::Store::open(&till.db).unwrap();
    assert_eq!(store.pragmas().unwrap(), ("wal".to_string(), 2));
    drop(store);

    // And the real binary syncs the WAL at least once per commit that
    // wrote a journal entry (NORMAL would sync it only at checkpoints).
    let before = journal_entries(&till);
    match wal_syncs_of_a_sale(&till).await {
        Some(syncs) => {
            let commits = journal_entries(&till) - before;
            assert!(commits >= 6, "a sale wrote only {commits} journal entries");
            assert!(
                syncs as i64 >= commits,
                "{syncs} WAL syncs for {commits} journalled commits: not synchronous=FULL"
            );
            eprintln!("{syncs} WAL syncs for {commits} journalled commits");
        }
        None => eprintln!("strace not installed: the per-commit sync was not observed"),
    }
    customers.abort();
    assert_eq!(till.integrity(), "ok");
    sim.shutdown().await;
}
