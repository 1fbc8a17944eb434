//! `luka hub …` (the club's hub: serve it, add and remove tills, add
//! treasurers, write the club's SAF-T file) and `luka pair URL CODE` (a
//! till joins a hub).

use std::io::BufRead;
use std::path::PathBuf;

use clap::Subcommand;

use crate::config::Config;
use crate::hub::Hub;
use crate::hub::users::Role;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Run the hub: the API the tills send their journals to and the back office pages.
    Serve,
    /// See the hub with nothing set up: PostgreSQL in a folder, the hub on
    /// loopback, two training tills selling now and then; prints the address
    /// and logins. Needs Debian's postgresql package (scripts/hub.sh installs it).
    Demo {
        /// Where the demo keeps its database and tills (kept between runs).
        #[arg(long, default_value = "luka-hub-demo")]
        dir: std::path::PathBuf,
        /// Where the hub listens (loopback: passwords never leave this machine).
        #[arg(long, default_value = "127.0.0.1:8470")]
        listen: std::net::SocketAddr,
        /// About how often each till sells, in seconds.
        #[arg(long, default_value_t = 20)]
        sell_every: u64,
    },
    /// Add a till (or take back an unpaired one) and print its one-time pairing code.
    AddTill {
        /// The till's id, as in its luka.toml `[till] id` (letters, digits, '-').
        name: String,
    },
    /// Unpair a till: its device credential is refused from now on; its journal stays.
    RemoveTill { name: String },
    /// Add a person who may log in, or set a new password and role (the
    /// password is read from standard input, never from the command line).
    AddUser {
        name: String,
        /// treasurer (kasserer: everything) or kioskansvarlig (takings and sold-out marks only).
        #[arg(long, default_value = "treasurer")]
        role: crate::hub::users::Role,
    },
    /// Register (or check) the hub's Vipps webhooks for every `[[hub.vipps]]`
    /// sales unit, deleting the hub's stale ones; one JSON line per unit.
    /// `luka hub serve` does the same at start, in the background.
    VippsWebhooks,
    /// Write the club's SAF-T Cash Register file: every till's journal for the dates, one register per till.
    ExportSaft {
        /// First local business date (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// Last local business date, included (YYYY-MM-DD).
        #[arg(long)]
        to: String,
        #[arg(long)]
        out: PathBuf,
    },
}

async fn connect(config: &Config) -> anyhow::Result<Hub> {
    let Some(url) = &config.hub.database_url else {
        anyhow::bail!(
            "no hub database: set [hub] database_url in luka.toml (or LUKA_HUB_DATABASE_URL), \
             e.g. \"postgresql://luka@localhost/luka_hub\""
        );
    };
    Ok(
        Hub::connect_with(url.expose(), config.hub.database_ca_file.as_deref())
            .await?
            .with_club(config.hub.club.clone()),
    )
}

