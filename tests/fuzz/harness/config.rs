//! `Config::parse` with arbitrary TOML text and a fixed environment.
//!
//! The environment and the secret files hold values the input never
//! contains, so finding one of them in the parsed config's `Debug` output or
//! in an error message can only mean a secret leaked. Beyond that: parsing
//! is deterministic, and a config that parses keeps the rules the rest of
//! the till relies on (positive prices, credentials outside training,
//! HTTPS in production, training never on the real database).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use luka::config::{Config, Environment};

/// Distinctive values: never typed into a config, never in a seed.
pub const ENV_SECRETS: [(&str, &str); 6] = [
    ("LUKA_VIPPS_CLIENT_SECRET", "ENVSECRET-vipps-client-q7Zr2"),
    (
        "LUKA_VIPPS_SUBSCRIPTION_KEY",
        "ENVSECRET-vipps-subkey-k3Xw9",
    ),
    // whsec_ + base64("ENVSECRET-webhook-p8Lm4")
    (
        "LUKA_WEBHOOK_SECRET",
        "whsec_RU5WU0VDUkVULXdlYmhvb2stcDhMbTQ=",
    ),
    ("LUKA_POWEROFFICE_APPLICATION_KEY", "ENVSECRET-po-app-j5Hn1"),
    ("LUKA_POWEROFFICE_CLIENT_KEY", "ENVSECRET-po-client-v2Bc8"),
    (
        "LUKA_POWEROFFICE_SUBSCRIPTION_KEY",
        "ENVSECRET-po-sub-t6Df3",
    ),
];

/// Plain environment values a config may also take from the environment.
const ENV_PLAIN: [(&str, &str); 2] = [
    ("LUKA_VIPPS_CLIENT_ID", "fuzz-client-id"),
    ("LUKA_VIPPS_MERCHANT_SERIAL_NUMBER", "123456"),
];

/// What the secret files hold (file name, contents, mode).
pub const FILE_SECRETS: [(&str, &str, u32); 4] = [
    ("client-secret", "FILESECRET-client-a1Qs5", 0o600),
    ("subscription-key", "FILESECRET-subkey-b2Wd6", 0o600),
    ("webhook-secret", "FILESECRET-webhook-c3Ef7", 0o400),
    ("open-secret", "FILESECRET-open-d4Rg8", 0o644),
];

/// The folder the seeds name (`/tmp/luka-fuzz-secrets/client-secret`, …):
/// a fixed path, so an input replays the same anywhere.
pub const SECRET_DIR: &str = "/tmp/luka-fuzz-secrets";

fn env(key: &str) -> Option<String> {
    ENV_SECRETS
        .iter()
        .chain(ENV_PLAIN.iter())
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// Creates the secret files once (atomically, so parallel tests agree).
pub fn secret_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let dir = PathBuf::from(SECRET_DIR);
        std::fs::create_dir_all(&dir).expect("secret dir");
        for (name, value, mode) in FILE_SECRETS {
            let path = dir.join(name);
            let ok = std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o777 == mode)
                .unwrap_or(false)
                && std::fs::read_to_string(&path).is_ok_and(|t| t == value);
            if ok {
                continue;
            }
            let tmp = dir.join(format!(".{name}.{}", std::process::id()));
            std::fs::write(&tmp, value).expect("write secret");
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).unwrap();
            std::fs::rename(&tmp, &path).expect("rename secret");
        }
        dir
    })
}

/// Every value that must never be printed, decoded where the config holds
/// it decoded (the webhook key is `whsec_` + base64).
fn secrets() -> Vec<&'static str> {
    let mut v: Vec<&str> = ENV_SECRETS.iter().map(|(_, s)| *s).collect();
    v.push("ENVSECRET-webhook-p8Lm4");
    v.push("RU5WU0VDUkVULXdlYmhvb2stcDhMbTQ");
    v.extend(FILE_SECRETS.iter().map(|(_, s, _)| *s));
    v
}

pub fn run(data: &[u8]) {
    secret_dir();
    let text = String::from_utf8_lossy(data);
    let file = Path::new("/etc/luka/luka.toml");
    let parse = || Config::parse(&text, file, &env);
    let first = parse();
    let shown = match &first {
        Ok(c) => format!("{c:?}"),
        Err(e) => format!("{e} {e:?}"),
    };
    for s in secrets() {
        // A secret the input itself spells out may be echoed as input text.
        if text.contains(s) {
            continue;
        }
        assert!(
            !shown.contains(s),
            "secret {s:?} printed:\n{shown}\n--- input ---\n{text}"
        );
    }
    let again = match parse() {
        Ok(c) => format!("{c:?}"),
        Err(e) => format!("{e} {e:?}"),
    };
    assert_eq!(shown, again, "parsing the same text twice differed");
    if let Ok(c) = first {
        holds_its_rules(&c);
    }
}

fn holds_its_rules(c: &Config) {
    for p in c.catalog.products() {
        assert!(p.price.minor() > 0, "product {} costs {}", p.id, p.price);
    }
    assert!(luka::domain::reference::validate_till_id(&c.till_id).is_ok());
    match c.vipps.environment {
        Environment::Training => {
            assert!(c.vipps.credentials.is_none());
            if let Some(name) = c.store_path.file_name().and_then(|n| n.to_str()) {
                assert!(
                    name.contains("training"),
                    "training writes to {}",
                    c.store_path.display()
                );
            }
        }
        env => {
            assert!(c.vipps.credentials.is_some(), "{env:?} without credentials");
            assert!(c.ui.pin_hash.is_some(), "{env:?} without an organizer PIN");
            let url = c.vipps.base_url.as_deref().expect("a base URL");
            if env == Environment::Production {
                assert!(url.starts_with("https://"), "production on {url}");
                // Kassasystemforskriften § 2-6 (4): a receipt on paper.
                assert!(
                    matches!(
                        c.printer.connection,
                        Some(
                            luka::printer::Connection::Usb { .. }
                                | luka::printer::Connection::Network { .. }
                                | luka::printer::Connection::Serial { .. }
                                | luka::printer::Connection::Device { .. }
                        )
                    ),
                    "production with {:?}",
                    c.printer.connection
                );
            } else {
                assert!(
                    url.starts_with("https://") || loopback_http(url),
                    "{env:?} on {url}"
                );
            }
            let b = &c.bookkeeping;
            let mut urls: Vec<&str> = b.webhook.iter().map(|w| w.url.as_str()).collect();
            if let Some(p) = &b.poweroffice {
                urls.push(&p.api_base_url);
                urls.push(&p.token_url);
            }
            for u in urls {
                if env == Environment::Production {
                    assert!(u.starts_with("https://"), "production books on {u}");
                } else {
                    assert!(
                        u.starts_with("https://") || loopback_http(u),
                        "books on {u}"
                    );
                }
            }
        }
    }
}

/// Plain HTTP is only fine to this machine: the host must really be a
/// loopback address, not merely start like one (`127.0.0.1.example.org`).
pub fn loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
