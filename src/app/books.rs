//! Wiring for the books: which lanes `[bookkeeping]` asks for, their sinks
//! (and the hub's journal lane when the till is paired), the sync worker,
//! and the Vipps settlement reconciler.
//!
//! A training till never reaches real books: its PowerOffice lane goes to
//! an in-process PowerOffice simulator, its webhook only to this machine,
//! and its settlements come from the in-process Vipps simulator.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::AppError;
use crate::bookkeeping::poweroffice::sink::PowerOfficeSink;
use crate::bookkeeping::poweroffice::{PowerOfficeClient, PowerOfficeSettings};
use crate::bookkeeping::reconcile::VippsSettlements;
use crate::bookkeeping::{Sink, SyncHandle, SyncTargets, SyncWorker, kind};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::hub::link::HubSink;
use crate::sim::SimHandle;
use crate::sim::poweroffice::{PowerOfficeSimConfig, PowerOfficeSimHandle};
use crate::store::Store;

/// What completed sales, refunds and Z reports queue for the books.
pub fn sync_targets(config: &Config) -> SyncTargets {
    let b = &config.bookkeeping;
    let mut voucher_kinds = Vec::new();
    if b.poweroffice.is_some() || config.is_training() {
        voucher_kinds.push(kind::POWEROFFICE);
    }
    if b.csv_dir.is_some() {
        voucher_kinds.push(kind::CSV);
    }
    SyncTargets {
        webhook: b
            .webhook
            .as_ref()
            .is_some_and(|w| !config.is_training() || is_loopback_url(&w.url)),
        voucher_kinds,
        accounts: b.accounts.clone(),
        training_till: config.is_training(),
    }
}

fn is_loopback_url(url: &str) -> bool {
    crate::config::is_loopback_url(url)
}

/// The sinks of a till, and the PowerOffice simulator a training till
/// posts to (kept alive as long as the sinks).
pub struct Books {
    pub sinks: Vec<Arc<dyn Sink>>,
    pub poweroffice_sim: Option<PowerOfficeSimHandle>,
}

/// Builds the sinks `sync_targets` queues for.
pub async fn books_sinks(config: &Config, clock: Arc<dyn Clock>) -> Result<Books, AppError> {
    let targets = sync_targets(config);
    let b = &config.bookkeeping;
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    let mut poweroffice_sim = None;
    if let (true, Some(w)) = (targets.webhook, &b.webhook) {
        let key = crate::bookkeeping::webhook::WebhookKey::parse(&w.secret)
            .map_err(|e| AppError::Config(format!("[bookkeeping.webhook] secret: {e}")))?;
        let sink = crate::bookkeeping::webhook::WebhookSink::new(&w.url, key, w.timeout, clock)
            .map_err(AppError::Config)?;
        sinks.push(Arc::new(sink));
    } else if b.webhook.is_some() {
        tracing::warn!(
            "training: the webhook is not on this machine, so training sales are not pushed to it"
        );
    }
    if targets.voucher_kinds.contains(&kind::POWEROFFICE) {
        let settings = match &b.poweroffice {
            Some(p) if !config.is_training() => PowerOfficeSettings {
                api_base_url: p.api_base_url.clone(),
                token_url: p.token_url.clone(),
                application_key: p.application_key.clone(),
                client_key: p.client_key.clone(),
                subscription_key: p.subscription_key.clone(),
                timeout: p.timeout,
            },
            _ => {
                // The departments luka.toml books under exist in the
                // training client, as the treasurer would have made them.
                let departments: Vec<(String, String)> = config
                    .vipps
                    .units
                    .iter()
                    .filter_map(|u| u.unit.department.clone().map(|d| (d, u.unit.name.clone())))
                    .collect();
                let departments: Vec<(&str, &str)> = departments
                    .iter()
                    .map(|(d, n)| (d.as_str(), n.as_str()))
                    .collect();
                let sim = crate::sim::poweroffice::start(
                    ([127, 0, 0, 1], 0).into(),
                    PowerOfficeSimConfig::training().with_departments(&departments),
                )
                .await
                .map_err(AppError::Sim)?;
                let keys = sim.credentials();
                let settings = PowerOfficeSettings {
                    api_base_url: sim.api_base_url(),
                    token_url: sim.token_url(),
                    application_key: keys.application_key.clone(),
                    client_key: keys.client_key.clone(),
                    subscription_key: keys.subscription_key.clone(),
                    timeout: Duration::from_secs(10),
                };
                tracing::info!(url = %sim.api_base_url(), "training: vouchers go to an in-process PowerOffice Go simulator");
                poweroffice_sim = Some(sim);
                settings
            }
        };
        let client = PowerOfficeClient::new(settings)
            .map_err(|e| AppError::Config(format!("[bookkeeping.poweroffice]: {e}")))?;
        sinks.push(Arc::new(PowerOfficeSink::new(client, &b.accounts)));
    }
    if let Some(dir) = &b.csv_dir {
        sinks.push(Arc::new(crate::bookkeeping::csv::CsvSink::new(dir)));
    }
    // Paired with the club's hub (`luka pair`): the journal's lane. The
    // till never depends on the hub: a link it cannot use is said in the
    // log, and the entries wait in the lane until it is fixed.
    match crate::hub::link::Link::load(&config.store_path).and_then(|link| {
        link.map(|l| HubSink::new(l, Duration::from_secs(20)))
            .transpose()
    }) {
        Ok(Some(sink)) => sinks.push(Arc::new(sink)),
        Ok(None) => {}
        Err(e) => tracing::error!("the club's hub gets nothing until this is fixed: {e}"),
    }
    Ok(Books {
        sinks,
        poweroffice_sim,
    })
}

