//! `luka bench --all`: every figure the issues ask for, in one table, with
//! the machine it ran on. Runs the money path (`money`), a receipt's layout
//! and encode, the books drain (`books`), the records at a day and a
//! year (`records`), approve → Betalt with and without the hub's webhooks
//! (`webhooks`, when PostgreSQL is installed), and with `--ui` the touchscreen against
//! Chromium (`scripts/bench-ui.sh`, which needs Xvfb and Chromium; run from
//! here it only names what is missing, it never installs anything).
//! Nothing here is asserted: the numbers are for people to read and
//! compare with `BENCHMARKS.md`.

use std::time::{Duration, Instant};

use crate::printer::{LayoutConfig, PaperWidth, escpos::render, layout, samples};

pub struct AllOptions {
    pub sales: usize,
    pub latency_payments: usize,
    pub drain_sales: usize,
    pub day_sales: usize,
    pub year_sales: usize,
    /// Sales per run of approve → Betalt with and without the hub.
    pub webhook_sales: usize,
    /// Also run `scripts/bench-ui.sh` with this binary.
    pub ui: bool,
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1_048_576.0))
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_default();
    format!(
        "{model}, {cpus} cores, {mem}, load {load} at start, {} build",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    )
}

/// Layout + ESC/POS encode of the kiosk order at 80 mm: p50 of 2,000.
fn receipt_rows() -> String {
    let mut out = String::new();
    for (name, input) in [
        ("ticket", samples::ticket()),
        ("kiosk order", samples::kiosk_order()),
    ] {
        for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
            let cfg = LayoutConfig {
                width,
                logo: None,
                open_drawer_for_cash: true,
            };
            let mut times: Vec<Duration> = Vec::with_capacity(2_000);
            let mut bytes = 0;
            for _ in 0..2_000 {
                let t = Instant::now();
                let b = render(&layout(std::hint::black_box(&input), &cfg)).map(|b| b.len());
                times.push(t.elapsed());
                bytes = b.unwrap_or(0);
            }
            times.sort();
            out.push_str(&format!(
                "| receipt: {name}, {} mm, layout + ESC/POS encode (p50, n=2000) | {:.1} µs, {bytes} B |\n",
                if width == PaperWidth::Mm58 { 58 } else { 80 },
                times[times.len() / 2].as_secs_f64() * 1e6,
            ));
        }
    }
    out
}

/// Keeps only the data rows of a markdown table.
fn rows(table: &str) -> String {
    table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| measure"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `scripts/bench-ui.sh`'s four-column table (measure, Luka, Chromium,
/// ratio) as rows of this two-column one.
fn ui_rows(table: &str) -> String {
    table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.contains("under Xvfb"))
        .filter_map(|l| {
            let c: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            (c.len() == 4).then(|| {
                format!(
                    "| touchscreen, 800×480: {} (Luka / Chromium, ratio) | {} / {} ({}) |\n",
                    c[0], c[1], c[2], c[3]
                )
            })
        })
        .collect()
}

pub async fn run(opts: &AllOptions) -> anyhow::Result<String> {
    let started = Instant::now();
    let mut out = format!("Machine: {}\n\n| measure | value |\n|---|---|\n", machine());
    eprintln!("bench: money path…");
    out.push_str(&rows(
        &crate::bench::money::run(crate::bench::money::BenchOptions {
            sales: opts.sales,
            latency_payments: opts.latency_payments,
        })
        .await?,
    ));
    eprintln!("bench: receipts…");
    out.push_str(&receipt_rows());
    eprintln!("bench: the books…");
    out.push_str(&rows(
        &crate::bench::books::run(&crate::bench::books::BooksBenchOptions {
            sales: opts.drain_sales,
        })
        .await?,
    ));
    eprintln!("bench: records (a day and a year; the year takes minutes)…");
    let records = crate::bench::records::RecordsBenchOptions {
        day_sales: opts.day_sales,
        year_sales: opts.year_sales,
    };
    out.push_str(&rows(
        &tokio::task::spawn_blocking(move || crate::bench::records::run(&records)).await??,
    ));
    eprintln!("bench: approve → Betalt with and without the hub…");
    let hooks = crate::bench::webhooks::WebhookBenchOptions {
        sales: opts.webhook_sales,
    };
    match crate::bench::webhooks::run(&hooks).await {
        Ok(table) => out.push_str(&rows(&table)),
        // It needs a PostgreSQL for the hub; the rest of the table stands.
        Err(e) => out.push_str(&format!(
            "| approve → Betalt with the hub's webhooks | not run: {e} |\n"
        )),
    }
    if opts.ui {
        eprintln!("bench: the touchscreen vs Chromium (Xvfb)…");
        let exe = std::env::current_exe()?;
        // The till never installs software: the script only checks, and names
        // the packages to install when something is missing.
        let ui = std::process::Command::new("scripts/bench-ui.sh")
            .arg(&exe)
            .env("LUKA_BENCH_NO_INSTALL", "1")
            .output()?;
        if !ui.status.success() {
            anyhow::bail!(
                "scripts/bench-ui.sh failed (run it from the repository): {}",
                String::from_utf8_lossy(&ui.stderr)
            );
        }
        out.push_str(&ui_rows(&String::from_utf8_lossy(&ui.stdout)));
    } else {
        out.push_str(
            "| touchscreen vs Chromium | add --ui (Xvfb + Chromium, from the repository) |\n",
        );
    }
    out.push_str(&format!(
        "\nThe whole suite took {:.0} s.\n",
        started.elapsed().as_secs_f64()
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_fold_into_one() {
        assert_eq!(
            rows("| measure | value |\n|---|---|\n| a | 1 |\n"),
            "| a | 1 |\n"
        );
        let ui = "| 800×480 under Xvfb | Luka | Chromium | ratio |\n|---|---|---|---|\n\
                  | start to first frame | 0.27 s | 1.09 s | 4.1× |\n";
        assert_eq!(
            ui_rows(ui),
            "| touchscreen, 800×480: start to first frame (Luka / Chromium, ratio) | 0.27 s / 1.09 s (4.1×) |\n"
        );
    }
}
