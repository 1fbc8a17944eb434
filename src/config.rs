//! `luka.toml` + environment → typed, validated configuration. The only
//! place that reads either.
//!
//! Unknown keys are errors (a typo must not silently fall back to a
//! default), and every error names the key and the fix. Secrets come from a
//! file (which must be 0600) or an environment variable, never from logs.
//!
//! | file | holds |
//! |---|---|
//! | `config.rs` | the raw TOML shapes, [`Config`], finding and loading the file, the error type |
//! | `vipps.rs` | `[vipps]`: environment, base URL (loopback and https rules), keys, timings, and `[[vipps.units]]` (more sales units, their departments) |
//! | `secrets.rs` | secrets from 0600 files or the environment; inline secrets refused in a readable file |
//! | `ui.rs` | `[ui]` (language, PIN hash, result time) and `[training]` |
//! | `merchant.rs` | `[merchant]`: the seller on every receipt |
//! | `catalog.rs` | `[[products]]` |
//! | `operators.rs` | `[[operators]]`: the volunteers who log in at the till |
//! | `gpio.rs` | `[gpio]` |
//! | `printer.rs` | `[printer]` |
//! | `bookkeeping.rs` | `[bookkeeping.*]`: accounts and the book lanes |
//! | `hub.rs` | `[hub]`: the hub's database, listen address and public URL |
//! | `tests.rs`, `printer_tests.rs` | the parser's tests |

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::{Catalog, Merchant, VatCode};
use crate::hardware::GpioConfig;

mod bookkeeping;
mod catalog;
mod gpio;
mod hub;
mod merchant;
mod operators;
mod printer;
mod secrets;
#[cfg(test)]
mod tests;
mod ui;
mod vipps;
pub use bookkeeping::{BookkeepingConfig, PowerOfficeConfig, WebhookConfig};
pub use hub::{HubConfig, HubVipps};
pub use operators::OperatorConfig;
pub use printer::PrinterConfig;
pub use secrets::inline_secrets;
pub use ui::{Language, TrainingConfig, UiConfig};
pub use vipps::{VippsConfig, is_loopback_url};

#[derive(Debug, thiserror::Error)]
#[error("{}: {key}: {problem}\n  fix: {fix}", .file.display())]
pub struct ConfigError {
    pub file: PathBuf,
    pub key: String,
    pub problem: String,
    pub fix: String,
}

