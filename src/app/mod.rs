//! Wiring: config → store, provider (with the in-process simulator in
//! training mode) and the kiosk service. Used by the CLI and the UI alike.
//! `books.rs` starts the sync lanes, `catalogue.rs` keeps a paired till in
//! step with the club's hub, `training.rs` is training inside a production
//! till, and `hub_demo.rs` is `luka hub demo` (a hub with two tills).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::clock::{RandomIds, SystemClock};
use crate::config::Config;
use crate::domain::journal::JournalKind;
use crate::hardware::{Button, Hardware};
use crate::kiosk::{Kiosk, KioskSettings, ReceiptSettings, Running};
use crate::payments::vipps::VippsProvider;
use crate::printer::LayoutConfig;
use crate::sim::{SimConfig, SimHandle};
use crate::store::Store;
use crate::vipps::{Credentials, SystemInfo, VippsClient};

mod books;
mod catalogue;
pub mod hub_demo;
mod training;
pub use books::{
    Books, BooksRunning, books_sinks, reconcile_source, reconcile_sources, spawn_reconciler,
    sync_targets,
};
pub use catalogue::REFRESH_EVERY;
pub use training::TrainingProvider;

pub struct App {
    pub config: Config,
    /// The database. The kiosk and the books' lanes hold it too; the UI
    /// never does (it asks the kiosk).
    pub store: Arc<Store>,
    pub kiosk: Kiosk,
    pub running: Running,
    /// The in-process simulator of the demo (the training till).
    pub sim: Option<SimHandle>,
    /// Where a production till's training sales are paid: its own simulator,
    /// started on first need (`app/training.rs`, `kiosk/training.rs`).
    pub training: Option<Arc<TrainingProvider>>,
    /// GPIO outputs (a no-op off the Pi or without `[gpio]` pins), already
    /// driven by kiosk events: paid pulse, error LED, drawer for cash.
    pub hardware: Arc<dyn Hardware>,
    /// Button presses, for the UI to take (`Option::take`) and act on.
    pub buttons: Option<tokio::sync::mpsc::Receiver<Button>>,
    /// The bookkeeping lanes (webhook, PowerOffice, CSV), if any sink is set.
    pub books: Option<BooksRunning>,
    /// The hub's catalogue refresher of a running till
    /// ([`App::refresh_catalogue`]): its stop and its task.
    catalogue: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
    /// The hub's event stream of a paired till ([`App::listen_to_hub`]).
    hub_events: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Store(crate::store::StoreError),
    #[error("{0}")]
    Kiosk(#[from] crate::kiosk::KioskError),
    #[error("cannot start the training simulator: {0}")]
    Sim(std::io::Error),
    #[error("{0}")]
    Vipps(#[from] crate::vipps::VippsError),
    #[error("configuration: {0}")]
    Config(String),
}

impl From<crate::store::StoreError> for AppError {
    /// A full or read-only card at start-up gets the same plain words as
    /// a refused sale ("no money was taken … full or read-only?"), not a
    /// bare SQLite error.
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_storage_unavailable() {
            AppError::Kiosk(e.into())
        } else {
            AppError::Store(e)
        }
    }
}

impl App {
    /// Starts everything. Must run inside a tokio runtime.
    pub async fn start(config: Config) -> Result<App, AppError> {
        let store = Arc::new(Store::open(&config.store_path)?);
        let key_version = store.signing_key_version()?;
        tracing::info!(key_version, "journal signing key ready");
        let (base_url, creds, sim) = if config.is_training() {
            let (sim, creds) = start_training_sim(&config).await?;
            tracing::info!(url = %sim.base_url(), "training mode: Vipps simulator running in-process");
            (sim.base_url(), creds, Some(sim))
        } else {
            let base = config
                .vipps
                .base_url
                .clone()
                .ok_or_else(|| AppError::Config("[vipps] base_url is missing".into()))?;
            let creds = config
                .vipps
                .credentials
                .clone()
                .ok_or_else(|| AppError::Config("[vipps] credentials are missing".into()))?;
            (base, creds, None)
        };
        let books = sync_targets(&config);
        let sync = crate::bookkeeping::SyncHandle::default();
        let settings = KioskSettings {
            books: books.clone(),
            sync: sync.clone(),
            till_id: config.till_id.clone(),
            training: config.is_training(),
            poll_initial_delay: config.vipps.poll_initial_delay,
            poll_interval: config.vipps.poll_interval,
            payment_lifetime: config.vipps.payment_lifetime,
            expiry_margin: config.vipps.expiry_margin,
            receipts: receipt_settings(&config),
            drawer_relay: config.gpio.drawer_relay.is_some(),
            order_numbers: config.order_numbers,
            kitchen_ticket: config.kitchen_ticket,
            sales_unit: config.sales_unit.clone(),
            sales_units: config.vipps.sales_units(),
            operators: config
                .operators
                .iter()
                .map(|o| crate::kiosk::OperatorAccount {
                    operator: crate::kiosk::Operator {
                        id: o.id.clone(),
                        name: o.name.clone(),
                    },
                    code: o.code.clone(),
                    marks_stock: o.marks_stock,
                })
                .collect(),
            ..KioskSettings::default()
        };
        match &config.printer.connection {
            Some(c) => tracing::info!(printer = ?c, "receipts print here"),
            None => tracing::warn!(
                "[printer] driver = \"none\": sales are concluded without a receipt (journalled)"
            ),
        }
        // A production till's training mode pays at a simulator of its own.
        let training =
            (!config.is_training()).then(|| Arc::new(TrainingProvider::new(config.clone())));
        let main = vipps_provider(&base_url, creds, config.vipps.request_timeout)?;
        let providers = crate::kiosk::Providers {
            by_msn: unit_providers(&config, &base_url, &main)?,
            main,
            training: training
                .clone()
                .map(|t| t as Arc<dyn crate::payments::PaymentProvider>),
        };
        let (kiosk, running) = Kiosk::start_with_providers(
            store.clone(),
            providers,
            Arc::new(SystemClock),
            Arc::new(RandomIds),
            settings,
        )?;
        // Before the first sale: a changed price list is journaled now. A
        // paired till selling from the hub's kept catalogue (`Config::load`)
        // also journals a switch of its event menu, if it was kept but not
        // yet applied when the till last stopped.
        let kept = match crate::hub::link::Link::load(&config.store_path) {
            Ok(Some(_)) => crate::hub::till_catalogue::load_kept(&config.store_path)
                .ok()
                .flatten(),
            _ => None,
        };
        let from_hub = kept
            .as_ref()
            .filter(|k| k.to_catalog().is_ok_and(|c| c == config.catalog));
        let changed = match from_hub {
            Some(k) => kiosk.apply_hub_catalog(
                &config.catalog,
                k.menu.as_deref(),
                k.sales_unit.as_deref(),
            )?,
            None => kiosk.apply_catalog(&config.catalog)?,
        };
        if changed > 0 {
            tracing::info!(
                changed,
                "price list changed since the last start (journaled)"
            );
        }
        // The club's sold-out marks in the catalogue kept from the hub
        // (fetched by `luka sync`, or just before a stop).
        if let Some(kept) = &kept {
            catalogue::apply_sold_out(&kiosk, kept);
        }
        let devices = match crate::hardware::open(&config.gpio) {
            Ok(d) => d,
            // GPIO is a convenience: a till that cannot blink still sells.
            Err(e) => {
                tracing::error!(error = %e, "GPIO unavailable; selling without LEDs, buzzer, buttons or drawer relay");
                crate::hardware::disabled(&e.to_string())
            }
        };
        tokio::spawn(crate::hardware::drive(
            kiosk.subscribe(),
            devices.hardware.clone(),
        ));
        let books = books::start(&config, store.clone(), sync, sim.as_ref()).await?;
        Ok(App {
            books,
            catalogue: None,
            hub_events: None,
            config,
            store,
            kiosk,
            running,
            sim,
            training,
            hardware: devices.hardware,
            buttons: Some(devices.buttons),
        })
    }

