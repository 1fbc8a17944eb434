//! The random SIGKILL campaign (issue 8): real `luka` tills sell against the
//! Vipps simulator while customers approve, reject or ignore the QR, and are
//! killed at random instants (mid-SQLite-write, mid-HTTP, mid-print,
//! mid-sync; see `chaos/lane.rs`), restarted, and at the end the tills'
//! records, Vipps' records and the books' records must agree.
//!
//! `scripts/test.sh` (and so CI) runs the short campaign (60 kills by
//! default, about a minute) after the rest of the suite; a bare `cargo test`
//! skips it to keep the edit-test loop quick (`cargo test --test it campaign::
//! -- --ignored` runs it). `LUKA_CAMPAIGN_KILLS=1000 scripts/campaign.sh` runs the long
//! one; `LUKA_CAMPAIGN_SEED` repeats a seed (the kill instants are random
//! in time, so a seed repeats the choices, not the exact interleaving);
//! `LUKA_CAMPAIGN_REPORT=FILE` writes the result table there.

use crate::chaos;
use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chaos::customer::Customers;
use chaos::lane::{Lane, Shared, Stats};
use chaos::proxy::Proxy;
use chaos::till::{Secrets, Till, Wiring};
use chaos::views::{self, Tally};
use luka::printer::sim::PrinterSim;
use support::webhook_receiver::Receiver;

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Payments live this long at the simulator and in the till's config, so
/// an ignored QR settles in seconds, not ten minutes.
const PAYMENT_LIFETIME: Duration = Duration::from_secs(3);

struct Setup {
    kills: usize,
    tills: usize,
    seed: u64,
}