/// The running sync worker and reconciler: stop them with `shutdown`.
pub struct BooksRunning {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The lanes, for status views.
    pub kinds: Vec<&'static str>,
    pub poweroffice_sim: Option<PowerOfficeSimHandle>,
}

impl BooksRunning {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        if let Some(sim) = self.poweroffice_sim {
            sim.shutdown().await;
        }
    }
}

/// Starts the lanes (if any sink is set) and, outside training with the
/// production Report API, the daily settlement reconciler.
pub async fn start(
    config: &Config,
    store: Arc<Store>,
    handle: SyncHandle,
    vipps_sim: Option<&SimHandle>,
) -> Result<Option<BooksRunning>, AppError> {
    let mut books = books_sinks(config, Arc::new(SystemClock)).await?;
    // Not paired yet: the lane waits for a pairing from the till's screen.
    if !books
        .sinks
        .iter()
        .any(|s| s.kind() == crate::store::HUB_LANE)
    {
        books
            .sinks
            .push(Arc::new(crate::hub::link::LaterHubSink::new(
                &config.store_path,
                Duration::from_secs(20),
            )));
    }
    let (stop, shutdown) = watch::channel(false);
    let mut tasks = Vec::new();
    let kinds: Vec<&'static str> = books.sinks.iter().map(|s| s.kind()).collect();
    if !books.sinks.is_empty() {
        let worker = SyncWorker {
            store: store.clone(),
            clock: Arc::new(SystemClock),
            policy: crate::retry::RetryPolicy::default(),
            sinks: books.sinks,
            batch: 16,
            handle: handle.clone(),
        };
        tasks.push(tokio::spawn(worker.run(shutdown.clone())));
    }
    match (config.is_training(), vipps_sim) {
        (true, Some(sim)) => {
            if let Some(source) = reconcile_sources(config, Some(sim))?.into_iter().next() {
                tasks.push(spawn_training_settlement(
                    store,
                    sim.clone(),
                    Arc::new(source),
                    sync_targets(config),
                    handle,
                    shutdown,
                ));
            }
        }
        (false, _) => {
            let sources = reconcile_sources(config, vipps_sim)?;
            if !sources.is_empty() {
                tasks.push(spawn_reconciler(
                    store,
                    sources.into_iter().map(Arc::new).collect(),
                    sync_targets(config),
                    handle,
                    shutdown,
                ));
            }
        }
        (true, None) => {}
    }
    if tasks.is_empty() {
        return Ok(None);
    }
    Ok(Some(BooksRunning {
        stop,
        tasks,
        kinds,
        poweroffice_sim: books.poweroffice_sim,
    }))
}

/// The Vipps Report API for this till: the in-process simulator in
/// training, the production API in production, a simulator on this machine
/// in the test environment; none against Vipps' own test environment (the
/// Report API has no test environment). The first source of
/// [`reconcile_sources`].
pub fn reconcile_source(
    config: &Config,
    vipps_sim: Option<&SimHandle>,
) -> Result<Option<VippsSettlements>, AppError> {
    Ok(reconcile_sources(config, vipps_sim)?.into_iter().next())
}

