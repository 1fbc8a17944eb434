//! `luka sync` (drain every bookkeeping lane, or show them) and
//! `luka reconcile` (a Vipps ledger date against the journal).

use std::sync::Arc;

use crate::hub::till_catalogue::Pulled;
use std::time::Duration;

use clap::Subcommand;

use crate::bookkeeping::sync::{LaneView, SyncWorker};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Show every lane: waiting, stopped and delivered items, the last error.
    Status {
        #[arg(long)]
        json: bool,
    },
}

fn print_lanes(lanes: &[LaneView]) {
    if lanes.is_empty() {
        println!(
            "No bookkeeping sinks are configured (see [bookkeeping] in deploy-pi/luka.toml.example)."
        );
    }
    for l in lanes {
        let s = &l.status;
        println!(
            "{:<18} waiting {:>6}  stopped {:>4}  delivered {:>7}{}",
            s.kind,
            s.pending,
            s.failed,
            s.done,
            if l.alert { "  ALERT" } else { "" }
        );
        if let Some(since) = &s.oldest_pending {
            println!(
                "{:<18} oldest waiting since {since}, {} attempts",
                "", s.head_attempts
            );
        }
        if let Some(e) = &s.head_error {
            println!("{:<18} last error: {e}", "");
        }
    }
}

/// `luka sync status`.
pub fn status(config: &Config, json: bool) -> anyhow::Result<i32> {
    let store = Store::open(&config.store_path)?;
    let kinds = crate::app::sync_targets(config).kinds();
    let lanes = crate::bookkeeping::sync::status(&store, &kinds)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&lanes)?);
    } else {
        print_lanes(&lanes);
    }
    Ok(i32::from(lanes.iter().any(|l| l.alert)))
}

/// `luka sync`: delivers everything waiting, then exits. Exit 0 when every
/// lane is empty, 1 when something is left (receiver down, items stopped)
/// or a paired till could not fetch the hub's catalogue.
pub async fn drain(config: Config, patience: Duration, retry_failed: bool) -> anyhow::Result<i32> {
    let store = Arc::new(Store::open(&config.store_path)?);
    store.claim_workers()?;
    let books = crate::app::books_sinks(&config, Arc::new(SystemClock)).await?;
    let sinks = books.sinks;
    // Paired with the club's hub: its catalogue comes down too, kept for
    // the till's next start (which journals each price change before the
    // first sale at it). The hub being away leaves the till as it is.
    let mut catalogue_failed = false;
    match crate::hub::till_catalogue::pull(&config.store_path).await {
        Ok(Pulled::NotPaired) => {}
        Ok(Pulled::Unchanged { version }) => {
            println!("hub catalogue: version {version}, unchanged")
        }
        Ok(Pulled::New(snap)) => println!(
            "hub catalogue: version {} with {} products, sold from at the till's next start",
            snap.version,
            snap.products.len()
        ),
        Err(e) => {
            catalogue_failed = true;
            eprintln!("hub catalogue: {e}; the till sells on from the one it has");
        }
    }
    if sinks.is_empty() {
        print_lanes(&[]);
        return Ok(i32::from(catalogue_failed));
    }
    if retry_failed {
        let now = time::OffsetDateTime::now_utc();
        let n = store.write(|w| {
            let mut n = 0;
            for s in &sinks {
                n += w.outbox_wake(s.kind(), now)?;
            }
            Ok(n)
        })?;
        eprintln!("{n} items due again");
    }
    let worker = SyncWorker {
        store,
        clock: Arc::new(SystemClock),
        policy: crate::retry::RetryPolicy::default(),
        sinks,
        batch: 16,
        handle: Default::default(),
    };
    let lanes = worker.drain(patience).await?;
    if let Some(sim) = books.poweroffice_sim {
        eprintln!(
            "training: vouchers went to a PowerOffice simulator in this process, not to real books"
        );
        sim.shutdown().await;
    }
    print_lanes(&lanes);
    let left = lanes
        .iter()
        .any(|l| l.status.pending > 0 || l.status.failed > 0);
    Ok(i32::from(left || catalogue_failed))
}

/// `luka reconcile --date D`: a Vipps ledger date against the journal.
/// Exit 0 when they agree, 1 when they differ, 3 when Vipps has not
/// closed the date yet.
pub async fn reconcile(config: Config, date: time::Date, json: bool) -> anyhow::Result<i32> {
    if config.is_training() {
        anyhow::bail!(
            "in training the Vipps simulator lives inside the running till, so there is no \
             settlement to fetch from here; reconcile a test or production till instead"
        );
    }
    let sources = crate::app::reconcile_sources(&config, None)?;
    if sources.is_empty() {
        anyhow::bail!(
            "the Vipps Report API exists in production only ([vipps] environment = \
             \"production\"); Vipps' test environment has no settlements to reconcile"
        );
    }
    let store = Store::open(&config.store_path)?;
    let targets = crate::app::sync_targets(&config);
    let now = time::OffsetDateTime::now_utc();
    // Each sales unit's ledger on its own (issue 16, part 4): one that is
    // not ready or fails does not keep the others from being reconciled.
    let (mut differ, mut not_ready, mut failed) = (false, false, None);
    let mut results = Vec::new();
    for source in &sources {
        match crate::bookkeeping::reconcile::run(&store, source, date, &targets, now).await {
            Ok(o) => {
                differ |= !o.reconciliation.ok();
                if json {
                    results.push(serde_json::to_value(&o.reconciliation)?);
                } else {
                    print!("{}", o.reconciliation.summary());
                    println!(
                        "{} vouchers ({} newly queued for the books; `luka sync` sends them now)",
                        o.vouchers.len(),
                        o.queued
                    );
                }
            }
            Err(crate::bookkeeping::reconcile::ReconcileError::NotReady(d)) => {
                eprintln!(
                    "Vipps has not closed {d} yet for MSN {}; try again in half an hour.",
                    source.merchant_serial_number
                );
                not_ready = true;
            }
            Err(e) => {
                eprintln!("MSN {}: {e}", source.merchant_serial_number);
                failed = Some(e);
            }
        }
    }
    if json {
        // One unit: the reconciliation as before; several: a list.
        let out = match results.len() {
            1 => results.remove(0),
            _ => serde_json::Value::Array(results),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    if let Some(e) = failed {
        return Err(e.into());
    }
    Ok(if differ {
        1
    } else if not_ready {
        3
    } else {
        0
    })
}
