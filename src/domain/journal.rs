//! The electronic journal's vocabulary: which SAF-T code each journal kind
//! carries, the cash transaction a sale, refund or cash count becomes, and
//! the exact text the SAF-T signature chain signs.
//!
//! Pure data and formatting. It must never sign, hash or read the store:
//! `journal` (crypto) and `store` (rows) do that.

use serde::{Deserialize, Serialize};

use super::{Currency, PaymentMethod, VatCode};

pub use super::journal_lines::{
    allocate, is_full_return, return_lines, return_per_vat, return_shares, sale_lines, totals_of,
};

/// How a journal kind appears in SAF-T: a basic of type 13 (event) or 11
/// (transaction), with our own `basicID` and Skatteetaten's predefined code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SaftCode {
    /// Our id in `<basics>`, referred to by `<eventType>` / `<transType>`.
    pub basic_id: &'static str,
    /// The predefined code (13001 … 13999, 11001 …).
    pub predefined: u32,
    pub description: &'static str,
}

const fn code(basic_id: &'static str, predefined: u32, description: &'static str) -> SaftCode {
    SaftCode {
        basic_id,
        predefined,
        description,
    }
}

/// Kinds that are cash transactions: signed in the SAF-T chain.
pub mod kinds {
    pub const SALE_PAID: &str = "sale.paid";
    pub const SALE_REFUNDED: &str = "sale.refunded";
    pub const CASH_FLOAT: &str = "cash.float";
    pub const CASH_DIFFERENCE: &str = "cash.difference";
    pub const REPORT_X: &str = "report.x";
    pub const REPORT_Z: &str = "report.z";
    pub const OPERATOR_LOGIN: &str = "operator.login";
    pub const OPERATOR_LOGOUT: &str = "operator.logout";
}

pub const OTHER_EVENT: SaftCode = code("OTHER", 13999, "Other event");

/// The SAF-T code of a journal entry. Unknown kinds are "other" (13999),
/// never an error: a newer Luka may journal kinds this one does not know.
pub fn saft_code(kind: &str, data: &serde_json::Value) -> SaftCode {
    let training = data.get("training").and_then(|v| v.as_bool()) == Some(true);
    match kind {
        kinds::SALE_PAID => code("CASHSAL", 11001, "Cash sale"),
        kinds::SALE_REFUNDED => code("RETURNSAL", 11006, "Return payment"),
        kinds::CASH_FLOAT => code("FLOAT", 11007, "Cash declaration (opening float)"),
        kinds::CASH_DIFFERENCE => code("CASHDIFF", 11008, "Cash difference at count"),
        "app.start" => code("POSSTART", 13001, "POS application start"),
        "app.stop" => code("POSEND", 13002, "POS application shut down"),
        kinds::OPERATOR_LOGIN => code("EMPIN", 13003, "Employee log in"),
        kinds::OPERATOR_LOGOUT => code("EMPOUT", 13004, "Employee log out"),
        "drawer.opened" => code("DRAWOPEN", 13005, "Open cash drawer"),
        "drawer.closed" => code("DRAWCLOSE", 13006, "Close cash drawer"),
        "app.updated" => code("POSUPDATE", 13007, "Update of POS application"),
        kinds::REPORT_X => code("XREP", 13008, "X report"),
        kinds::REPORT_Z => code("ZREP", 13009, "Z report"),
        "receipt.printed" | "receipt.copy_printed" if training => {
            code("TRAINREC", 13017, "Training receipt")
        }
        "receipt.printed" if data.get("kind").and_then(|k| k.as_str()) == Some("refund") => {
            code("RETREC", 13013, "Return receipt")
        }
        "receipt.printed" => code("SALREC", 13012, "Sales receipt printed"),
        "receipt.copy_printed" => code("COPYREC", 13014, "Copy receipt"),
        "receipt.not_printed" => code("NORECEIPT", 13030, "Sale concluded without receipt"),
        "price.changed" => code("PRICECHG", 13021, "Price change"),
        "training.on" => code("TRAINON", 13023, "Training mode on"),
        "training.off" => code("TRAINOFF", 13024, "Training mode off"),
        "journal.exported" => code("EXPORT", 13020, "Export of journal"),
        _ => OTHER_EVENT,
    }
}

/// Whether entries of this kind are signed cash transactions.
pub fn is_cash_transaction(kind: &str) -> bool {
    matches!(
        kind,
        kinds::SALE_PAID | kinds::SALE_REFUNDED | kinds::CASH_FLOAT | kinds::CASH_DIFFERENCE
    )
}

/// What kind of money movement a cash transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransKind {
    Sale,
    Return,
    /// Opening float put in the drawer (11007).
    Float,
    /// Counted minus expected cash at the Z report (11008).
    Difference,
}

