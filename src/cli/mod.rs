//! The `luka` command line: [`Cli`] and [`Command`] (clap), and [`run`],
//! which hands each command to its file.
//!
//! | file | commands |
//! |---|---|
//! | `sale.rs` | `charge`, `resume` |
//! | `refund.rs` | `refund`, `drawer open` |
//! | `training.rs` | `training on\|off` |
//! | `stock.rs` | `product ID --sold-out\|--on-sale\|--count N\|--add N\|--uncounted` |
//! | `receipt.rs` | `receipt --last [--copy]`, `receipt --preview` |
//! | `records.rs` | `report x\|z`, `journal`, `cash float`, `export` |
//! | `books.rs` | `sync`, `sync status`, `reconcile` |
//! | `backup.rs` | `backup` |
//! | `setup.rs` | `pin-hash`, `simulate` |
//! | `hub.rs` | `hub serve`, `hub add-till`, `hub remove-till`, `hub add-user`, `hub export-saft`, `pair` |
//!
//! `luka bench` runs [`crate::bench`]; no command runs the UI but the bare `luka`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::config::Config;

mod backup;
mod books;
mod hub;
pub mod receipt;
mod records;
mod refund;
mod sale;
mod setup;
mod stock;
mod training;

#[derive(Debug, Parser)]
#[command(
    name = "luka",
    version,
    about = "Luka: a Vipps MobilePay till for club kiosks, doors and small shops"
)]
pub struct Cli {
    /// Config file (default: ./luka.toml, then /etc/luka/luka.toml; none = training mode).
    #[arg(long, global = true, env = "LUKA_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Vipps simulator on its own and print its base URL.
    Simulate {
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Address to listen on (loopback unless you want phones on the LAN to reach it).
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
    },
    /// Sell headless, a free amount and/or products: show the QR, wait, capture
    /// (or --cash); one JSON line out.
    Charge {
        /// Amount in kroner, e.g. 150 or 149,50 (a free-amount line).
        #[arg(required_unless_present = "product")]
        amount: Option<String>,
        /// A product from the price list, ID or IDxN (e.g. kaffe x2 as kaffex2); repeatable.
        #[arg(long, value_name = "ID[xN]")]
        product: Vec<String>,
        /// Taken out of the cart again before payment, ID or IDxN: journaled as a
        /// line correction with its amount (§ 2-8-2 s); repeatable.
        #[arg(long, value_name = "ID[xN]")]
        remove: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Paid in cash at the till (no Vipps): recorded at once, the drawer opens.
        #[arg(long)]
        cash: bool,
        /// With --cash: what the customer handed over (default: the amount); the change is printed.
        #[arg(long, requires = "cash", value_name = "KRONER")]
        tendered: Option<String>,
        /// Paid on the club's own card terminal (`[till] card_terminal`): recorded at once.
        #[arg(long, conflicts_with = "cash")]
        card: bool,
        /// With --card: the reference on the terminal's slip, printed on the receipt.
        #[arg(long, requires = "card", value_name = "REF")]
        terminal_ref: Option<String>,
        /// Vipps, sent to the customer's app: the text scanned from their personal
        /// Vipps QR code (no QR is shown; they approve in the app).
        #[arg(long, value_name = "TEXT", conflicts_with_all = ["cash", "card", "phone"])]
        personal_qr: Option<String>,
        /// Vipps, sent to the customer's app by mobile number: 8 digits (Norway),
        /// or the full number with country code (4791234567).
        #[arg(long, value_name = "NUMBER", conflicts_with_all = ["cash", "card"])]
        phone: Option<String>,
        /// The volunteer (an [[operators]] id or name) the sale is made by.
        #[arg(long)]
        operator: Option<String>,
        /// Give up waiting after this many seconds (the sale itself stays safe).
        #[arg(long)]
        timeout: Option<u64>,
    },
    /// Measure the money path (loopback simulator, real SQLite, fsync on) and print a table.
    Bench {
        #[arg(long, default_value_t = 200)]
        sales: usize,
        #[arg(long, default_value_t = 20)]
        latency_payments: usize,
        /// Measure the records instead: Z report, SAF-T export and journal verify.
        #[arg(long)]
        records: bool,
        /// Measure the books instead: drain an offline day's backlog to the webhook and PowerOffice.
        #[arg(long)]
        books: bool,
        /// Everything in one table: money path, receipts, books drain, records (a day and a year).
        #[arg(long)]
        all: bool,
        /// Measure the club's hub instead: tills' backlogs draining into it, a sale
        /// reaching the takings page, the page over a million stored sales, its RSS
        /// (a PostgreSQL cluster of its own; needs Debian's postgresql package).
        #[arg(long)]
        hub: bool,
        /// With --hub: how many tills, each with --hub-sales sales waiting.
        #[arg(long, default_value_t = 10)]
        hub_tills: usize,
        #[arg(long, default_value_t = 10_000)]
        hub_sales: usize,
        /// With --hub: sales stored besides for the takings page's queries.
        #[arg(long, default_value_t = 1_000_000)]
        hub_stored: usize,
        /// Measure approve → "Betalt" by polling alone and with the club's hub
        /// passing on Vipps' webhook (a PostgreSQL cluster of its own).
        #[arg(long)]
        webhooks: bool,
        /// With --webhooks: sales per run.
        #[arg(long, default_value_t = 40)]
        webhook_sales: usize,
        /// With --all: also the touchscreen against Chromium (scripts/bench-ui.sh; Xvfb).
        #[arg(long, requires = "all")]
        ui: bool,
        /// Sales queued for the books drain (--books, --all).
        #[arg(long, default_value_t = 10_000)]
        drain_sales: usize,
        #[arg(long, default_value_t = 5_000)]
        day_sales: usize,
        #[arg(long, default_value_t = 500_000)]
        year_sales: usize,
    },
    /// Refund a paid sale, all of it or --amount, the way it was paid (cash from the
    /// drawer at once, Vipps through Vipps); prints the Returkvittering's number.
    Refund {
        /// The sale's receipt number (on the receipt and in the organizer's list).
        receipt_no: i64,
        /// Kroner to refund, e.g. 50 or 49,50 (default: all that is left).
        #[arg(long)]
        amount: Option<String>,
        /// Why, for the journal (e.g. "Feil vare", "Kunden angret").
        #[arg(long)]
        reason: String,
        /// How long to wait for Vipps to apply a Vipps refund, in seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// The volunteer (an [[operators]] id or name) giving the refund.
        #[arg(long)]
        operator: Option<String>,
    },
    /// The cash drawer: open it without a sale, with a reason (journaled, counted in X/Z).
    #[command(subcommand)]
    Drawer(DrawerCommand),
    /// Hash an organizer PIN for `[ui] pin_hash` (reads the PIN from standard input).
    PinHash,
    /// Settle every unfinished sale and outbox item from an earlier run, then exit.
    Resume {
        #[arg(long, default_value_t = 900)]
        timeout: u64,
    },
    /// Print the last sale's receipt again, or save a picture of one.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["last", "preview"])))]
    Receipt {
        /// The last paid sale: prints its receipt if it is still held by the printer.
        #[arg(long)]
        last: bool,
        /// With --last: the one allowed copy ("KOPI"); refused for a second copy.
        #[arg(long, requires = "last")]
        copy: bool,
        /// A receipt number or payment reference to draw as PNG (nothing is printed).
        /// Of a real sale the picture is its one copy ("KOPI"), journaled like a
        /// printed copy and refused once the copy was given.
        #[arg(long, value_name = "REF", conflicts_with = "last")]
        preview: Option<String>,
        /// Where --preview writes the PNG.
        #[arg(
            long,
            value_name = "FILE",
            requires = "preview",
            default_value = "receipt.png"
        )]
        out: PathBuf,
        /// How long --last waits for the printer's answer, in seconds.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Copy the database consistently (safe while the till runs), e.g. to a USB stick.
    Backup {
        /// Folder to write `<till id>-<UTC time>.db` into (created if missing).
        #[arg(long)]
        to: PathBuf,
    },
    /// Training mode of a production till: on, every new sale is a training sale
    /// (simulated Vipps, Treningskvittering, no drawer, not in the books); journaled.
    Training {
        #[arg(value_enum)]
        state: OnOff,
        /// The volunteer (an [[operators]] id or name) switching it.
        #[arg(long)]
        operator: Option<String>,
    },
    /// What is left to sell: mark a product sold out or back on sale, or count it
    /// (journaled); alone, list every counted or sold-out product.
    Product {
        /// The product's id in the price list, e.g. polse.
        id: Option<String>,
        /// Sold out from now: its tile is greyed and a sale of it refused.
        #[arg(long, requires = "id", group = "change")]
        sold_out: bool,
        /// Back on sale.
        #[arg(long, requires = "id", group = "change")]
        on_sale: bool,
        /// Counted from now, N left; every paid sale takes from it.
        #[arg(long, requires = "id", group = "change", value_name = "N")]
        count: Option<u32>,
        /// With --count: warn on the tile when this many are left.
        #[arg(long, requires = "count", value_name = "N")]
        low: Option<u32>,
        /// Add N to the count (negative to take away), e.g. a new box.
        #[arg(
            long,
            requires = "id",
            group = "change",
            value_name = "N",
            allow_hyphen_values = true
        )]
        add: Option<i32>,
        /// No longer counted.
        #[arg(long, requires = "id", group = "change")]
        uncounted: bool,
        /// The volunteer (an [[operators]] id or name) making the change.
        #[arg(long)]
        operator: Option<String>,
    },
    /// X and Z reports.
    #[command(subcommand)]
    Report(records::ReportCommand),
    /// The electronic journal: verify its chain and signatures, show the public key.
    #[command(subcommand)]
    Journal(records::JournalCommand),
    /// The cash drawer: declare the opening float.
    #[command(subcommand)]
    Cash(records::CashCommand),
    /// Exports for the books and the tax authority.
    #[command(subcommand)]
    Export(records::ExportCommand),
    /// Deliver everything waiting for the books (webhook, PowerOffice, CSV) and exit.
    Sync {
        #[command(subcommand)]
        command: Option<books::SyncCommand>,
        /// Give up when nothing has moved for this many seconds (a receiver that is down).
        #[arg(long, default_value_t = 30)]
        patience: u64,
        /// Also retry items that stopped with an error.
        #[arg(long)]
        retry_failed: bool,
    },
    /// The club's hub (PostgreSQL, `[hub]`): serve it, add and remove tills, add treasurers.
    #[command(subcommand)]
    Hub(hub::HubCommand),
    /// Pair this till with the club's hub: every journal entry goes up from now on.
    Pair {
        /// The hub's address: https://…, or http:// only on this machine.
        url: String,
        /// The one-time code from "Legg til kasse" / `luka hub add-till`.
        code: String,
    },
    /// Check a Vipps settlement date against the journal; queue its fee and payout vouchers.
    Reconcile {
        /// The Vipps ledger date, e.g. 2026-11-30.
        #[arg(long)]
        date: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum DrawerCommand {
    /// Open the drawer now ("Åpne skuff"): on the printer's kick port or the GPIO relay.
    Open {
        /// Why, for the journal (e.g. "Veksel", "Telling").
        #[arg(long)]
        reason: String,
        /// The volunteer (an [[operators]] id or name) opening it.
        #[arg(long)]
        operator: Option<String>,
    },
}

/// Starts the till for one command; with `--operator ID` the volunteer is
/// logged in for it (journaled as from the command line) and out at the end.
async fn start_as(config: Config, operator: Option<&str>) -> anyhow::Result<crate::app::App> {
    let app = crate::app::App::start(config).await?;
    if let Some(id) = operator
        && let Err(e) = app.kiosk.operator_login_from_cli(id)
    {
        app.shutdown().await;
        return Err(e.into());
    }
    Ok(app)
}

/// Stops what [`start_as`] started, logging its operator out first.
async fn finish(app: crate::app::App, operator: Option<&str>) {
    if operator.is_some()
        && let Err(e) = app.kiosk.operator_logout()
    {
        tracing::warn!(error = %e, "could not journal the operator's logout");
    }
    app.shutdown().await;
}

/// Runs the CLI; returns the process exit code.
/// The words `luka` prints for an error that ended a command: the error, then
/// each cause the words do not already contain. Most of Luka's errors carry
/// their cause in their own message (`{0}`), so anyhow's `{:#}` would say
/// everything twice; a `.context(…)` still gets its cause appended.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !out.contains(&cause) {
            out.push_str(": ");
            out.push_str(&cause);
        }
    }
    out
}

