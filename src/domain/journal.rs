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

/// Declares [`JournalKind`] from one table (variant, stored string), so the
/// enum, [`JournalKind::ALL`] and [`JournalKind::as_str`] cannot drift apart.
macro_rules! journal_kinds {
    (
        $(#[$meta:meta])* pub enum JournalKind;
        $($(#[$doc:meta])* $kind:ident => $stored:literal,)*
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum JournalKind {
            $($(#[$doc])* $kind,)*
        }

        const JOURNAL_KINDS: usize = [$(stringify!($kind),)*].len();

        impl JournalKind {
            /// Every kind, in declaration order.
            pub const ALL: [JournalKind; JOURNAL_KINDS] = [$(JournalKind::$kind,)*];

            /// The string stored in `journal.kind`. Never change one: old
            /// databases and their hash chains hold them.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(JournalKind::$kind => $stored,)*
                }
            }
        }
    };
}

journal_kinds! {
    /// Every kind of journal entry this Luka writes. Writing takes this enum
    /// only (`store::Writer::journal`), so a kind cannot be misspelt into
    /// "other" (13999); reading takes the stored string ([`JournalKind::parse`],
    /// [`saft_code`]), because an older or newer Luka may have written kinds
    /// this one does not know.
    ///
    /// Each kind has its stored string and its SAF-T code from Skatteetaten's
    /// predefined code lists (`specs/saft-cash-register/…PredefinedBasicID-11.csv`
    /// and `-13.csv`, kassasystemforskriften § 2-7-1: every event in the
    /// electronic journal with its code); a test checks every code against them.
    pub enum JournalKind;

    // Cash transactions, signed in the SAF-T chain.
    /// A sale paid (11001).
    SalePaid => "sale.paid",
    /// Money given back on a sale (11006).
    SaleRefunded => "sale.refunded",
    /// Opening float declared (11007).
    CashFloat => "cash.float",
    /// Counted minus expected cash at the Z report (11008).
    CashDifference => "cash.difference",
    // SAF-T events (basic type 13).
    AppStart => "app.start",
    AppStop => "app.stop",
    OperatorLogin => "operator.login",
    OperatorLogout => "operator.logout",
    DrawerOpened => "drawer.opened",
    DrawerClosed => "drawer.closed",
    AppUpdated => "app.updated",
    ReportX => "report.x",
    ReportZ => "report.z",
    /// A Salgskvittering on paper (13012).
    ReceiptPrinted => "receipt.printed",
    /// A Returkvittering on paper (13013).
    ReturnReceiptPrinted => "receipt.return_printed",
    /// The one copy, marked KOPI (13014): printed, or drawn as a picture by
    /// `luka receipt --preview`.
    CopyPrinted => "receipt.copy_printed",
    /// A sale concluded without its receipt (13030).
    ReceiptNotPrinted => "receipt.not_printed",
    /// An X or Z report printed on paper (13018, other reports or receipts).
    ReportPrinted => "report.printed",
    PriceChanged => "price.changed",
    TrainingOn => "training.on",
    TrainingOff => "training.off",
    JournalExported => "journal.exported",
    // Luka's own events: SAF-T "other" (13999).
    OperatorLoginFailed => "operator.login_failed",
    SaleStarted => "sale.started",
    SaleUnpaid => "sale.unpaid",
    PaymentCreated => "payment.created",
    PaymentAuthorized => "payment.authorized",
    PaymentCancelRequested => "payment.cancel_requested",
    RefundRequested => "refund.requested",
    RefundFailed => "refund.failed",
    CopyRequested => "receipt.copy_requested",
    OutboxRetryRequested => "outbox.retry_requested",
    /// A line taken out of the cart (or its quantity lowered) before
    /// payment, with its amount (§ 2-8-2 s; counted in reportCorrLines).
    CartLineCorrected => "cart.line_corrected",
    /// A product marked sold out or back on sale, or its count set (issue 16).
    StockChanged => "stock.changed",
    /// An order's kitchen ticket printed (no prices; not a receipt).
    KitchenTicketPrinted => "ticket.kitchen_printed",
    /// A signing key's public half, journaled when it first signs.
    JournalKey => "journal.key",
    /// The till switched to another event menu of the club's catalogue
    /// (its name; `null`: the whole catalogue). The products it added or
    /// took away are `price.changed` entries (13021) beside it.
    CatalogueMenu => "catalogue.menu",
    /// The till now sells under another Vipps sales unit (MSN) and books
    /// under another department (issue 16, part 4): `{"unit", "msn",
    /// "department", "was"}`. Each sale keeps its own as well.
    SalesUnitChanged => "sales.unit",
}

impl JournalKind {
    /// The kind a stored string names; `None` for a kind this Luka does not
    /// know (written by a newer one).
    pub fn parse(stored: &str) -> Option<JournalKind> {
        JournalKind::ALL.into_iter().find(|k| k.as_str() == stored)
    }

    /// The SAF-T code of an entry of this kind. Every kind of receipt made
    /// in training is a training receipt (13017).
    pub const fn saft(self, training: bool) -> SaftCode {
        use JournalKind::*;
        match self {
            ReceiptPrinted | ReturnReceiptPrinted | CopyPrinted if training => {
                code("TRAINREC", 13017, "Training receipt")
            }
            SalePaid => code("CASHSAL", 11001, "Cash sale"),
            SaleRefunded => code("RETURNSAL", 11006, "Return payment"),
            CashFloat => code("FLOAT", 11007, "Cash declaration"),
            CashDifference => code("CASHDIFF", 11008, "Cash difference"),
            AppStart => code("POSSTART", 13001, "POS application start"),
            AppStop => code("POSEND", 13002, "POS application shut down"),
            OperatorLogin => code("EMPIN", 13003, "Employee log in"),
            OperatorLogout => code("EMPOUT", 13004, "Employee log out"),
            DrawerOpened => code("DRAWOPEN", 13005, "Open cash drawer"),
            DrawerClosed => code("DRAWCLOSE", 13006, "Close cash drawer"),
            AppUpdated => code("POSUPDATE", 13007, "Update of POS application"),
            ReportX => code("XREP", 13008, "X report"),
            ReportZ => code("ZREP", 13009, "Z report"),
            ReceiptPrinted => code("SALREC", 13012, "Sales receipt printed"),
            ReturnReceiptPrinted => code("RETREC", 13013, "Return receipt"),
            CopyPrinted => code("COPYREC", 13014, "Copy receipt"),
            ReportPrinted => code("OTHERREP", 13018, "Other reports or receipts"),
            JournalExported => code(
                "EXPORT",
                13020,
                "Export of journal to external storage (cash register)",
            ),
            PriceChanged => code("PRICECHG", 13021, "Price change"),
            TrainingOn => code("TRAINON", 13023, "Training mode on"),
            TrainingOff => code("TRAINOFF", 13024, "Training mode off"),
            ReceiptNotPrinted => code("NORECEIPT", 13030, "Concluded sale without receipt printed"),
            OperatorLoginFailed
            | SaleStarted
            | SaleUnpaid
            | PaymentCreated
            | PaymentAuthorized
            | PaymentCancelRequested
            | RefundRequested
            | RefundFailed
            | CopyRequested
            | OutboxRetryRequested
            | CartLineCorrected
            | StockChanged
            | KitchenTicketPrinted
            | JournalKey
            | CatalogueMenu
            | SalesUnitChanged => OTHER_EVENT,
        }
    }

    /// Whether entries of this kind are signed cash transactions.
    pub const fn is_cash_transaction(self) -> bool {
        matches!(
            self,
            JournalKind::SalePaid
                | JournalKind::SaleRefunded
                | JournalKind::CashFloat
                | JournalKind::CashDifference
        )
    }

    /// Whether this entry is any kind of customer receipt on paper (sale or
    /// return). The X/Z counts the two apart (§ 2-8-2 l: sales receipts).
    pub const fn is_receipt_printed(self) -> bool {
        matches!(
            self,
            JournalKind::ReceiptPrinted | JournalKind::ReturnReceiptPrinted
        )
    }
}

impl std::fmt::Display for JournalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const OTHER_EVENT: SaftCode = code("OTHER", 13999, "Other");

fn is_training(data: &serde_json::Value) -> bool {
    data.get("training").and_then(|v| v.as_bool()) == Some(true)
}

/// The SAF-T code of a stored journal entry. Unknown kinds are "other"
/// (13999), never an error: a newer Luka may journal kinds this one does not
/// know. Return receipts written before they had their own kind were
/// `receipt.printed` with `"receipt": "refund"` in their data (and `"kind":
/// "refund"` in some tools); they read as return receipts (13013).
pub fn saft_code(kind: &str, data: &serde_json::Value) -> SaftCode {
    let Some(mut k) = JournalKind::parse(kind) else {
        return OTHER_EVENT;
    };
    let refund = |field: &str| data.get(field).and_then(|v| v.as_str()) == Some("refund");
    if k == JournalKind::ReceiptPrinted && (refund("receipt") || refund("kind")) {
        k = JournalKind::ReturnReceiptPrinted;
    }
    k.saft(is_training(data))
}

/// Whether a stored entry of this kind is a signed cash transaction.
pub fn is_cash_transaction(kind: &str) -> bool {
    JournalKind::parse(kind).is_some_and(JournalKind::is_cash_transaction)
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
    pub fn journal_kind(self) -> JournalKind {
        match self {
            TransKind::Sale => JournalKind::SalePaid,
            TransKind::Return => JournalKind::SaleRefunded,
            TransKind::Float => JournalKind::CashFloat,
            TransKind::Difference => JournalKind::CashDifference,
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
    /// The Vipps sales unit (MSN) a Vipps payment was made to, when the
    /// till knows it; absent on cash and card, and before part 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msn: Option<String>,
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
    /// The department (avdeling) the sale or return is booked under, when
    /// its sales unit has one. Left out of the signed JSON when there is
    /// none, so entries from before departments read and hash as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
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
            department: None,
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
            saft_code(
                "receipt.return_printed",
                &serde_json::json!({"training": true})
            )
            .predefined,
            13017
        );
        assert_eq!(saft_code("receipt.return_printed", &none).predefined, 13013);
        // Rows written before return receipts had their own kind: the till
        // wrote "receipt": "refund", older tools "kind": "refund".
        for legacy in [
            serde_json::json!({"receipt": "refund", "receipt_no": 7}),
            serde_json::json!({"kind": "refund"}),
        ] {
            assert_eq!(saft_code("receipt.printed", &legacy).predefined, 13013);
        }
        assert_eq!(
            saft_code("receipt.printed", &serde_json::json!({"receipt": "sale"})).predefined,
            13012
        );
        assert_eq!(saft_code("report.printed", &none).predefined, 13018);
        assert_eq!(saft_code("something.new", &none), OTHER_EVENT);
        assert_eq!(saft_code("receipt.prnited", &none), OTHER_EVENT);
        assert!(is_cash_transaction("sale.paid"));
        assert!(!is_cash_transaction("sale.started"));
        assert!(!is_cash_transaction("sale.unknown"));
    }

    #[test]
    fn every_kind_has_one_stored_string_that_reads_back() {
        let mut seen = std::collections::BTreeSet::new();
        for k in JournalKind::ALL {
            assert!(seen.insert(k.as_str()), "{k:?}: {} used twice", k.as_str());
            assert_eq!(JournalKind::parse(k.as_str()), Some(k));
            assert_eq!(saft_code(k.as_str(), &serde_json::json!({})), k.saft(false));
        }
        assert_eq!(JournalKind::parse("sale.pay"), None);
        for t in [
            TransKind::Sale,
            TransKind::Return,
            TransKind::Float,
            TransKind::Difference,
        ] {
            assert!(t.journal_kind().is_cash_transaction());
        }
        let signed = JournalKind::ALL
            .iter()
            .filter(|k| k.is_cash_transaction())
            .count();
        assert_eq!(signed, 4);
    }

    /// One `basicID` per code: SAF-T's `<basics>` lists each once, and an
    /// event refers to its basic by that id.
    #[test]
    fn each_basic_id_stands_for_one_code() {
        let mut by_id = std::collections::BTreeMap::new();
        for k in JournalKind::ALL {
            for training in [false, true] {
                let c = k.saft(training);
                let prev = by_id.insert(c.basic_id, c);
                assert!(prev.is_none_or(|p| p == c), "{} differs", c.basic_id);
            }
        }
    }
}
