//! A full disk and a read-only SD card (issue 8): the till refuses new
//! sales with a clear message instead of taking money it cannot record,
//! and nothing already stored is damaged.
//!
//! How the faults are made, and why:
//! - **Disk full** is `RLIMIT_FSIZE` (with SIGXFSZ ignored): writes that
//!   would grow a file fail, exactly as on a full card, while overwriting
//!   in place still works. It needs no root and no mount, so it runs the
//!   same in CI. The WAL is checkpointed to zero bytes first, so the very
//!   next commit has to grow it. For the till running in this process the
//!   limit is set on this process (the tests in this file take turns, and
//!   nothing else here writes files meanwhile); for the real binary it is
//!   set on the child only. `PRAGMA max_page_count` would only limit the
//!   test's own connection, never the till's.
//! - **Read-only card** is a read-only bind mount of the till's folder when
//!   running as root (chmod does not stop root), and `chmod a-w` otherwise;
//!   this is how a Pi's card looks after the kernel remounted it read-only.

#[path = "it/chaos/mod.rs"]
mod chaos;
#[path = "it/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chaos::matrix::{Bench, settings};
use chaos::till::{Kill, Run, Secrets, Till, Wiring, run};
use luka::domain::{Cart, Money, SaleLine, SaleStatus, VatCode};
use luka::kiosk::KioskError;
use luka::sim::{Faults, SimConfig};
use luka::store::OutboxStatus;
use support::wait_created;

static TURNS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const WAIT: Duration = Duration::from_secs(30);

/// Files may not grow past `bytes` (`None`: no limit), for this process.
fn limit_file_size(bytes: Option<u64>) {
    let lim = libc::rlimit {
        rlim_cur: bytes.unwrap_or(libc::RLIM_INFINITY),
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: plain syscalls with valid arguments; SIG_IGN for SIGXFSZ makes
    // a write past the limit fail with EFBIG instead of killing the process.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
    }
}

fn cart(kr: i64) -> Cart {
    let mut c = Cart::new();
    c.add_line(SaleLine::free_amount(
        Money::nok(kr * 100),
        VatCode::OutsideScope,
        "Beløp",
    ));
    c
}

/// Vipps applies a create, and its answer arrives while the disk is full: the
/// till cannot record it, and the item cannot even be put back in the queue.
/// Once there is room again the till must carry on by itself (before, the
/// item stayed in flight until Luka was restarted, and the sale never showed
/// its QR): the create is recorded, the customer pays, one payment at Vipps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_could_not_be_recorded_is_picked_up_without_a_restart() {
    let _turn = TURNS.lock().await;
    let life = Duration::from_secs(600);
    let sim_cfg = SimConfig {
        payment_lifetime: life,
        ..SimConfig::training()
    };
    let b = Bench::start(sim_cfg, settings(life), Duration::from_secs(5)).await;
    // Vipps answers the create slowly: the disk fills while it is on its way.
    b.sim.set_faults(Faults {
        latency: Duration::from_millis(1500),
        only_operations: vec!["createPayment".into()],
        ..Faults::default()
    });
    let sale = b.sell(100);
    let in_flight = || {
        b.store
            .read(|r| r.outbox_for_sale(sale.id))
            .unwrap()
            .iter()
            .any(|i| i.status == OutboxStatus::InFlight)
    };
    assert!(
        chaos::matrix::eventually(WAIT, in_flight).await,
        "the create was never sent"
    );
    b.store.checkpoint().unwrap();
    limit_file_size(Some(4096));
    wait_created(&b.sim, &sale.reference).await;
    // The answer is back and could not be recorded. What is checked is that
    // nothing is recorded in this window, and a write the full disk refused
    // leaves no state to wait on: the window is the scenario.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status_during = b.sale(sale.id).status;
    limit_file_size(None);
    b.sim.set_faults(Faults::default());
    assert_eq!(
        status_during,
        SaleStatus::Pending,
        "recorded on a full disk?"
    );

    b.sim.approve(&sale.reference).unwrap();
    let done = b.kiosk.wait_final(sale.id, WAIT).await.unwrap();
    assert_eq!(done.status, SaleStatus::Paid);
    assert_eq!(b.sim.payments().len(), 1, "one payment at Vipps");
    assert_eq!(b.sim.payment(&sale.reference).unwrap().captures, 1);
    assert_eq!(b.store.integrity_check().unwrap(), "ok");
    b.finish().await;
}

