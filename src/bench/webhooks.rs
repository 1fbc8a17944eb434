//! `luka bench --webhooks`: how long the volunteer waits for "Betalt" after
//! the customer approves, by polling alone and with the club's hub passing
//! on Vipps' webhook (issue 16 part 6; goal with the hub: p50 ≤ 0.5 s).
//!
//! Both runs use the till's real timings (first read 5 s after the create,
//! then every 2 s, as the guideline says) against the in-process Vipps
//! simulator on loopback; the hub run adds a hub on a PostgreSQL cluster
//! of its own (fsync on), registered for webhooks at the simulator, and a
//! paired till keeping its event stream open. Each customer approves at a
//! moment drawn between 2 and 9 s after the QR is up (seeded, the same in
//! both runs); the time runs from the approval to the till's `Paid`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use crate::app::training_credentials;
use crate::config::HubVipps;
use crate::domain::{Cart, Catalog};
use crate::hub::Hub;
use crate::hub::cluster::PgCluster;
use crate::kiosk::{Kiosk, KioskEvent, KioskSettings};
use crate::sim::{SimConfig, SimHandle};
use crate::store::Store;

pub struct WebhookBenchOptions {
    /// Sales per run.
    pub sales: usize,
}

const TILL: &str = "bench-1";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ticket() -> Cart {
    let mut cart = Cart::new();
    if let Some(p) = Catalog::club_default().get("voksen") {
        cart.add_product(p);
    }
    cart
}

/// One sale: started, approved `after` its QR is up; approval → Paid.
async fn one(kiosk: Kiosk, sim: SimHandle, after: Duration) -> anyhow::Result<Duration> {
    let mut events = kiosk.subscribe();
    let sale = kiosk.start_vipps_sale(&ticket(), "")?;
    loop {
        match events.recv().await {
            Ok(KioskEvent::QrReady { sale_id, .. }) if sale_id == sale.id => break,
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => anyhow::bail!("the till's events ended: {e}"),
        }
    }
    tokio::time::sleep(after).await;
    let t0 = Instant::now();
    sim.approve(&sale.reference)?;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Ok(Ok(KioskEvent::Paid { sale_id, .. })) if sale_id == sale.id => {
                return Ok(t0.elapsed());
            }
            Ok(Ok(_)) => {}
            // Events were missed: the sale itself says whether it is paid.
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                if kiosk.sale(sale.id)?.status == crate::domain::SaleStatus::Paid {
                    return Ok(t0.elapsed());
                }
            }
            Ok(Err(e)) => anyhow::bail!("the till's events ended: {e}"),
            Err(_) => anyhow::bail!("sale {} was not paid within 30 s", sale.reference),
        }
    }
}

/// The hub's part of a run, kept alive while the till sells.
struct HubSide {
    serving: crate::hub::web::Serving,
    stop: tokio::sync::watch::Sender<bool>,
    events: tokio::task::JoinHandle<()>,
    _pg: PgCluster,
}

/// A hub on a cluster of its own, registered for webhooks at `sim`, and
/// the loopback address it is to serve on.
async fn hub_for(sim: &SimHandle) -> anyhow::Result<(Hub, PgCluster, std::net::SocketAddr)> {
    let pg = PgCluster::temporary_with(false).map_err(anyhow::Error::msg)?;
    let hub = Hub::connect(&pg.url()).await?;
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let unit = HubVipps {
        base_url: sim.base_url(),
        credentials: training_credentials(&SimConfig::training()),
    };
    hub.register_vipps_webhooks(&format!("http://{addr}"), &[unit])
        .await?;
    Ok((hub, pg, addr))
}

/// Sales approved at the seeded moments; the approval → Paid times, sorted.
async fn measure(sales: usize, hub: bool) -> anyhow::Result<Vec<Duration>> {
    let dir = tempfile::tempdir()?;
    let cfg = SimConfig {
        keep_exchanges: 0,
        ..SimConfig::training()
    };
    let sim = crate::sim::start(([127, 0, 0, 1], 0).into(), cfg.clone()).await?;
    let db = dir.path().join("bench.db");
    let store = Arc::new(Store::open(&db)?);
    let mut side = None;
    if hub {
        let (h, pg, addr) = hub_for(&sim).await?;
        let serving = crate::hub::web::serve(h.clone(), addr, false).await?;
        let code = h.add_till(TILL).await?;
        crate::hub::link::pair(&store, TILL, &serving.url(), &code)
            .await
            .map_err(anyhow::Error::msg)?;
        side = Some((h, pg, serving));
    }
    let settings = KioskSettings {
        till_id: TILL.into(),
        ..KioskSettings::default()
    };
    let (kiosk, running) = crate::app::start_vipps_kiosk(
        store,
        &sim.base_url(),
        training_credentials(&cfg),
        Duration::from_secs(10),
        settings,
    )?;
    let hub_side = match side {
        Some((h, pg, serving)) => {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let k = kiosk.clone();
            let events = crate::hub::till_events::spawn(
                db.clone(),
                move |r| {
                    k.hint(r);
                },
                false,
                stopped,
            );
            let t = Instant::now();
            while !h.event_stream_open(TILL) {
                anyhow::ensure!(
                    t.elapsed() < Duration::from_secs(10),
                    "the till never opened the hub's event stream"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Some(HubSide {
                serving,
                stop,
                events,
                _pg: pg,
            })
        }
        None => None,
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x4c75_6b61);
    let mut tasks = Vec::with_capacity(sales);
    for _ in 0..sales {
        let after = Duration::from_millis(rng.random_range(2_000..9_000));
        tasks.push(tokio::spawn(one(kiosk.clone(), sim.clone(), after)));
        // Sales a queue apart, several open at once as at a busy hatch.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut times = Vec::with_capacity(sales);
    for t in tasks {
        times.push(t.await??);
    }
    kiosk.wait_settled(Duration::from_secs(60)).await?;
    running.shutdown().await;
    if let Some(h) = hub_side {
        let _ = h.stop.send(true);
        let _ = h.events.await;
        h.serving.shutdown().await;
    }
    sim.shutdown().await;
    times.sort();
    Ok(times)
}

/// Runs both and returns the table.
pub async fn run(opts: &WebhookBenchOptions) -> anyhow::Result<String> {
    let polling = measure(opts.sales, false).await?;
    let hub = measure(opts.sales, true).await?;
    let row = |what: &str, t: &[Duration]| {
        format!(
            "| approve → Betalt, {what} (p50 / p95, n={}) | {:.0} ms / {:.0} ms |\n",
            t.len(),
            percentile(t, 0.5).as_secs_f64() * 1000.0,
            percentile(t, 0.95).as_secs_f64() * 1000.0
        )
    };
    let mut out = String::from("| measure | value |\n|---|---|\n");
    out.push_str(&row(
        "polling only (first read 5 s, then every 2 s)",
        &polling,
    ));
    out.push_str(&row("with the hub's webhook hint", &hub));
    Ok(out)
}
