//! The club's hub from the till's own screen (issue 15): Arrangør →
//! "Koble til klubbens hub" pairs this till with the code the treasurer
//! got on the hub's *Kasser* page, like `luka pair URL CODE`. The running
//! till needs no restart: its hub lane and catalogue refresher pick the
//! link up (`app/books.rs`, `app/catalogue.rs`), woken by
//! [`KioskEvent::HubPaired`].

use super::{Kiosk, KioskError, KioskEvent};
use crate::hub::link::{Link, PairOutcome};

/// The hub this till is paired with, as the organizer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubView {
    pub url: String,
    /// The till id the hub knows this till by.
    pub till_id: String,
}

impl Kiosk {
    /// The hub this till is paired with, if any. The credential stays in
    /// its file: it is never shown.
    pub fn hub_link(&self) -> Result<Option<HubView>, KioskError> {
        let link = Link::load(self.inner.store.path()).map_err(KioskError::Rejected)?;
        Ok(link.map(|l| HubView {
            url: l.url,
            till_id: l.till_id,
        }))
    }

    /// Trades the treasurer's one-time code for this till's device
    /// credential (kept 0600 beside the database, never logged) and queues
    /// the whole journal for the hub. Refused, with the reason, when the
    /// till is paired already, the address is not https (or this machine),
    /// or the hub refuses the code.
    pub async fn pair_with_hub(&self, url: &str, code: &str) -> Result<PairOutcome, KioskError> {
        let till = self.inner.settings.till_id.clone();
        let done = crate::hub::link::pair(&self.inner.store, &till, url, code).await?;
        tracing::info!(hub = %done.url, till = %done.till_id, queued = done.queued, "paired with the club's hub");
        self.inner.settings.sync.wake();
        self.emit(KioskEvent::HubPaired);
        Ok(done)
    }
}
