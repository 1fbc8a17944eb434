//! The cash drawer: every opening is journaled (SAF-T 13005), whether the
//! receipt printer's kick port or a GPIO relay opens it, and the organizer
//! can open it without a sale, with a reason ("Åpne skuff"). The X and Z
//! count the openings without a sale (kassasystemforskriften § 2-8-2 m).
//!
//! Printer kicks of a sale or return are journaled by `printing.rs` when the
//! receipt (with its kick) comes out; relay openings are journaled here in
//! the transaction that makes them due, and the GPIO driver pulses on
//! [`KioskEvent::DrawerRelay`].

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{Kiosk, KioskError, KioskEvent, printing};
use crate::domain::journal::JournalKind;
use crate::store::Writer;

/// How the organizer's opening went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawerDevice {
    /// The receipt printer's kick port.
    Printer,
    /// The GPIO relay.
    Relay,
}

impl DrawerDevice {
    pub fn as_str(self) -> &'static str {
        match self {
            DrawerDevice::Printer => "printer",
            DrawerDevice::Relay => "relay",
        }
    }
}

impl Kiosk {
    /// Journals a relay opening in `w`'s transaction, if this till opens its
    /// drawer by relay. Call [`Kiosk::pulse_relay`] once it has committed.
    pub(super) fn journal_relay(
        &self,
        w: &mut Writer<'_>,
        sale_id: Option<i64>,
        mut data: Value,
        now: OffsetDateTime,
    ) -> crate::store::Result<()> {
        if !self.inner.settings.drawer_relay {
            return Ok(());
        }
        if let Some(d) = data.as_object_mut() {
            d.insert("device".into(), json!(DrawerDevice::Relay.as_str()));
            if self.inner.settings.training {
                d.insert("training".into(), json!(true));
            }
        }
        w.journal_action(JournalKind::DrawerOpened, sale_id, data, now)?;
        Ok(())
    }

    /// Tells the GPIO driver to pulse the relay (journaled already).
    pub(super) fn pulse_relay(&self, sale_id: Option<i64>) {
        if self.inner.settings.drawer_relay {
            self.emit(KioskEvent::DrawerRelay { sale_id });
        }
    }

    /// The organizer's "Åpne skuff": opens the drawer without a sale, for a
    /// reason (change for the float, a count, a wrong change given). The
    /// opening is journaled with the reason and the operator only once the
    /// drawer was told to open: a printer that is off or out of paper
    /// refuses, rather than springing the drawer later on its own.
    pub async fn open_drawer(&self, reason: &str) -> Result<DrawerDevice, KioskError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(KioskError::NoDrawerReason);
        }
        let now = self.inner.clock.now();
        if self.inner.settings.drawer_relay {
            self.inner
                .store
                .write(|w| self.journal_relay(w, None, json!({ "reason": reason }), now))?;
            self.pulse_relay(None);
            return Ok(DrawerDevice::Relay);
        }
        let receipts = &self.inner.settings.receipts;
        let (Some(connection), true) = (
            receipts.printer.clone(),
            receipts.layout.open_drawer_for_cash,
        ) else {
            return Err(KioskError::NoDrawer);
        };
        printing::kick_drawer(self, connection)
            .await
            .map_err(KioskError::DrawerNotOpened)?;
        let now = self.inner.clock.now();
        let mut data = json!({ "reason": reason, "device": DrawerDevice::Printer.as_str() });
        if self.inner.settings.training {
            data["training"] = json!(true);
        }
        self.inner
            .store
            .write(|w| w.journal_action(JournalKind::DrawerOpened, None, data, now))?;
        Ok(DrawerDevice::Printer)
    }
}
