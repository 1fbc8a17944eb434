//! `luka.toml` + environment → typed, validated configuration. The only
//! place that reads either.
//!
//! Unknown keys are errors (a typo must not silently fall back to a
//! default), and every error names the key and the fix. Secrets come from a
//! file (which must be 0600) or an environment variable, never from logs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::domain::merchant::validate_org_number;
use crate::domain::{Catalog, Currency, Merchant, Money, Product, VatCode};
use crate::hardware::GpioConfig;
use crate::secret::Secret;
use crate::vipps::{Credentials, PRODUCTION_BASE_URL, TEST_BASE_URL};

mod bookkeeping;
mod printer;
pub use bookkeeping::{BookkeepingConfig, PowerOfficeConfig, WebhookConfig};
pub use printer::PrinterConfig;

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
    printer: Option<printer::RawPrinter>,
    #[serde(default)]
    gpio: RawGpio,
    #[serde(default)]
    bookkeeping: bookkeeping::RawBookkeeping,
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
    pub store_path: PathBuf,
    /// The seller; in training without `[merchant]`, [`Merchant::training`].
    pub merchant: Merchant,
    pub vipps: VippsConfig,
    pub catalog: Catalog,
    /// `[printer]`; in training without it, PNG previews next to the database.
    pub printer: PrinterConfig,
    /// LEDs, buzzer, drawer relay and buttons; empty = no GPIO.
    pub gpio: GpioConfig,
    pub ui: UiConfig,
    pub training: TrainingConfig,
    /// Where the books are kept: accounts and sinks (all optional).
    pub bookkeeping: BookkeepingConfig,
}

