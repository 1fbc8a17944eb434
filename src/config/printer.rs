//! `[printer]` in `luka.toml` → [`PrinterConfig`]: which driver, where, what
//! paper, logo, footer and drawer. Part of `config`, the only place that reads
//! the file; it must never open a printer (a printer that is off at start-up
//! is a held receipt later, not a configuration error).
//!
//! Defaults: in training mode without `[printer]`, PNG previews go into a
//! folder next to the database, so a newcomer sees the receipts. Outside
//! training, `[printer]` is required: a till must print a receipt for every
//! sale. Against Vipps' test environment, running without one is a choice
//! written down as `driver = "none"` (every sale is then journalled as
//! concluded without a receipt), never a silent default. In production the
//! receipt must reach the customer (kassasystemforskriften § 2-6 (4)), so
//! only drivers that print on paper are taken
//! ([`receipts_reach_the_customer`]).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, Environment, err};
use crate::printer::{Bitmap, Connection, PaperWidth};

const DRIVERS: &str =
    "\"usb\", \"network\", \"serial\", \"device\", \"file\", \"preview\" or \"none\"";
/// The drivers that put a receipt on paper in front of the customer.
const PAPER_DRIVERS: &str = "\"usb\", \"network\", \"serial\" or \"device\"";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrinter {
    driver: Option<String>,
    path: Option<PathBuf>,
    address: Option<String>,
    usb_vendor_id: Option<toml::Value>,
    usb_product_id: Option<toml::Value>,
    baud: Option<u32>,
    width_mm: Option<u32>,
    logo: Option<PathBuf>,
    footer: Option<Vec<String>>,
    drawer_kick: Option<bool>,
}

/// How this till prints receipts.
#[derive(Clone, PartialEq, Eq)]
pub struct PrinterConfig {
    /// `None`: `driver = "none"`, no printer at all.
    pub connection: Option<Connection>,
    pub width: PaperWidth,
    /// Already read and checked to fit the paper.
    pub logo: Option<Bitmap>,
    pub footer: Vec<String>,
    /// A cash sale opens the drawer (on the printer's kick port).
    pub drawer_kick: bool,
}

impl fmt::Debug for PrinterConfig {
    // The logo's bits would drown everything else.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrinterConfig")
            .field("connection", &self.connection)
            .field("width", &self.width)
            .field(
                "logo",
                &self
                    .logo
                    .as_ref()
                    .map(|l| format!("{}x{}", l.width, l.height)),
            )
            .field("footer", &self.footer)
            .field("drawer_kick", &self.drawer_kick)
            .finish()
    }
}

impl PrinterConfig {
    /// The training default: PNG pictures in `<database>-receipts/` next to the database.
    pub fn training_preview(store_path: &Path) -> PrinterConfig {
        PrinterConfig {
            connection: Some(Connection::Preview {
                folder: preview_folder(store_path),
                width: PaperWidth::Mm80,
            }),
            width: PaperWidth::Mm80,
            logo: None,
            footer: default_footer(),
            drawer_kick: false,
        }
    }
}

fn default_footer() -> Vec<String> {
    vec!["Takk for handelen!".into()]
}

fn preview_folder(store_path: &Path) -> PathBuf {
    let stem = store_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("luka");
    store_path.with_file_name(format!("{stem}-receipts"))
}

