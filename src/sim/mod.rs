//! A contract-faithful simulator of the Vipps MobilePay ePayment API (1.4.1), the
//! Access Token API and the Report API (v2, settlement ledgers built from the
//! simulated captures and refunds), for training mode and for tests. The spec files in
//! `specs/vipps` are the contract; where they are silent the simulator behaves as
//! the real API does and the code says so.
//!
//! | file          | owns                                                            |
//! |---------------|-----------------------------------------------------------------|
//! | `mod.rs`      | the public API: [`SimConfig`], [`start`], [`SimHandle`]         |
//! | `api.rs`      | ePayment + Access Token handlers: auth, headers, rate limits    |
//! | `validate.rs` | create-request and idempotency-key rules (pure)                 |
//! | `state.rs`    | payments, event logs, idempotent replies, transitions           |
//! | `idempotency.rs` | a stored reply: body digest + compact answer                 |
//! | `limits.rs`   | sliding-window rate limits, access-token expiry                 |
//! | `exchange.rs` | the middleware: every request recorded                          |
//! | `faults.rs`   | test builds only: fault knobs ([`Faults`]) and the dice         |
//! | `abort.rs`    | test builds only: end a connection without an answer            |
//! | `fault_admin.rs` | test builds only: `POST /sim/faults`, the knobs for scripts  |
//! | `record.rs`   | [`Exchange`] records and [`SimStats`], with secrets redacted    |
//! | `server.rs`   | accept loop that can drop or reset a connection mid-request     |
//! | `phone.rs`    | the customer's "phone" page (approve / reject)                  |
//! | `admin.rs`    | `/sim/...` remote control for scripts                           |
//! | `problem.rs`  | `application/problem+json` refusals                             |
//! | `report.rs`   | Report API handlers: ledgers, ledger dates, paging cursor       |
//! | `ledger.rs`   | ledger rows, fees, payouts and date closing (pure)              |
//! | `report_admin.rs` | close a date, inject or drop rows: [`SimHandle`] + `/sim/report` |
//! | `webhooks.rs` | Webhooks API (register, list, delete) and signed delivery of payment events |
//!
//! It must never talk to the real Vipps, never move money, and never log a secret.
//!
//! Training mode runs this simulator as its Vipps, so it is part of the product; the
//! faults tests set up (errors, delays, throttling, lost answers, resets, shuffled event
//! logs) are not: they are compiled only with `--features testing`, which every
//! `cargo test` turns on and `cargo build` and the Debian package never do.

#[cfg(feature = "testing")]
mod abort;
mod admin;
mod api;
mod exchange;
#[cfg(feature = "testing")]
mod fault_admin;
#[cfg(feature = "testing")]
mod faults;
mod idempotency;
mod ledger;
mod limits;
mod phone;
pub mod poweroffice;
mod problem;
mod record;
mod report;
mod report_admin;
mod server;
mod state;
mod validate;
mod webhooks;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use serde::Serialize;
use time::OffsetDateTime;

#[cfg(feature = "testing")]
pub use fault_admin::FaultsJson;
#[cfg(feature = "testing")]
pub use faults::Faults;
pub use ledger::ReportConfig;
pub use record::{Exchange, MAX_EXCHANGES, SimStats};
pub use report_admin::LedgerError;
pub use webhooks::{HookDelivery, MAX_PER_EVENT};

use crate::vipps::dto::{Aggregate, Amount, PaymentEvent, State, UserFlow};
use state::{Now, SimState};

