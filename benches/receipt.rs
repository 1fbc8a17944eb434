//! Receipt benchmark: time to lay out and encode one receipt (p50, p99) and
//! bytes per receipt, at 58 and 80 mm, with and without the logo; plus the
//! PNG preview; plus the print path on loopback: one job through the network
//! driver to the printer simulator, and a cash sale to its receipt on paper
//! through the kiosk's outbox (real SQLite, fsync on). Plain `harness = false`,
//! rerun with `cargo bench --bench receipt`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use luka::domain::{Cart, Catalog, Money};
use luka::kiosk::{KioskEvent, KioskSettings, ReceiptSettings};
use luka::printer::{
    Bitmap, Connection, LayoutConfig, PaperWidth, escpos::render, layout, network::NetworkDriver,
    preview, print, samples, sim::PrinterSim,
};
use luka::store::Store;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this once
    // as a smoke test, where a single pass is enough.
    let measuring = std::env::args().any(|a| a == "--bench");
    let (runs, png_runs) = if measuring { (2_000, 50) } else { (1, 1) };
    let logo_png = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/logo.png"))
        .expect("assets/logo.png");
    let logo = Bitmap::from_png(&logo_png).expect("logo decodes");
    println!("receipt: layout + ESC/POS encode, {runs} runs each (p50 / p99), bytes per receipt");
    println!(
        "{:<18} {:>5} {:>5} {:>10} {:>10} {:>7}",
        "sample", "paper", "logo", "p50", "p99", "bytes"
    );
    for (name, input) in samples::all() {
        for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
            for with_logo in [false, true] {
                let cfg = LayoutConfig {
                    width,
                    logo: with_logo.then(|| logo.clone()),
                    open_drawer_for_cash: true,
                };
                let mut times = Vec::with_capacity(runs);
                let mut bytes = 0;
                for _ in 0..runs {
                    let start = Instant::now();
                    let out = render(&layout(std::hint::black_box(&input), &cfg)).expect("renders");
                    times.push(start.elapsed());
                    bytes = std::hint::black_box(out).len();
                }
                times.sort();
                let mm = if width == PaperWidth::Mm58 {
                    "58"
                } else {
                    "80"
                };
                let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
                println!(
                    "{name:<18} {mm:>5} {:>5} {p50:>10.1?} {p99:>10.1?} {bytes:>7}",
                    if with_logo { "yes" } else { "no" }
                );
            }
        }
    }
    let doc = layout(
        &samples::kiosk_order(),
        &LayoutConfig {
            width: PaperWidth::Mm80,
            logo: Some(logo),
            open_drawer_for_cash: false,
        },
    );
    let mut times: Vec<Duration> = (0..png_runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(preview::render_png(&doc).expect("png"));
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "preview PNG (kiosk order, 80 mm, logo): p50 {:.1?}",
        percentile(&times, 0.5)
    );
    print_path(
        if measuring { 200 } else { 1 },
        if measuring { 50 } else { 1 },
    );
}

/// Loopback only: the printer simulator stands in for a printer on port 9100.
fn print_path(jobs: usize, sales: usize) {
    let sim = PrinterSim::start().expect("printer simulator");
    let bytes = render(&layout(
        &samples::kiosk_order(),
        &LayoutConfig::new(PaperWidth::Mm80),
    ))
    .expect("renders");
    let mut times: Vec<Duration> = (0..jobs)
        .map(|_| {
            let mut driver = NetworkDriver::new(&sim.addr().to_string());
            let start = Instant::now();
            print(&mut driver, &bytes).expect("prints");
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "network driver to the printer sim, status query + {} B job (n={jobs}): p50 {:.1?}, p99 {:.1?}",
        bytes.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut times = rt.block_on(sale_to_paper(&sim, sales));
    times.sort();
    println!(
        "cash sale -> receipt on paper via the outbox, fsync on (n={sales}): p50 {:.1?}, p95 {:.1?}",
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
}

async fn sale_to_paper(sim: &PrinterSim, sales: usize) -> Vec<Duration> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(&dir.path().join("bench.db")).expect("store"));
    let settings = KioskSettings {
        receipts: ReceiptSettings {
            printer: Some(Connection::Network {
                address: sim.addr().to_string(),
            }),
            ..ReceiptSettings::default()
        },
        ..KioskSettings::default()
    };
    let sim_cfg = luka::sim::SimConfig::training();
    let (kiosk, running) = luka::app::start_vipps_kiosk(
        store,
        "http://127.0.0.1:9",
        luka::app::training_credentials(&sim_cfg),
        Duration::from_secs(1),
        settings,
    )
    .expect("kiosk");
    let catalog = Catalog::club_default();
    let mut cart = Cart::new();
    cart.add_product(catalog.products().first().expect("a product"));
    let mut events = kiosk.subscribe();
    let mut times = Vec::with_capacity(sales);
    for _ in 0..sales {
        let start = Instant::now();
        let (sale, _) = kiosk
            .cash_sale(&cart, Money::nok(100_000), "")
            .expect("cash sale");
        loop {
            match events.recv().await.expect("events") {
                KioskEvent::ReceiptPrinted { sale_id, .. } if sale_id == sale.id => break,
                _ => {}
            }
        }
        times.push(start.elapsed());
    }
    running.shutdown().await;
    times
}
