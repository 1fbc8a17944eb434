//! A contract-faithful simulator of PowerOffice Go v2 for the parts the till
//! uses: the OAuth token endpoint, general ledger accounts, VAT codes,
//! departments, cash and bank voucher posting, vouchers by id and account
//! transactions. The spec
//! files in `specs/bookkeeping/poweroffice-go-v2.*` are the contract;
//! where they are silent it behaves as the real API does and the code says so.
//!
//! | file        | owns                                                             |
//! |-------------|------------------------------------------------------------------|
//! | `mod.rs`    | the public API: [`PowerOfficeSimConfig`], [`start`], [`PowerOfficeSimHandle`] |
//! | `api.rs`    | the handlers: keys, tokens, look-ups, posting                    |
//! | `reply.rs`  | the answer shapes: ProblemDetails, OAuth errors, gateway 401/429 |
//! | `endpoint.rs` | the endpoints by name, as counted and recorded                 |
//! | `exchange.rs` | the middleware: request counts, recording                      |
//! | `faults.rs` | test builds only: the fault knobs ([`PowerOfficeFaults`])        |
//! | `ledger.rs` | accounts, VAT codes, booked vouchers, running balances           |
//! | `parse.rs`  | reading a posted voucher as the spec defines it (pure)           |
//! | `seed.rs`   | the NS 4102 chart of accounts and the SAF-T VAT codes            |
//!
//! It reuses the Vipps simulator's accept loop (which, in test builds, can drop
//! a connection after the handler ran) and its redacting recorder. Training
//! mode books to it, so it is part of the product; its fault knobs are compiled
//! only with `--features testing`. It must never talk to
//! the real PowerOffice, and never log or record a key or a token.

mod api;
mod endpoint;
mod exchange;
#[cfg(feature = "testing")]
mod faults;
mod ledger;
mod parse;
mod reply;
mod seed;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::time::Instant;

pub use endpoint::Endpoint;
#[cfg(feature = "testing")]
pub use faults::PowerOfficeFaults;
pub use ledger::{PostedLine, PostedVoucherRecord};
pub use seed::{SimAccount, SimDepartment, SimVatCode};

use super::record::Recorder;
use super::server::Listening;
use super::{Exchange, SimStats};
use crate::bookkeeping::poweroffice::token::Keys;
use crate::secret::Secret;
use ledger::Ledger;

/// The simulated Go client and integration.
#[derive(Clone)]
pub struct PowerOfficeSimConfig {
    pub application_key: String,
    pub client_key: String,
    pub subscription_key: String,
    /// How long an access token works (PowerOffice v2: 20 minutes).
    pub token_lifetime: Duration,
    /// The client's currency; vouchers in another are refused.
    pub currency: String,
    pub accounts: Vec<SimAccount>,
    pub vat_codes: Vec<SimVatCode>,
    /// The client's departments (avdelinger); a fresh client has none.
    pub departments: Vec<SimDepartment>,
}

impl PowerOfficeSimConfig {
    /// Fixed, public test keys: they only open this simulator.
    pub fn training() -> PowerOfficeSimConfig {
        PowerOfficeSimConfig {
            application_key: "luka-po-application-key".into(),
            client_key: "luka-po-client-key".into(),
            subscription_key: "luka-po-subscription-key".into(),
            token_lifetime: Duration::from_secs(20 * 60),
            currency: "NOK".into(),
            accounts: seed::chart_of_accounts(),
            vat_codes: seed::vat_codes(),
            departments: Vec::new(),
        }
    }

    /// The same client with these departments (code, name), as if the
    /// treasurer had created them.
    pub fn with_departments(mut self, departments: &[(&str, &str)]) -> PowerOfficeSimConfig {
        for (code, name) in departments {
            if !self.departments.iter().any(|d| d.code == *code) {
                self.departments.push(SimDepartment::new(code, name));
            }
        }
        self
    }

    /// The same client without account `no`, as if nobody had created it.
    pub fn without_account(mut self, no: u32) -> PowerOfficeSimConfig {
        self.accounts.retain(|a| a.no != no);
        self
    }
}

impl Default for PowerOfficeSimConfig {
    fn default() -> PowerOfficeSimConfig {
        PowerOfficeSimConfig::training()
    }
}

impl fmt::Debug for PowerOfficeSimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PowerOfficeSimConfig")
            .field("keys", &"***")
            .field("token_lifetime", &self.token_lifetime)
            .field("currency", &self.currency)
            .field("accounts", &self.accounts.len())
            .field("vat_codes", &self.vat_codes.len())
            .field("departments", &self.departments.len())
            .finish()
    }
}

/// What handlers share. One std `Mutex` per concern: every critical section
/// is short and never crosses an `.await`.
pub(crate) struct Shared {
    cfg: PowerOfficeSimConfig,
    ledger: Mutex<Ledger>,
    /// Issued access tokens and when each stops working.
    tokens: Mutex<HashMap<String, Instant>>,
    #[cfg(feature = "testing")]
    faults: Mutex<PowerOfficeFaults>,
    recorder: Recorder,
}