/// What the simulated merchant account looks like.
#[derive(Clone)]
pub struct SimConfig {
    pub client_id: String,
    pub client_secret: String,
    pub subscription_key: String,
    pub merchant_serial_number: String,
    /// How long a payment waits for the customer before it is EXPIRED (Vipps: 10 min).
    pub payment_lifetime: Duration,
    /// How long an access token works (Vipps test environment: 1 h).
    pub token_lifetime: Duration,
    /// Base for `redirectUrl` and phone links, e.g. `http://192.168.1.20:8099` so a phone
    /// on the LAN can open them. Default: the bound `http://addr`.
    pub public_base_url: Option<String>,
    /// When `public_base_url` is unset: the host a phone uses, with the bound
    /// port added (`http://{public_host}:{port}`), for a listener on port 0.
    pub public_host: Option<String>,
    /// GETs per reference per minute before 429 (Vipps: 120).
    pub reads_per_minute: u32,
    /// Captures, cancels and refunds per reference per minute before 429 (Vipps: 5).
    pub modifications_per_minute: u32,
    /// Seeds fault dice, pspReferences and shuffled event logs (never tokens).
    pub seed: u64,
    /// The settlement ledger the Report API shows: ids, capture fee, page size.
    pub report: ReportConfig,
    /// How many request/answer pairs the flight recorder keeps for [`SimHandle::exchanges`]
    /// (the totals in [`SimHandle::stats`] always count everything). Tests read them;
    /// a training till reads none, so it keeps 0: a sale's polling alone is a dozen
    /// exchanges with their headers and JSON bodies.
    pub keep_exchanges: usize,
}

impl SimConfig {
    /// The fixed training credentials. They are public on purpose (they only open this
    /// simulator) and are what training mode configures its Vipps client with:
    ///
    /// | field                  | value                                  |
    /// |------------------------|----------------------------------------|
    /// | client_id              | `4c756b61-0000-4000-8000-747261696e00` |
    /// | client_secret          | `luka-training-secret`                 |
    /// | subscription_key       | `luka-training-subscription-key`       |
    /// | merchant_serial_number | `123456`                               |
    pub fn training() -> SimConfig {
        SimConfig {
            client_id: "4c756b61-0000-4000-8000-747261696e00".into(),
            client_secret: "luka-training-secret".into(),
            subscription_key: "luka-training-subscription-key".into(),
            merchant_serial_number: "123456".into(),
            payment_lifetime: Duration::from_secs(10 * 60),
            token_lifetime: Duration::from_secs(60 * 60),
            public_base_url: None,
            public_host: None,
            reads_per_minute: 120,
            modifications_per_minute: 5,
            seed: 0x4c75_6b61,
            report: ReportConfig::default(),
            keep_exchanges: record::MAX_EXCHANGES,
        }
    }
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig::training()
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("subscription_key", &"***")
            .field("merchant_serial_number", &self.merchant_serial_number)
            .field("payment_lifetime", &self.payment_lifetime)
            .field("token_lifetime", &self.token_lifetime)
            .field("public_base_url", &self.public_base_url)
            .field("public_host", &self.public_host)
            .field("reads_per_minute", &self.reads_per_minute)
            .field("modifications_per_minute", &self.modifications_per_minute)
            .field("seed", &self.seed)
            .field("report", &self.report)
            .field("keep_exchanges", &self.keep_exchanges)
            .finish()
    }
}

/// Why a customer action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("no payment with reference '{0}'")]
    NotFound(String),
    #[error("payment '{reference}' is {}, not waiting for the customer", state::wire(*.state))]
    NotPending { reference: String, state: State },
}

/// A payment as the simulator holds it, for assertions and the admin list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimPayment {
    pub reference: String,
    pub psp_reference: String,
    pub state: State,
    pub amount: Amount,
    pub aggregate: Aggregate,
    pub user_flow: UserFlow,
    pub description: Option<String>,
    pub redirect_url: Option<String>,
    pub phone_url: String,
    pub events: Vec<PaymentEvent>,
    /// Successful modifications (idempotent replays not counted).
    pub captures: u32,
    pub cancels: u32,
    pub refunds: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What handlers share. One std `Mutex` per concern: every critical section is short and
/// never crosses an `.await`, so an async lock would only add cost.
pub(crate) struct Shared {
    cfg: SimConfig,
    public_base: String,
    state: Mutex<SimState>,
    #[cfg(feature = "testing")]
    faults: Mutex<faults::FaultInjector>,
    recorder: record::Recorder,
    report: Mutex<report::ReportBook>,
    hooks: Arc<webhooks::Hooks>,
    /// Events raised under the lock, for the webhook delivery task.
    events_out: tokio::sync::mpsc::UnboundedSender<PaymentEvent>,
}