pub(super) fn printer_config(
    raw: Option<RawPrinter>,
    environment: Environment,
    store_path: &Path,
    file: &Path,
) -> Result<PrinterConfig, ConfigError> {
    let Some(raw) = raw else {
        let fix = match environment {
            Environment::Training => return Ok(PrinterConfig::training_preview(store_path)),
            Environment::Production => format!(
                "add [printer] with driver = {PAPER_DRIVERS} (see deploy-pi/luka.toml.example)"
            ),
            Environment::Test => format!(
                "add [printer] with driver = {DRIVERS} (see deploy-pi/luka.toml.example); \
                 driver = \"none\" runs without a printer and journals every sale as \
                 concluded without a receipt"
            ),
        };
        return Err(err(
            file,
            "[printer]",
            "missing: a till must print a receipt for every sale",
            fix,
        ));
    };
    let key = |k: &str| format!("[printer] {k}");
    let width = match raw.width_mm {
        None => PaperWidth::Mm80,
        Some(mm) => PaperWidth::from_mm(mm).ok_or_else(|| {
            err(
                file,
                &key("width_mm"),
                format!("{mm} mm is not a roll Luka prints on"),
                "set width_mm = 58 or width_mm = 80 (the roll's width)",
            )
        })?,
    };
    let driver = raw.driver.as_deref().ok_or_else(|| {
        err(
            file,
            &key("driver"),
            "missing",
            format!("set driver = {DRIVERS}"),
        )
    })?;
    let connection = connection(&raw, driver, width, store_path, file)?;
    let logo = raw
        .logo
        .as_deref()
        .map(|p| logo(p, width, file))
        .transpose()?;
    Ok(PrinterConfig {
        connection,
        width,
        logo,
        footer: raw.footer.clone().unwrap_or_else(default_footer),
        drawer_kick: raw.drawer_kick.unwrap_or(false),
    })
}

fn connection(
    raw: &RawPrinter,
    driver: &str,
    width: PaperWidth,
    store_path: &Path,
    file: &Path,
) -> Result<Option<Connection>, ConfigError> {
    // Keys that belong to another driver are a mistake worth naming: the
    // person meant something the till would otherwise ignore.
    let used: &[&str] = match driver {
        "usb" => &["usb_vendor_id", "usb_product_id"],
        "network" => &["address"],
        "serial" => &["path", "baud"],
        "device" | "file" | "preview" => &["path"],
        "none" => &[],
        other => {
            return Err(err(
                file,
                "[printer] driver",
                format!("\"{other}\" is not a printer driver"),
                format!("use one of {DRIVERS}"),
            ));
        }
    };
    let given = [
        ("path", raw.path.is_some()),
        ("address", raw.address.is_some()),
        ("usb_vendor_id", raw.usb_vendor_id.is_some()),
        ("usb_product_id", raw.usb_product_id.is_some()),
        ("baud", raw.baud.is_some()),
    ];
    if let Some((k, _)) = given.iter().find(|(k, set)| *set && !used.contains(k)) {
        return Err(err(
            file,
            &format!("[printer] {k}"),
            format!("is not used with driver = \"{driver}\""),
            format!("remove {k}, or choose the driver it belongs to"),
        ));
    }
    let need_path = |what: &str| {
        raw.path.clone().ok_or_else(|| {
            err(
                file,
                "[printer] path",
                format!("missing: driver = \"{driver}\" needs {what}"),
                format!("set path = \"…\" ({what})"),
            )
        })
    };
    Ok(Some(match driver {
        "none" => return Ok(None),
        "usb" => Connection::Usb {
            vendor_id: usb_id(raw.usb_vendor_id.as_ref(), "usb_vendor_id", file)?,
            product_id: usb_id(raw.usb_product_id.as_ref(), "usb_product_id", file)?,
        },
        "network" => Connection::Network {
            address: address(raw.address.as_deref(), file)?,
        },
        "serial" => Connection::Serial {
            path: need_path("the serial port, e.g. /dev/ttyUSB0")?,
            baud: raw.baud.unwrap_or(9600),
        },
        "device" => Connection::Device {
            path: need_path("the printer device, e.g. /dev/usb/lp0")?,
        },
        "file" => Connection::File {
            path: need_path("the file raw ESC/POS bytes are appended to")?,
        },
        _ => Connection::Preview {
            folder: raw
                .path
                .clone()
                .unwrap_or_else(|| preview_folder(store_path)),
            width,
        },
    }))
}

