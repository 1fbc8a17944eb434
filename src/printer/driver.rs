//! How bytes reach a printer: the [`PrinterDriver`] trait, the checked
//! [`print()`], and the simple drivers (device path, file, PNG preview).
//!
//! Every driver opens its connection per job, so a printer that was switched
//! off and on between two sales just works. Drivers must never retry on their
//! own or decide what a failure means for a sale: they report a
//! [`PrintError`] and the outbox holds the sale until Retry.

use std::{
    fs::OpenOptions,
    io::{Read, Write},
    path::PathBuf,
};

use super::document::PaperWidth;
use super::error::PrintError;
use super::status::{self, PrinterStatus};
use super::{interpret, network, preview, serial, usb};

/// A way to a printer: send bytes, and ask how it is where the line allows.
pub trait PrinterDriver: Send {
    /// "network 192.168.1.50:9100", for logs and messages.
    fn describe(&self) -> String;

    /// Sends one job. The bytes are a whole receipt: never split a receipt
    /// over two calls, or a failure could leave half of it printed.
    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError>;

    /// `None` when this connection cannot tell (write-only device, file).
    fn status(&mut self) -> Result<Option<PrinterStatus>, PrintError>;
}

/// Asks the printer first where it can answer, so paper out or an open cover
/// holds the receipt before a byte is sent, instead of losing it in a printer
/// buffer that may be cleared when the cover opens.
pub fn print(driver: &mut dyn PrinterDriver, bytes: &[u8]) -> Result<(), PrintError> {
    if let Some(status) = driver.status()? {
        status.ready()?;
    }
    driver.send(bytes)
}

/// Sends [`status::QUERY`] and reads the three replies, on any two-way line.
pub(crate) fn query_status(
    line: &mut (impl Read + Write),
    target: &str,
) -> Result<PrinterStatus, PrintError> {
    line.write_all(&status::QUERY)
        .map_err(|e| PrintError::from_io(target, e))?;
    line.flush().map_err(|e| PrintError::from_io(target, e))?;
    let mut replies = [0u8; 3];
    line.read_exact(&mut replies)
        .map_err(|e| PrintError::from_io(target, e))?;
    status::parse_status(&replies)
}

/// Where `[printer]` in `luka.toml` says the printer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// USB by vendor and product id, claimed directly (no kernel `usblp`).
    Usb {
        vendor_id: u16,
        product_id: u16,
    },
    /// "host:port" or "host" (port 9100).
    Network {
        address: String,
    },
    Serial {
        path: PathBuf,
        baud: u32,
    },
    /// A printer device node such as `/dev/usb/lp0`.
    Device {
        path: PathBuf,
    },
    /// Raw bytes appended to a file.
    File {
        path: PathBuf,
    },
    /// PNG pictures of each receipt in a folder (training mode on a desktop).
    Preview {
        folder: PathBuf,
        width: PaperWidth,
    },
}

/// The driver for a connection. Nothing is opened until the first job.
pub fn connect(c: &Connection) -> Box<dyn PrinterDriver> {
    match c.clone() {
        Connection::Usb {
            vendor_id,
            product_id,
        } => Box::new(usb::UsbDriver::new(vendor_id, product_id)),
        Connection::Network { address } => Box::new(network::NetworkDriver::new(&address)),
        Connection::Serial { path, baud } => Box::new(serial::SerialDriver::new(path, baud)),
        Connection::Device { path } => Box::new(DeviceDriver { path }),
        Connection::File { path } => Box::new(FileDriver { path }),
        Connection::Preview { folder, width } => Box::new(PreviewDriver { folder, width }),
    }
}

/// A printer device node: write-only, so its status is unknown and paper out
/// shows up only as a receipt that never came out.
pub struct DeviceDriver {
    pub path: PathBuf,
}

impl PrinterDriver for DeviceDriver {
    fn describe(&self) -> String {
        format!("device {}", self.path.display())
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let target = self.path.display().to_string();
        // No `create`: a missing /dev node means an unplugged printer, and
        // creating a regular file there would swallow every receipt.
        let mut dev = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(|e| PrintError::from_io(&target, e))?;
        dev.write_all(bytes)
            .and_then(|_| dev.flush())
            .map_err(|e| PrintError::from_io(&target, e))
    }

    fn status(&mut self) -> Result<Option<PrinterStatus>, PrintError> {
        Ok(None)
    }
}

/// Appends raw ESC/POS bytes to a file: for debugging and for `lp`-style spoolers.
pub struct FileDriver {
    pub path: PathBuf,
}

impl PrinterDriver for FileDriver {
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let target = self.path.display().to_string();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| PrintError::from_io(&target, e))?;
        file.write_all(bytes)
            .map_err(|e| PrintError::from_io(&target, e))
    }

    fn status(&mut self) -> Result<Option<PrinterStatus>, PrintError> {
        Ok(None)
    }
}

/// Reads the bytes back as a printer would and saves each receipt as
/// `receipt-0001.png`, `receipt-0002.png`, … in a folder.
pub struct PreviewDriver {
    pub folder: PathBuf,
    pub width: PaperWidth,
}

impl PreviewDriver {
    fn next_path(&self) -> PathBuf {
        (1..)
            .map(|n| self.folder.join(format!("receipt-{n:04}.png")))
            .find(|p| !p.exists())
            .expect("a free name")
    }
}

impl PrinterDriver for PreviewDriver {
    fn describe(&self) -> String {
        format!("preview {}", self.folder.display())
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let target = self.folder.display().to_string();
        let err = |source| PrintError::Preview {
            target: target.clone(),
            source,
        };
        std::fs::create_dir_all(&self.folder).map_err(err)?;
        for doc in interpret::interpret(bytes, self.width) {
            std::fs::write(self.next_path(), preview::render_png(&doc)?).map_err(err)?;
        }
        Ok(())
    }

    fn status(&mut self) -> Result<Option<PrinterStatus>, PrintError> {
        Ok(Some(PrinterStatus::READY))
    }
}