fn err(file: &Path, key: &str, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
    ConfigError {
        file: file.to_path_buf(),
        key: key.to_string(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// In-process simulator, separate database, receipts marked as training.
    #[default]
    Training,
    /// Vipps MT test environment (apitest.vipps.no).
    Test,
    Production,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    till: RawTill,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    vipps: RawVipps,
    #[serde(default)]
    merchant: Option<RawMerchant>,
    #[serde(default)]
    ui: RawUi,
    #[serde(default)]
    training: RawTraining,
    #[serde(default)]
    products: Vec<RawProduct>,
    #[serde(default)]
    operators: Vec<operators::RawOperator>,
    #[serde(default)]
    printer: Option<printer::RawPrinter>,
    #[serde(default)]
    gpio: RawGpio,
    #[serde(default)]
    bookkeeping: bookkeeping::RawBookkeeping,
    #[serde(default)]
    hub: hub::RawHub,
}

/// `[gpio]`: BCM pin numbers (i64 so 300 is reported as a bad pin, not a
/// TOML type error).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGpio {
    paid_led: Option<i64>,
    error_led: Option<i64>,
    buzzer: Option<i64>,
    drawer_relay: Option<i64>,
    button_new_sale: Option<i64>,
    button_cancel: Option<i64>,
    pulse_ms: Option<u64>,
    drawer_pulse_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawUi {
    /// Argon2 hash of the organizer PIN, from `luka pin-hash`.
    pin_hash: Option<String>,
    language: Option<String>,
    /// Seconds the "Betalt" / "Ikke betalt" screen stays before the next sale.
    result_seconds: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTraining {
    /// Where the in-process simulator listens ("0.0.0.0:8099"; port 0 = any).
    listen: Option<String>,
    /// The address a phone on the LAN uses to reach it ("auto" = this machine's LAN address).
    phone_host: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMerchant {
    name: String,
    org_number: String,
    #[serde(default)]
    vat_registered: bool,
    #[serde(default)]
    address: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTill {
    id: Option<String>,
    /// VAT code for free amounts typed on the keypad.
    free_amount_vat: Option<u16>,
    /// The counter has the club's own card terminal: a "Kort" button.
    card_terminal: Option<bool>,
    /// Each paid sale gets the day's next order number, printed large.
    order_numbers: Option<bool>,
    /// And a second ticket for the kitchen (implies order numbers).
    kitchen_ticket: Option<bool>,
    /// The Vipps sales unit this till sells under (a `[[vipps.units]]`
    /// name); left out: `[vipps]`'s own.
    sales_unit: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawVipps {
    environment: Option<Environment>,
    base_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_secret_file: Option<PathBuf>,
    subscription_key: Option<String>,
    subscription_key_file: Option<PathBuf>,
    merchant_serial_number: Option<String>,
    /// What this unit is called on the till and in the books ("Fotball").
    name: Option<String>,
    /// The department `[vipps]`'s sales are booked under.
    department: Option<String>,
    /// The bank account `[vipps]`'s payouts land in (default: the books').
    bank_account: Option<u32>,
    /// More Vipps sales units, each with its own MSN and keys.
    #[serde(default)]
    units: Vec<vipps::RawUnit>,
    poll_initial_delay_ms: Option<u64>,
    poll_interval_ms: Option<u64>,
    payment_lifetime_secs: Option<u64>,
    expiry_margin_secs: Option<u64>,
    request_timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProduct {
    id: String,
    name: String,
    #[serde(default = "default_group")]
    group: String,
    /// Kroner as text ("149,50") or a number (150).
    price: toml::Value,
    /// Left out: the club default for the group (tickets 6, kiosk 31, else 3).
    vat: Option<u16>,
}

fn default_group() -> String {
    "Diverse".into()
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: Option<PathBuf>,
    pub till_id: String,
    /// VAT code for a free amount typed on the keypad (default 3, 25 %).
    pub free_amount_vat: VatCode,
    /// `[till] card_terminal = true`: sales paid on the club's standalone
    /// card terminal are recorded here ("Kort"; `kiosk/card.rs`).
    pub card_terminal: bool,
    /// `[till] order_numbers = true`: each paid sale gets the day's next
    /// order number, large on its receipt and on the Betalt screen.
    pub order_numbers: bool,
    /// `[till] kitchen_ticket = true`: and a second ticket with the number
    /// and the lines only, on the same printer.
    pub kitchen_ticket: bool,
    pub store_path: PathBuf,
    /// The seller; in training without `[merchant]`, [`Merchant::training`].
    pub merchant: Merchant,
    pub vipps: VippsConfig,
    /// The sales unit this till sells under unless its event menu on the
    /// club's hub names another (`[till] sales_unit`).
    pub sales_unit: crate::domain::SalesUnit,
    pub catalog: Catalog,
    /// `[[operators]]`: who can log in for a shift (none: sales carry no operator).
    pub operators: Vec<OperatorConfig>,
    /// `[printer]`; in training without it, PNG previews next to the database.
    pub printer: PrinterConfig,
    /// LEDs, buzzer, drawer relay and buttons; empty = no GPIO.
    pub gpio: GpioConfig,
    pub ui: UiConfig,
    pub training: TrainingConfig,
    /// Where the books are kept: accounts and sinks (all optional).
    pub bookkeeping: BookkeepingConfig,
    /// `[hub]`: only `luka hub …` reads it.
    pub hub: HubConfig,
}

impl Config {
    /// Finds and loads the config: the given path (which must exist), else
    /// `luka.toml`, else `/etc/luka/luka.toml`, else built-in training defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => {
                if !p.exists() {
                    return Err(err(
                        p,
                        "--config",
                        "the file does not exist",
                        "give the path of an existing luka.toml (see deploy-pi/luka.toml.example)",
                    ));
                }
                Some(p.to_path_buf())
            }
            None => ["luka.toml", "/etc/luka/luka.toml"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists()),
        };
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|e| {
                    err(
                        &p,
                        "(file)",
                        format!("cannot read it: {e}"),
                        "check the path and its permissions",
                    )
                })?;
                let mut config = Config::parse(&text, &p, &|k| std::env::var(k).ok())?;
                secrets::refuse_readable_inline_secrets(&p, &text)?;
                if !config.is_training() {
                    for w in config.vat_warnings() {
                        tracing::warn!(file = %p.display(), "{w}");
                    }
                }
                // A till paired with the club's hub sells from the hub's
                // catalogue it kept last, not from [[products]].
                if let Some(version) = crate::hub::till_catalogue::overlay(&mut config) {
                    tracing::info!(
                        version,
                        "selling from the club hub's catalogue, not [[products]]"
                    );
                }
                Ok(config)
            }
            None => Config::parse("", Path::new("(built-in defaults)"), &|k| {
                std::env::var(k).ok()
            }),
        }
    }

    /// Parses config text; `env` looks up environment variables.
    pub fn parse(
        text: &str,
        file: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            err(
                file,
                &format!("line {}", line_of(text, e.span())),
                msg,
                "correct the key or value; every key is documented in deploy-pi/luka.toml.example",
            )
        })?;
        let till_id = raw.till.id.unwrap_or_else(|| "kiosk-1".into());
        crate::domain::reference::validate_till_id(&till_id).map_err(|p| {
            err(
                file,
                "[till] id",
                p,
                "set id = \"kiosk-1\" (letters, digits, '-')",
            )
        })?;
        let free_amount_vat =
            VatCode::try_from(raw.till.free_amount_vat.unwrap_or(3)).map_err(|m| {
                err(
                    file,
                    "[till] free_amount_vat",
                    m,
                    "use one of 3, 31, 32, 33, 5, 6",
                )
            })?;
        let vipps = vipps::vipps_config(&raw.vipps, file, env)?;
        let sales_unit = vipps::till_unit(&vipps, raw.till.sales_unit.as_deref(), file)?;
        let default_db = if vipps.environment == Environment::Training {
            "luka-training.db"
        } else {
            "luka.db"
        };
        let mut store_path = raw.store.path.unwrap_or_else(|| PathBuf::from(default_db));
        // Training never writes into the real database, whatever path is set.
        if vipps.environment == Environment::Training
            && store_path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.contains("training"))
        {
            store_path.set_file_name(format!(
                "{}-training.db",
                store_path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("luka")
            ));
        }
        let merchant = merchant::merchant(raw.merchant, vipps.environment, file)?;
        let printer = printer::printer_config(raw.printer, vipps.environment, &store_path, file)?;
        let gpio = gpio::gpio(&raw.gpio, file)?;
        let ui = ui::ui_config(&raw.ui, vipps.environment, file)?;
        let training = ui::training_config(&raw.training, file)?;
        let production = vipps.environment == Environment::Production;
        let bookkeeping = bookkeeping::bookkeeping_config(raw.bookkeeping, file, env, production)?;
        // Checked last, so a config with several mistakes names the earlier
        // sections' first, as before this rule.
        printer::receipts_reach_the_customer(&printer, vipps.environment, file)?;
        let catalog = if raw.products.is_empty() {
            Catalog::club_default()
        } else {
            catalog::products(raw.products, file)?
        };
        let operators = operators::operators(raw.operators, file)?;
        let hub = hub::hub_config(raw.hub, file, env)?;
        Ok(Config {
            file: Some(file.to_path_buf()),
            till_id,
            free_amount_vat,
            card_terminal: raw.till.card_terminal.unwrap_or(false),
            order_numbers: raw.till.order_numbers.unwrap_or(false)
                || raw.till.kitchen_ticket.unwrap_or(false),
            kitchen_ticket: raw.till.kitchen_ticket.unwrap_or(false),
            store_path,
            merchant,
            vipps,
            sales_unit,
            catalog,
            operators,
            printer,
            gpio,
            ui,
            training,
            bookkeeping,
            hub,
        })
    }

    pub fn is_training(&self) -> bool {
        self.vipps.environment == Environment::Training
    }

    /// Products whose VAT code conflicts with the seller's VAT registration
    /// (or with the club defaults); `load` logs them as warnings.
    pub fn vat_warnings(&self) -> Vec<String> {
        self.catalog
            .products()
            .iter()
            .filter_map(|p| crate::domain::vat_check::conflict(self.merchant.vat_registered, p))
            .collect()
    }
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> usize {
    span.map(|s| text[..s.start.min(text.len())].lines().count().max(1))
        .unwrap_or(1)
}
