//! `[vipps]`: environment, base URL, keys (through `secrets`) and timings.

use std::path::Path;
use std::time::Duration;

use super::{ConfigError, Environment, err};
use crate::vipps::{Credentials, PRODUCTION_BASE_URL, TEST_BASE_URL};

use super::RawVipps;
use super::secrets::read_secret;

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
