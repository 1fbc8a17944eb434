//! Kiosk events → hardware: a paid pulse on every completed payment (and the
//! drawer for cash), the error LED while Vipps cannot be reached.
//!
//! Owns only that mapping. It must never change a sale: it reads the store
//! to learn a paid sale's method, nothing more.

use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};

use super::Hardware;
use crate::domain::PaymentMethod;
use crate::kiosk::KioskEvent;
use crate::store::Store;

/// Runs until the event channel closes (the kiosk is gone), then turns the
/// error LED off. Spawn it on the runtime with a receiver taken from
/// `kiosk.subscribe()` before the first sale, and `kiosk.store().clone()`.
pub async fn drive(
    mut events: broadcast::Receiver<KioskEvent>,
    store: Arc<Store>,
    hw: Arc<dyn Hardware>,
) {
    loop {
        match events.recv().await {
            Ok(KioskEvent::Paid { sale_id, .. }) => {
                hw.paid();
                let cash = store
                    .read(|r| r.sale(sale_id))
                    .is_ok_and(|s| s.method == PaymentMethod::Cash);
                if cash {
                    hw.open_drawer();
                }
            }
            Ok(KioskEvent::Connectivity { reachable, .. }) => hw.set_error(!reachable),
            Ok(_) => {}
            // Missed events (a burst of status lines) only cost a blink.
            Err(RecvError::Lagged(n)) => tracing::debug!(missed = n, "GPIO driver lagged"),
            Err(RecvError::Closed) => break,
        }
    }
    hw.set_error(false);
}
