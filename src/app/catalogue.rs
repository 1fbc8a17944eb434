//! A running till's side of the hub's catalogue: every [`REFRESH_EVERY`]
//! it asks the hub (`hub/till_catalogue.rs`: `If-None-Match`, kept on disk)
//! and applies a new catalogue with [`Kiosk::apply_catalog`] only between
//! sales, which journals each price change (SAF-T 13021); applies the
//! sold-out marks the hub changed; and says the till's status
//! (`hub/status.rs`) for the hub's "Kasser" page.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::hub::catalogue::Snapshot;
use crate::hub::status::{TillStatus, report};
use crate::hub::till_catalogue::{Pulled, pull};
use crate::kiosk::{Kiosk, KioskEvent};
use crate::store::{HUB_LANE, Store};

/// How often a running till asks the hub (a 304 costs next to nothing).
pub const REFRESH_EVERY: Duration = Duration::from_secs(15);

/// Applies a new catalogue to the running kiosk (call it between sales);
/// returns how many changes were journaled (price changes, and a switch of
/// the till's event menu). An empty catalogue (a
/// hub with no products yet) never empties a running till.
pub fn apply(kiosk: &Kiosk, snap: &Snapshot) -> Result<usize, String> {
    if snap.products.is_empty() {
        tracing::warn!(
            version = snap.version,
            "the club's hub has no products: selling on from the price list the till has"
        );
        return Ok(0);
    }
    let catalog = snap.to_catalog()?;
    kiosk
        .apply_hub_catalog(&catalog, snap.menu.as_deref(), snap.sales_unit.as_deref())
        .map_err(|e| e.to_string())
}

/// Takes the club's sold-out marks in `snap` that are newer than this
/// till's own marks by hand (`Kiosk::follow_hub_mark`, journaled). Returns
/// how many changed the till's stock; a mark that cannot be taken now is
/// said in the log and taken with the next catalogue or start.
pub fn apply_sold_out(kiosk: &Kiosk, snap: &Snapshot) -> usize {
    let mut changed = 0;
    for p in &snap.products {
        let Some(at) = p
            .sold_out_at
            .as_deref()
            .and_then(|t| time::OffsetDateTime::parse(t, &Rfc3339).ok())
        else {
            continue;
        };
        match kiosk.follow_hub_mark(&p.id, p.sold_out, at) {
            Ok(true) => changed += 1,
            Ok(false) => {}
            Err(e) => tracing::error!(product = %p.id, "the hub's sold-out mark waits: {e}"),
        }
    }
    if changed > 0 {
        tracing::info!(changed, "sold-out marks from the club's hub taken");
    }
    changed
}

/// What this till says of itself to the hub (`hub/status.rs`).
fn status(
    kiosk: &Kiosk,
    store: &Store,
    vipps_reachable: Option<bool>,
    catalogue: Option<&Snapshot>,
) -> TillStatus {
    let (backlog, hub_backlog) = store
        .read(|r| Ok((r.outbox_open_total()?, r.sync_lane(HUB_LANE)?.pending)))
        .unwrap_or_default();
    let printer = kiosk.printer_status();
    let unit = kiosk.sales_unit();
    TillStatus {
        version: env!("CARGO_PKG_VERSION").to_string(),
        backlog: backlog as u64,
        hub_backlog: hub_backlog as u64,
        printer_ok: !printer.state.is_held(),
        printer: printer.state.message(),
        vipps_reachable,
        catalogue_version: catalogue.map(|c| c.version),
        training: kiosk.is_training().unwrap_or(false),
        menu: catalogue.and_then(|c| c.menu.clone()),
        sales_unit: Some(unit.name),
        department: unit.department,
        sales_units: kiosk
            .settings()
            .sales_units
            .iter()
            .map(|u| u.name.clone())
            .collect(),
    }
}

/// A running till's refresher: every `every`, asks the hub for the
/// catalogue and applies a new one between sales (no payment in flight),
/// applies the sold-out marks that came with it, and says the till's
/// status. A till not paired yet asks nothing until it is (from the
/// organizer screen: [`KioskEvent::HubPaired`]). Never stops the till;
/// stops with `stop`.
pub(super) fn spawn_refresher(
    kiosk: Kiosk,
    store: Arc<Store>,
    db: PathBuf,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let mut events = kiosk.subscribe();
    let mut wake = kiosk.subscribe();
    tokio::spawn(async move {
        let mut vipps: Option<bool> = None;
        // The catalogue sold from: its version and menu go in the status.
        let mut selling = crate::hub::till_catalogue::load_kept(&db).ok().flatten();
        loop {
            let pulled = pull_now(&db, &kiosk, &mut stop, &mut selling).await;
            if *stop.borrow() {
                return;
            }
            let paired = !matches!(pulled, Some(Pulled::NotPaired));
            if paired {
                // Whether Vipps answered, from what the kiosk said since.
                loop {
                    match events.try_recv() {
                        Ok(KioskEvent::Connectivity { reachable, .. }) => vipps = Some(reachable),
                        Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                        Err(_) => break,
                    }
                }
                let now = status(&kiosk, &store, vipps, selling.as_ref());
                if let Err(e) = report(&db, &now).await {
                    tracing::debug!("{e}");
                }
            }
            // A till paired from its own screen asks at once.
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = paired_now(&mut wake) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}

/// Until the kiosk says it was just paired with a hub.
async fn paired_now(events: &mut tokio::sync::broadcast::Receiver<KioskEvent>) {
    loop {
        match events.recv().await {
            Ok(KioskEvent::HubPaired) => return,
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// One look at the hub's catalogue: a new one is applied between sales
/// (waiting for the sale in hand, or `None` when stopped meanwhile), with
/// the sold-out marks that came with it. A hub that cannot be reached
/// leaves the till selling from the catalogue it has.
async fn pull_now(
    db: &std::path::Path,
    kiosk: &Kiosk,
    stop: &mut tokio::sync::watch::Receiver<bool>,
    selling: &mut Option<Snapshot>,
) -> Option<Pulled> {
    match pull(db).await {
        Ok(Pulled::New(snap)) => {
            while !kiosk.between_sales() {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = stop.wait_for(|s| *s) => return None,
                }
            }
            match apply(kiosk, &snap) {
                Ok(changes) => tracing::info!(
                    version = snap.version,
                    changes,
                    "selling from the hub's catalogue (price changes journaled)"
                ),
                Err(e) => tracing::error!("the hub's catalogue could not be applied: {e}"),
            }
            apply_sold_out(kiosk, &snap);
            *selling = Some(snap.clone());
            Some(Pulled::New(snap))
        }
        Ok(other) => Some(other),
        Err(e) => {
            tracing::warn!("{e}; selling on from the catalogue the till has");
            None
        }
    }
}
