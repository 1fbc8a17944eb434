//! Serde types mirroring `specs/vipps/epayment.v1.yml` (ePayment 1.4.1, with the
//! Order Management 2.3.24 `Receipt` it references) and `access-token.swagger.yaml`.
//!
//! Owns only the wire shapes: field names are the spec's camelCase (snake_case for the
//! access token), optional fields are left out rather than sent as `null` unless the spec
//! makes them required-but-nullable. It must never hold behaviour, I/O or a secret that
//! `Debug` could print: the access token's `Debug` is redacted.
//!
//! Tolerance: the server may add new payment states, event names and payment method types
//! over time (the spec's enums are documented as lists of current values, not a closed
//! set). A till that crashes on a new value would strand a sale, so those three enums have
//! an `Unknown` catch-all on deserialize. `Unknown` must never be sent: it serializes as
//! the string `"Unknown"`, which the server rejects.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::domain::money::Currency;

/// Key-value pairs passed through to `GetPaymentResponse` (max 5, spec `Metadata`).
pub type Metadata = BTreeMap<String, String>;

/// An amount in minor units (øre) with its currency (spec `Amount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub currency: Currency,
    pub value: i64,
}

impl Amount {
    pub fn nok(value: i64) -> Amount {
        Amount {
            currency: Currency::NOK,
            value,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerInteraction {
    CustomerPresent,
    CustomerNotPresent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethodType {
    Wallet,
    Card,
    /// A method added to the API after 1.4.1. Never send it.
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    #[serde(rename = "type")]
    pub kind: PaymentMethodType,
}

/// `paymentMethod` as the server reports it; `cardBin` only for card payments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodResponse {
    #[serde(rename = "type")]
    pub kind: PaymentMethodType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_bin: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserFlow {
    PushMessage,
    NativeRedirect,
    WebRedirect,
    Qr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QrFormatKind {
    /// `redirectUrl` is the text to encode in a QR code locally (what the till uses).
    #[serde(rename = "TEXT/TARGETURL")]
    TextTargetUrl,
    #[serde(rename = "IMAGE/SVG+XML")]
    ImageSvgXml,
    #[serde(rename = "IMAGE/PNG")]
    ImagePng,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrFormat {
    pub format: QrFormatKind,
    /// Pixel size, PNG only (100..=2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
}

/// The spec's `Customer` is a `oneOf` of three single-field objects; exactly one of these
/// should be set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_qr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

/// Body of `POST /epayment/v1/payments` (spec `CreatePaymentRequest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePaymentRequest {
    pub amount: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// In-store sales must send `CUSTOMER_PRESENT`; the server defaults to NOT_PRESENT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_interaction: Option<CustomerInteraction>,
    /// Airline data; the till never sends it, kept opaque so a request round-trips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry_data: Option<serde_json::Value>,
    pub payment_method: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileRequest>,
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    pub user_flow: UserFlow,
    /// RFC 3339; only with PUSH_MESSAGE or QR, and then `receipt` is required too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_format: Option<QrFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_url: Option<String>,
}

/// Order Management `Receipt`: the order lines and VAT shown in the customer's app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub order_lines: Vec<OrderLine>,
    pub bottom_line: BottomLine,
}

/// Order Management `OrderLine`. All amounts are minor units; `totalAmount` includes tax
/// and discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub name: String,
    pub id: String,
    pub total_amount: i64,
    pub total_amount_excluding_tax: i64,
    pub total_tax_amount: i64,
    pub tax_percentage: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_info: Option<UnitInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_url: Option<String>,
    /// Counts negative towards every sum in the bottom line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_return: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_shipping: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitInfo {
    /// Required but nullable in the spec, so `None` is sent as `null`, not left out.
    pub unit_price: Option<i64>,
    /// A decimal as text, `^\d+([\.]\d{1,8})?$`, cosmetic only.
    pub quantity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_unit: Option<QuantityUnit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum QuantityUnit {
    Pcs,
    Kg,
    Km,
    Minute,
    Litre,
    Kwh,
}

/// Order Management `BottomLine`. The deprecated fields (totalAmount, totalTax,
/// shippingInfo, ...) are not modelled: the server computes sums from the order lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BottomLine {
    pub currency: Currency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip_amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_sources: Option<PaymentSources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<Barcode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gift_card: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cash: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Barcode {
    pub format: BarcodeFormat,
    /// Required but nullable.
    pub data: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BarcodeFormat {
    #[serde(rename = "EAN-13")]
    Ean13,
    #[serde(rename = "CODE 39")]
    Code39,
    #[serde(rename = "CODE 128")]
    Code128,
}

/// 201 body of create. `redirectUrl` is absent for PUSH_MESSAGE; for QR with
/// `TEXT/TARGETURL` it is the text to encode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePaymentResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    pub reference: String,
}

/// The five payment states. CANCELLED, CAPTURED and REFUNDED are *event names*, not
/// states: a captured or refunded payment stays AUTHORIZED and `aggregate` says what
/// happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Created,
    Aborted,
    Expired,
    Authorized,
    Terminated,
    /// A state added after 1.4.1; treat as "not settled, keep polling".
    #[serde(other)]
    Unknown,
}

impl State {
    /// Every state but CREATED (and an unknown one) is final per the spec.
    pub fn is_final(self) -> bool {
        !matches!(self, State::Created | State::Unknown)
    }
}

/// What has happened to the money so far (spec `Aggregate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Aggregate {
    pub authorized_amount: Amount,
    pub cancelled_amount: Amount,
    pub captured_amount: Amount,
    pub refunded_amount: Amount,
}

impl Aggregate {
    pub fn zero(currency: Currency) -> Aggregate {
        let z = Amount { currency, value: 0 };
        Aggregate {
            authorized_amount: z,
            cancelled_amount: z,
            captured_amount: z,
            refunded_amount: z,
        }
    }
}

/// Body of `GET /epayment/v1/payments/{reference}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentResponse {
    pub aggregate: Aggregate,
    pub amount: Amount,
    pub state: State,
    pub payment_method: PaymentMethodResponse,
    /// Required by the spec; an empty object unless a profile scope was asked for.
    #[serde(default)]
    pub profile: ProfileResponse,
    pub psp_reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentEventName {
    Created,
    Aborted,
    Expired,
    Cancelled,
    Captured,
    Refunded,
    Authorized,
    Terminated,
    /// An event added after 1.4.1; a reader should skip it, not fail.
    #[serde(other)]
    Unknown,
}

/// One entry of `GET /epayment/v1/payments/{reference}/events`.
///
/// The spec marks a `paymentAction` property required that it never defines; real event
/// logs carry `name` (as the webhook `WebhookEvent` does), so this type follows the logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentEvent {
    pub reference: String,
    pub psp_reference: String,
    pub name: PaymentEventName,
    pub amount: Amount,
    /// RFC 3339, kept as text so an unusual precision never fails a parse.
    pub timestamp: String,
    /// Nullable: events the merchant did not cause (AUTHORIZED, EXPIRED) carry `null`.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    pub success: bool,
}

/// A webhook body (spec `WebhookEvent`): a `PaymentEvent` plus the merchant serial number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    pub msn: String,
    pub reference: String,
    pub psp_reference: String,
    pub name: PaymentEventName,
    pub amount: Amount,
    pub timestamp: String,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    pub success: bool,
}