/// The disk fills up while the till is selling: one sale awaits the
/// customer, another cannot reach Vipps. New sales (Vipps and cash) are
/// refused with the storage message and never reach Vipps; the customer who
/// approves meanwhile is not captured (the till could not record it); what
/// is stored stays intact. Once there is room again the till carries on by
/// itself: the approved sale is captured once, the stuck one settles, and a
/// new sale goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_while_selling() {
    let _turn = TURNS.lock().await;
    let life = Duration::from_secs(600);
    let sim_cfg = SimConfig {
        payment_lifetime: life,
        ..SimConfig::training()
    };
    let b = Bench::start(sim_cfg, settings(life), Duration::from_secs(2)).await;
    let mut paid = Vec::new();
    for _ in 0..2 {
        let s = b.sell(100);
        wait_created(&b.sim, &s.reference).await;
        b.sim.approve(&s.reference).unwrap();
        paid.push(b.kiosk.wait_final(s.id, WAIT).await.unwrap());
    }
    let waiting = b.sell(150);
    wait_created(&b.sim, &waiting.reference).await;
    b.proxy.set_down(true).await;
    let stuck = b.sell(70);
    // Its create has met the dead network once, so it is due again below.
    let tried = || {
        b.store
            .read(|r| r.outbox_for_sale(stuck.id))
            .unwrap()
            .iter()
            .any(|i| i.kind == "vipps.create" && i.attempts >= 1 && i.last_error.is_some())
    };
    assert!(
        chaos::matrix::eventually(WAIT, tried).await,
        "the stuck sale's create was never tried"
    );
    let before = b.store.read(|r| r.all_sales()).unwrap();

    b.store.checkpoint().unwrap();
    limit_file_size(Some(4096));
    // The network comes back while the disk is full: the stuck sale's
    // create is due, and the approval below is there to be read.
    b.proxy.set_down(false).await;
    let refused = b.kiosk.start_vipps_sale(&cart(90), "");
    let refused_cash = b.kiosk.cash_sale(&cart(50), Money::nok(5_000), "");
    b.sim.approve(&waiting.reference).unwrap();
    // The window the till works in on a full disk: the check below is that
    // nothing in it was recorded or said paid, which no state can announce.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = b.store.read(|r| r.all_sales());
    let integrity = b.store.integrity_check();
    let payments = b.sim.payments().len();
    let captures = b.sim.payment(&waiting.reference).unwrap().captures;
    let said_paid = b.said_paid(waiting.id);
    limit_file_size(None);

    for r in [refused.map(|s| s.id), refused_cash.map(|(s, _)| s.id)] {
        let e = r.expect_err("a sale was accepted on a full disk");
        assert!(matches!(e, KioskError::StorageUnavailable(_)), "{e:?}");
        assert!(e.to_string().contains("no money was taken"), "{e}");
    }
    assert_eq!(
        during.unwrap(),
        before,
        "what was stored changed on a full disk"
    );
    assert_eq!(integrity.unwrap(), "ok");
    assert_eq!(payments, 3, "a sale reached Vipps while the disk was full");
    assert_eq!(captures, 0, "captured money the till could not record");
    assert!(!said_paid, "said paid while it could not record it");

    // Room again: the stuck sale reaches Vipps (its customer declines),
    // the approved one is captured once.
    wait_created(&b.sim, &stuck.reference).await;
    b.sim.reject(&stuck.reference).unwrap();
    b.settle(WAIT).await;
    assert_eq!(b.sale(waiting.id).status, SaleStatus::Paid);
    assert_eq!(b.sale(stuck.id).status, SaleStatus::Unpaid);
    let after = b.sell(60);
    wait_created(&b.sim, &after.reference).await;
    b.sim.approve(&after.reference).unwrap();
    assert_eq!(
        b.kiosk.wait_final(after.id, WAIT).await.unwrap().status,
        SaleStatus::Paid
    );
    for s in &paid {
        assert_eq!(b.sale(s.id), *s, "a stored sale changed");
    }
    assert!(b.store.verify_journal().unwrap().ok());
    b.finish().await;
}