/// Refuses, in production, a printer setup under which a sale can be
/// concluded without the customer getting a receipt.
///
/// Kassasystemforskriften § 2-6 (4): it shall not be possible to conclude a
/// sale without the system printing a sales receipt (and § 2-3 (1): a printer
/// at every point of sale). `driver = "none"` prints nothing, `"file"`
/// appends bytes to a file and `"preview"` draws PNGs into a folder: none of
/// them hands the customer a receipt, so each would let every sale end
/// without one. They stay for training (no credentials, receipts marked as
/// training) and for Vipps' test environment, where no real sale is made.
pub(super) fn receipts_reach_the_customer(
    printer: &PrinterConfig,
    environment: Environment,
    file: &Path,
) -> Result<(), ConfigError> {
    if environment != Environment::Production {
        return Ok(());
    }
    let driver = match &printer.connection {
        None => "none",
        Some(Connection::File { .. }) => "file",
        Some(Connection::Preview { .. }) => "preview",
        Some(_) => return Ok(()),
    };
    Err(err(
        file,
        "[printer] driver",
        format!(
            "driver = \"{driver}\" gives the customer no receipt, and in production \
             ([vipps] environment = \"production\") a sale must not be concluded without \
             one (kassasystemforskriften § 2-6 (4))"
        ),
        format!(
            "connect the receipt printer and set driver = {PAPER_DRIVERS}; \
             to try Luka without a printer use training (no [vipps] credentials) or \
             [vipps] environment = \"test\""
        ),
    ))
}

/// `0x0416` (TOML hex integer) or the "0416" `lsusb` shows.
fn usb_id(v: Option<&toml::Value>, key: &str, file: &Path) -> Result<u16, ConfigError> {
    let k = format!("[printer] {key}");
    let fix = "copy the id from `lsusb` (\"ID 0416:5011\": vendor 0x0416, product 0x5011), \
               written as 0x0416 or \"0416\"";
    let parsed = match v {
        None => return Err(err(file, &k, "missing: driver = \"usb\" needs it", fix)),
        Some(toml::Value::Integer(i)) => u16::try_from(*i).ok(),
        Some(toml::Value::String(s)) => {
            u16::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok()
        }
        Some(_) => None,
    };
    parsed.ok_or_else(|| err(file, &k, format!("{} is not a USB id", v.unwrap()), fix))
}

/// "host" or "host:port", port 9100 by default.
fn address(a: Option<&str>, file: &Path) -> Result<String, ConfigError> {
    let k = "[printer] address";
    let fix = "set address = \"192.168.1.50\" or \"192.168.1.50:9100\" (the printer's IP; \
               print its self-test page to find it)";
    let a = a
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| err(file, k, "missing: driver = \"network\" needs it", fix))?;
    let (host, port) = a.rsplit_once(':').unwrap_or((a, "9100"));
    if host.is_empty() || host.contains(char::is_whitespace) || port.parse::<u16>().is_err() {
        return Err(err(
            file,
            k,
            format!("\"{a}\" is not host or host:port"),
            fix,
        ));
    }
    Ok(a.to_string())
}

/// Reads the logo now, so a bad file stops the start, not the first receipt.
/// A relative path is taken from the folder luka.toml is in.
fn logo(path: &Path, width: PaperWidth, file: &Path) -> Result<Bitmap, ConfigError> {
    let k = "[printer] logo";
    let full = match file.parent() {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    };
    let bytes = std::fs::read(&full).map_err(|e| {
        err(
            file,
            k,
            format!("cannot read {}: {e}", full.display()),
            "give the path of a PNG, e.g. logo = \"assets/logo.png\" (relative to luka.toml)",
        )
    })?;
    let bitmap = Bitmap::from_png(&bytes).map_err(|e| {
        err(
            file,
            k,
            format!("{} is not a readable PNG: {e}", full.display()),
            "save the logo as a black-and-white PNG",
        )
    })?;
    if bitmap.width > width.dots() || bitmap.height > 600 {
        return Err(err(
            file,
            k,
            format!(
                "{} is {}x{} dots; a {} paper prints at most {} dots wide",
                full.display(),
                bitmap.width,
                bitmap.height,
                if width == PaperWidth::Mm58 {
                    "58 mm"
                } else {
                    "80 mm"
                },
                width.dots()
            ),
            format!(
                "scale the PNG to at most {} pixels wide and 600 high",
                width.dots()
            ),
        ));
    }
    Ok(bitmap)
}

#[cfg(test)]
#[path = "printer_tests.rs"]
mod tests;
