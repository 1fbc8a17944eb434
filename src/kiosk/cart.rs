//! What the sale page tells the journal before a sale exists: every line
//! taken out of the cart, or lowered, before payment, with its amount
//! (kassasystemforskriften § 2-8-2 s; counted in the X/Z and SAF-T's
//! reportCorrLines). The cart itself is the screen's until it is paid for.

use serde_json::json;

use super::{Kiosk, KioskError};
use crate::domain::SaleLine;
use crate::domain::journal::JournalKind;

impl Kiosk {
    /// Journals that `removed` of `line`'s units left the cart before
    /// payment (the whole line when `removed` is its quantity). Emptying a
    /// cart is one correction per line.
    pub fn cart_line_corrected(&self, line: &SaleLine, removed: u32) -> Result<(), KioskError> {
        if removed == 0 {
            return Ok(());
        }
        let amount = line
            .unit_price
            .minor()
            .checked_mul(i64::from(removed))
            .ok_or_else(|| KioskError::Rejected("the corrected amount is too large".into()))?;
        let now = self.inner.clock.now();
        let mut data = json!({
            "product": line.product_id,
            "name": line.name,
            "quantity": removed,
            "total": amount,
            "currency": line.unit_price.currency().code(),
        });
        self.inner.store.write(|w| {
            // A correction while training is a training correction (§ 2-8-2 w).
            if self.training_now(&w.reader())? {
                data["training"] = json!(true);
            }
            w.journal_action(JournalKind::CartLineCorrected, None, data, now)
        })?;
        Ok(())
    }
}
