//! Kiosk events → hardware: a paid pulse on every completed payment, the
//! drawer relay when the kiosk says so (it journals every opening first:
//! kassasystemforskriften § 2-8-2 m), the error LED while Vipps cannot be
//! reached.
//!
//! Owns only that mapping, from the events alone: it never reads or changes
//! a sale.

use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};

use super::Hardware;
use crate::kiosk::KioskEvent;

/// Runs until the event channel closes (the kiosk is gone), then turns the
/// error LED off. Spawn it on the runtime with a receiver taken from
/// `kiosk.subscribe()` before the first sale.
pub async fn drive(mut events: broadcast::Receiver<KioskEvent>, hw: Arc<dyn Hardware>) {
    loop {
        match events.recv().await {
            Ok(KioskEvent::Paid { .. }) => hw.paid(),
            Ok(KioskEvent::DrawerRelay { .. }) => hw.open_drawer(),
            Ok(KioskEvent::Connectivity { reachable, .. }) => hw.set_error(!reachable),
            Ok(_) => {}
            // Missed events (a burst of status lines) only cost a blink.
            Err(RecvError::Lagged(n)) => tracing::debug!(missed = n, "GPIO driver lagged"),
            Err(RecvError::Closed) => break,
        }
    }
    hw.set_error(false);
}
