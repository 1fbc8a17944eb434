//! Each till's status on the hub's "Kasser" page: the running till says
//! what it is (`POST /api/status`, every time it asks for the catalogue):
//! its Luka version, what it has not sent yet, its printer and whether it
//! reaches Vipps. The hub keeps the last report and when it came; a till
//! that has not reported for a while is shown as not heard from.
//!
//! The till's side is [`report`]; it never holds a sale up: a hub that
//! does not answer is asked again next time.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::link::{Link, check_hub_url};
use super::{Hub, HubError};

/// What a till says of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TillStatus {
    /// The Luka version it runs.
    pub version: String,
    /// Outbox items not done yet, of every kind (Vipps calls, receipts,
    /// bookkeeping, the journal to the hub).
    pub backlog: u64,
    /// Journal entries not yet sent to the hub.
    pub hub_backlog: u64,
    /// The printer in the till's words, and whether receipts are held.
    pub printer: String,
    pub printer_ok: bool,
    /// `None` until the till has talked to Vipps since it started.
    pub vipps_reachable: Option<bool>,
    /// The catalogue version it sells from (`None`: its own `luka.toml`).
    pub catalogue_version: Option<i64>,
    pub training: bool,
    /// The event menu it sells from (`None`: the whole catalogue, or a
    /// till from before menus).
    #[serde(default)]
    pub menu: Option<String>,
    /// The Vipps sales unit it sells under now, and its department
    /// (issue 16, part 4); `None` from a till before units.
    #[serde(default)]
    pub sales_unit: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    /// The units it has keys for, so the treasurer can see which a menu
    /// may name.
    #[serde(default)]
    pub sales_units: Vec<String>,
}

/// The longest text of a status the hub keeps (the printer's message).
const MAX_TEXT: usize = 200;

impl TillStatus {
    fn check(&self) -> Result<(), HubError> {
        let menu = self.menu.as_deref().unwrap_or_default();
        let texts = [
            self.sales_unit.as_deref().unwrap_or_default(),
            self.department.as_deref().unwrap_or_default(),
        ];
        if self.version.chars().count() > 40
            || self.printer.chars().count() > MAX_TEXT
            || menu.chars().count() > MAX_TEXT
            || texts.iter().any(|t| t.chars().count() > MAX_TEXT)
            || self.sales_units.len() > 50
            || self
                .sales_units
                .iter()
                .any(|u| u.chars().count() > MAX_TEXT)
        {
            return Err(HubError::refused(
                400,
                format!(
                    "a till status has a version of at most 40 and texts of at most {MAX_TEXT} characters"
                ),
            ));
        }
        Ok(())
    }
}

impl Hub {
    /// Keeps what a paired, authenticated till said of itself.
    pub async fn set_status(&self, till: &str, status: &TillStatus) -> Result<(), HubError> {
        status.check()?;
        let text = serde_json::to_string(status)
            .map_err(|e| HubError::Config(format!("cannot keep a till status: {e}")))?;
        let client = self.client().await?;
        client
            .execute(
                "UPDATE tills SET status = $2, status_at = now(), last_seen = now() WHERE id = $1",
                &[&till, &text],
            )
            .await?;
        Ok(())
    }
}

/// A status the hub kept, as read back (`None` when none came or it
/// cannot be read).
pub fn parse(text: Option<&str>) -> Option<TillStatus> {
    serde_json::from_str(text?).ok()
}

/// The till's side: sends `status` to the hub it is paired with. Not
/// paired: nothing is sent.
pub async fn report(db: &Path, status: &TillStatus) -> Result<(), String> {
    let Some(link) = Link::load(db)? else {
        return Ok(());
    };
    check_hub_url(&link.url)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("luka/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot make the hub client: {e}"))?;
    let resp = client
        .post(format!("{}/api/status", link.url))
        .bearer_auth(link.credential().expose())
        .json(status)
        .send()
        .await
        .map_err(|e| {
            format!(
                "the club's hub could not be reached with the till's status: {}",
                e.without_url()
            )
        })?;
    if !resp.status().is_success() {
        return Err(format!(
            "the club's hub refused the till's status ({})",
            resp.status().as_u16()
        ));
    }
    Ok(())
}