/// One settlement source per Vipps sales unit with keys (issue 16, part
/// 4): each MSN is settled in its own ledger, read with its own keys (and
/// its own `base_url`, if it has one). A till with one unit has one source
/// that compares every Vipps sale, as before units; so has training, whose
/// one simulator takes every unit's sales. Each source books its fee and
/// payout vouchers under its unit's department.
pub fn reconcile_sources(
    config: &Config,
    vipps_sim: Option<&SimHandle>,
) -> Result<Vec<VippsSettlements>, AppError> {
    use crate::config::Environment;
    let own = &config.vipps.units[0].unit;
    let environment = config.vipps.environment;
    if let (Environment::Training, Some(sim)) = (environment, vipps_sim) {
        let creds = super::training_credentials(&crate::sim::SimConfig::training());
        return Ok(vec![settlements(
            config,
            &sim.base_url(),
            creds,
            None,
            own.department.clone(),
        )?]);
    }
    // Production; or the test environment pointed at a simulator on this
    // machine (which has the Report endpoints; Vipps' own test environment
    // has none).
    let reachable = |url: Option<&str>| {
        environment == Environment::Production || url.is_some_and(is_loopback_url)
    };
    if config.vipps.units.len() <= 1 {
        let base = config.vipps.base_url.as_deref();
        if !reachable(base) {
            return Ok(Vec::new());
        }
        let creds = config
            .vipps
            .credentials
            .clone()
            .ok_or_else(|| AppError::Config("[vipps] credentials are missing".into()))?;
        return Ok(vec![settlements(
            config,
            base.unwrap_or_default(),
            creds,
            None,
            own.department.clone(),
        )?]);
    }
    let mut out = Vec::new();
    for (i, u) in config.vipps.units.iter().enumerate() {
        let Some(creds) = u.credentials.clone() else {
            continue;
        };
        let base = u.base_url.as_deref().or(config.vipps.base_url.as_deref());
        if !reachable(base) {
            continue;
        }
        let unit = crate::domain::settlement::UnitSales {
            msn: creds.merchant_serial_number.clone(),
            own: i == 0,
        };
        let mut source = settlements(
            config,
            base.unwrap_or_default(),
            creds,
            Some(unit),
            u.unit.department.clone(),
        )?;
        source.bank_account = u.bank_account;
        // `[bookkeeping] vipps_ledger_id` names `[vipps]`'s own ledger; the
        // other units' are found by their MSN.
        if i > 0 {
            source.ledger_id = None;
        }
        out.push(source);
    }
    Ok(out)
}

fn settlements(
    config: &Config,
    base: &str,
    creds: crate::vipps::Credentials,
    unit: Option<crate::domain::settlement::UnitSales>,
    department: Option<String>,
) -> Result<VippsSettlements, AppError> {
    let msn = creds.merchant_serial_number.clone();
    let client = crate::vipps::report::ReportClient::new(
        base,
        creds,
        crate::vipps::SystemInfo::default(),
        config.vipps.request_timeout,
    )
    .map_err(|e| AppError::Config(format!("the Vipps Report API for MSN {msn}: {e}")))?;
    Ok(VippsSettlements {
        client,
        ledger_id: config.bookkeeping.vipps_ledger_id.clone(),
        merchant_serial_number: msn,
        unit,
        department,
        bank_account: None,
    })
}

/// Every half hour: reconciles the last week's ledger dates that have no
/// stored reconciliation yet, for each sales unit's ledger (Vipps closes a
/// date some hours after midnight; until then it answers "not ready" and
/// the date waits).
pub fn spawn_reconciler(
    store: Arc<Store>,
    sources: Vec<Arc<VippsSettlements>>,
    targets: SyncTargets,
    handle: SyncHandle,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let today = crate::domain::local_time::to_oslo(time::OffsetDateTime::now_utc()).date();
            for (source, back) in sources
                .iter()
                .flat_map(|s| (1..=7).rev().map(move |b| (s, b)))
            {
                let Some(date) = today.checked_sub(time::Duration::days(back)) else {
                    continue;
                };
                let done = crate::bookkeeping::reconcile::reconciled(&store, &**source, date)
                    .unwrap_or(false);
                if done {
                    continue;
                }
                let now = time::OffsetDateTime::now_utc();
                match crate::bookkeeping::reconcile::run(&store, &**source, date, &targets, now)
                    .await
                {
                    Ok(o) => {
                        handle.wake();
                        if !o.reconciliation.ok() {
                            tracing::warn!(date = %date, msn = %source.merchant_serial_number, "Vipps settlement differs from the journal:\n{}", o.reconciliation.summary());
                        }
                    }
                    Err(crate::bookkeeping::reconcile::ReconcileError::NotReady(_)) => {}
                    Err(e) => {
                        tracing::warn!(date = %date, msn = %source.merchant_serial_number, error = %e, "could not reconcile the Vipps settlement yet")
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(30 * 60)) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}

/// Training: once the day is closed with a Z, the in-process Vipps
/// simulator settles the day at once (a real Vipps does it overnight) and
/// the till reconciles it, so a newcomer sees the whole treasurer's flow:
/// Z → daily voucher → Vipps settlement → fee and payout vouchers.
fn spawn_training_settlement(
    store: Arc<Store>,
    sim: SimHandle,
    source: Arc<VippsSettlements>,
    targets: SyncTargets,
    handle: SyncHandle,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now = time::OffsetDateTime::now_utc();
            let today = crate::domain::local_time::to_oslo(now).date();
            let day = today.to_string();
            let due = store
                .read(
                    |r| Ok(!r.z_reports_on(&day)?.is_empty() && r.reconciliation(&day)?.is_none()),
                )
                .unwrap_or(false);
            if due && sim.close_ledger_date(today).is_ok() {
                match crate::bookkeeping::reconcile::run(&store, &*source, today, &targets, now)
                    .await
                {
                    Ok(_) => handle.wake(),
                    Err(e) => {
                        tracing::warn!(error = %e, "training: could not reconcile the simulated settlement")
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(3)) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}
