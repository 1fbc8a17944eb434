//! Sales paid on the club's own standalone card terminal ("Kort"): the
//! customer pays on the terminal (BankAxept, a card, or Vipps tapped there),
//! the volunteer presses "Betalt på terminalen", and the till records the
//! sale at once: its receipt, its signed SAF-T transaction (payment code
//! 12002), its own line in X/Z and in the daily voucher (the card clearing
//! account). No drawer opens; no money crosses the till. A return goes back
//! on the terminal and is recorded the same way (`refund.rs`). There is no
//! terminal integration: the terminal's own slip is the card receipt.

use serde_json::json;

use super::{Kiosk, KioskError, describe, settle};
use crate::domain::{Cart, PaymentMethod, SaleStatus};
use crate::store::{NewSale, SaleRecord};

/// The longest terminal reference kept (a slip's reference or stan).
pub const MAX_TERMINAL_REF: usize = 40;

impl Kiosk {
    /// A sale the customer paid on the card terminal; `terminal_ref` is the
    /// reference on the terminal's slip, when the volunteer gives it.
    pub fn card_sale(
        &self,
        cart: &Cart,
        terminal_ref: Option<&str>,
        description: &str,
    ) -> Result<SaleRecord, KioskError> {
        let totals = cart.totals()?;
        let terminal_ref = match terminal_ref.map(str::trim) {
            None | Some("") => None,
            Some(r) if r.chars().count() > MAX_TERMINAL_REF || r.chars().any(char::is_control) => {
                return Err(KioskError::Rejected(format!(
                    "the terminal reference must be at most {MAX_TERMINAL_REF} printable \
                     characters; copy it from the terminal's slip, or leave it out"
                )));
            }
            Some(r) => Some(r.to_string()),
        };
        self.inner
            .store
            .read(|r| Ok(self.check_stock(r, cart.lines())))??;
        let now = self.inner.clock.now();
        let mut new = NewSale {
            till_id: self.inner.settings.till_id.clone(),
            method: PaymentMethod::Card,
            status: SaleStatus::Pending,
            lines: cart.lines().to_vec(),
            total: totals.gross,
            description: describe(cart, description),
            training: false,
            cash_given: None,
            terminal_ref: terminal_ref.clone(),
            reference_random: self.inner.ids.random_u32(),
            msn: None,
            department: self.sales_unit().department,
            now,
        };
        let sale = self.inner.store.write(|w| {
            new.training = self.training_now(&w.reader())?;
            let sale = w.insert_sale(&new)?;
            settle::record_paid_with_order(
                w,
                &sale,
                json!({
                    "method": "card",
                    "terminal_ref": terminal_ref,
                    "lines": cart.lines(),
                    "vat": totals.per_vat,
                }),
                &self.acting(&|| self.new_key()),
                now,
            )?;
            w.reader().sale(sale.id)
        })?;
        self.announce_paid(&sale);
        Ok(sale)
    }
}
