//! Wiring: config → store, provider (with the in-process simulator in
//! training mode) and the kiosk service. Used by the CLI and the UI alike.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::clock::{RandomIds, SystemClock};
use crate::config::Config;
use crate::kiosk::{Kiosk, KioskSettings, Running};
use crate::payments::vipps::VippsProvider;
use crate::sim::{SimConfig, SimHandle};
use crate::store::Store;
use crate::vipps::{Credentials, SystemInfo, VippsClient};

pub struct App {
    pub config: Config,
    pub kiosk: Kiosk,
    pub running: Running,
    /// The in-process simulator, in training mode.
    pub sim: Option<SimHandle>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Kiosk(#[from] crate::kiosk::KioskError),
    #[error("cannot start the training simulator: {0}")]
    Sim(std::io::Error),
    #[error("{0}")]
    Vipps(#[from] crate::vipps::VippsError),
    #[error("configuration: {0}")]
    Config(String),
}

impl App {
    /// Starts everything. Must run inside a tokio runtime.
    pub async fn start(config: Config) -> Result<App, AppError> {
        let store = Arc::new(Store::open(&config.store_path)?);
        let key_version = store.signing_key_version()?;
        tracing::info!(key_version, "journal signing key ready");
        let (base_url, creds, sim) = if config.is_training() {
            let sim_cfg = SimConfig::training();
            let creds = training_credentials(&sim_cfg);
            let listen: SocketAddr = ([127, 0, 0, 1], 0).into();
            let sim = crate::sim::start(listen, sim_cfg)
                .await
                .map_err(AppError::Sim)?;
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
        let settings = KioskSettings {
            till_id: config.till_id.clone(),
            training: config.is_training(),
            poll_initial_delay: config.vipps.poll_initial_delay,
            poll_interval: config.vipps.poll_interval,
            payment_lifetime: config.vipps.payment_lifetime,
            expiry_margin: config.vipps.expiry_margin,
            ..KioskSettings::default()
        };
        let (kiosk, running) = start_vipps_kiosk(
            store,
            &base_url,
            creds,
            config.vipps.request_timeout,
            settings,
        )?;
        Ok(App {
            config,
            kiosk,
            running,
            sim,
        })
    }

    pub async fn shutdown(self) {
        self.running.shutdown().await;
        let stop = serde_json::json!({ "till": self.config.till_id });
        let now = time::OffsetDateTime::now_utc();
        if let Err(e) = self
            .kiosk
            .store()
            .write(|w| w.journal("app.stop", None, stop, now))
        {
            tracing::error!(error = %e, "could not journal the shutdown");
        }
        if let Some(sim) = self.sim {
            sim.shutdown().await;
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
    let client = VippsClient::new(base_url, creds, SystemInfo::default(), request_timeout)?;
    let provider = Arc::new(VippsProvider::new(Arc::new(client)));
    Ok(Kiosk::start(
        store,
        provider,
        Arc::new(SystemClock),
        Arc::new(RandomIds),
        settings,
    )?)
}

pub fn training_credentials(sim: &SimConfig) -> Credentials {
    Credentials {
        client_id: sim.client_id.clone(),
        client_secret: crate::secret::Secret::new(sim.client_secret.clone()),
        subscription_key: crate::secret::Secret::new(sim.subscription_key.clone()),
        merchant_serial_number: sim.merchant_serial_number.clone(),
    }
}
