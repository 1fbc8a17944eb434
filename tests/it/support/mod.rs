//! What the integration tests share: a simulator on 127.0.0.1:0, a real
//! SQLite file in a temp dir and a kiosk with fast polling (the [`Rig`]);
//! the official specs as validators ([`openapi`], [`report_spec`]); a
//! webhook receiver; an ESC/POS decoder. Must never reach beyond 127.0.0.1.
//! Not every test uses every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod escpos_decode;
pub mod openapi;
pub mod pg;
pub mod report_spec;
pub mod webdriver;
pub mod webhook_receiver;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use luka::app::training_credentials;
use luka::domain::{Cart, Catalog};
use luka::kiosk::{Kiosk, KioskSettings, Running};
use luka::retry::RetryPolicy;
use luka::sim::{SimConfig, SimHandle};
use luka::store::Store;

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub sim: SimHandle,
    pub kiosk: Kiosk,
    pub running: Option<Running>,
    pub store: Arc<Store>,
}

pub fn fast_settings() -> KioskSettings {
    KioskSettings {
        till_id: "test-till".into(),
        training: false,
        poll_initial_delay: Duration::from_millis(50),
        poll_interval: Duration::from_millis(500),
        payment_lifetime: Duration::from_secs(600),
        expiry_margin: Duration::from_secs(1),
        retry: RetryPolicy {
            base: Duration::from_millis(50),
            max: Duration::from_millis(800),
            max_invalid_responses: 5,
        },
        concurrency: 8,
        ..KioskSettings::default()
    }
}

pub async fn rig_with(sim_cfg: SimConfig, settings: KioskSettings) -> Rig {
    // `RUST_LOG=luka=debug cargo test …` shows the till's and the simulator's log of a
    // failing test (captured per test; silent without RUST_LOG).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), sim_cfg.clone())
        .await
        .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("luka.db")).unwrap());
    let (kiosk, running) = luka::app::start_vipps_kiosk(
        store.clone(),
        &sim.base_url(),
        training_credentials(&sim_cfg),
        Duration::from_secs(5),
        settings,
    )
    .unwrap();
    Rig {
        dir,
        sim,
        kiosk,
        running: Some(running),
        store,
    }
}

pub async fn rig() -> Rig {
    rig_with(SimConfig::training(), fast_settings()).await
}

pub fn tickets(adults: u32, children: u32) -> Cart {
    let c = Catalog::club_default();
    let mut cart = Cart::new();
    for _ in 0..adults {
        cart.add_product(c.get("voksen").unwrap());
    }
    for _ in 0..children {
        cart.add_product(c.get("barn").unwrap());
    }
    cart
}

/// Waits until the simulator knows the payment (the create went through).
pub async fn wait_created(sim: &SimHandle, reference: &str) {
    for _ in 0..400 {
        if sim.payment(reference).is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("payment {reference} never reached the simulator");
}

impl Rig {
    /// Stops the till and checks every request it sent and every answer
    /// it got against the official ePayment / Access Token schemas.
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        let exchanges = self.sim.exchanges();
        assert!(!exchanges.is_empty(), "the simulator saw no traffic");
        openapi::validate_all(&exchanges);
    }

    /// Stops the till without checking the simulator's traffic: for a test
    /// that sold for cash only (nothing went to Vipps) or checks it itself.
    pub async fn shut(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

/// What the simulator holds for a payment, in one shape for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimView {
    pub state: String,
    pub authorized: i64,
    pub captured: i64,
    pub cancelled: i64,
    pub refunded: i64,
    pub captures: u32,
}

pub fn sim_view(sim: &SimHandle, reference: &str) -> SimView {
    let p = sim
        .payment(reference)
        .expect("payment exists in the simulator");
    SimView {
        state: format!("{:?}", p.state).to_uppercase(),
        authorized: p.aggregate.authorized_amount.value,
        captured: p.aggregate.captured_amount.value,
        cancelled: p.aggregate.cancelled_amount.value,
        refunded: p.aggregate.refunded_amount.value,
        captures: p.captures,
    }
}

/// Writes `dir/luka.toml` for a production-mode till (no printer) against
/// the simulator `sim`, with its database at `dir/luka.db`, fast polling and
/// `extra` appended (e.g. a `[bookkeeping.csv]` table). The organizer PIN is
/// 1234. For tests that run the real `luka` binary.
pub fn write_till_config(
    dir: &Path,
    sim: &SimHandle,
    till_id: &str,
    merchant: &str,
    extra: &str,
) -> PathBuf {
    let c = SimConfig::training();
    let path = dir.join("luka.toml");
    std::fs::write(
        &path,
        format!(
            "[till]\nid = \"{till_id}\"\n\n[ui]\npin_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$uFtn+OAWSJx8dNvqZxnBOhQ0QlqtCDAN4MDMvVjJqGs\"\n\n\
             [merchant]\nname = \"{merchant}\"\norg_number = \"974760673\"\n\n[printer]\ndriver = \"none\"\n\n\
             [store]\npath = \"{db}\"\n\n[vipps]\nenvironment = \"test\"\nbase_url = \"{url}\"\n\
             client_id = \"{id}\"\nclient_secret = \"{secret}\"\nsubscription_key = \"{key}\"\n\
             merchant_serial_number = \"{msn}\"\npoll_initial_delay_ms = 50\npoll_interval_ms = 500\n\n{extra}",
            db = dir.join("luka.db").display(),
            url = sim.base_url(),
            id = c.client_id,
            secret = c.client_secret,
            key = c.subscription_key,
            msn = c.merchant_serial_number,
        ),
    )
    .unwrap();
    // It holds the secrets inline: Luka refuses such a file if others can read it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// The one way the tests wait for something to come true: polls `f` every
/// 20 ms until it holds or `timeout` passes, and says whether it held. The
/// timeout only stops a hung test; it is never a timing assertion.
pub async fn eventually(timeout: Duration, f: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while !f() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}
