//! Receipt benchmark: time to lay out and encode one receipt (p50, p99) and
//! bytes per receipt, at 58 and 80 mm, with and without the logo; plus the
//! PNG preview. Plain `harness = false`, rerun with `cargo bench --bench receipt`.

use std::time::{Duration, Instant};

use luka::printer::{Bitmap, LayoutConfig, PaperWidth, escpos::render, layout, preview, samples};

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
}
