//! `[bookkeeping]`: accounts, the signed webhook, PowerOffice Go, the CSV
//! folder and the Vipps ledger to reconcile. Every sink is optional; a till
//! with none keeps everything in its journal and exports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::secrets::read_secret;
use super::{ConfigError, err};
use crate::domain::voucher::Accounts;
use crate::secret::Secret;

pub const POWEROFFICE_API: &str = "https://goapi.poweroffice.net/v2";
pub const POWEROFFICE_TOKEN: &str = "https://goapi.poweroffice.net/OAuth/Token";
use crate::bookkeeping::poweroffice::{
    DEMO_API_BASE_URL as POWEROFFICE_DEMO_API, DEMO_TOKEN_URL as POWEROFFICE_DEMO_TOKEN,
};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBookkeeping {
    #[serde(default)]
    accounts: RawAccounts,
    webhook: Option<RawWebhook>,
    poweroffice: Option<RawPowerOffice>,
    csv: Option<RawCsv>,
    vipps_ledger_id: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAccounts {
    vipps_clearing: Option<u32>,
    cash: Option<u32>,
    card_clearing: Option<u32>,
    bank: Option<u32>,
    fees: Option<u32>,
    cash_difference: Option<u32>,
    /// VAT code (as a string key: TOML keys are strings) → sales account.
    #[serde(default)]
    sales: BTreeMap<String, u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: String,
    secret: Option<String>,
    secret_file: Option<PathBuf>,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPowerOffice {
    /// "production" (default) or "demo".
    environment: Option<String>,
    api_base_url: Option<String>,
    token_url: Option<String>,
    application_key: Option<String>,
    application_key_file: Option<PathBuf>,
    client_key: Option<String>,
    client_key_file: Option<PathBuf>,
    subscription_key: Option<String>,
    subscription_key_file: Option<PathBuf>,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCsv {
    dir: PathBuf,
}

#[derive(Debug, Clone, Default)]
pub struct BookkeepingConfig {
    pub accounts: Accounts,
    pub webhook: Option<WebhookConfig>,
    pub poweroffice: Option<PowerOfficeConfig>,
    /// Vouchers appended as CSV to this folder.
    pub csv_dir: Option<PathBuf>,
    /// The Vipps ledger to reconcile; `None`: the one that settles this MSN.
    pub vipps_ledger_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: Secret,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct PowerOfficeConfig {
    pub api_base_url: String,
    pub token_url: String,
    pub application_key: Secret,
    pub client_key: Secret,
    pub subscription_key: Secret,
    pub timeout: Duration,
}

/// HTTPS, or outside production plain HTTP to this machine only (a local
/// receiver or a test). Production sends the books over HTTPS only.
fn check_url(url: &str, key: &str, file: &Path, production: bool) -> Result<(), ConfigError> {
    let loopback = url.starts_with("http://") && super::is_loopback_url(url);
    if url.starts_with("https://") || (loopback && !production) {
        return Ok(());
    }
    Err(err(
        file,
        key,
        format!("'{url}' is not an https:// URL"),
        if production {
            "production sends the books over https:// only"
        } else {
            "use https:// (plain http:// only to 127.0.0.1 on this machine)"
        },
    ))
}

pub(super) fn bookkeeping_config(
    raw: RawBookkeeping,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    production: bool,
) -> Result<BookkeepingConfig, ConfigError> {
    let d = Accounts::default();
    let a = raw.accounts;
    let mut sales = d.sales.clone();
    for (code, account) in a.sales {
        let key = format!("[bookkeeping.accounts.sales] \"{code}\"");
        let vat = code
            .parse::<u16>()
            .ok()
            .filter(|c| crate::domain::VatCode::from_code(*c).is_some())
            .ok_or_else(|| {
                err(
                    file,
                    &key,
                    format!("'{code}' is not a SAF-T VAT code"),
                    "use one of \"3\", \"31\", \"32\", \"33\", \"5\", \"6\"",
                )
            })?;
        sales.insert(vat, account);
    }
    let accounts = Accounts {
        vipps_clearing: a.vipps_clearing.unwrap_or(d.vipps_clearing),
        cash: a.cash.unwrap_or(d.cash),
        card_clearing: a.card_clearing.unwrap_or(d.card_clearing),
        bank: a.bank.unwrap_or(d.bank),
        fees: a.fees.unwrap_or(d.fees),
        cash_difference: a.cash_difference.unwrap_or(d.cash_difference),
        sales,
    };
    for n in accounts.all() {
        if !(1000..=9999).contains(&n) {
            return Err(err(
                file,
                "[bookkeeping.accounts]",
                format!("{n} is not a four-digit account number"),
                "use accounts from the Norwegian chart of accounts, e.g. 1903",
            ));
        }
    }
    let webhook = match raw.webhook {
        None => None,
        Some(w) => {
            check_url(&w.url, "[bookkeeping.webhook] url", file, production)?;
            let secret = read_secret(
                file,
                "[bookkeeping.webhook] secret",
                &w.secret,
                &w.secret_file,
                "LUKA_WEBHOOK_SECRET",
                env,
            )?
            .ok_or_else(|| {
                err(
                    file,
                    "[bookkeeping.webhook] secret",
                    "missing: every push is signed",
                    "set secret_file = \"/etc/luka/secrets/webhook-secret\" (mode 0600, \
                     e.g. whsec_… from your receiver), or LUKA_WEBHOOK_SECRET",
                )
            })?;
            crate::bookkeeping::webhook::WebhookKey::parse(&secret).map_err(|p| {
                err(
                    file,
                    "[bookkeeping.webhook] secret",
                    p,
                    "copy the whole secret from the receiver",
                )
            })?;
            Some(WebhookConfig {
                url: w.url,
                secret,
                timeout: Duration::from_millis(w.timeout_ms.unwrap_or(10_000)),
            })
        }
    };
    let poweroffice = match raw.poweroffice {
        None => None,
        Some(p) => Some(poweroffice(p, file, env, production)?),
    };
    Ok(BookkeepingConfig {
        accounts,
        webhook,
        poweroffice,
        csv_dir: raw.csv.map(|c| c.dir),
        vipps_ledger_id: raw.vipps_ledger_id,
    })
}

fn poweroffice(
    p: RawPowerOffice,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    production: bool,
) -> Result<PowerOfficeConfig, ConfigError> {
    let (api, token) = match p.environment.as_deref().unwrap_or("production") {
        "production" => (POWEROFFICE_API, POWEROFFICE_TOKEN),
        "demo" => (POWEROFFICE_DEMO_API, POWEROFFICE_DEMO_TOKEN),
        other => {
            return Err(err(
                file,
                "[bookkeeping.poweroffice] environment",
                format!("'{other}' is not an environment"),
                "use \"production\" or \"demo\"",
            ));
        }
    };
    let api_base_url = p.api_base_url.unwrap_or_else(|| api.into());
    let token_url = p.token_url.unwrap_or_else(|| token.into());
    check_url(
        &api_base_url,
        "[bookkeeping.poweroffice] api_base_url",
        file,
        production,
    )?;
    check_url(
        &token_url,
        "[bookkeeping.poweroffice] token_url",
        file,
        production,
    )?;
    let need = |name: &str, inline: &Option<String>, path: &Option<PathBuf>, env_key: &str| {
        let key = format!("[bookkeeping.poweroffice] {name}");
        read_secret(file, &key, inline, path, env_key, env)?.ok_or_else(|| {
            err(
                file,
                &key,
                "missing",
                format!(
                    "set {name}_file = \"/etc/luka/secrets/poweroffice-{}\" (mode 0600; from \
                     PowerOffice Go → Innstillinger → Integrasjoner), or {env_key}",
                    name.replace('_', "-")
                ),
            )
        })
    };
    Ok(PowerOfficeConfig {
        application_key: need(
            "application_key",
            &p.application_key,
            &p.application_key_file,
            "LUKA_POWEROFFICE_APPLICATION_KEY",
        )?,
        client_key: need(
            "client_key",
            &p.client_key,
            &p.client_key_file,
            "LUKA_POWEROFFICE_CLIENT_KEY",
        )?,
        subscription_key: need(
            "subscription_key",
            &p.subscription_key,
            &p.subscription_key_file,
            "LUKA_POWEROFFICE_SUBSCRIPTION_KEY",
        )?,
        api_base_url,
        token_url,
        timeout: Duration::from_millis(p.timeout_ms.unwrap_or(20_000)),
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, crate::config::ConfigError> {
        Config::parse(text, Path::new("luka.toml"), &|k| {
            (k == "LUKA_WEBHOOK_SECRET").then(|| "whsec_c2VjcmV0LXZhbHVlLTEyMzQ=".to_string())
        })
    }

    #[test]
    fn no_section_means_no_sinks_and_default_accounts() {
        let c = parse("").unwrap();
        assert!(c.bookkeeping.webhook.is_none() && c.bookkeeping.poweroffice.is_none());
        assert_eq!(c.bookkeeping.accounts.vipps_clearing, 1903);
        assert_eq!(c.bookkeeping.accounts.sales_account(6), 3200);
    }

    #[test]
    fn accounts_and_webhook_are_read_and_checked() {
        let c = parse(
            "[bookkeeping.accounts]\nvipps_clearing = 1909\n[bookkeeping.accounts.sales]\n\"31\" = 3031\n\
             [bookkeeping.webhook]\nurl = \"https://books.example.org/luka\"\n",
        )
        .unwrap();
        assert_eq!(c.bookkeeping.accounts.vipps_clearing, 1909);
        assert_eq!(c.bookkeeping.accounts.sales_account(31), 3031);
        let w = c.bookkeeping.webhook.unwrap();
        assert_eq!(w.url, "https://books.example.org/luka");
        assert!(
            !format!("{w:?}").contains("c2VjcmV0"),
            "the secret never prints"
        );

        let e =
            parse("[bookkeeping.webhook]\nurl = \"http://books.example.org\"\nsecret = \"x\"\n")
                .unwrap_err();
        assert_eq!(e.key, "[bookkeeping.webhook] url");
        let e = parse("[bookkeeping.accounts.sales]\n\"25\" = 3000\n").unwrap_err();
        assert!(e.key.contains("\"25\""), "{e}");
        let e = parse("[bookkeeping.accounts]\nbank = 19200\n").unwrap_err();
        assert!(e.to_string().contains("19200"), "{e}");
        let e = parse("[bookkeeping.webhok]\nurl = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("webhok"), "{e}");
    }

    #[test]
    fn poweroffice_needs_its_three_keys_and_names_the_missing_one() {
        let e = parse("[bookkeeping.poweroffice]\napplication_key = \"a\"\nclient_key = \"b\"\n")
            .unwrap_err();
        assert_eq!(e.key, "[bookkeeping.poweroffice] subscription_key");
        assert!(e.fix.contains("LUKA_POWEROFFICE_SUBSCRIPTION_KEY"));
        let c = parse(
            "[bookkeeping.poweroffice]\nenvironment = \"demo\"\napplication_key = \"a\"\nclient_key = \"b\"\nsubscription_key = \"c\"\n",
        )
        .unwrap();
        let p = c.bookkeeping.poweroffice.unwrap();
        assert!(p.api_base_url.contains("/Demo/"));
        assert!(!format!("{p:?}").contains("\"a\""));
    }
}