impl TransKind {
    pub fn journal_kind(self) -> &'static str {
        match self {
            TransKind::Sale => kinds::SALE_PAID,
            TransKind::Return => kinds::SALE_REFUNDED,
            TransKind::Float => kinds::CASH_FLOAT,
            TransKind::Difference => kinds::CASH_DIFFERENCE,
        }
    }
}

/// One line of a cash transaction. Amounts in øre, VAT included in
/// `amount_in`; negative on a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransLine {
    pub product_id: Option<String>,
    pub name: String,
    pub group: String,
    /// Negative on a full return; `None` on a partial (amount-only) return.
    pub quantity: Option<i64>,
    pub amount_in: i64,
    pub amount_ex: i64,
    pub vat: VatCode,
    pub vat_amount: i64,
}

/// VAT of one code over a whole transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransVat {
    pub vat: VatCode,
    pub gross: i64,
    pub vat_amount: i64,
    pub net: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransPayment {
    pub method: PaymentMethod,
    pub amount: i64,
    /// The Vipps ePayment reference.
    pub reference: Option<String>,
}

/// A signed cash transaction as the journal keeps it (and SAF-T exports it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashTransaction {
    /// Consecutive over all signed transactions of the till: SAF-T `nr`.
    pub nr: i64,
    pub kind: TransKind,
    pub till_id: String,
    pub currency: Currency,
    pub sale_id: Option<i64>,
    /// The sale's receipt number (for a return: the sale it returns).
    pub receipt_no: Option<i64>,
    pub refund_id: Option<i64>,
    /// Local (Oslo) date and time, exactly as signed: `YYYY-MM-DD`, `HH:MM:SS`.
    pub date: String,
    pub time: String,
    pub amount_in: i64,
    pub amount_ex: i64,
    pub lines: Vec<TransLine>,
    pub vat: Vec<TransVat>,
    pub payments: Vec<TransPayment>,
    pub operator: Option<String>,
    pub training: bool,
}

impl CashTransaction {
    /// The local hour (0–23) the transaction happened in.
    pub fn hour(&self) -> u8 {
        self.time
            .get(0..2)
            .and_then(|h| h.parse().ok())
            .unwrap_or(0)
    }
}

/// Øre as a SAF-T amount: `1234` → `12.34`, `-5` → `-0.05`.
pub fn saft_amount(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The text the SAF-T signature signs:
/// `previous_signature;transDate;transTime;nr;transAmntIn;transAmntEx`,
/// with `0` as the previous signature of the first transaction.
pub fn signature_message(previous: Option<&str>, t: &CashTransaction) -> String {
    format!(
        "{};{};{};{};{};{}",
        previous.unwrap_or("0"),
        t.date,
        t.time,
        t.nr,
        saft_amount(t.amount_in),
        saft_amount(t.amount_ex)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(nr: i64, amount_in: i64, amount_ex: i64) -> CashTransaction {
        CashTransaction {
            nr,
            kind: TransKind::Sale,
            till_id: "kiosk-1".into(),
            currency: Currency::NOK,
            sale_id: Some(1),
            receipt_no: Some(1),
            refund_id: None,
            date: "2024-05-01".into(),
            time: "09:05:07".into(),
            amount_in,
            amount_ex,
            lines: vec![],
            vat: vec![],
            payments: vec![],
            operator: None,
            training: false,
        }
    }

    #[test]
    fn signature_message_is_the_saft_chain_text() {
        assert_eq!(
            signature_message(None, &t(1, 8_640, 7_512)),
            "0;2024-05-01;09:05:07;1;86.40;75.12"
        );
        assert_eq!(
            signature_message(Some("abc=="), &t(2, -1_640, -1_426)),
            "abc==;2024-05-01;09:05:07;2;-16.40;-14.26"
        );
        assert_eq!(saft_amount(5), "0.05");
        assert_eq!(saft_amount(-5), "-0.05");
        assert_eq!(saft_amount(0), "0.00");
        assert_eq!(t(1, 0, 0).hour(), 9);
    }

    #[test]
    fn codes_for_known_and_unknown_kinds() {
        let none = serde_json::json!({});
        assert_eq!(saft_code("app.start", &none).predefined, 13001);
        assert_eq!(saft_code("receipt.copy_printed", &none).predefined, 13014);
        assert_eq!(
            saft_code("receipt.printed", &serde_json::json!({"training": true})).predefined,
            13017
        );
        assert_eq!(
            saft_code("receipt.printed", &serde_json::json!({"kind": "refund"})).predefined,
            13013
        );
        assert_eq!(saft_code("something.new", &none), OTHER_EVENT);
        assert!(is_cash_transaction("sale.paid"));
        assert!(!is_cash_transaction("sale.started"));
    }
}
