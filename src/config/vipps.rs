//! `[vipps]`: environment, base URL, keys (through `secrets`) and timings.

use std::path::Path;
use std::time::Duration;

use super::{ConfigError, Environment, err};
use crate::domain::SalesUnit;
use crate::domain::sales_unit::{DEFAULT_NAME, check_department, check_msn};
use crate::vipps::{Credentials, PRODUCTION_BASE_URL, TEST_BASE_URL};

use super::RawVipps;
use super::secrets::read_secret;

/// `[[vipps.units]]`: one more Vipps sales unit (issue 16, part 4).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUnit {
    name: Option<String>,
    /// Where this unit's API calls go; left out: `[vipps]`'s (all units of
    /// a club use the same Vipps, so this is for a simulator per unit).
    base_url: Option<String>,
    merchant_serial_number: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_secret_file: Option<std::path::PathBuf>,
    subscription_key: Option<String>,
    subscription_key_file: Option<std::path::PathBuf>,
    department: Option<String>,
    /// The account number of the bank account this MSN is paid out to.
    bank_account: Option<u32>,
}

/// A sales unit and the keys its payments are made with (`None` in
/// training, where the simulator takes every unit's sales).
#[derive(Debug, Clone)]
pub struct UnitConfig {
    pub unit: SalesUnit,
    pub credentials: Option<Credentials>,
    /// `None`: `[vipps]`'s base URL.
    pub base_url: Option<String>,
    /// The account number its payouts are booked to (`None`:
    /// `[bookkeeping.accounts] bank`).
    pub bank_account: Option<u32>,
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
    /// `[vipps]`'s own unit first, then every `[[vipps.units]]` entry.
    pub units: Vec<UnitConfig>,
}

impl VippsConfig {
    /// Every sales unit, `[vipps]`'s own first.
    pub fn sales_units(&self) -> Vec<SalesUnit> {
        self.units.iter().map(|u| u.unit.clone()).collect()
    }
}

