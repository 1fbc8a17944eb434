//! `[ui]` and `[training]`: the screen's language, the organizer PIN, how long a
//! result stays up, and where training mode's simulator listens.

use std::path::Path;
use std::time::Duration;

use super::{ConfigError, Environment, err};
use super::{RawTraining, RawUi};

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

pub(super) fn ui_config(
    raw: &RawUi,
    environment: Environment,
    file: &Path,
) -> Result<UiConfig, ConfigError> {
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

pub(super) fn training_config(
    raw: &RawTraining,
    file: &Path,
) -> Result<TrainingConfig, ConfigError> {
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
