//! `[hub]`: where `luka hub` keeps its data and listens, and `[hub.club]`,
//! the club the back office's SAF-T file is for. A till needs none of it:
//! a till is paired with `luka pair URL CODE`, and its link lives beside
//! its database.

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

use super::{ConfigError, err};
use crate::domain::Merchant;
use crate::secret::Secret;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHub {
    /// PostgreSQL: `postgresql://user@host/db` or `host=/run/postgresql dbname=luka_hub`.
    database_url: Option<String>,
    /// With `sslmode=require` in `database_url`: the CA certificate (PEM)
    /// the PostgreSQL server's certificate is checked against, instead of
    /// the system's roots (a managed database's own CA).
    database_ca_file: Option<std::path::PathBuf>,
    /// Where the web app and API listen (default 127.0.0.1:8470).
    listen: Option<String>,
    /// The address people and tills use (e.g. `https://hub.klubben.no` behind
    /// a TLS proxy); decides whether cookies are marked Secure.
    public_url: Option<String>,
    /// The club as registered: the seller in the club's SAF-T file, checked
    /// as a till's `[merchant]` but never defaulted (a SAF-T file for a
    /// made-up company is worse than none).
    club: Option<super::RawMerchant>,
    /// `[[hub.vipps]]`: the sales units whose Vipps webhooks the hub takes
    /// and forwards to the tills (`hub::vipps_hooks`).
    #[serde(default)]
    vipps: Vec<RawHubVipps>,
}

/// One `[[hub.vipps]]`: a sales unit's keys, as a till's `[vipps]` has them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHubVipps {
    merchant_serial_number: String,
    /// "test" (default) or "production"; decides the default base URL.
    environment: Option<super::Environment>,
    base_url: Option<String>,
    client_id: String,
    client_secret_file: Option<std::path::PathBuf>,
    subscription_key_file: Option<std::path::PathBuf>,
}

/// A sales unit whose webhooks the hub registers.
#[derive(Debug, Clone)]
pub struct HubVipps {
    pub base_url: String,
    pub credentials: crate::vipps::Credentials,
}

/// The validated `[hub]` section.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// `None` until set: only `luka hub …` commands need it. May hold a
    /// password, so it is kept as a secret.
    pub database_url: Option<Secret>,
    /// `[hub] database_ca_file`: the CA a TLS connection to PostgreSQL trusts.
    pub database_ca_file: Option<std::path::PathBuf>,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    /// `None` until `[hub.club]` is set: only the SAF-T export needs it.
    pub club: Option<Merchant>,
    /// `[[hub.vipps]]`: empty when the hub takes no webhooks (the tills poll).
    pub vipps: Vec<HubVipps>,
}