    /// A till that keeps running (the touchscreen) and is paired with the
    /// club's hub asks it for the catalogue every `every` and applies a new
    /// one between sales (`hub/till_catalogue.rs`). One-shot commands do
    /// not: they sell from the catalogue kept at their start.
    pub fn refresh_catalogue(&mut self, every: std::time::Duration) {
        if self.catalogue.is_some() {
            return;
        }
        // Unpaired too: the organizer may pair the till from its screen.
        match crate::hub::link::Link::load(&self.config.store_path) {
            Ok(_) => {}
            Err(e) => {
                tracing::error!("the club's catalogue is not fetched until this is fixed: {e}");
                return;
            }
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = catalogue::spawn_refresher(
            self.kiosk.clone(),
            self.store.clone(),
            self.config.store_path.clone(),
            every,
            stopped,
        );
        self.catalogue = Some((stop, task));
        self.start_hub_events(true);
    }

    /// A paired till keeps the hub's event stream open: a Vipps webhook the
    /// hub passed on wakes the poller of that payment (`Kiosk::hint`), so
    /// "Betalt" comes without waiting for the next poll. Polling stays the
    /// safety net; an unpaired till, or one whose hub takes no webhooks,
    /// only polls.
    pub fn listen_to_hub(&mut self) {
        self.start_hub_events(false);
    }

    /// `follow_pairing`: a till that keeps running (the touchscreen) starts
    /// listening once it is paired from its own screen; a one-shot command
    /// listens only if it was paired when it started.
    fn start_hub_events(&mut self, follow_pairing: bool) {
        if self.hub_events.is_some() {
            return;
        }
        if !follow_pairing
            && !matches!(
                crate::hub::link::Link::load(&self.config.store_path),
                Ok(Some(_))
            )
        {
            return;
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let kiosk = self.kiosk.clone();
        let task = crate::hub::till_events::spawn(
            self.config.store_path.clone(),
            move |reference| {
                kiosk.hint(reference);
            },
            follow_pairing,
            stopped,
        );
        self.hub_events = Some((stop, task));
    }

    /// The graceful stop (SIGTERM, window closed): stop claiming outbox work
    /// and let the items in flight finish, record the stop in the journal,
    /// then checkpoint the WAL so the database file alone is complete.
    pub async fn shutdown(self) {
        for (stop, task) in [self.catalogue, self.hub_events].into_iter().flatten() {
            let _ = stop.send(true);
            let _ = task.await;
        }
        self.running.shutdown().await;
        if let Some(books) = self.books {
            books.shutdown().await;
        }
        let store = &self.store;
        let now = time::OffsetDateTime::now_utc();
        let till = self.config.till_id.clone();
        if let Err(e) = store.write(|w| {
            w.journal(
                JournalKind::AppStop,
                None,
                serde_json::json!({ "till": till }),
                now,
            )
            .map(|_| ())
        }) {
            tracing::warn!(error = %e, "could not record the stop in the journal");
        }
        match store.checkpoint() {
            Ok(()) => tracing::info!("database flushed; stopped cleanly"),
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed (the next start recovers it)")
            }
        }
        if let Some(sim) = self.sim {
            sim.shutdown().await;
        }
        if let Some(training) = self.training {
            training.shutdown().await;
        }
    }
}

/// The kiosk service on the wall clock with a Vipps client for `base_url`:
/// the one wiring shared by the till, `luka bench` and the tests.
pub fn start_vipps_kiosk(
    store: Arc<Store>,
    base_url: &str,
    creds: Credentials,
    request_timeout: std::time::Duration,
    settings: KioskSettings,
) -> Result<(Kiosk, Running), AppError> {
    Ok(Kiosk::start(
        store,
        vipps_provider(base_url, creds, request_timeout)?,
        Arc::new(SystemClock),
        Arc::new(RandomIds),
        settings,
    )?)
}

/// The provider of each sales unit with keys, by MSN: `[vipps]`'s own is
/// `main`; every other unit gets a Vipps client of its own (its own keys and
/// token cache). None in training: the simulator takes every unit's sales.
fn unit_providers(
    config: &Config,
    base_url: &str,
    main: &Arc<dyn crate::payments::PaymentProvider>,
) -> Result<HashMap<String, Arc<dyn crate::payments::PaymentProvider>>, AppError> {
    let mut by_msn = HashMap::new();
    for (i, u) in config.vipps.units.iter().enumerate() {
        let Some(creds) = &u.credentials else {
            continue;
        };
        let provider = if i == 0 {
            main.clone()
        } else {
            let url = u.base_url.as_deref().unwrap_or(base_url);
            vipps_provider(url, creds.clone(), config.vipps.request_timeout)?
        };
        by_msn.insert(creds.merchant_serial_number.clone(), provider);
    }
    Ok(by_msn)
}

pub fn vipps_provider(
    base_url: &str,
    creds: Credentials,
    request_timeout: std::time::Duration,
) -> Result<Arc<dyn crate::payments::PaymentProvider>, AppError> {
    let client = VippsClient::new(base_url, creds, SystemInfo::default(), request_timeout)?;
    Ok(Arc::new(VippsProvider::new(Arc::new(client))))
}

/// The in-process Vipps simulator training payments go to, on `[training]
/// listen` (a phone on the LAN plays the customer), and its credentials.
async fn start_training_sim(config: &Config) -> Result<(SimHandle, Credentials), AppError> {
    let mut sim_cfg = SimConfig {
        // Nobody reads a till's flight recorder, and through a long day it
        // was most of the till's growing memory (issue 18).
        keep_exchanges: 0,
        ..SimConfig::training()
    };
    let creds = training_credentials(&sim_cfg);
    let listen: SocketAddr = config.training.listen;
    sim_cfg.public_host = Some(
        config
            .training
            .phone_host
            .clone()
            .unwrap_or_else(|| phone_host(listen)),
    );
    let sim = crate::sim::start(listen, sim_cfg)
        .await
        .map_err(AppError::Sim)?;
    Ok((sim, creds))
}

/// How the kiosk prints, from `[printer]` and `[merchant]`.
pub fn receipt_settings(config: &Config) -> ReceiptSettings {
    let p = &config.printer;
    ReceiptSettings {
        printer: p.connection.clone(),
        layout: LayoutConfig {
            width: p.width,
            logo: p.logo.clone(),
            open_drawer_for_cash: p.drawer_kick,
        },
        merchant: config.merchant.clone(),
        footer: p.footer.clone(),
    }
}

/// The address a phone on the same network uses to reach the training
/// simulator: loopback when it only listens there, else this machine's LAN
/// address. Found by "connecting" a UDP socket, which picks the outgoing
/// interface without sending a packet.
fn phone_host(listen: SocketAddr) -> String {
    if listen.ip().is_loopback() {
        return listen.ip().to_string();
    }
    if !listen.ip().is_unspecified() {
        return listen.ip().to_string();
    }
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            s.connect("192.0.2.1:9")?; // TEST-NET-1: never routed, nothing is sent
            s.local_addr()
        })
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "127.0.0.1".into())
}

pub fn training_credentials(sim: &SimConfig) -> Credentials {
    Credentials {
        client_id: sim.client_id.clone(),
        client_secret: crate::secret::Secret::new(sim.client_secret.clone()),
        subscription_key: crate::secret::Secret::new(sim.subscription_key.clone()),
        merchant_serial_number: sim.merchant_serial_number.clone(),
    }
}
