//! What the kiosk tells its listeners (the UI, the GPIO driver, the CLI): one
//! event per thing that happened, never a question.

use super::PrinterState;
use crate::domain::{Money, PaymentMethod, SaleStatus, UnpaidReason};

/// What happened, for whoever shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KioskEvent {
    /// The QR can be shown.
    QrReady {
        sale_id: i64,
        reference: String,
        qr_target: String,
        expires_at: time::OffsetDateTime,
    },
    /// The payment request went to the customer's app (a scanned personal
    /// QR or a typed number): no QR to show, the customer approves there.
    SentToCustomer {
        sale_id: i64,
        reference: String,
        expires_at: time::OffsetDateTime,
    },
    /// A truthful status line for the pay screen; `note` says why it was
    /// sent, and each listener puts it in its own words.
    Status {
        sale_id: i64,
        status: SaleStatus,
        note: StatusNote,
    },
    Paid {
        sale_id: i64,
        reference: String,
        amount: Money,
        receipt_no: i64,
        /// Cash opens the drawer; listeners need not read the store to know.
        method: PaymentMethod,
    },
    NotPaid {
        sale_id: i64,
        reference: String,
        reason: UnpaidReason,
    },
    Refunded {
        sale_id: i64,
        refund_id: i64,
        amount: Money,
        /// Cash comes back out of the drawer.
        method: PaymentMethod,
    },
    /// The drawer's relay is to open now (`[gpio] drawer_relay`): for a cash
    /// sale or return (`sale_id`), or the organizer's "Åpne skuff" (`None`).
    /// The opening is journaled already; the GPIO driver only pulses.
    DrawerRelay { sale_id: Option<i64> },
    /// Vipps could not be reached (true) or answered again (false).
    Connectivity { reachable: bool, detail: String },
    /// The printer's state or the number of waiting receipts changed; read
    /// both with [`super::Kiosk::printer_status`].
    Printer { state: PrinterState },
    /// A product's stock changed (by hand, a sale or a return): read it
    /// with [`super::Kiosk::stock`].
    Stock { product_id: String },
    /// Training mode was switched on or off (journaled already).
    Training { on: bool },
    /// A receipt came out of the printer (`copy`: the one "KOPI").
    ReceiptPrinted { sale_id: i64, copy: bool },
    /// The till sells from another price list now (the hub's catalogue
    /// came down between sales; `changes` were journaled): read it with
    /// [`super::Kiosk::catalog`].
    Catalog { changes: usize },
    /// This till was just paired with the club's hub: its catalogue
    /// refresher asks the hub at once.
    HubPaired,
}

/// Why a [`KioskEvent::Status`] was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusNote {
    /// The customer approved; the amount is being captured.
    Approved,
    /// Vipps stopped answering while the sale waits; the till keeps asking
    /// and the sale is not paid yet.
    ConnectionLost,
}
