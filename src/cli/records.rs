//! The record-keeping commands of `luka`: `report x|z`, `cash float`,
//! `journal verify|key` and `export saft`. Each loads the config, opens the
//! store and calls the same API the organizer screen uses; output is a
//! readable table or, with `--json`, the report itself.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::config::Config;
use crate::domain::{Currency, Money};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// X report: the figures since the last Z report (journaled, no reset).
    X {
        #[arg(long)]
        json: bool,
    },
    /// Z report: closes the day for this till (once per day).
    Z {
        #[arg(long)]
        json: bool,
        /// Cash counted in the drawer, e.g. 1234,50; the difference is journaled.
        #[arg(long)]
        counted: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Check the hash chain and every SAF-T signature; name the first broken entry.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Print the public signing key(s) and key versions, for the auditor.
    Key,
    /// Print the journal of a period on the receipt printer (or as text with --out).
    Print {
        /// First local date, e.g. 2026-12-05.
        #[arg(long)]
        from: String,
        /// Last local date (included).
        #[arg(long)]
        to: String,
        /// Write the lines as they would print to this file instead (the till may run).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CashCommand {
    /// Declare the opening float put in the drawer, e.g. `luka cash float 1500`.
    Float { amount: String },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// SAF-T Cash Register XML for a date range (local dates, both included).
    Saft {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// The day's vouchers as CSV (Z report's daily sales, Vipps fees and
    /// payout from `luka reconcile`): date, voucher no, account, VAT code,
    /// amount, text, reference.
    Vouchers {
        /// The business day / ledger date, e.g. 2026-11-30.
        #[arg(long)]
        date: String,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The database for a command that may run beside the till: its writes
/// (a journal line, a float, a Z) wait up to a minute for the till's.
pub(super) fn open(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open(&config.store_path)?;
    store.wait_for_writers(std::time::Duration::from_secs(60))?;
    Ok(store)
}

pub fn report(config_path: Option<&Path>, cmd: ReportCommand) -> anyhow::Result<i32> {
    let config = Config::load(config_path)?;
    let store = open(&config)?;
    let now = time::OffsetDateTime::now_utc();
    let (report, json) = match cmd {
        ReportCommand::X { json } => (
            crate::reports::x_report(&store, &config.till_id, now)?,
            json,
        ),
        ReportCommand::Z { json, counted } => {
            let counted = counted
                .map(|c| Money::parse(&c, Currency::NOK))
                .transpose()?;
            (
                crate::reports::close_day_and_book(
                    &store,
                    &config.till_id,
                    counted,
                    &crate::app::sync_targets(&config),
                    now,
                )?,
                json,
            )
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let input =
            crate::reports::to_printer(&report, &config.merchant, config.is_training(), now);
        println!("{}  {}", input.title, report.header.business_date);
        if let Some(n) = input.number {
            println!("Nr {n}");
        }
        for s in &input.sections {
            println!("\n{}", s.heading);
            for (label, value) in &s.rows {
                println!("  {label:<36} {value:>18}");
            }
        }
    }
    Ok(0)
}

pub fn cash(config_path: Option<&Path>, cmd: CashCommand) -> anyhow::Result<i32> {
    let config = Config::load(config_path)?;
    let store = open(&config)?;
    match cmd {
        CashCommand::Float { amount } => {
            let amount = Money::parse(&amount, Currency::NOK)?;
            let seq = crate::reports::set_float(
                &store,
                &config.till_id,
                amount,
                time::OffsetDateTime::now_utc(),
            )?;
            println!("Float {amount} recorded (journal entry {seq}).");
        }
    }
    Ok(0)
}

pub fn journal(
    config_path: Option<&Path>,
    cmd: JournalCommand,
    rt: &tokio::runtime::Runtime,
) -> anyhow::Result<i32> {
    let config = Config::load(config_path)?;
    match cmd {
        JournalCommand::Print { from, to, out } => {
            let (from, to) = (parse_date(&from, "--from")?, parse_date(&to, "--to")?);
            match out {
                Some(path) => journal_text(&config, from, to, &path),
                None => rt.block_on(journal_paper(config, from, to)),
            }
        }
        JournalCommand::Verify { json } => {
            let store = open(&config)?;
            let report = store.verify_journal()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else if let Some(p) = &report.problem {
                println!(
                    "BROKEN at entry {}: {}\n(checked {} entries; {} signed transactions verified before it)",
                    p.seq, p.what, report.entries, report.signed
                );
            } else {
                println!(
                    "OK: {} entries, {} signed cash transactions, chain head {} = {}",
                    report.entries,
                    report.signed,
                    report.head_seq.unwrap_or(0),
                    report.head_hash.as_deref().unwrap_or("-")
                );
                if report.legacy > 0 {
                    println!(
                        "note: the first {} entries are from before the chain existed and are not protected by it",
                        report.legacy
                    );
                }
            }
            Ok(if report.ok() { 0 } else { 1 })
        }
        JournalCommand::Key => {
            let store = open(&config)?;
            let keys = store.read(|r| r.journal_keys())?;
            if keys.is_empty() {
                println!(
                    "No signing key yet: one is made (at {}) when the first sale is recorded.",
                    store.signing_key_path().display()
                );
            }
            for (version, algorithm, pem) in keys {
                println!("keyVersion {version} ({algorithm})\n{pem}");
            }
            Ok(0)
        }
    }
}

/// `luka journal print --out FILE`: the lines as the printer would print
/// them; a copy of the journal leaving the till, so journaled (13020).
fn journal_text(
    config: &Config,
    from: time::Date,
    to: time::Date,
    path: &Path,
) -> anyhow::Result<i32> {
    let store = open(config)?;
    let now = time::OffsetDateTime::now_utc();
    let (paper, entries) = crate::reports::journal_print::journal_paper(
        &store,
        from,
        to,
        &config.merchant,
        &config.till_id,
        config.is_training(),
        now,
    )?;
    let layout = crate::printer::LayoutConfig::new(config.printer.width);
    let lines = crate::printer::layout_report(&paper, &layout).plain_lines();
    std::fs::write(path, lines.join("\n") + "\n")
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    journal_export(
        &store,
        serde_json::json!({
            "what": "journal text", "from": from.to_string(), "to": to.to_string(),
            "file": path.display().to_string(), "entries": entries,
        }),
    )?;
    println!(
        "{}",
        serde_json::json!({ "entries": entries, "file": path.display().to_string() })
    );
    Ok(0)
}

/// `luka journal print`: on the till's receipt printer (the till must be
/// stopped: one process prints). Journaled as another report when printed.
async fn journal_paper(config: Config, from: time::Date, to: time::Date) -> anyhow::Result<i32> {
    let app = crate::app::App::start(config).await?;
    let queued = app.kiosk.print_journal(from, to);
    if queued.is_ok() {
        let _ = app
            .kiosk
            .wait_settled(std::time::Duration::from_secs(60))
            .await;
    }
    let printer = app.kiosk.printer_status();
    app.shutdown().await;
    let entries = queued?;
    let printed = printer.held == 0 && !printer.state.is_held();
    println!(
        "{}",
        serde_json::json!({ "entries": entries, "printed": printed, "printer": printer.state.message() })
    );
    Ok(if printed { 0 } else { 1 })
}

/// Journals that the journal was copied out of the till (SAF-T 13020). The
/// store comes from [`open`], so it waits for a busy till.
pub(super) fn journal_export(store: &Store, data: serde_json::Value) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc();
    store
        .write(|w| {
            w.journal(
                crate::domain::journal::JournalKind::JournalExported,
                None,
                data,
                now,
            )
        })
        .map_err(|e| {
            anyhow::anyhow!(
                "the export is written, but recording it in the journal failed: {e}; \
                 run the command again"
            )
        })?;
    Ok(())
}

pub fn export(config_path: Option<&Path>, cmd: ExportCommand) -> anyhow::Result<i32> {
    let config = Config::load(config_path)?;
    let store = open(&config)?;
    match cmd {
        ExportCommand::Saft { from, to, out } => {
            let opts = crate::bookkeeping::saft::SaftOptions {
                from: parse_date(&from, "--from")?,
                to: parse_date(&to, "--to")?,
                merchant: config.merchant.clone(),
                till_id: config.till_id.clone(),
                catalog: config.catalog.clone(),
                now: time::OffsetDateTime::now_utc(),
            };
            let s = crate::bookkeeping::saft::export_file(&store, &opts, &out)?;
            // The journal left the till (SAF-T 13020, § 2-7-1).
            journal_export(
                &store,
                serde_json::json!({
                    "what": "saft", "from": opts.from.to_string(), "to": opts.to.to_string(),
                    "file": out.display().to_string(), "transactions": s.transactions,
                    "events": s.events, "bytes": s.bytes,
                }),
            )?;
            println!(
                "Wrote {} ({} cash transactions, {} events, {} bytes).",
                out.display(),
                s.transactions,
                s.events,
                s.bytes
            );
        }
        ExportCommand::Vouchers { date, out } => {
            let day = parse_date(&date, "--date")?.to_string();
            let vouchers = day_vouchers(&store, &config, &day)?;
            let text = crate::bookkeeping::csv::document(&vouchers);
            match out {
                Some(path) => {
                    std::fs::write(&path, &text)?;
                    eprintln!("Wrote {} ({} vouchers).", path.display(), vouchers.len());
                }
                None => print!("{text}"),
            }
            if vouchers.is_empty() {
                eprintln!(
                    "No vouchers for {day}: make the Z report that day (luka report z) and, \
                     once Vipps has settled it, run luka reconcile --date {day}."
                );
            }
        }
    }
    Ok(0)
}

/// Every voucher of a day: the daily sales of each Z that day, then the
/// Vipps fee and payout vouchers of each reconciled ledger of the date.
pub fn day_vouchers(
    store: &Store,
    config: &Config,
    day: &str,
) -> anyhow::Result<Vec<crate::domain::voucher::Voucher>> {
    let accounts = &config.bookkeeping.accounts;
    let (zs, recs) = store.read(|r| Ok((r.z_reports_on(day)?, r.reconciliations_on(day)?)))?;
    let mut vouchers: Vec<_> = zs
        .iter()
        .filter_map(|z| crate::domain::voucher::daily_sales(z, accounts))
        .collect();
    // One reconciliation per sales unit's ledger (issue 16, part 4).
    for stored in recs {
        let rec: crate::bookkeeping::reconcile::Reconciliation =
            serde_json::from_value(stored.result)?;
        vouchers.extend(rec.vouchers(accounts));
    }
    Ok(vouchers)
}

pub fn parse_date(text: &str, flag: &str) -> anyhow::Result<time::Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &fmt)
        .map_err(|_| anyhow::anyhow!("{flag} '{text}' is not a date: write it as 2024-05-31"))
}