#[allow(clippy::too_many_arguments)]
fn report(
    s: &Setup,
    stats: &Stats,
    t: &Tally,
    tokens: usize,
    logs_naming_sales: usize,
    elapsed: Duration,
    violations: &[String],
) -> String {
    let fmt_map = |m: &dyn Fn() -> Vec<(String, usize)>| {
        m().iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let by_command = fmt_map(&|| {
        stats
            .kills_by_command
            .iter()
            .map(|(k, v)| (format!("`luka {k}`"), *v))
            .collect()
    });
    let interrupted = fmt_map(&|| {
        stats
            .interrupted
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    });
    let unpaid = fmt_map(&|| t.unpaid.iter().map(|(k, v)| (k.clone(), *v)).collect());
    let verdict = if violations.is_empty() {
        "none".to_string()
    } else {
        violations.join("<br>")
    };
    format!(
        "| figure | value |\n|---|---|\n\
         | seed | {seed} |\n\
         | tills killed in parallel | {tills} |\n\
         | SIGKILLs | {kills} ({by_command}) |\n\
         | what the kills interrupted (read from disk after each kill) | {interrupted} |\n\
         | restarts / `PRAGMA integrity_check` runs | {restarts} / {checks}, all `ok` unless listed below |\n\
         | `luka` processes run | {procs} |\n\
         | sales started | {sales}: paid {paid}; unpaid {unpaid_total} ({unpaid}) |\n\
         | Vipps (simulator) | {pay} payments, {cap} captures, {can} cancels; nothing left reserved unless listed below |\n\
         | webhook | {wire} deliveries on the wire, {uniq} unique `webhook-id`s, {dups} duplicates |\n\
         | receipts on paper | {paper} ({reprint} originals printed twice: killed after printing, before recording it) |\n\
         | secret scan | {logmb:.1} MB of stdout/stderr at `LUKA_LOG=debug`, every database and WAL; {tokens} issued access tokens looked for; {logs_naming_sales} sales followed by reference in the logs |\n\
         | duration | {secs:.0} s |\n\
         | violations | {verdict} |\n",
        seed = s.seed,
        tills = s.tills,
        kills = stats.kills,
        restarts = stats.restarts,
        checks = stats.integrity_checks,
        procs = stats.processes,
        sales = t.sales,
        paid = t.paid,
        unpaid_total = t.sales - t.paid,
        pay = t.sim_payments,
        cap = t.sim_captures,
        can = t.sim_cancels,
        wire = t.webhook_deliveries,
        uniq = t.webhook_unique,
        dups = t.webhook_deliveries - t.webhook_unique,
        paper = t.receipts_on_paper,
        reprint = t.receipts_reprinted,
        logmb = stats.log_bytes as f64 / 1e6,
        secs = elapsed.as_secs_f64(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "about a minute: scripts/test.sh and CI run it (cargo test --test it campaign:: -- --ignored)"]
async fn random_sigkill_campaign() {
    let setup = Setup {
        kills: env_or("LUKA_CAMPAIGN_KILLS", 60),
        tills: env_or("LUKA_CAMPAIGN_TILLS", 3),
        seed: env_or("LUKA_CAMPAIGN_SEED", rand::random::<u32>() as u64),
    };
    eprintln!(
        "campaign: {} kills over {} tills, seed {}",
        setup.kills, setup.tills, setup.seed
    );
    let started = Instant::now();
    let secrets = Secrets::random();
    let sim = luka::sim::start(
        ([127, 0, 0, 1], 0).into(),
        secrets.sim_config(PAYMENT_LIFETIME, setup.seed),
    )
    .await
    .unwrap();
    let proxy = Proxy::start(sim.local_addr()).await;
    let receiver = Receiver::start(([127, 0, 0, 1], 0).into(), &secrets.webhook_secret).await;
    let customers = Customers::default();
    let (stop_customers, stop_rx) = tokio::sync::watch::channel(false);
    let customers_task = customers.spawn(sim.clone(), setup.seed, stop_rx);

    let shared = Arc::new(Shared::new(
        setup.kills,
        secrets.clone(),
        proxy.clone(),
        sim.clone(),
    ));
    let mut tasks = Vec::new();
    for i in 0..setup.tills {
        let printer = PrinterSim::start().unwrap();
        let till = Till::new(
            &format!("camp-{i}"),
            &secrets,
            &Wiring {
                vipps_url: &proxy.url(),
                printer: Some(printer.addr()),
                webhook_url: Some(&receiver.url()),
                payment_lifetime_secs: PAYMENT_LIFETIME.as_secs(),
                expiry_margin_secs: 1,
            },
        );
        let mut lane = Lane::new(till, printer, setup.seed.wrapping_add(i as u64));
        let sh = shared.clone();
        tasks.push(tokio::spawn(async move {
            lane.run(&sh).await;
            lane.finish(&sh).await;
            lane
        }));
    }
    let mut lanes = Vec::new();
    for t in tasks {
        lanes.push(t.await.expect("a lane panicked"));
    }
    let _ = stop_customers.send(true);
    let _ = customers_task.await;

    let (tally, mut violations) = views::check(&lanes, &sim, &receiver.received());
    let stats = shared.stats.lock().unwrap().clone();
    violations.extend(stats.violations.iter().cloned());
    let tokens = proxy.tokens();
    let needles = {
        let mut n = shared.needles.lock().unwrap();
        for t in &tokens {
            n.add(t);
        }
        std::mem::take(&mut *n)
    };
    violations.extend(views::secrets_in_files(&lanes, &needles));
    let logs_naming_sales: usize = lanes.iter().map(|l| l.logs_naming_sales).sum();
    let table = report(
        &setup,
        &stats,
        &tally,
        tokens.len(),
        logs_naming_sales,
        started.elapsed(),
        &violations,
    );
    eprintln!("{table}");
    if let Ok(path) = std::env::var("LUKA_CAMPAIGN_REPORT") {
        std::fs::write(path, &table).unwrap();
    }
    receiver.shutdown();
    sim.shutdown().await;

    assert!(
        violations.is_empty(),
        "invariants broken:\n{}",
        violations.join("\n")
    );
    // A campaign that did not do what it claims proves nothing.
    assert!(stats.kills >= setup.kills, "only {} kills", stats.kills);
    assert!(tally.paid > 0 && tally.sales > tally.paid, "{tally:?}");
    for reason in ["aborted", "expired"] {
        assert!(
            tally.unpaid.contains_key(reason),
            "no sale ended {reason}: {tally:?}"
        );
    }
    let interrupted = |what: &str| stats.interrupted.keys().any(|k| k.starts_with(what));
    assert!(
        interrupted("an HTTP call to Vipps"),
        "{:?}",
        stats.interrupted
    );
    assert!(interrupted("crash point"), "{:?}", stats.interrupted);
    // A long run must have hit every phase the issue names; a short one
    // (about 60 kills) usually does, but not surely enough to fail CI on.
    if setup.kills >= 500 {
        for what in [
            "a SQLite transaction being written",
            "a receipt being printed",
            "a webhook delivery",
        ] {
            assert!(
                interrupted(what),
                "no kill hit {what}: {:?}",
                stats.interrupted
            );
        }
    }
    assert!(
        !tokens.is_empty(),
        "no access token seen, so none was looked for"
    );
    assert!(logs_naming_sales > 0, "the debug logs never named a sale");
    assert!(stats.log_bytes > 10_000, "hardly any log was scanned");
}
