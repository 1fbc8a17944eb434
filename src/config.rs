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
use crate::secret::Secret;
use crate::vipps::{Credentials, PRODUCTION_BASE_URL, TEST_BASE_URL};

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
    products: Vec<RawProduct>,
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
        "client_secret",
        &raw.client_secret,
        &raw.client_secret_file,
        "LUKA_VIPPS_CLIENT_SECRET",
        env,
    )?;
    let sub_key = read_secret(
        file,
        "subscription_key",
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

fn check_base_url(url: &str, environment: Environment, file: &Path) -> Result<(), ConfigError> {
    let key = "[vipps] base_url";
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| url.starts_with(p));
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

/// A secret given inline, in a file or in the environment (in that order).
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
        let file_key = format!("[vipps] {key}_file");
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

    /// A valid seller, needed by every non-training config.
    const M: &str = "[merchant]\nname = \"Luka IL\"\norg_number = \"974 760 673\"\n";

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