/// The screen's language. Bokmål is the default; English is selectable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Nb,
    En,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Nb => "nb",
            Language::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Language> {
        match code {
            "nb" | "no" | "nb_NO" => Some(Language::Nb),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct UiConfig {
    /// `None` only in training, where the PIN is [`crate::pin::TRAINING_PIN`].
    pub pin_hash: Option<crate::pin::PinHash>,
    pub language: Language,
    pub result_time: Duration,
}

#[derive(Debug, Clone)]
pub struct TrainingConfig {
    pub listen: std::net::SocketAddr,
    /// `None`: find this machine's LAN address at start.
    pub phone_host: Option<String>,
}

#[derive(Debug, Clone)]
pub struct VippsConfig {
    pub environment: Environment,
    /// `None` in training: the in-process simulator's address is used.
    pub base_url: Option<String>,
    /// `None` in training.
    pub credentials: Option<Credentials>,
    pub poll_initial_delay: Duration,
    pub poll_interval: Duration,
    pub payment_lifetime: Duration,
    pub expiry_margin: Duration,
    pub request_timeout: Duration,
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
                let config = Config::parse(&text, &p, &|k| std::env::var(k).ok())?;
                refuse_readable_inline_secrets(&p, &text)?;
                if !config.is_training() {
                    for w in config.vat_warnings() {
                        tracing::warn!(file = %p.display(), "{w}");
                    }
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
        let vipps = vipps_config(&raw.vipps, file, env)?;
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
        let merchant = merchant(raw.merchant, vipps.environment, file)?;
        let printer = printer::printer_config(
            raw.printer,
            vipps.environment == Environment::Training,
            &store_path,
            file,
        )?;
        let gpio = gpio(&raw.gpio, file)?;
        let ui = ui_config(&raw.ui, vipps.environment, file)?;
        let training = training_config(&raw.training, file)?;
        let production = vipps.environment == Environment::Production;
        let bookkeeping = bookkeeping::bookkeeping_config(raw.bookkeeping, file, env, production)?;
        let catalog = if raw.products.is_empty() {
            Catalog::club_default()
        } else {
            products(raw.products, file)?
        };
        Ok(Config {
            file: Some(file.to_path_buf()),
            till_id,
            free_amount_vat,
            store_path,
            merchant,
            vipps,
            catalog,
            printer,
            gpio,
            ui,
            training,
            bookkeeping,
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

fn ui_config(raw: &RawUi, environment: Environment, file: &Path) -> Result<UiConfig, ConfigError> {
    let pin_hash = match &raw.pin_hash {
        Some(h) => Some(crate::pin::PinHash::parse(h).map_err(|p| {
            err(
                file,
                "[ui] pin_hash",
                p,
                "run `luka pin-hash` and paste the line it prints (never the PIN itself)",
            )
        })?),
        None if environment == Environment::Training => None,
        None => {
            return Err(err(
                file,
                "[ui] pin_hash",
                "missing: without it anyone at the counter could refund sales or close the day",
                "run `luka pin-hash`, type the organizer PIN, and set pin_hash = \"<the line it prints>\"",
            ));
        }
    };
    let language = match raw.language.as_deref() {
        None => Language::Nb,
        Some(code) => Language::parse(code).ok_or_else(|| {
            err(
                file,
                "[ui] language",
                format!("\"{code}\" is not a language Luka speaks"),
                "use \"nb\" (bokmål) or \"en\" (English)",
            )
        })?,
    };
    let result_secs = raw.result_seconds.unwrap_or(6);
    if !(2..=60).contains(&result_secs) {
        return Err(err(
            file,
            "[ui] result_seconds",
            format!("{result_secs} is outside 2–60"),
            "use a value between 2 and 60 (default 6)",
        ));
    }
    Ok(UiConfig {
        pin_hash,
        language,
        result_time: Duration::from_secs(result_secs),
    })
}

fn training_config(raw: &RawTraining, file: &Path) -> Result<TrainingConfig, ConfigError> {
    let text = raw.listen.as_deref().unwrap_or("0.0.0.0:0");
    let listen = text.parse().map_err(|_| {
        err(
            file,
            "[training] listen",
            format!("\"{text}\" is not an address:port"),
            "use e.g. \"0.0.0.0:8099\" (reachable from phones on the LAN) or \"127.0.0.1:0\"",
        )
    })?;
    let phone_host = match raw.phone_host.as_deref() {
        None | Some("auto") => None,
        Some(h) if h.is_empty() || h.contains('/') || h.contains(' ') => {
            return Err(err(
                file,
                "[training] phone_host",
                format!("\"{h}\" is not a host name or IP address"),
                "use \"auto\" or this machine's LAN address, e.g. \"192.168.1.20\"",
            ));
        }
        Some(h) => Some(h.to_string()),
    };
    Ok(TrainingConfig { listen, phone_host })
}

fn merchant(
    raw: Option<RawMerchant>,
    environment: Environment,
    file: &Path,
) -> Result<Merchant, ConfigError> {
    let Some(raw) = raw else {
        if environment == Environment::Training {
            return Ok(Merchant::training());
        }
        return Err(err(
            file,
            "[merchant]",
            "missing: receipts must name the seller",
            "add [merchant] with name = \"…\", org_number = \"…\", vat_registered = true|false, address = [\"…\"]",
        ));
    };
    if raw.name.trim().is_empty() {
        return Err(err(
            file,
            "[merchant] name",
            "is empty",
            "set the club's or shop's name as registered",
        ));
    }
    validate_org_number(&raw.org_number).map_err(|p| {
        err(
            file,
            "[merchant] org_number",
            format!(
                "\"{}\" is not a valid organisation number: {p}",
                raw.org_number
            ),
            "copy the 9-digit number from brreg.no (spaces are fine)",
        )
    })?;
    Ok(Merchant {
        name: raw.name,
        org_number: raw.org_number,
        vat_registered: raw.vat_registered,
        address: raw.address,
    })
}

fn gpio(raw: &RawGpio, file: &Path) -> Result<GpioConfig, ConfigError> {
    let pin = |key: &str, v: Option<i64>| -> Result<Option<u8>, ConfigError> {
        v.map(|n| {
            u8::try_from(n).map_err(|_| {
                err(
                    file,
                    &format!("[gpio] {key}"),
                    format!("{n} is not a GPIO number"),
                    "use a BCM GPIO number from 0 to 27 (e.g. 17 for header pin 11)",
                )
            })
        })
        .transpose()
    };
    let d = GpioConfig::default();
    let cfg = GpioConfig {
        paid_led: pin("paid_led", raw.paid_led)?,
        error_led: pin("error_led", raw.error_led)?,
        buzzer: pin("buzzer", raw.buzzer)?,
        drawer_relay: pin("drawer_relay", raw.drawer_relay)?,
        button_new_sale: pin("button_new_sale", raw.button_new_sale)?,
        button_cancel: pin("button_cancel", raw.button_cancel)?,
        pulse: raw.pulse_ms.map(Duration::from_millis).unwrap_or(d.pulse),
        drawer_pulse: raw
            .drawer_pulse_ms
            .map(Duration::from_millis)
            .unwrap_or(d.drawer_pulse),
    };
    cfg.check()
        .map_err(|p| err(file, &p.key, p.problem, p.fix))?;
    Ok(cfg)
}

fn products(raw: Vec<RawProduct>, file: &Path) -> Result<Catalog, ConfigError> {
    let mut out = Vec::with_capacity(raw.len());
    for p in raw {
        let key = format!("[[products]] id = \"{}\"", p.id);
        let price = match &p.price {
            toml::Value::String(s) => Money::parse(s, Currency::NOK).map_err(|e| {
                err(
                    file,
                    &format!("{key}: price"),
                    e.to_string(),
                    "write the price in kroner, like \"149,50\" or 150",
                )
            })?,
            toml::Value::Integer(i) => Money::nok(i.saturating_mul(100)),
            other => {
                return Err(err(
                    file,
                    &format!("{key}: price"),
                    format!("{other} is not a price"),
                    "write the price in kroner, like \"149,50\" or 150",
                ));
            }
        };
        let suggested = crate::domain::vat_check::suggested_code(&p.group, &p.name);
        let vat = VatCode::try_from(p.vat.unwrap_or(suggested.code())).map_err(|m| {
            err(
                file,
                &format!("{key}: vat"),
                m,
                "use one of 3, 31, 32, 33, 5, 6",
            )
        })?;
        out.push(Product {
            id: p.id,
            name: p.name,
            group: p.group,
            price,
            vat,
        });
    }
    Catalog::new(out).map_err(|e| err(file, "[[products]]", e.to_string(), "fix the product list"))
}

fn vipps_config(
    raw: &RawVipps,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<VippsConfig, ConfigError> {
    let client_id = raw
        .client_id
        .clone()
        .or_else(|| env("LUKA_VIPPS_CLIENT_ID"));
    let secret = read_secret(
        file,
        "[vipps] client_secret",
        &raw.client_secret,
        &raw.client_secret_file,
        "LUKA_VIPPS_CLIENT_SECRET",
        env,
    )?;
    let sub_key = read_secret(
        file,
        "[vipps] subscription_key",
        &raw.subscription_key,
        &raw.subscription_key_file,
        "LUKA_VIPPS_SUBSCRIPTION_KEY",
        env,
    )?;
    let msn = raw
        .merchant_serial_number
        .clone()
        .or_else(|| env("LUKA_VIPPS_MERCHANT_SERIAL_NUMBER"));
    let any_credential =
        client_id.is_some() || secret.is_some() || sub_key.is_some() || msn.is_some();
    let environment = raw.environment.unwrap_or(if any_credential {
        Environment::Test
    } else {
        Environment::Training
    });
    let credentials = if environment == Environment::Training {
        None
    } else {
        fn need<T>(v: Option<T>, file: &Path, key: &str, fix: &str) -> Result<T, ConfigError> {
            v.ok_or_else(|| err(file, &format!("[vipps] {key}"), "missing", fix))
        }
        let client_id = need(
            client_id,
            file,
            "client_id",
            "set client_id from portal.vippsmobilepay.com (Utvikler), or LUKA_VIPPS_CLIENT_ID",
        )?;
        let client_secret = need(
            secret,
            file,
            "client_secret",
            "set client_secret_file = \"/etc/luka/secrets/vipps-client-secret\" (mode 0600), or LUKA_VIPPS_CLIENT_SECRET",
        )?;
        let subscription_key = need(
            sub_key,
            file,
            "subscription_key",
            "set subscription_key_file = \"/etc/luka/secrets/vipps-subscription-key\" (mode 0600), or LUKA_VIPPS_SUBSCRIPTION_KEY",
        )?;
        let msn = need(
            msn,
            file,
            "merchant_serial_number",
            "set merchant_serial_number = \"123456\" (your sales unit's MSN)",
        )?;
        if !(4..=6).contains(&msn.len()) || !msn.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(
                file,
                "[vipps] merchant_serial_number",
                format!("'{msn}' is not 4–6 digits"),
                "copy the MSN of your sales unit from the Vipps portal",
            ));
        }
        Some(Credentials {
            client_id,
            client_secret,
            subscription_key,
            merchant_serial_number: msn,
        })
    };
    let base_url = match environment {
        Environment::Training => raw.base_url.clone(),
        Environment::Test => Some(raw.base_url.clone().unwrap_or_else(|| TEST_BASE_URL.into())),
        Environment::Production => Some(
            raw.base_url
                .clone()
                .unwrap_or_else(|| PRODUCTION_BASE_URL.into()),
        ),
    };
    if let Some(url) = &base_url {
        check_base_url(url, environment, file)?;
    }
    let ms = |v: Option<u64>, d: u64| Duration::from_millis(v.unwrap_or(d));
    let poll_interval = ms(raw.poll_interval_ms, 2000);
    if poll_interval < crate::kiosk::MIN_POLL_INTERVAL {
        return Err(err(
            file,
            "[vipps] poll_interval_ms",
            format!(
                "{} ms would exceed Vipps' limit of 120 reads a minute",
                poll_interval.as_millis()
            ),
            "use 500 or more (2000 is the guideline)",
        ));
    }
    Ok(VippsConfig {
        environment,
        base_url,
        credentials,
        poll_initial_delay: ms(raw.poll_initial_delay_ms, 5000),
        poll_interval,
        payment_lifetime: Duration::from_secs(raw.payment_lifetime_secs.unwrap_or(600)),
        expiry_margin: Duration::from_secs(raw.expiry_margin_secs.unwrap_or(30)),
        request_timeout: ms(raw.request_timeout_ms, 10_000),
    })
}

/// Whether a URL's host is this machine: `localhost` or a loopback IP.
/// The host is read out of the URL, so `http://127.0.0.1.example.org` and
/// `http://localhost@example.org` are the other machines they are.
pub fn is_loopback_url(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, port)) if port.is_empty() || port.starts_with(':') => h,
            _ => return false,
        },
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_base_url(url: &str, environment: Environment, file: &Path) -> Result<(), ConfigError> {
    let key = "[vipps] base_url";
    let loopback = is_loopback_url(url);
    if url.starts_with("https://") {
        return Ok(());
    }
    if url.starts_with("http://") {
        if environment == Environment::Production {
            return Err(err(
                file,
                key,
                format!("'{url}' is plain HTTP"),
                "production must use https://api.vipps.no (or leave base_url out)",
            ));
        }
        if loopback {
            return Ok(());
        }
        return Err(err(
            file,
            key,
            format!("'{url}' is plain HTTP to another machine"),
            "use https://, or http:// only to 127.0.0.1 for a local simulator",
        ));
    }
    Err(err(
        file,
        key,
        format!("'{url}' is not an http(s) URL"),
        "use https://apitest.vipps.no or https://api.vipps.no",
    ))
}

/// The keys that hold a secret when written inline, as `(table, key)`.
const INLINE_SECRET_KEYS: &[(&str, &str)] = &[
    ("vipps", "client_secret"),
    ("vipps", "subscription_key"),
    ("bookkeeping.webhook", "secret"),
    ("bookkeeping.poweroffice", "application_key"),
    ("bookkeeping.poweroffice", "client_key"),
    ("bookkeeping.poweroffice", "subscription_key"),
];

/// The secrets written inline in config `text`, named as `[table] key`.
pub fn inline_secrets(text: &str) -> Vec<String> {
    let Ok(root) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    INLINE_SECRET_KEYS
        .iter()
        .filter(|(table, key)| {
            let mut node = Some(&root);
            for part in table.split('.') {
                node = node.and_then(|t| t.get(part)).and_then(|v| v.as_table());
            }
            node.is_some_and(|t| t.contains_key(*key))
        })
        .map(|(table, key)| format!("[{table}] {key}"))
        .collect()
}

/// A config file with secrets written in it is a secret file: every user of
/// the machine must not be able to read it. Group read stays allowed, since
/// `deploy-pi/install.sh` makes `/etc/luka/luka.toml` 0640 root:luka so the
/// till's user reads it without owning it.
fn refuse_readable_inline_secrets(file: &Path, text: &str) -> Result<(), ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let inline = inline_secrets(text);
        let Some(first) = inline.first() else {
            return Ok(());
        };
        let mode = std::fs::metadata(file)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        if mode & 0o007 != 0 {
            return Err(err(
                file,
                first,
                format!(
                    "{} holds {} in clear and every user of this machine can read it (mode {mode:o})",
                    file.display(),
                    inline.join(", ")
                ),
                format!(
                    "run: chmod 600 {} (or 640 with the till's group), or move each secret \
                     to a *_file entry with mode 0600 (see deploy-pi/luka.toml.example)",
                    file.display()
                ),
            ));
        }
    }
    let _ = (file, text);
    Ok(())
}

/// A secret given inline, in a file or in the environment (in that order).
/// `key` is the full key name, e.g. `[vipps] client_secret`.
fn read_secret(
    file: &Path,
    key: &str,
    inline: &Option<String>,
    path: &Option<PathBuf>,
    env_key: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    if let Some(v) = inline {
        return Ok(Some(Secret::new(v.trim())));
    }
    if let Some(p) = path {
        let file_key = format!("{key}_file");
        let meta = std::fs::metadata(p).map_err(|e| {
            err(
                file,
                &file_key,
                format!("cannot read {}: {e}", p.display()),
                "create the file with the secret in it, mode 0600",
            )
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(err(
                    file,
                    &file_key,
                    format!("{} can be read by others (mode {mode:o})", p.display()),
                    format!("run: chmod 600 {}", p.display()),
                ));
            }
        }
        let _ = meta;
        let text = std::fs::read_to_string(p).map_err(|e| {
            err(
                file,
                &file_key,
                format!("cannot read {}: {e}", p.display()),
                "check the file's owner and permissions",
            )
        })?;
        let v = text.trim();
        if v.is_empty() {
            return Err(err(
                file,
                &file_key,
                format!("{} is empty", p.display()),
                "put the secret in the file",
            ));
        }
        return Ok(Some(Secret::new(v)));
    }
    Ok(env(env_key).map(Secret::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid seller, organizer PIN and printer choice, needed by every non-training config.
    const M: &str = "[printer]\ndriver = \"none\"\n[ui]\npin_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$uFtn+OAWSJx8dNvqZxnBOhQ0QlqtCDAN4MDMvVjJqGs\"\n\n[merchant]\nname = \"Luka IL\"\norg_number = \"974 760 673\"\n";

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("luka.toml"), &|_| None)
    }

    #[test]
    fn merchant_is_required_outside_training_and_checked() {
        let creds = "[vipps]\nenvironment = \"test\"\nclient_id = \"a\"\nclient_secret = \"s\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\"\n";
        let e = parse(creds).unwrap_err();
        assert_eq!(e.key, "[merchant]");
        let e = parse(&format!(
            "{creds}[merchant]\nname = \"IL\"\norg_number = \"974760674\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.key, "[merchant] org_number");
        assert!(e.problem.contains("check digit"), "{e}");
        let c = parse(&format!(
            "{M}vat_registered = true\naddress = [\"Banegata 1\"]\n{creds}"
        ))
        .unwrap();
        assert_eq!(c.merchant.org_digits(), "974760673");
        assert!(c.merchant.vat_registered);
        assert_eq!(parse("").unwrap().merchant, Merchant::training());
    }

    #[test]
    fn organizer_pin_is_required_outside_training_and_language_is_checked() {
        let creds = "[vipps]\nenvironment = \"test\"\nclient_id = \"a\"\nclient_secret = \"s\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\"\n";
        let no_pin =
            "[printer]\ndriver = \"none\"\n[merchant]\nname = \"IL\"\norg_number = \"974760673\"\n";
        let e = parse(&format!("{no_pin}{creds}")).unwrap_err();
        assert_eq!(e.key, "[ui] pin_hash");
        assert!(e.fix.contains("luka pin-hash"), "{e}");
        let e = parse("[ui]\npin_hash = \"1234\"").unwrap_err();
        assert_eq!(e.key, "[ui] pin_hash");
        let c = parse(&format!("{M}{creds}")).unwrap();
        assert!(c.ui.pin_hash.is_some());
        assert_eq!(parse("").unwrap().ui.language, Language::Nb);
        assert!(
            parse("").unwrap().ui.pin_hash.is_none(),
            "training uses the training PIN"
        );
        assert_eq!(
            parse("[ui]\nlanguage = \"en\"").unwrap().ui.language,
            Language::En
        );
        assert_eq!(
            parse("[ui]\nlanguage = \"de\"").unwrap_err().key,
            "[ui] language"
        );
        assert_eq!(
            parse("[ui]\nresult_seconds = 0").unwrap_err().key,
            "[ui] result_seconds"
        );
        let t =
            parse("[training]\nlisten = \"127.0.0.1:0\"\nphone_host = \"192.168.1.20\"").unwrap();
        assert_eq!(t.training.phone_host.as_deref(), Some("192.168.1.20"));
        assert_eq!(
            parse("[training]\nlisten = \"nowhere\"").unwrap_err().key,
            "[training] listen"
        );
    }

    #[test]
    fn no_config_means_training_with_the_club_catalog() {
        let c = parse("").unwrap();
        assert!(c.is_training());
        assert!(c.vipps.credentials.is_none());
        assert_eq!(c.store_path, PathBuf::from("luka-training.db"));
        assert_eq!(
            c.catalog.products().len(),
            Catalog::club_default().products().len()
        );
    }

    #[test]
    fn training_never_shares_the_real_database() {
        let c = parse("[store]\npath = \"/var/lib/luka/luka.db\"").unwrap();
        assert_eq!(
            c.store_path,
            PathBuf::from("/var/lib/luka/luka-training.db")
        );
    }

    #[test]
    fn test_environment_needs_every_credential_and_names_the_missing_one() {
        let e = parse(&format!(
            "{M}[vipps]\nenvironment = \"test\"\nclient_id = \"abc\""
        ))
        .unwrap_err();
        assert_eq!(e.key, "[vipps] client_secret");
        assert!(e.to_string().contains("fix: set client_secret_file"), "{e}");
        let ok = parse(&format!(
            "{M}[vipps]\nenvironment = \"test\"\nclient_id = \"abc\"\nclient_secret = \"s\"\n\
             subscription_key = \"k\"\nmerchant_serial_number = \"123456\""
        ))
        .unwrap();
        assert_eq!(ok.vipps.base_url.as_deref(), Some(TEST_BASE_URL));
        assert_eq!(ok.store_path, PathBuf::from("luka.db"));
    }

    #[test]
    fn typos_and_bad_values_are_named() {
        let e = parse("[vipps]\nenviroment = \"test\"").unwrap_err();
        assert!(e.problem.contains("enviroment"), "{e}");
        let e = parse("[vipps]\nenvironment = \"prod\"").unwrap_err();
        assert!(e.problem.contains("prod"), "{e}");
        let e = parse("[till]\nid = \"døra 1\"").unwrap_err();
        assert_eq!(e.key, "[till] id");
        let e = parse("[vipps]\npoll_interval_ms = 100").unwrap_err();
        assert!(e.problem.contains("120 reads"), "{e}");
    }

    #[test]
    fn production_refuses_plain_http_and_test_allows_only_loopback() {
        let creds = "client_id = \"a\"\nclient_secret = \"s\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\"\n";
        let e = parse(&format!(
            "{M}[vipps]\nenvironment = \"production\"\nbase_url = \"http://127.0.0.1:9\"\n{creds}"
        ))
        .unwrap_err();
        assert!(e.fix.contains("https://api.vipps.no"), "{e}");
        assert!(
            parse(&format!(
                "{M}[vipps]\nenvironment = \"test\"\nbase_url = \"http://127.0.0.1:9\"\n{creds}"
            ))
            .is_ok()
        );
        assert!(
            parse(&format!(
                "{M}[vipps]\nenvironment = \"test\"\nbase_url = \"http://10.0.0.2\"\n{creds}"
            ))
            .is_err()
        );
    }

    #[test]
    fn secrets_come_from_0600_files_or_the_environment_and_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("secret");
        std::fs::write(&f, "top-secret-value\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = format!(
            "{M}[vipps]\nclient_id = \"a\"\nclient_secret_file = \"{}\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\"",
            f.display()
        );
        let e = parse(&text).unwrap_err();
        assert!(e.fix.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = parse(&text).unwrap();
        let creds = c.vipps.credentials.unwrap();
        assert_eq!(creds.client_secret.expose(), "top-secret-value");
        assert!(!format!("{creds:?}").contains("top-secret-value"));
        let from_env = Config::parse(
            &format!("{M}[vipps]\nclient_id = \"a\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\""),
            Path::new("luka.toml"),
            &|k| (k == "LUKA_VIPPS_CLIENT_SECRET").then(|| "from-env".to_string()),
        )
        .unwrap();
        assert_eq!(
            from_env.vipps.credentials.unwrap().client_secret.expose(),
            "from-env"
        );
    }

    #[test]
    fn a_config_with_secrets_in_it_must_not_be_readable_by_everyone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("luka.toml");
        let chmod =
            |mode| std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let secret = dir.path().join("vipps-client-secret");
        std::fs::write(&secret, "top-secret-value\n").unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let db = dir.path().join("luka.db");
        let inline = format!(
            "{M}[store]\npath = \"{}\"\n[vipps]\nenvironment = \"test\"\nclient_id = \"a\"\n\
             client_secret = \"top-secret-value\"\nsubscription_key = \"k\"\n\
             merchant_serial_number = \"1234\"\n\
             [bookkeeping.webhook]\nurl = \"https://books.example.org/hook\"\nsecret = \"whsec_c2VjcmV0\"\n",
            db.display()
        );
        std::fs::write(&file, &inline).unwrap();
        chmod(0o644);
        let e = Config::load(Some(&file)).unwrap_err();
        assert_eq!(e.key, "[vipps] client_secret", "{e}");
        let shown = e.to_string();
        assert!(
            shown.contains("[vipps] subscription_key")
                && shown.contains("[bookkeeping.webhook] secret")
                && shown.contains("mode 644")
                && e.fix.contains(&format!("chmod 600 {}", file.display())),
            "{shown}"
        );
        assert!(!shown.contains("top-secret-value"), "{shown}");
        // Owner-only, or the till's group as install.sh sets it, is fine.
        for mode in [0o600, 0o640] {
            chmod(mode);
            Config::load(Some(&file)).unwrap();
        }
        // Secrets in 0600 files: the config itself may be world-readable.
        let by_file = format!(
            "{M}[store]\npath = \"{}\"\n[vipps]\nenvironment = \"test\"\nclient_id = \"a\"\n\
             client_secret_file = \"{}\"\nsubscription_key_file = \"{}\"\nmerchant_serial_number = \"1234\"\n",
            db.display(),
            secret.display(),
            secret.display()
        );
        std::fs::write(&file, &by_file).unwrap();
        chmod(0o644);
        Config::load(Some(&file)).unwrap();
        assert!(inline_secrets(&by_file).is_empty());
    }

    #[test]
    fn gpio_pins_are_checked_and_named() {
        assert!(parse("").unwrap().gpio.is_empty());
        let c = parse("[gpio]\npaid_led = 17\nbuzzer = 27\nbutton_new_sale = 5\npulse_ms = 250\n")
            .unwrap();
        assert_eq!((c.gpio.paid_led, c.gpio.buzzer), (Some(17), Some(27)));
        assert_eq!(c.gpio.pulse, Duration::from_millis(250));
        let e = parse("[gpio]\npaid_led = 300\n").unwrap_err();
        assert_eq!(e.key, "[gpio] paid_led");
        let e = parse("[gpio]\nerror_led = 28\n").unwrap_err();
        assert!(e.fix.contains("0 to 27"), "{e}");
        let e = parse("[gpio]\npaid_led = 17\nbutton_cancel = 17\n").unwrap_err();
        assert_eq!(e.key, "[gpio] button_cancel");
        assert!(e.problem.contains("paid_led"), "{e}");
        let e = parse("[gpio]\nled = 17\n").unwrap_err();
        assert!(e.problem.contains("led"), "{e}");
    }

    #[test]
    fn vat_defaults_and_warnings() {
        let c = parse(&format!(
            "{M}vat_registered = true\n[[products]]\nid = \"kaffe\"\nname = \"Kaffe\"\ngroup = \"Kiosk\"\nprice = 30\n\
             [[products]]\nid = \"voksen\"\nname = \"Voksen\"\ngroup = \"Billetter\"\nprice = 150\n\
             [[products]]\nid = \"lue\"\nname = \"Lue\"\ngroup = \"Klær\"\nprice = 200\nvat = 6\n"
        ))
        .unwrap();
        assert_eq!(c.catalog.get("kaffe").unwrap().vat, VatCode::ReducedMiddle);
        assert_eq!(c.catalog.get("voksen").unwrap().vat, VatCode::OutsideScope);
        let w = c.vat_warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("'lue'"), "{w:?}");
    }

    #[test]
    fn products_from_config() {
        let c = parse(
            "[[products]]\nid = \"kaffe\"\nname = \"Kaffe\"\ngroup = \"Kiosk\"\nprice = \"25,50\"\nvat = 31\n\
             [[products]]\nid = \"voksen\"\nname = \"Voksen\"\nprice = 150\nvat = 6\n",
        )
        .unwrap();
        assert_eq!(c.catalog.get("kaffe").unwrap().price, Money::nok(2_550));
        assert_eq!(c.catalog.get("voksen").unwrap().vat, VatCode::OutsideScope);
        let e =
            parse("[[products]]\nid = \"x\"\nname = \"X\"\nprice = 10\nvat = 25\n").unwrap_err();
        assert!(e.key.contains("vat"), "{e}");
    }
}
