//! Wire types mirroring `specs/bookkeeping/poweroffice-go-v2.*`, for
//! the parts Luka uses: the OAuth token, general ledger accounts, VAT codes,
//! cash and bank voucher posting, account transactions and `ProblemDetails`.
//! Field names are the spec's, PascalCase on the API and snake_case on the
//! OAuth endpoint.
//!
//! The simulator serialises the same types, so both sides agree by
//! construction and the contract test checks both against the spec. Types the
//! client *reads* keep only the fields it uses: a field Luka ignores can never
//! make a posted voucher look like a failure. Must never derive `Debug` on
//! anything that holds a token.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::amount::Nok;

/// `TokenResponseDto` (auth spec, `POST /Token` 200). No `Debug`: it holds a token.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: Option<String>,
    pub token_type: Option<String>,
    /// Lifetime in seconds.
    pub expires_in: i64,
}

/// `ErrorResponseDto` (auth spec, `POST /Token` 400): RFC 6749 §5.2.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OAuthError {
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// `RateLimitResponseDto` (auth spec, 429), also the gateway's 401 shape.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayMessage {
    pub status_code: Option<String>,
    pub message: Option<String>,
}

/// `ProblemDetails`. The schema spells the fields in PascalCase while the
/// spec's examples use `detail`/`title`, so both are read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProblemDetails {
    #[serde(alias = "type", skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(alias = "title")]
    pub title: Option<String>,
    #[serde(alias = "status")]
    pub status: Option<i32>,
    #[serde(alias = "detail")]
    pub detail: Option<String>,
    #[serde(alias = "instance", skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// `CashVoucherPostDto` / `BankVoucherPostDto`: the two share every field
/// Luka sends, so one type serves both endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VoucherPost {
    /// ISO 4217; required.
    pub currency_code: String,
    /// `YYYY-MM-DD`; required.
    pub voucher_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// "only one instance of the reference can exist on the client".
    pub external_import_reference: String,
    pub voucher_lines: Vec<VoucherLinePost>,
}

/// `CashVoucherLinePostDto` / `BankVoucherLinePostDto` (same fields here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VoucherLinePost {
    /// The account's PowerOffice id (not its number); required.
    pub account_id: i64,
    /// Gross, in the voucher's currency; never 0.
    pub currency_amount: Nok,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `YYYY-MM-DD`; required.
    pub posting_date: String,
    /// Required but nullable: always sent, `null` on lines without VAT.
    pub vat_id: Option<i64>,
    /// The line's department (a `GET /Departments` id, not its code); left
    /// out on lines of no department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_id: Option<i64>,
}

/// What the client reads from `CashVoucherDto` / `BankVoucherDto` (201).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VoucherCreated {
    pub id: String,
    pub voucher_no: Option<i64>,
}

/// `CashVoucherDto` / `BankVoucherDto` as the simulator answers a post.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VoucherDto {
    pub id: String,
    pub voucher_no: i64,
    pub voucher_date: String,
    pub currency_code: Option<String>,
    pub description: Option<String>,
    pub external_import_reference: Option<String>,
    pub created_date_time_offset: String,
    pub is_reversed: Option<bool>,
    pub voucher_lines: Option<Vec<VoucherLineDto>>,
}

/// `CashVoucherLineDto` / `BankVoucherLineDto`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VoucherLineDto {
    pub id: i64,
    pub account_id: Option<i64>,
    pub currency_amount: Nok,
    pub currency_code: Option<String>,
    pub description: Option<String>,
    pub posting_date: String,
    pub vat_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<i64>,
    pub created_date_time_offset: String,
}

/// `DepartmentDto` (`GET /Departments`): the client reads `Id`, `Code` and
/// `IsActive`; the simulator sends the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DepartmentDto {
    pub id: i64,
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time_offset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_changed_date_time_offset: Option<String>,
}

/// `GeneralLedgerAccountDto` (`GET /GeneralLedgerAccounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GeneralLedgerAccountDto {
    pub id: i64,
    pub account_no: i64,
    pub name: Option<String>,
    pub is_active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_code_id: Option<i64>,
    /// `Asset`, `Liability`, `Equity`, `Income` or `Expense`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub general_ledger_account_type: Option<String>,
}

/// `VatCodeDto` (`GET /VatCodes`). `Rate` is kept as the raw JSON number: the
/// client never needs it, and reading it as a float would be pointless.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VatCodeDto {
    pub id: i64,
    /// The SAF-T standard code, e.g. `"3"`; custom codes carry a `C`.
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_active: Option<bool>,
    pub is_custom: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

/// `AccountTransactionDto` as the simulator answers `GET /AccountTransactions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountTransactionDto {
    pub id: i64,
    pub account_id: i64,
    pub account_no: i64,
    pub amount: Nok,
    pub currency_amount: Nok,
    pub currency_code: Option<String>,
    pub description: Option<String>,
    pub external_import_reference: Option<String>,
    pub posting_date: String,
    pub voucher_date: String,
    pub voucher_id: String,
    pub voucher_no: i64,
    /// `CashJournal` or `BankJournal` here (the spec's `VoucherType`).
    pub voucher_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_code: Option<String>,
    pub created_date_time_offset: String,
}

/// What the client reads from an `AccountTransactionDto`: which voucher
/// carries which `ExternalImportReference`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactionRef {
    pub voucher_id: String,
    pub external_import_reference: Option<String>,
}
