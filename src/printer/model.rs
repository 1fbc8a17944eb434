//! What a receipt or a report says, before any layout: the printer's input.
//!
//! The kiosk fills these from a settled sale (or a refund, or an X/Z report);
//! the printer never reads the store itself. This module holds plain data and
//! must never format, wrap or encode anything: that is `layout`'s job.

use time::OffsetDateTime;

pub use crate::domain::Merchant;
use crate::domain::{Money, VatCode, VatTotal};

/// Which legal receipt this is. A copy or a training print is a flag on top
/// of the kind, because a refund can be reprinted and trained on as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptKind {
    /// "Salgskvittering": the receipt for a completed sale.
    Sale,
    /// "Returkvittering": the receipt for money given back.
    Refund,
}

/// One sold (or refunded) line. `amount` is the line total, VAT included;
/// on a refund it is negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    pub quantity: u32,
    pub name: String,
    pub amount: Money,
    pub vat: VatCode,
}

/// How the customer paid (or was paid back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentInfo {
    /// Vipps MobilePay, with the payment reference the customer sees in the app.
    Vipps { reference: String },
    /// Cash: what the customer handed over and what they got back.
    Cash { given: Money, change: Money },
    /// Paid (or paid back) on the club's own card terminal, with the
    /// reference on the terminal's slip when the volunteer gave it.
    Card { terminal_ref: Option<String> },
}

/// Everything a receipt shows. Amounts are VAT-inclusive, as the customer paid them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptInput {
    pub kind: ReceiptKind,
    pub merchant: Merchant,
    pub till_id: String,
    /// Consecutive per till, never reused.
    pub receipt_number: u64,
    /// On a refund: the number of the sale receipt the money came from.
    pub refers_to: Option<u64>,
    /// Already in Norwegian local time: the printer does not know the time zone.
    pub timestamp: OffsetDateTime,
    pub lines: Vec<ReceiptLine>,
    /// One entry per VAT code present, as `domain::sale::totals` computes them.
    pub vat_totals: Vec<VatTotal>,
    pub total: Money,
    pub payment: PaymentInfo,
    /// Configurable closing lines ("Takk for handelen!").
    pub footer: Vec<String>,
    /// Optional QR payload (e.g. a link to the digital receipt); `None` prints none.
    pub qr: Option<String>,
    /// Printed in training mode: marked so it can never pass for a real receipt.
    pub training: bool,
    /// The one allowed reprint ("KOPI").
    pub copy: bool,
    /// The day's order number, printed large (`[till] order_numbers`).
    pub order_no: Option<u64>,
}

/// The kitchen's ticket of an order (`[printer] kitchen_ticket`): the order
/// number and what to make. Not a receipt: no prices, never to the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitchenTicket {
    pub order_no: u64,
    pub till_id: String,
    /// Norwegian local time.
    pub timestamp: OffsetDateTime,
    /// (quantity, name).
    pub lines: Vec<(u32, String)>,
    pub training: bool,
}

/// An X or Z report, kept generic for now: a title and labelled rows in sections.
/// Serializable so a report can wait in the outbox while the printer is held.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportInput {
    /// "X-rapport" or "Z-rapport".
    pub title: String,
    pub merchant: Merchant,
    pub till_id: String,
    /// The Z number; `None` for an X report, which has none.
    pub number: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    pub sections: Vec<ReportSection>,
    pub training: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportSection {
    pub heading: String,
    /// Label on the left, value (usually an amount) on the right.
    pub rows: Vec<(String, String)>,
}