pub(super) fn vipps_config(
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
    let own = SalesUnit {
        name: raw.name.clone().unwrap_or_else(|| DEFAULT_NAME.into()),
        msn: credentials
            .as_ref()
            .map(|c| c.merchant_serial_number.clone()),
        department: raw.department.clone(),
    };
    let mut units = vec![UnitConfig {
        unit: own,
        credentials: credentials.clone(),
        base_url: None,
        bank_account: bank_account(raw.bank_account, "[vipps] bank_account", file)?,
    }];
    for (i, u) in raw.units.iter().enumerate() {
        units.push(unit_config(u, i, environment, &units, file, env)?);
    }
    if let Some(d) = &raw.department {
        check_department(d).map_err(|p| {
            err(
                file,
                "[vipps] department",
                p,
                "use the department code from your accounts, e.g. department = \"10\"",
            )
        })?;
    }
    Ok(VippsConfig {
        units,
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

pub(super) fn check_base_url(
    url: &str,
    environment: Environment,
    file: &Path,
) -> Result<(), ConfigError> {
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

/// One `[[vipps.units]]` entry, checked against the units before it.
fn unit_config(
    raw: &RawUnit,
    index: usize,
    environment: Environment,
    before: &[UnitConfig],
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<UnitConfig, ConfigError> {
    let at = |key: &str| format!("[[vipps.units]] #{} {key}", index + 1);
    let name = raw
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            err(
                file,
                &at("name"),
                "missing",
                "give the unit the name volunteers and the treasurer know it by, e.g. name = \"Håndball\"",
            )
        })?;
    if before.iter().any(|u| u.unit.name == name) {
        return Err(err(
            file,
            &at("name"),
            format!("'{name}' is already the name of another unit"),
            "give each unit its own name ([vipps] name sets the first one's)",
        ));
    }
    let msn = raw.merchant_serial_number.clone().ok_or_else(|| {
        err(
            file,
            &at("merchant_serial_number"),
            "missing",
            "copy the unit's MSN from portal.vippsmobilepay.com",
        )
    })?;
    check_msn(&msn).map_err(|p| {
        err(
            file,
            &at("merchant_serial_number"),
            p,
            "copy the unit's MSN from portal.vippsmobilepay.com",
        )
    })?;
    if before
        .iter()
        .any(|u| u.unit.msn.as_deref() == Some(msn.as_str()))
    {
        return Err(err(
            file,
            &at("merchant_serial_number"),
            format!("MSN {msn} is already another unit's"),
            "each sales unit has its own MSN; one MSN is one unit",
        ));
    }
    if let Some(d) = &raw.department {
        check_department(d).map_err(|p| {
            err(
                file,
                &at("department"),
                p,
                "use the department code from your accounts, e.g. department = \"20\"",
            )
        })?;
    }
    let secret_env = format!("LUKA_VIPPS_{msn}_CLIENT_SECRET");
    let key_env = format!("LUKA_VIPPS_{msn}_SUBSCRIPTION_KEY");
    let client_secret = read_secret(
        file,
        &at("client_secret"),
        &raw.client_secret,
        &raw.client_secret_file,
        &secret_env,
        env,
    )?;
    let subscription_key = read_secret(
        file,
        &at("subscription_key"),
        &raw.subscription_key,
        &raw.subscription_key_file,
        &key_env,
        env,
    )?;
    let credentials = if environment == Environment::Training {
        None
    } else {
        let missing = |key: &str, fix: String| err(file, &at(key), "missing", fix);
        Some(Credentials {
            client_id: raw.client_id.clone().ok_or_else(|| {
                missing(
                    "client_id",
                    "set client_id from the unit's keys in portal.vippsmobilepay.com".into(),
                )
            })?,
            client_secret: client_secret.ok_or_else(|| {
                missing(
                    "client_secret",
                    format!("set client_secret_file (mode 0600), or {secret_env}"),
                )
            })?,
            subscription_key: subscription_key.ok_or_else(|| {
                missing(
                    "subscription_key",
                    format!("set subscription_key_file (mode 0600), or {key_env}"),
                )
            })?,
            merchant_serial_number: msn.clone(),
        })
    };
    if let Some(url) = &raw.base_url {
        check_base_url(url, environment, file)?;
    }
    Ok(UnitConfig {
        unit: SalesUnit {
            name,
            msn: Some(msn),
            department: raw.department.clone(),
        },
        credentials,
        base_url: raw.base_url.clone(),
        bank_account: bank_account(raw.bank_account, &at("bank_account"), file)?,
    })
}

/// The unit `[till] sales_unit` names (else `[vipps]`'s own).
pub(super) fn till_unit(
    vipps: &VippsConfig,
    name: Option<&str>,
    file: &Path,
) -> Result<SalesUnit, ConfigError> {
    let Some(name) = name else {
        return Ok(vipps.units[0].unit.clone());
    };
    vipps
        .units
        .iter()
        .find(|u| u.unit.name == name)
        .map(|u| u.unit.clone())
        .ok_or_else(|| {
            err(
                file,
                "[till] sales_unit",
                format!("no sales unit is named '{name}'"),
                format!(
                    "use one of: {} ([vipps] name, or a [[vipps.units]] name)",
                    vipps
                        .units
                        .iter()
                        .map(|u| u.unit.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// A bank account number as the chart of accounts has it (four digits in
/// NS 4102; PowerOffice allows more).
fn bank_account(no: Option<u32>, key: &str, file: &Path) -> Result<Option<u32>, ConfigError> {
    match no {
        Some(n) if !(1000..=99_999_999).contains(&n) => Err(err(
            file,
            key,
            format!("{n} is not an account number"),
            "use the account number of the bank account in your chart of accounts, e.g. 1921",
        )),
        n => Ok(n),
    }
}