/// Body of capture and refund (spec `CaptureModificationRequest` /
/// `RefundModificationRequest`, which are identical). Cancel takes no body in 1.4.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModificationRequest {
    pub modification_amount: Amount,
}

/// 200 body of cancel, capture and refund. The spec declares its media type as
/// `application/problem+json`; the server sends JSON either way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModificationResponse {
    pub amount: Amount,
    pub state: State,
    pub aggregate: Aggregate,
    pub psp_reference: String,
    pub reference: String,
}

/// RFC 7807 problem (spec `Problem`). Fields beyond the spec (Vipps sends `extraDetails`,
/// `instance`, ...) are kept in `extra` instead of failing the parse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub status: u16,
    /// Required by the spec, but gateway errors have been seen without it.
    #[serde(default)]
    pub trace_id: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Body of the test-only `POST /epayment/v1/test/payments/{reference}/approve`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForceApprove {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// The token from `redirectUrl` of the create response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// 200 body of `POST /accesstoken/get` (spec `AuthorizationTokenResponse`).
///
/// Every number in it is a JSON *string* in the spec (`"3600"`, epoch seconds as text),
/// although the spec's examples are written as bare YAML numbers; the fields are `String`
/// so that is explicit, and the `*_secs` helpers parse them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenResponse {
    pub token_type: String,
    pub expires_in: String,
    pub ext_expires_in: String,
    pub expires_on: String,
    pub not_before: String,
    pub resource: String,
    pub access_token: String,
}