/// The state under its lock. Letting go of it hands the events raised
/// meanwhile to the webhook delivery: every operation that changes a
/// payment runs under the lock, so none is missed, and none is sent while
/// the lock is held.
pub(crate) struct Locked<'a> {
    guard: MutexGuard<'a, SimState>,
    sh: &'a Shared,
}

impl std::ops::Deref for Locked<'_> {
    type Target = SimState;
    fn deref(&self) -> &SimState {
        &self.guard
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut SimState {
        &mut self.guard
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if !self.sh.hooks.any() {
            self.guard.forget_fresh();
            return;
        }
        for e in self.guard.fresh_events() {
            let _ = self.sh.events_out.send(e);
        }
    }
}

impl Shared {
    fn lock(&self) -> Locked<'_> {
        // A poisoned lock means a test panicked while holding it; the state is still
        // consistent because every operation validates before it mutates.
        Locked {
            guard: self.state.lock().unwrap_or_else(|e| e.into_inner()),
            sh: self,
        }
    }

    #[cfg(feature = "testing")]
    fn set_faults(&self, f: Faults) {
        self.faults.lock().unwrap_or_else(|e| e.into_inner()).faults = f;
    }

    fn answer(&self, reference: &str, approve: bool) -> Result<(), SimError> {
        let r = self
            .lock()
            .customer_answer(reference, approve, Now::system());
        if r.is_ok() {
            tracing::info!(reference = %reference, approve, "sim customer answered");
        }
        r
    }

    fn payment(&self, reference: &str) -> Option<SimPayment> {
        self.lock()
            .snapshot(reference, Now::system(), &self.public_base)
    }

    fn payments(&self) -> Vec<SimPayment> {
        self.lock().snapshots(Now::system(), &self.public_base)
    }
}

fn router(sh: Arc<Shared>) -> Router {
    let payment = "/epayment/v1/payments/{reference}";
    let api = Router::new()
        .route("/accesstoken/get", post(api::access_token))
        .route("/epayment/v1/payments", post(api::create_payment))
        .route(payment, get(api::get_payment))
        .route(&format!("{payment}/events"), get(api::get_events))
        .route(&format!("{payment}/capture"), post(api::capture))
        .route(&format!("{payment}/cancel"), post(api::cancel))
        .route(&format!("{payment}/refund"), post(api::refund))
        .route(
            "/epayment/v1/test/payments/{reference}/approve",
            post(api::force_approve),
        )
        .route(
            "/webhooks/v1/webhooks",
            post(webhooks::register).get(webhooks::list),
        )
        .route(
            "/webhooks/v1/webhooks/{id}",
            axum::routing::delete(webhooks::delete),
        )
        .route("/phone/{token}", get(phone::page))
        .route("/phone/{token}/approve", post(phone::approve))
        .route("/phone/{token}/reject", post(phone::reject))
        .route("/phone/{token}/qr.svg", get(phone::qr_svg))
        .route("/phone/{token}/qr.png", get(phone::qr_png))
        .route("/sim/payments", get(admin::payments))
        .route("/sim/payments/{reference}/approve", post(admin::approve))
        .route("/sim/payments/{reference}/reject", post(admin::reject))
        .merge(report::routes());
    // Test builds: the fault knobs, for scripts (`fault_admin.rs`).
    #[cfg(feature = "testing")]
    let api = api.merge(fault_admin::routes());
    api.fallback(|| async {
        problem::Fail::new(axum::http::StatusCode::NOT_FOUND, "no such endpoint")
    })
    .layer(axum::middleware::from_fn(admin::local_only))
    .layer(axum::middleware::from_fn_with_state(
        sh.clone(),
        exchange::layer,
    ))
    .with_state(sh)
}

