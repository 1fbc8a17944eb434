//! `luka bench`: the money-path measurements, rerunnable, printed as a table.
//! Everything runs on loopback against the in-process simulator with real
//! SQLite files (fsync on), so the numbers are the till's own overhead.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::training_credentials;
use crate::domain::{Cart, Catalog, SaleStatus};
use crate::kiosk::{Kiosk, KioskEvent, KioskSettings};
use crate::sim::{SimConfig, SimHandle};
use crate::store::Store;

pub struct BenchOptions {
    pub sales: usize,
    pub latency_payments: usize,
}

async fn rig(
    settings: KioskSettings,
    dir: &std::path::Path,
) -> anyhow::Result<(SimHandle, Kiosk, crate::kiosk::Running)> {
    let cfg = SimConfig::training();
    let sim = crate::sim::start(([127, 0, 0, 1], 0).into(), cfg.clone()).await?;
    let store = Arc::new(Store::open(&dir.join("bench.db"))?);
    let (kiosk, running) = crate::app::start_vipps_kiosk(
        store,
        &sim.base_url(),
        training_credentials(&cfg),
        Duration::from_secs(10),
        settings,
    )?;
    Ok((sim, kiosk, running))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn ticket() -> Cart {
    let mut cart = Cart::new();
    cart.add_product(
        Catalog::club_default()
            .get("voksen")
            .expect("default catalog has voksen"),
    );
    cart
}

/// Runs the suite and returns the table as text.
pub async fn run(opts: BenchOptions) -> anyhow::Result<String> {
    let mut out = String::new();
    out.push_str("| measure | value |\n|---|---|\n");

    // 1. charge -> QR text available, and throughput with fsync on.
    let dir = tempfile::tempdir()?;
    let fast = KioskSettings {
        poll_initial_delay: Duration::ZERO,
        poll_interval: crate::kiosk::MIN_POLL_INTERVAL,
        ..KioskSettings::default()
    };
    let (sim, kiosk, running) = rig(fast.clone(), dir.path()).await?;
    let mut qr = Vec::with_capacity(opts.sales);
    let mut events = kiosk.subscribe();
    for _ in 0..opts.sales.min(200) {
        let t0 = Instant::now();
        let sale = kiosk.start_vipps_sale(&ticket(), "")?;
        loop {
            match events.recv().await {
                Ok(KioskEvent::QrReady { sale_id, .. }) if sale_id == sale.id => break,
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => anyhow::bail!("event stream ended: {e}"),
            }
        }
        qr.push(t0.elapsed());
        kiosk.cancel_sale(sale.id).ok();
    }
    kiosk.wait_settled(Duration::from_secs(120)).await?;
    qr.sort();
    out.push_str(&format!(
        "| charge → QR text available (p50 / p95, n={}) | {} / {} |\n",
        qr.len(),
        ms(percentile(&qr, 0.5)),
        ms(percentile(&qr, 0.95))
    ));
    running.shutdown().await;
    sim.shutdown().await;

    // 2. Headless sales per second through the whole path.
    let dir = tempfile::tempdir()?;
    let (sim, kiosk, running) = rig(fast, dir.path()).await?;
    let stats_before = sim.stats();
    let t0 = Instant::now();
    let mut ids = Vec::with_capacity(opts.sales);
    let approver = {
        let sim = sim.clone();
        tokio::spawn(async move {
            loop {
                for p in sim.payments() {
                    let _ = sim.approve(&p.reference);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    for _ in 0..opts.sales {
        ids.push(kiosk.start_vipps_sale(&ticket(), "")?.id);
    }
    let mut paid = 0;
    for id in &ids {
        if kiosk
            .wait_final(*id, Duration::from_secs(120))
            .await?
            .status
            == SaleStatus::Paid
        {
            paid += 1;
        }
    }
    let elapsed = t0.elapsed();
    approver.abort();
    let stats = sim.stats();
    let bytes = (stats.bytes_in + stats.bytes_out)
        .saturating_sub(stats_before.bytes_in + stats_before.bytes_out);
    out.push_str(&format!(
        "| headless sales/s, full path, fsync on ({} sales, {} paid) | {:.1} |\n",
        opts.sales,
        paid,
        paid as f64 / elapsed.as_secs_f64()
    ));
    out.push_str(&format!(
        "| bytes on the wire per sale (HTTP bodies + headers as seen by the simulator) | {} |\n",
        bytes / paid.max(1) as u64
    ));
    running.shutdown().await;
    sim.shutdown().await;

    // 3. approve -> paid with the default polling (5 s, then every 2 s).
    let dir = tempfile::tempdir()?;
    let (sim, kiosk, running) = rig(KioskSettings::default(), dir.path()).await?;
    let mut tasks = Vec::new();
    for i in 0..opts.latency_payments {
        let sale = kiosk.start_vipps_sale(&ticket(), "")?;
        let (sim, kiosk) = (sim.clone(), kiosk.clone());
        // Customers approve 2–9 s after the QR shows, spread evenly.
        let after =
            Duration::from_millis(2000 + (i as u64 * 7000) / opts.latency_payments.max(1) as u64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let t0 = Instant::now();
            sim.approve(&sale.reference).ok()?;
            let done = kiosk
                .wait_final(sale.id, Duration::from_secs(60))
                .await
                .ok()?;
            (done.status == SaleStatus::Paid).then(|| t0.elapsed())
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        if let Ok(Some(d)) = t.await {
            lat.push(d);
        }
    }
    lat.sort();
    // A second connection reads what the till wrote (WAL readers see every commit).
    let reads: i64 = Store::open(&dir.path().join("bench.db"))?.read(|r| {
        let sales = r.all_sales()?;
        let mut total = 0;
        for s in &sales {
            total += r.payment(s.id)?.reads;
        }
        Ok(total)
    })?;
    out.push_str(&format!(
        "| approve → paid, default polling (p50 / p95, n={}) | {} / {} |\n",
        lat.len(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.95))
    ));
    out.push_str(&format!(
        "| payment reads (GET) per payment, default polling | {:.1} |\n",
        reads as f64 / opts.latency_payments.max(1) as f64
    ));
    running.shutdown().await;
    sim.shutdown().await;
    Ok(out)
}