impl HubConfig {
    /// Session cookies carry `Secure` unless the hub is reached over plain
    /// http on this machine only (a browser drops Secure cookies there).
    pub fn secure_cookies(&self) -> bool {
        match &self.public_url {
            Some(url) => url.starts_with("https://"),
            None => !self.listen.ip().is_loopback(),
        }
    }
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

pub(super) fn hub_config(
    raw: RawHub,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<HubConfig, ConfigError> {
    let listen_text = raw.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let listen: SocketAddr = listen_text.parse().map_err(|_| {
        err(
            file,
            "[hub] listen",
            format!("{listen_text:?} is not an address and port"),
            "write e.g. listen = \"127.0.0.1:8470\" (behind a TLS proxy) or \"0.0.0.0:8470\"",
        )
    })?;
    if let Some(url) = &raw.public_url
        && !(url.starts_with("https://") || crate::config::is_loopback_url(url))
    {
        return Err(err(
            file,
            "[hub] public_url",
            format!("{url} would send passwords and device credentials in clear"),
            "put the hub behind a TLS reverse proxy and give its https:// address",
        ));
    }
    let database_url = env("LUKA_HUB_DATABASE_URL")
        .or(raw.database_url)
        .filter(|u| !u.trim().is_empty())
        .map(Secret::new);
    let club = raw
        .club
        .map(|c| super::merchant::checked("[hub.club]", c, file))
        .transpose()?;
    let vipps = raw
        .vipps
        .into_iter()
        .map(|v| hub_vipps(v, file, env))
        .collect::<Result<Vec<_>, _>>()?;
    if !vipps.is_empty() && raw.public_url.is_none() {
        return Err(err(
            file,
            "[hub] public_url",
            "missing, and [[hub.vipps]] needs it: Vipps posts its webhooks to {public_url}/vipps/webhook",
            "set public_url = \"https://hub.klubben.no\" (the hub behind a TLS proxy, see deploy-pi/README.md)",
        ));
    }
    let database_ca_file = raw
        .database_ca_file
        .map(|p| {
            if p.is_file() {
                Ok(p)
            } else {
                Err(err(
                    file,
                    "[hub] database_ca_file",
                    format!("{} is not a file", p.display()),
                    "give the path of the CA certificate (PEM) your PostgreSQL provider publishes",
                ))
            }
        })
        .transpose()?;
    Ok(HubConfig {
        database_url,
        database_ca_file,
        listen,
        public_url: raw.public_url,
        club,
        vipps,
    })
}

/// One `[[hub.vipps]]`, its secrets from 0600 files or the environment
/// (`LUKA_HUB_VIPPS_<MSN>_CLIENT_SECRET`, `…_SUBSCRIPTION_KEY`).
fn hub_vipps(
    raw: RawHubVipps,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<HubVipps, ConfigError> {
    let msn = raw.merchant_serial_number;
    if !(4..=7).contains(&msn.len()) || !msn.chars().all(|c| c.is_ascii_digit()) {
        return Err(err(
            file,
            "[[hub.vipps]] merchant_serial_number",
            format!("'{msn}' is not 4–7 digits"),
            "copy the MSN of the sales unit from the Vipps portal",
        ));
    }
    let secret = |key: &str, path: &Option<std::path::PathBuf>, env_key: String| {
        super::secrets::read_secret(file, key, &None, path, &env_key, env)?.ok_or_else(|| {
            err(
                file,
                &format!("{key}_file"),
                format!("missing for MSN {msn}"),
                format!("point it at a 0600 file holding the secret, or set {env_key}"),
            )
        })
    };
    let client_secret = secret(
        "[[hub.vipps]] client_secret",
        &raw.client_secret_file,
        format!("LUKA_HUB_VIPPS_{msn}_CLIENT_SECRET"),
    )?;
    let subscription_key = secret(
        "[[hub.vipps]] subscription_key",
        &raw.subscription_key_file,
        format!("LUKA_HUB_VIPPS_{msn}_SUBSCRIPTION_KEY"),
    )?;
    let environment = raw.environment.unwrap_or(super::Environment::Test);
    let base_url = match (raw.base_url, environment) {
        (Some(url), _) => url,
        (None, super::Environment::Production) => crate::vipps::PRODUCTION_BASE_URL.into(),
        (None, _) => crate::vipps::TEST_BASE_URL.into(),
    };
    if !(base_url.starts_with("https://") || crate::config::is_loopback_url(&base_url)) {
        return Err(err(
            file,
            "[[hub.vipps]] base_url",
            format!("'{base_url}' is plain HTTP to another machine"),
            "use https:// (or leave base_url out)",
        ));
    }
    Ok(HubVipps {
        base_url: base_url.trim_end_matches('/').to_string(),
        credentials: crate::vipps::Credentials {
            client_id: raw.client_id,
            client_secret,
            subscription_key,
            merchant_serial_number: msn,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<HubConfig, ConfigError> {
        let raw: RawHub = toml::from_str(text).unwrap();
        hub_config(raw, Path::new("luka.toml"), env)
    }

    #[test]
    fn defaults_loopback_and_the_clear_text_rule() {
        let none = |_: &str| None;
        let c = parse("", &none).unwrap();
        assert!(c.database_url.is_none());
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert!(!c.secure_cookies(), "plain http on loopback: no Secure");
        let c = parse("listen = \"0.0.0.0:8470\"", &none).unwrap();
        assert!(c.secure_cookies());
        let c = parse("public_url = \"https://hub.klubben.no\"", &none).unwrap();
        assert!(c.secure_cookies());
        let e = parse("public_url = \"http://hub.klubben.no\"", &none).unwrap_err();
        assert_eq!(e.key, "[hub] public_url");
        assert!(e.problem.contains("in clear"), "{e}");
        let e = parse("listen = \"everywhere\"", &none).unwrap_err();
        assert_eq!(e.key, "[hub] listen");
        assert!(c.vipps.is_empty());
        // The environment wins, and the URL never prints.
        let env = |k: &str| (k == "LUKA_HUB_DATABASE_URL").then(|| "postgresql://u:pw@h/db".into());
        let c = parse("database_url = \"host=/tmp\"", &env).unwrap();
        assert_eq!(
            c.database_url.as_ref().unwrap().expose(),
            "postgresql://u:pw@h/db"
        );
        assert!(!format!("{c:?}").contains("pw@"));
    }

    #[test]
    fn webhook_units_need_their_keys_and_a_public_url() {
        let env = |k: &str| match k {
            "LUKA_HUB_VIPPS_123456_CLIENT_SECRET" => Some("cs-value".to_string()),
            "LUKA_HUB_VIPPS_123456_SUBSCRIPTION_KEY" => Some("sk-value".to_string()),
            _ => None,
        };
        let unit = "[[vipps]]\nmerchant_serial_number = \"123456\"\nclient_id = \"id\"\n";
        let c = parse(
            &format!("public_url = \"https://hub.klubben.no\"\n{unit}"),
            &env,
        )
        .unwrap();
        assert_eq!(c.vipps.len(), 1);
        assert_eq!(c.vipps[0].base_url, crate::vipps::TEST_BASE_URL);
        assert_eq!(c.vipps[0].credentials.client_secret.expose(), "cs-value");
        assert!(!format!("{c:?}").contains("cs-value"));
        let e = parse(unit, &env).unwrap_err();
        assert_eq!(e.key, "[hub] public_url");
        let e = parse(
            &format!("public_url = \"https://h.no\"\n{unit}"),
            &|_: &str| None,
        )
        .unwrap_err();
        assert_eq!(e.key, "[[hub.vipps]] client_secret_file");
        assert!(e.fix.contains("LUKA_HUB_VIPPS_123456_CLIENT_SECRET"), "{e}");
    }

    #[test]
    fn the_club_is_optional_but_checked_when_given() {
        let none = |_: &str| None;
        assert!(parse("", &none).unwrap().club.is_none());
        let c = parse(
            "[club]\nname = \"Luka IL\"\norg_number = \"974 760 673\"\nvat_registered = true\n\
             address = [\"Idrettsveien 1\", \"0001 Oslo\"]",
            &none,
        )
        .unwrap();
        let club = c.club.unwrap();
        assert_eq!(
            (club.org_digits().as_str(), club.vat_registered),
            ("974760673", true)
        );
        let e = parse("[club]\nname = \"IL\"\norg_number = \"974760674\"", &none).unwrap_err();
        assert_eq!(e.key, "[hub.club] org_number");
        let e = parse("[club]\nname = \" \"\norg_number = \"974760673\"", &none).unwrap_err();
        assert_eq!(e.key, "[hub.club] name");
    }
}