/// A poisoned lock means a test panicked while holding it; the data is still
/// consistent because the ledger validates before it mutates.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn router(sh: Arc<Shared>) -> Router {
    Router::new()
        .route("/OAuth/Token", post(api::token))
        .route("/v2/GeneralLedgerAccounts", get(api::accounts))
        .route("/v2/VatCodes", get(api::vat_codes))
        .route("/v2/Departments", get(api::departments))
        .route("/v2/Vouchers/CashJournals", post(api::post_cash))
        .route("/v2/Vouchers/BankJournals", post(api::post_bank))
        .route("/v2/Vouchers/CashJournals/{id}", get(api::get_cash))
        .route("/v2/Vouchers/BankJournals/{id}", get(api::get_bank))
        .route("/v2/AccountTransactions", get(api::transactions))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            sh.clone(),
            exchange::layer,
        ))
        .with_state(sh)
}

/// Binds `listen` (use `127.0.0.1:0` in tests) and serves until
/// [`PowerOfficeSimHandle::shutdown`].
pub async fn start(
    listen: SocketAddr,
    cfg: PowerOfficeSimConfig,
) -> std::io::Result<PowerOfficeSimHandle> {
    let (listener, addr, base) = Listening::bind(listen).await?;
    let shared = Arc::new(Shared {
        ledger: Mutex::new(Ledger::new(
            cfg.currency.clone(),
            cfg.accounts.clone(),
            cfg.vat_codes.clone(),
            cfg.departments.clone(),
        )),
        tokens: Mutex::new(HashMap::new()),
        #[cfg(feature = "testing")]
        faults: Mutex::new(PowerOfficeFaults::default()),
        recorder: Recorder::default(),
        cfg,
    });
    let listening = Listening::serve(listener, router(shared.clone()), addr, base);
    tracing::info!(%addr, "PowerOffice Go simulator listening");
    Ok(PowerOfficeSimHandle {
        inner: Arc::new(HandleInner { shared, listening }),
    })
}

/// The running simulator. Cheap to clone; every clone controls the same one.
#[derive(Clone)]
pub struct PowerOfficeSimHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    shared: Arc<Shared>,
    listening: Listening,
}

impl PowerOfficeSimHandle {
    /// `http://127.0.0.1:PORT/v2`, like `https://goapi.poweroffice.net/v2`.
    pub fn api_base_url(&self) -> String {
        format!("{}/v2", self.inner.listening.base_url)
    }

    /// `http://127.0.0.1:PORT/OAuth/Token`.
    pub fn token_url(&self) -> String {
        format!("{}/OAuth/Token", self.inner.listening.base_url)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.listening.addr
    }

    /// The keys this simulator accepts.
    pub fn credentials(&self) -> Keys {
        let c = &self.inner.shared.cfg;
        Keys {
            application_key: Secret::new(c.application_key.clone()),
            client_key: Secret::new(c.client_key.clone()),
            subscription_key: Secret::new(c.subscription_key.clone()),
        }
    }

    /// The sum of every posted line on `account`, in øre (debit positive).
    pub fn balance(&self, account: u32) -> i64 {
        lock(&self.inner.shared.ledger).balance(account)
    }

    /// Every booked voucher, oldest first.
    pub fn vouchers(&self) -> Vec<PostedVoucherRecord> {
        lock(&self.inner.shared.ledger).vouchers.clone()
    }

    /// Requests received (faulted ones included).
    pub fn requests(&self) -> u64 {
        self.inner.shared.recorder.stats().requests
    }

    /// Requests received by one endpoint.
    pub fn requests_to(&self, endpoint: Endpoint) -> u64 {
        let stats = self.inner.shared.recorder.stats();
        stats
            .per_operation
            .get(endpoint.name())
            .copied()
            .unwrap_or(0)
    }

    pub fn stats(&self) -> SimStats {
        self.inner.shared.recorder.stats()
    }

    /// Every exchange so far, oldest first, keys and tokens redacted.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.inner.shared.recorder.exchanges()
    }

    #[cfg(feature = "testing")]
    pub fn set_faults(&self, f: PowerOfficeFaults) {
        tracing::info!(faults = ?f, "PowerOffice sim faults set");
        *lock(&self.inner.shared.faults) = f;
    }

    /// The knobs as they are now (counters go down as faults fire).
    #[cfg(feature = "testing")]
    pub fn faults(&self) -> PowerOfficeFaults {
        lock(&self.inner.shared.faults).clone()
    }

    /// Every issued token stops working now, as if its lifetime had run out.
    pub fn expire_tokens(&self) {
        lock(&self.inner.shared.tokens).clear();
    }

    /// Deletes account `no` from the client's chart of accounts.
    pub fn remove_account(&self, no: u32) {
        lock(&self.inner.shared.ledger)
            .accounts
            .retain(|a| a.no != no);
    }

    /// Marks department `code` inactive (or active again).
    pub fn set_department_active(&self, code: &str, active: bool) {
        for d in lock(&self.inner.shared.ledger).departments.iter_mut() {
            if d.code == code {
                d.active = active;
            }
        }
    }

    /// The department id of `code`, for assertions.
    pub fn department_id(&self, code: &str) -> Option<i64> {
        lock(&self.inner.shared.ledger)
            .departments
            .iter()
            .find(|d| d.code == code)
            .map(|d| d.id)
    }

    /// Stops accepting, lets open connections finish (up to 2 s), then
    /// returns. Other clones keep working for inspection.
    pub async fn shutdown(self) {
        self.inner.listening.stop().await;
        tracing::info!(addr = %self.inner.listening.addr, "PowerOffice Go simulator stopped");
    }
}
