//! A running till's side of the hub's catalogue: every [`REFRESH_EVERY`]
//! it asks the hub (`hub/till_catalogue.rs`: `If-None-Match`, kept on disk)
//! and applies a new catalogue with [`Kiosk::apply_catalog`] only between
//! sales, which journals each price change (SAF-T 13021).

use std::path::PathBuf;
use std::time::Duration;

use crate::hub::catalogue::Snapshot;
use crate::hub::till_catalogue::{Pulled, pull};
use crate::kiosk::Kiosk;

/// How often a running till asks the hub (a 304 costs next to nothing).
pub const REFRESH_EVERY: Duration = Duration::from_secs(15);

/// Applies a new catalogue to the running kiosk (call it between sales);
/// returns how many price changes were journaled. An empty catalogue (a
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
    kiosk.apply_catalog(&catalog).map_err(|e| e.to_string())
}

/// A running till's refresher: every `every`, asks the hub and applies a
/// new catalogue between sales (no payment in flight). Never stops the
/// till; stops with `stop`.
pub(super) fn spawn_refresher(
    kiosk: Kiosk,
    db: PathBuf,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match pull(&db).await {
                Ok(Pulled::NotPaired) => return,
                Ok(Pulled::Unchanged { .. }) => {}
                Ok(Pulled::New(snap)) => {
                    while !kiosk.between_sales() {
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                            _ = stop.wait_for(|s| *s) => return,
                        }
                    }
                    match apply(&kiosk, &snap) {
                        Ok(changes) => tracing::info!(
                            version = snap.version,
                            changes,
                            "selling from the hub's catalogue (price changes journaled)"
                        ),
                        Err(e) => tracing::error!("the hub's catalogue could not be applied: {e}"),
                    }
                }
                Err(e) => tracing::warn!("{e}; selling on from the catalogue the till has"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}