pub fn run(cli: Cli) -> anyhow::Result<i32> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()?;
    match cli.command {
        Some(Command::Simulate { port, host }) => rt.block_on(setup::simulate(host, port)),
        Some(Command::Charge {
            amount,
            product,
            remove,
            description,
            cash,
            tendered,
            card,
            terminal_ref,
            personal_qr,
            phone,
            operator,
            timeout,
        }) => {
            let config = Config::load(cli.config.as_deref())?;
            let cart = sale::CartSpec {
                amount,
                products: product,
                removed: remove,
            };
            let operator = operator.as_deref();
            rt.block_on(async {
                if card {
                    let reference = terminal_ref.as_deref();
                    sale::charge_card(config, &cart, reference, &description, operator).await
                } else if cash {
                    let tendered = tendered.as_deref();
                    sale::charge_cash(config, &cart, tendered, &description, operator).await
                } else {
                    // Checked before the till starts: a bad number never reaches Vipps.
                    let customer = match (personal_qr, phone) {
                        (Some(q), _) => Some(crate::domain::Customer::personal_qr(&q)?),
                        (None, Some(n)) => Some(crate::domain::Customer::phone(&n)?),
                        (None, None) => None,
                    };
                    let to = customer.as_ref();
                    sale::charge(config, &cart, &description, timeout, operator, to).await
                }
            })
        }
        Some(Command::Refund {
            receipt_no,
            amount,
            reason,
            timeout,
            operator,
        }) => {
            let config = Config::load(cli.config.as_deref())?;
            rt.block_on(refund::refund(
                config,
                receipt_no,
                amount.as_deref(),
                &reason,
                Duration::from_secs(timeout),
                operator.as_deref(),
            ))
        }
        Some(Command::Product {
            id,
            sold_out,
            on_sale,
            count,
            low,
            add,
            uncounted,
            operator,
        }) => {
            let config = Config::load(cli.config.as_deref())?;
            use crate::kiosk::StockChange;
            let change = if sold_out {
                Some(StockChange::SoldOut)
            } else if on_sale {
                Some(StockChange::OnSale)
            } else if let Some(remaining) = count {
                Some(StockChange::Count {
                    remaining,
                    low_mark: low,
                })
            } else if let Some(n) = add {
                Some(StockChange::Add(n))
            } else if uncounted {
                Some(StockChange::Uncounted)
            } else {
                None
            };
            rt.block_on(stock::product(
                config,
                id.as_deref(),
                change,
                operator.as_deref(),
            ))
        }
        Some(Command::Training { state, operator }) => {
            let config = Config::load(cli.config.as_deref())?;
            let on = matches!(state, OnOff::On);
            rt.block_on(training::switch(config, on, operator.as_deref()))
        }
        Some(Command::Drawer(DrawerCommand::Open { reason, operator })) => {
            let config = Config::load(cli.config.as_deref())?;
            rt.block_on(refund::open_drawer(config, &reason, operator.as_deref()))
        }
        Some(Command::Bench {
            all: true,
            ui,
            sales,
            latency_payments,
            drain_sales,
            day_sales,
            year_sales,
            webhook_sales,
            ..
        }) => {
            let opts = crate::bench::all::AllOptions {
                sales,
                latency_payments,
                drain_sales,
                day_sales,
                year_sales,
                webhook_sales,
                ui,
            };
            println!("{}", rt.block_on(crate::bench::all::run(&opts))?);
            Ok(0)
        }
        Some(Command::Bench {
            hub: true,
            hub_tills,
            hub_sales,
            hub_stored,
            ..
        }) => {
            let opts = crate::bench::hub::HubBenchOptions {
                tills: hub_tills,
                sales: hub_sales,
                stored_sales: hub_stored,
            };
            println!("{}", rt.block_on(crate::bench::hub::run(&opts))?);
            Ok(0)
        }
        Some(Command::Bench {
            webhooks: true,
            webhook_sales,
            ..
        }) => {
            let opts = crate::bench::webhooks::WebhookBenchOptions {
                sales: webhook_sales,
            };
            println!("{}", rt.block_on(crate::bench::webhooks::run(&opts))?);
            Ok(0)
        }
        Some(Command::Bench {
            books: true,
            drain_sales,
            ..
        }) => {
            let opts = crate::bench::books::BooksBenchOptions { sales: drain_sales };
            println!("{}", rt.block_on(crate::bench::books::run(&opts))?);
            Ok(0)
        }
        Some(Command::Bench {
            records: true,
            day_sales,
            year_sales,
            ..
        }) => {
            let opts = crate::bench::records::RecordsBenchOptions {
                day_sales,
                year_sales,
            };
            println!("{}", crate::bench::records::run(&opts)?);
            Ok(0)
        }
        Some(Command::Bench {
            sales,
            latency_payments,
            ..
        }) => {
            let table = rt.block_on(crate::bench::money::run(
                crate::bench::money::BenchOptions {
                    sales,
                    latency_payments,
                },
            ))?;
            println!("{table}");
            Ok(0)
        }
        Some(Command::Resume { timeout }) => {
            let config = Config::load(cli.config.as_deref())?;
            rt.block_on(sale::resume(config, Duration::from_secs(timeout)))
        }
        Some(Command::Receipt {
            last,
            copy,
            preview,
            out,
            timeout,
        }) => {
            let config = Config::load(cli.config.as_deref())?;
            match preview {
                Some(reference) => receipt::preview_png(&config, &reference, &out),
                None if last => {
                    rt.block_on(receipt::last(config, copy, Duration::from_secs(timeout)))
                }
                None => unreachable!("clap requires --last or --preview"),
            }
        }
        Some(Command::Backup { to }) => {
            let config = Config::load(cli.config.as_deref())?;
            backup::backup(&config, &to)
        }
        Some(Command::PinHash) => setup::pin_hash(),
        Some(Command::Report(c)) => records::report(cli.config.as_deref(), c),
        Some(Command::Journal(c)) => records::journal(cli.config.as_deref(), c, &rt),
        Some(Command::Cash(c)) => records::cash(cli.config.as_deref(), c),
        Some(Command::Export(c)) => records::export(cli.config.as_deref(), c),
        Some(Command::Sync {
            command: Some(books::SyncCommand::Status { json }),
            ..
        }) => books::status(&Config::load(cli.config.as_deref())?, json),
        Some(Command::Hub(c)) => {
            let config = Config::load(cli.config.as_deref())?;
            rt.block_on(hub::hub(config, c))
        }
        Some(Command::Pair { url, code }) => {
            let config = Config::load(cli.config.as_deref())?;
            rt.block_on(hub::pair(config, &url, &code))
        }
        Some(Command::Reconcile { date, json }) => {
            let config = Config::load(cli.config.as_deref())?;
            let date = records::parse_date(&date, "--date")?;
            rt.block_on(books::reconcile(config, date, json))
        }
        Some(Command::Sync {
            command: None,
            patience,
            retry_failed,
        }) => {
            let config = Config::load(cli.config.as_deref())?;
            rt.block_on(books::drain(
                config,
                Duration::from_secs(patience),
                retry_failed,
            ))
        }
        None => {
            drop(rt);
            let config = Config::load(cli.config.as_deref())?;
            crate::ui::run(config)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::error_text;
    use anyhow::Context;

    #[test]
    fn a_cause_already_in_the_words_is_not_said_twice() {
        let in_use = crate::store::StoreError::InUse {
            path: "luka.db".into(),
        };
        let e = anyhow::Error::from(crate::app::AppError::from(crate::kiosk::KioskError::from(
            in_use,
        )));
        let text = error_text(&e);
        assert_eq!(
            text.matches("another Luka is already working").count(),
            1,
            "{text}"
        );
        assert!(format!("{e:#}").matches("another Luka").count() > 1);
        let e = Err::<(), _>(std::io::Error::other("disk on fire"))
            .context("cannot write the export")
            .unwrap_err();
        assert_eq!(error_text(&e), "cannot write the export: disk on fire");
    }
}
