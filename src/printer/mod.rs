//! Receipts on ESC/POS thermal printers, laid out as Norwegian rules require.
//!
//! The path of a receipt, one concept per file:
//!
//! | module       | owns                                                                    |
//! |--------------|-------------------------------------------------------------------------|
//! | [`model`]    | the input: [`ReceiptInput`] (sale/refund, copy, training), [`ReportInput`] |
//! | [`layout`](mod@layout) | the pure function input → [`Document`], with the kassasystemforskriften content |
//! | [`document`] | [`Document`]: text lines with styles, rows, images, QR, feed, cut, drawer |
//! | [`text`]     | wrapping, truncating and padding to 32 or 48 columns                    |
//! | [`pc865`]    | the Nordic code page (`ESC t 5`): æøåÆØÅ ↔ bytes, '?' for the rest      |
//! | [`escpos`]   | [`Document`] → ESC/POS bytes                                            |
//! | [`interpret`]| ESC/POS bytes → [`Document`] again (preview driver, simulator)          |
//! | [`preview`]  | [`Document`] → PNG, for training mode on a desktop, docs and tests      |
//! | [`status`]   | real-time status (`DLE EOT 1/2/4`) → [`PrinterStatus`]                  |
//! | [`error`]    | [`PrintError`]: what went wrong, whether Retry helps, what to do        |
//! | [`driver`]   | the [`PrinterDriver`] trait and file, device and preview drivers        |
//! | [`network`]  | TCP port 9100 with real-time status                                     |
//! | [`serial`]   | a serial port with real-time status                                     |
//! | [`usb`]      | USB by vendor/product id (pure-Rust `nusb`)                             |
//! | `sim`        | a loopback printer that records bytes and can run out of paper (feature `testing`) |
//! | [`samples`]  | representative receipts for training mode, docs, tests and benches      |
//!
//! The whole job, as the kiosk's print worker will do it:
//!
//! ```no_run
//! use luka::printer::{Connection, LayoutConfig, PaperWidth, connect, escpos, layout, print, samples};
//!
//! let doc = layout(&samples::ticket(), &LayoutConfig::new(PaperWidth::Mm80));
//! let bytes = escpos::render(&doc)?;
//! let mut printer = connect(&Connection::Network { address: "192.168.1.50".into() });
//! if let Err(e) = print(printer.as_mut(), &bytes) {
//!     // e.is_held(): keep the sale at "receipt not printed", show `e`, offer Retry.
//!     eprintln!("{e}");
//! }
//! # Ok::<(), luka::printer::PrintError>(())
//! ```
//!
//! Nothing here touches the store or the outbox: the kiosk decides when to
//! print and what a failure means for the sale.

pub mod document;
pub mod driver;
pub mod error;
pub mod escpos;
pub mod interpret;
pub mod layout;
pub mod model;
pub mod network;
pub mod pc865;
pub mod preview;
pub mod samples;
pub mod serial;
#[cfg(feature = "testing")]
pub mod sim;
pub mod status;
pub mod text;
pub mod usb;

pub use document::{Align, Bitmap, Block, Document, PaperWidth, Size, Style};
pub use driver::{Connection, PrinterDriver, connect, print};
pub use error::{PrintError, PrintProblem};
pub use layout::{LayoutConfig, layout, layout_kitchen, layout_report};
pub use model::{
    KitchenTicket, Merchant, PaymentInfo, ReceiptInput, ReceiptKind, ReceiptLine, ReportInput,
    ReportSection,
};
pub use status::{PrinterStatus, parse_status};