/// A till on disk with two paid sales made by the real binary.
async fn till_with_sales(sim: &luka::sim::SimHandle, secrets: &Secrets) -> Till {
    let till = Till::new(
        "store-1",
        secrets,
        &Wiring {
            vipps_url: &sim.base_url(),
            printer: None,
            webhook_url: None,
            payment_lifetime_secs: 600,
            expiry_margin_secs: 30,
        },
    );
    let approver = {
        let sim = sim.clone();
        tokio::spawn(async move {
            loop {
                for p in sim.payments() {
                    let _ = sim.approve(&p.reference);
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        })
    };
    for _ in 0..2 {
        let r = run(till.command(&["charge", "100"], None), Kill::Never, WAIT).await;
        assert!(r.status.success(), "{}", r.stderr);
    }
    approver.abort();
    till
}

/// What must hold after the fault is gone: the database is sound, its two
/// sales are there, the journal verifies, and the till sells again.
async fn intact(till: &Till, sim: &luka::sim::SimHandle) {
    assert_eq!(till.integrity(), "ok");
    let store = luka::store::Store::open(&till.db).unwrap();
    let sales = store.read(|r| r.all_sales()).unwrap();
    let receipts: Vec<_> = sales.iter().map(|s| (s.status, s.receipt_no)).collect();
    assert_eq!(
        receipts,
        [(SaleStatus::Paid, Some(1)), (SaleStatus::Paid, Some(2))]
    );
    assert!(store.verify_journal().unwrap().ok());
    drop(store);
    let charge = run(
        till.command(&["charge", "100", "--timeout", "2"], None),
        Kill::Never,
        WAIT,
    )
    .await;
    assert!(
        charge.json_lines().len() == 1,
        "the till does not sell again: {}",
        charge.stderr
    );
    assert_eq!(sim.payments().len(), 3);
}

fn refused_clearly(r: &Run) {
    assert_eq!(r.status.code(), Some(2), "{}", r.stderr);
    let last = r.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("cannot save sales") && last.contains("no money was taken"),
        "not a clear message: {last}"
    );
    assert!(r.json_lines().is_empty(), "reported a sale: {}", r.stdout);
}

/// The card is full when the till starts: `luka charge` stops before
/// selling, saying why, and Vipps never hears of a payment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_at_start_up_refuses_to_sell() {
    let _turn = TURNS.lock().await;
    let secrets = Secrets::random();
    let sim = luka::sim::start(
        ([127, 0, 0, 1], 0).into(),
        secrets.sim_config(Duration::from_secs(600), 1),
    )
    .await
    .unwrap();
    let till = till_with_sales(&sim, &secrets).await;
    let mut cmd = till.command(&["charge", "100"], None);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let r = run(cmd, Kill::Never, WAIT).await;
    refused_clearly(&r);
    assert_eq!(
        sim.payments().len(),
        2,
        "a payment was created on a full disk"
    );
    intact(&till, &sim).await;
}

/// Makes `dir` read-only for the till; returns how to undo it, or `None`
/// when this machine cannot (root without the right to mount).
fn make_read_only(dir: &Path) -> Option<Box<dyn FnOnce()>> {
    use std::os::unix::fs::PermissionsExt;
    let sh = |args: &[&str]| {
        std::process::Command::new(args[0])
            .args(&args[1..])
            .status()
            .is_ok_and(|s| s.success())
    };
    let d = dir.to_str().unwrap().to_string();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        if !(sh(&["mount", "--bind", &d, &d]) && sh(&["mount", "-o", "remount,bind,ro", &d, &d])) {
            let _ = sh(&["umount", &d]);
            return None;
        }
        return Some(Box::new(move || {
            assert!(sh(&["umount", &d]), "could not unmount {d}")
        }));
    }
    // The database files and the folder; the secret files stay 0600, or
    // the till would (rightly) refuse them before it ever opens the store.
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("luka.db"))
        })
        .collect();
    for f in files.iter().chain(std::iter::once(&dir.to_path_buf())) {
        let mode = if f.is_dir() { 0o555 } else { 0o444 };
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    Some(Box::new(move || {
        for f in files.iter().chain(std::iter::once(&PathBuf::from(&d))) {
            let mode = if f.is_dir() { 0o755 } else { 0o600 };
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }))
}

/// The card went read-only: the till refuses to sell with the storage
/// message, nothing reaches Vipps, and once the card is writable again
/// everything is as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_card_refuses_to_sell() {
    let _turn = TURNS.lock().await;
    let secrets = Secrets::random();
    let sim = luka::sim::start(
        ([127, 0, 0, 1], 0).into(),
        secrets.sim_config(Duration::from_secs(600), 2),
    )
    .await
    .unwrap();
    let till = till_with_sales(&sim, &secrets).await;
    let Some(undo) = make_read_only(till.dir.path()) else {
        eprintln!("SKIPPED: running as root without the right to mount a read-only bind");
        return;
    };
    let r = run(till.command(&["charge", "100"], None), Kill::Never, WAIT).await;
    undo();
    refused_clearly(&r);
    assert_eq!(
        sim.payments().len(),
        2,
        "a payment was created on a read-only card"
    );
    intact(&till, &sim).await;
}