impl AccessTokenResponse {
    pub fn expires_in_secs(&self) -> Option<u64> {
        self.expires_in.trim().parse().ok()
    }

    pub fn expires_on_epoch_secs(&self) -> Option<u64> {
        self.expires_on.trim().parse().ok()
    }

    pub fn not_before_epoch_secs(&self) -> Option<u64> {
        self.not_before.trim().parse().ok()
    }
}

impl fmt::Debug for AccessTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("expires_on", &self.expires_on)
            .field("access_token", &"***")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    //! Round-trips of the spec's own examples (copied verbatim from
    //! `epayment.v1.bundled.yml` / `access-token.swagger.yaml`, places named per test):
    //! what goes in must come out byte-for-byte equal as JSON.
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    use super::*;

    fn round_trip<T: DeserializeOwned + Serialize>(example: Value) -> T {
        let parsed: T = serde_json::from_value(example.clone()).expect("example parses");
        let back = serde_json::to_value(&parsed).expect("serializes");
        assert_eq!(back, example, "round trip changed the example");
        parsed
    }

    #[test]
    fn create_payment_response_examples() {
        // components.responses.CreatePaymentResponse.examples
        for ex in [
            json!({"redirectUrl": "https://landing.vipps.no?token=eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1Ni", "reference": "acme-shop-123-order123abc"}),
            json!({"redirectUrl": "https://qr-image.vipps.no/v1?token=eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1Ni", "reference": "acme-shop-123-order123abc"}),
            json!({"redirectUrl": "vipps://token=abc123", "reference": "racme-shop-123-order123abc"}),
        ] {
            round_trip::<CreatePaymentResponse>(ex);
        }
        let push: CreatePaymentResponse =
            round_trip(json!({"reference": "acme-shop-123-order123abc"}));
        assert_eq!(push.redirect_url, None);
    }

    #[test]
    fn receipt_example() {
        // OMS_Receipt.x-examples.ReceiptExample (its numbers do not add up; it is only
        // a shape example, so the DTO must not judge it).
        let r: Receipt = round_trip(json!({
            "orderLines": [{
                "name": "socks", "id": "1234567890", "totalAmount": 1000,
                "totalAmountExcludingTax": 800, "totalTaxAmount": 250, "taxPercentage": 25,
                "unitInfo": {"unitPrice": 0, "quantity": "0.822", "quantityUnit": "PCS"},
                "discount": 0, "productUrl": "https://example.com/store/socks",
                "isReturn": false, "isShipping": false
            }],
            "bottomLine": {
                "tipAmount": 0, "currency": "NOK", "posId": "string",
                "paymentSources": {"giftCard": 0, "card": 0, "voucher": 0, "cash": 0},
                "barcode": {"format": "EAN-13", "data": "123456"},
                "receiptNumber": "1234567"
            }
        }));
        assert_eq!(
            r.order_lines[0].unit_info.as_ref().unwrap().quantity_unit,
            Some(QuantityUnit::Pcs)
        );
        assert_eq!(r.bottom_line.barcode.unwrap().format, BarcodeFormat::Ean13);
    }

    #[test]
    fn order_line_and_unit_info_examples() {
        // OMS_OrderLine.x-examples.OrderLineExample.value.orderLines
        let lines: Vec<OrderLine> = round_trip(json!([
            {"name": "socks", "id": "line_item_1", "totalAmount": 1000,
             "totalAmountExcludingTax": 800, "totalTaxAmount": 200, "taxPercentage": 25,
             "unitInfo": {"unitPrice": 400, "quantity": "2.5", "quantityUnit": "KG"},
             "discount": 0, "productUrl": "https://example.com/store/socks"},
            {"name": "flip-flops", "id": "line_item_2", "totalAmount": 5000,
             "totalAmountExcludingTax": 4000, "totalTaxAmount": 1000, "taxPercentage": 25,
             "unitInfo": {"unitPrice": 2500, "quantity": "3", "quantityUnit": "PCS"},
             "discount": 2500, "productUrl": "https://example.com/store/flipflops"}
        ]));
        assert_eq!(lines[1].discount, Some(2500));
        // OMS_UnitInfo.x-examples
        round_trip::<UnitInfo>(
            json!({"quantity": "0.822", "unitPrice": 15000, "quantityUnit": "KG"}),
        );
        // required-but-nullable: null survives as null
        round_trip::<UnitInfo>(json!({"quantity": "2", "unitPrice": null}));
        // OMS_BottomLine.x-examples.BottomLineExample.value
        round_trip::<BottomLine>(json!({
            "currency": "NOK", "tipAmount": 0, "posId": "vipps_pos_122",
            "paymentSources": {"card": 100, "giftCard": 50},
            "barcode": {"format": "EAN-13", "data": "123456"}, "receiptNumber": "1234567"
        }));
        // OMS_PaymentSources.x-examples.PaymentSourcesExample
        round_trip::<PaymentSources>(
            json!({"giftCard": 200, "card": 50, "voucher": 25, "cash": 25}),
        );
    }

    #[test]
    fn create_payment_request_built_from_spec_examples() {
        // Assembled from the property examples of CreatePaymentRequest, with the
        // till's own choices (QR, TEXT/TARGETURL, CUSTOMER_PRESENT).
        let req: CreatePaymentRequest = round_trip(json!({
            "amount": {"currency": "NOK", "value": 49900},
            "customer": {"phoneNumber": "4791234567"},
            "customerInteraction": "CUSTOMER_PRESENT",
            "paymentMethod": {"type": "WALLET"},
            "profile": {"scope": "name phoneNumber"},
            "reference": "acme-shop-123-order123abc",
            "returnUrl": "https://example.com/redirect?orderId=acme-shop-123-order123abc",
            "userFlow": "QR",
            "expiresAt": "2023-02-26T17:32:28Z",
            "qrFormat": {"format": "TEXT/TARGETURL"},
            "paymentDescription": "Kiosk sale",
            "metadata": {"key1": "value1", "key2": "value2", "key3": "value3"},
            "receiptUrl": "https://example.com/receipt/9876543210"
        }));
        assert_eq!(req.user_flow, UserFlow::Qr);
        assert_eq!(req.qr_format.unwrap().format, QrFormatKind::TextTargetUrl);
        // A minimal request carries no nulls for the optional fields.
        round_trip::<CreatePaymentRequest>(json!({
            "amount": {"currency": "NOK", "value": 100},
            "paymentMethod": {"type": "CARD"},
            "reference": "reference-string",
            "userFlow": "WEB_REDIRECT",
            "qrFormat": {"format": "IMAGE/PNG", "size": 1024}
        }));
    }

    #[test]
    fn get_payment_response_and_states() {
        let amount = json!({"currency": "NOK", "value": 49900});
        let zero = json!({"currency": "NOK", "value": 0});
        let got: GetPaymentResponse = round_trip(json!({
            "aggregate": {"authorizedAmount": amount, "cancelledAmount": zero,
                          "capturedAmount": amount, "refundedAmount": zero},
            "amount": amount, "state": "AUTHORIZED",
            "paymentMethod": {"type": "WALLET", "cardBin": "540185"},
            "profile": {"sub": "c06c4afe-d9e1-4c5d-939a-177d752a0944"},
            "pspReference": "1234567890",
            "redirectUrl": "https://landing.vipps.no?token=abc123",
            "reference": "acme-shop-123-order123abc",
            "metadata": {"key1": "value1"}
        }));
        assert_eq!(got.state, State::Authorized);
        for (text, state) in [
            ("CREATED", State::Created),
            ("ABORTED", State::Aborted),
            ("EXPIRED", State::Expired),
            ("AUTHORIZED", State::Authorized),
            ("TERMINATED", State::Terminated),
        ] {
            assert_eq!(serde_json::from_value::<State>(json!(text)).unwrap(), state);
            assert_eq!(serde_json::to_value(state).unwrap(), json!(text));
        }
        assert!(!State::Created.is_final() && State::Terminated.is_final());
    }

    #[test]
    fn unknown_server_values_do_not_fail_a_parse() {
        assert_eq!(
            serde_json::from_value::<State>(json!("PENDING_3DS")).unwrap(),
            State::Unknown
        );
        assert_eq!(
            serde_json::from_value::<PaymentEventName>(json!("PARTIALLY_SETTLED")).unwrap(),
            PaymentEventName::Unknown
        );
        assert_eq!(
            serde_json::from_value::<PaymentMethodType>(json!("BNPL")).unwrap(),
            PaymentMethodType::Unknown
        );
        // But a request enum stays strict: a typo is an error, not a silent default.
        assert!(serde_json::from_value::<UserFlow>(json!("QR_CODE")).is_err());
    }

    #[test]
    fn payment_event_example_and_all_names() {
        // PaymentEvent property examples; idempotencyKey is nullable.
        let ev: PaymentEvent = round_trip(json!({
            "reference": "acme-shop-123-order123abc", "pspReference": "7686f7788898767977",
            "name": "AUTHORIZED", "amount": {"currency": "NOK", "value": 49900},
            "timestamp": "2022-12-31T00:00:00Z",
            "idempotencyKey": "fb492b5e-7907-4d83-ba20-c7fb60ca35de", "success": true
        }));
        assert_eq!(ev.name, PaymentEventName::Authorized);
        let ev: PaymentEvent = round_trip(json!({
            "reference": "acme-shop-123-order123abc", "pspReference": "7686f7788898767977",
            "name": "EXPIRED", "amount": {"currency": "NOK", "value": 49900},
            "timestamp": "2022-12-31T00:00:00Z", "idempotencyKey": null, "success": true
        }));
        assert_eq!(ev.idempotency_key, None);
        let names = [
            "CREATED",
            "ABORTED",
            "EXPIRED",
            "CANCELLED",
            "CAPTURED",
            "REFUNDED",
            "AUTHORIZED",
            "TERMINATED",
        ];
        for n in names {
            let parsed: PaymentEventName = serde_json::from_value(json!(n)).unwrap();
            assert_ne!(parsed, PaymentEventName::Unknown);
            assert_eq!(serde_json::to_value(parsed).unwrap(), json!(n));
        }
    }

    #[test]
    fn modification_shapes() {
        let amount = json!({"currency": "NOK", "value": 1000});
        round_trip::<ModificationRequest>(json!({"modificationAmount": amount}));
        round_trip::<ModificationResponse>(json!({
            "amount": amount, "state": "AUTHORIZED",
            "aggregate": {"authorizedAmount": amount, "cancelledAmount": amount,
                          "capturedAmount": amount, "refundedAmount": amount},
            "pspReference": "7686f7788898767977", "reference": "acme-shop-123-order123abc"
        }));
        round_trip::<ForceApprove>(
            json!({"customer": {"phoneNumber": "4791234567"}, "token": "abc"}),
        );
        round_trip::<ForceApprove>(json!({}));
    }

    #[test]
    fn problem_keeps_extra_fields() {
        let p: Problem = round_trip(json!({
            "type": "https://developer.vippsmobilepay.com/docs/knowledge-base/errors",
            "title": "Bad Request", "detail": "Amount too low", "status": 400,
            "traceId": "77e4a0d5-2d8b-4d3e-bd9f-d4ef0cdd7a43",
            "extraDetails": [{"name": "Amount", "reason": "must be at least 100"}]
        }));
        assert_eq!(p.status, 400);
        assert!(p.extra.contains_key("extraDetails"));
    }

    #[test]
    fn access_token_numbers_are_strings_and_debug_hides_the_token() {
        // AuthorizationTokenResponse property examples, with the numbers as the strings
        // the schema declares (the YAML examples are bare numbers).
        let t: AccessTokenResponse = round_trip(json!({
            "token_type": "Bearer", "expires_in": "3600", "ext_expires_in": "3600",
            "expires_on": "1547823408", "not_before": "1547819508",
            "resource": "00000002-0000-0000-c000-000000000000",
            "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1Ni"
        }));
        assert_eq!(t.expires_in_secs(), Some(3600));
        assert_eq!(t.expires_on_epoch_secs(), Some(1547823408));
        assert_eq!(t.not_before_epoch_secs(), Some(1547819508));
        assert!(!format!("{t:?}").contains("eyJ0"));
        // A bare number is not what the spec promises; the parse says so.
        let as_number = json!({
            "token_type": "Bearer", "expires_in": 3600, "ext_expires_in": "0",
            "expires_on": "1", "not_before": "1", "resource": "r", "access_token": "a"
        });
        assert!(serde_json::from_value::<AccessTokenResponse>(as_number).is_err());
    }
}