/// Binds `listen` (use `127.0.0.1:0` in tests) and serves until [`SimHandle::shutdown`].
pub async fn start(listen: SocketAddr, cfg: SimConfig) -> std::io::Result<SimHandle> {
    let (listener, addr, base_url) = server::Listening::bind(listen).await?;
    let public_base = cfg
        .public_base_url
        .as_deref()
        .map(|b| b.trim_end_matches('/').to_string())
        .or_else(|| {
            cfg.public_host
                .as_deref()
                .map(|h| format!("http://{h}:{}", addr.port()))
        })
        .unwrap_or_else(|| base_url.clone());
    let hooks = Arc::new(webhooks::Hooks::default());
    let (events_out, events_in) = tokio::sync::mpsc::unbounded_channel();
    webhooks::spawn_delivery(hooks.clone(), cfg.merchant_serial_number.clone(), events_in);
    let shared = Arc::new(Shared {
        hooks,
        events_out,
        public_base,
        state: Mutex::new(SimState::new(cfg.seed)),
        #[cfg(feature = "testing")]
        faults: Mutex::new(faults::FaultInjector::new(cfg.seed)),
        recorder: record::Recorder::keeping(cfg.keep_exchanges),
        report: Mutex::default(),
        cfg,
    });
    let listening = server::Listening::serve(listener, router(shared.clone()), addr, base_url);
    tracing::info!(%addr, "Vipps simulator listening");
    Ok(SimHandle {
        inner: Arc::new(HandleInner { shared, listening }),
    })
}

/// The running simulator. Cheap to clone; every clone controls the same simulator.
#[derive(Clone)]
pub struct SimHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    shared: Arc<Shared>,
    listening: server::Listening,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`: where the till's Vipps client should point.
    pub fn base_url(&self) -> String {
        self.inner.listening.base_url.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.listening.addr
    }

    /// The customer's approve page for a payment (also the QR text for TEXT/TARGETURL).
    pub fn phone_url(&self, reference: &str) -> Option<String> {
        self.inner.shared.payment(reference).map(|p| p.phone_url)
    }

    #[cfg(feature = "testing")]
    pub fn set_faults(&self, f: Faults) {
        tracing::info!(faults = ?f, "sim faults set");
        self.inner.shared.set_faults(f);
    }

    #[cfg(feature = "testing")]
    pub fn faults(&self) -> Faults {
        let f = self
            .inner
            .shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        f.faults.clone()
    }

    /// When on, `GET .../events` returns the log shuffled and with one entry duplicated,
    /// to prove a reader tolerates out-of-order and repeated events.
    #[cfg(feature = "testing")]
    pub fn set_events_disorder(&self, on: bool) {
        self.inner.shared.lock().events_disorder = on;
    }

    /// The customer approves in the app: CREATED → AUTHORIZED.
    pub fn approve(&self, reference: &str) -> Result<(), SimError> {
        self.inner.shared.answer(reference, true)
    }

    /// The customer declines in the app: CREATED → ABORTED.
    pub fn reject(&self, reference: &str) -> Result<(), SimError> {
        self.inner.shared.answer(reference, false)
    }

    pub fn payment(&self, reference: &str) -> Option<SimPayment> {
        self.inner.shared.payment(reference)
    }

    /// All payments, oldest first.
    pub fn payments(&self) -> Vec<SimPayment> {
        self.inner.shared.payments()
    }

    /// Every exchange so far (the last [`SimConfig::keep_exchanges`]), oldest first.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.inner.shared.recorder.exchanges()
    }

    /// Every webhook delivery tried (the last 1000), oldest first.
    pub fn webhook_deliveries(&self) -> Vec<HookDelivery> {
        self.inner.shared.hooks.deliveries()
    }

    pub fn stats(&self) -> SimStats {
        self.inner.shared.recorder.stats()
    }

    pub fn config(&self) -> SimConfig {
        self.inner.shared.cfg.clone()
    }

    /// Stops accepting, lets open connections finish (up to 2 s), then returns. Other
    /// clones of the handle keep working for inspection.
    pub async fn shutdown(self) {
        self.inner.listening.stop().await;
        tracing::info!(addr = %self.inner.listening.addr, "Vipps simulator stopped");
    }
}