pub async fn hub(config: Config, command: HubCommand) -> anyhow::Result<i32> {
    if let HubCommand::Demo {
        dir,
        listen,
        sell_every,
    } = command
    {
        if !listen.ip().is_loopback() {
            anyhow::bail!(
                "the demo listens on loopback only (its logins are printed and travel in clear): \
                 give --listen 127.0.0.1:PORT"
            );
        }
        let stop = crate::shutdown::StopSignal::install()?;
        let opts = crate::app::hub_demo::DemoOptions {
            dir,
            listen,
            sell_every: std::time::Duration::from_secs(sell_every.max(1)),
        };
        crate::app::hub_demo::run(opts, async move {
            let signal = stop.wait().await;
            eprintln!("{signal}");
        })
        .await?;
        return Ok(0);
    }
    let hub = connect(&config).await?;
    match command {
        HubCommand::Serve => {
            let stop = crate::shutdown::StopSignal::install()?;
            let h = &config.hub;
            let (stop_hooks, hooks_stopped) = tokio::sync::watch::channel(false);
            let hooks = match (&h.public_url, h.vipps.is_empty()) {
                (Some(url), false) => Some(crate::hub::vipps_hooks::spawn_registration(
                    hub.clone(),
                    url.clone(),
                    h.vipps.clone(),
                    hooks_stopped,
                )),
                _ => None,
            };
            let serving = crate::hub::web::serve(hub, h.listen, h.secure_cookies()).await?;
            println!("Luka Hub listening on {}", serving.url());
            let signal = stop.wait().await;
            eprintln!("{signal}: stopping the hub");
            let _ = stop_hooks.send(true);
            if let Some(task) = hooks {
                let _ = task.await;
            }
            serving.shutdown().await;
            Ok(0)
        }
        HubCommand::VippsWebhooks => {
            let h = &config.hub;
            let Some(url) = &h.public_url else {
                anyhow::bail!(
                    "[hub] public_url is not set: Vipps posts to {{public_url}}/vipps/webhook; \
                     set it to the hub's https:// address"
                );
            };
            if h.vipps.is_empty() {
                anyhow::bail!(
                    "no [[hub.vipps]] sales unit in the config: add one per MSN (see deploy-pi/luka.toml.example)"
                );
            }
            for r in hub.register_vipps_webhooks(url, &h.vipps).await? {
                println!("{}", serde_json::to_string(&r)?);
            }
            Ok(0)
        }
        HubCommand::Demo { .. } => unreachable!("handled above"),
        HubCommand::AddTill { name } => {
            let code = hub.add_till(&name).await?;
            println!("Till {name} added. On the till, within 15 minutes:");
            println!();
            println!("    luka pair URL {code}");
            println!();
            println!("(URL: this hub's https:// address.) The code works once.");
            Ok(0)
        }
        HubCommand::RemoveTill { name } => {
            hub.remove_till(&name).await?;
            println!("Till {name} unpaired: its credential is refused from now on.");
            Ok(0)
        }
        HubCommand::AddUser { name, role } => {
            eprintln!("Password for {name} (one line on standard input):");
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            hub.set_user(&name, password, role).await?;
            match role {
                Role::Treasurer => println!("Treasurer {name} can log in."),
                Role::Kiosk => {
                    println!("Kioskansvarlig {name} can log in: takings and sold-out marks only.")
                }
            }
            Ok(0)
        }
        HubCommand::ExportSaft { from, to, out } => export_saft(hub, &from, &to, out).await,
    }
}

/// `luka hub export-saft`: checked before anything is written (the club
/// set, the range the right way round), then written on a blocking thread,
/// as the writer pulls the journals page by page.
async fn export_saft(hub: Hub, from: &str, to: &str, out: PathBuf) -> anyhow::Result<i32> {
    let from = super::records::parse_date(from, "--from")?;
    let to = super::records::parse_date(to, "--to")?;
    if to < from {
        anyhow::bail!("--to {to} is before --from {from}: give the first date, then the last");
    }
    hub.club_for_saft()?;
    let handle = tokio::runtime::Handle::current();
    let path = out.clone();
    let s = tokio::task::spawn_blocking(move || {
        hub.write_saft_file_blocking(&handle, from, to, time::OffsetDateTime::now_utc(), &path)
    })
    .await??;
    println!(
        "Wrote {} ({} cash registers, {} cash transactions, {} events, {} bytes).",
        out.display(),
        s.registers,
        s.transactions,
        s.events,
        s.bytes
    );
    if s.transactions == 0 {
        eprintln!(
            "No sales or other cash transactions from {from} to {to} in the tills' journals \
             at the hub: the file is valid and lists {} register(s) with no transactions.",
            s.registers
        );
    }
    Ok(0)
}

/// `luka pair URL CODE`.
pub async fn pair(config: Config, url: &str, code: &str) -> anyhow::Result<i32> {
    let store = Store::open(&config.store_path)?;
    let done = crate::hub::link::pair(&store, &config.till_id, url, code).await?;
    eprintln!(
        "Paired. A till that is running follows within seconds (no restart); \
         `luka sync` sends now when it is not running."
    );
    println!(
        "{}",
        serde_json::json!({
            "paired": true,
            "till_id": done.till_id,
            "hub": done.url,
            "queued": done.queued,
        })
    );
    Ok(0)
}
