//! Checks on a `CreatePaymentRequest` and on the `Idempotency-Key` header, as the real
//! ePayment API makes them (the rules come from `epayment.v1.yml` and the Order
//! Management receipt schema; where the spec is silent, the comment says what Vipps does).
//!
//! Pure functions: no state, no clock of its own. Must never mutate anything.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::problem::Fail;
use crate::vipps::dto::{
    CreatePaymentRequest, Currency, PaymentMethodType, QrFormatKind, Receipt, UserFlow,
};

pub(crate) const MAX_AMOUNT: i64 = 65_000_000;
const MAX_KEY_LEN: usize = 50;

/// `^[a-zA-Z0-9-]{8,50}$`
pub(crate) fn valid_reference(reference: &str) -> bool {
    (8..=50).contains(&reference.len())
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

pub(crate) fn idempotency_key(value: Option<&str>) -> Result<String, Fail> {
    match value {
        None | Some("") => Err(Fail::bad_request(
            "the Idempotency-Key header is required on this operation",
        )),
        Some(k) if k.chars().count() > MAX_KEY_LEN => Err(Fail::bad_request(format!(
            "the Idempotency-Key header is longer than {MAX_KEY_LEN} characters"
        ))),
        Some(k) => Ok(k.to_string()),
    }
}

/// The smallest amount Vipps accepts. The spec says only "minimum 0"; the API guide
/// gives 100 øre for NOK. DKK is taken to be the same (1 krone); EUR is assumed to be
/// 1 cent, as the guide names no EUR minimum.
fn minimum(currency: Currency) -> i64 {
    match currency {
        Currency::NOK | Currency::DKK => 100,
        Currency::EUR => 1,
    }
}

/// Validates a create request. On success returns the payment's lifetime when the
/// request sets `expiresAt` (otherwise the simulator's configured lifetime applies).
pub(crate) fn create_request(
    req: &CreatePaymentRequest,
    now: OffsetDateTime,
) -> Result<Option<Duration>, Fail> {
    if !valid_reference(&req.reference) {
        return Err(Fail::bad_request(format!(
            "reference '{}' must match ^[a-zA-Z0-9-]{{8,50}}$",
            req.reference
        )));
    }
    let amount = req.amount;
    if amount.value < minimum(amount.currency) || amount.value > MAX_AMOUNT {
        return Err(Fail::bad_request(format!(
            "amount.value {} is outside {}..={MAX_AMOUNT} for {}",
            amount.value,
            minimum(amount.currency),
            amount.currency.code()
        )));
    }
    flow(req)?;
    if let Some(d) = &req.payment_description {
        let n = d.chars().count();
        if !(3..=100).contains(&n) {
            return Err(Fail::bad_request(format!(
                "paymentDescription must be 3 to 100 characters, got {n}"
            )));
        }
    }
    if let Some(m) = &req.metadata
        && (m.len() > 5 || m.iter().any(|(k, v)| k.len() > 100 || v.len() > 500))
    {
        return Err(Fail::bad_request(
            "metadata takes at most 5 pairs, keys up to 100 and values up to 500 characters",
        ));
    }
    if let Some(receipt) = &req.receipt {
        receipt_sums(receipt, req)?;
    }
    match &req.expires_at {
        None => Ok(None),
        Some(at) => expires_at(at, req, now).map(Some),
    }
}

fn flow(req: &CreatePaymentRequest) -> Result<(), Fail> {
    match req.payment_method.kind {
        PaymentMethodType::Unknown => {
            return Err(Fail::bad_request(
                "paymentMethod.type must be WALLET or CARD",
            ));
        }
        PaymentMethodType::Card if req.user_flow != UserFlow::WebRedirect => {
            return Err(Fail::bad_request(
                "paymentMethod CARD can only be combined with userFlow WEB_REDIRECT",
            ));
        }
        _ => {}
    }
    if req.user_flow == UserFlow::PushMessage && req.customer.is_none() {
        return Err(Fail::bad_request("userFlow PUSH_MESSAGE requires customer"));
    }
    if req.user_flow == UserFlow::WebRedirect && req.return_url.is_none() {
        return Err(Fail::bad_request(
            "userFlow WEB_REDIRECT requires returnUrl",
        ));
    }
    if let Some(url) = &req.return_url
        && (!url.contains("://") || url.starts_with("http://"))
    {
        return Err(Fail::bad_request(
            "returnUrl must use https:// or a custom URL scheme",
        ));
    }
    if let Some(q) = &req.qr_format {
        if req.user_flow != UserFlow::Qr {
            return Err(Fail::bad_request(
                "qrFormat is only allowed with userFlow QR",
            ));
        }
        if q.size.is_some_and(|s| !(100..=2000).contains(&s)) {
            return Err(Fail::bad_request("qrFormat.size must be 100 to 2000"));
        }
        if q.size.is_some() && q.format != QrFormatKind::ImagePng {
            return Err(Fail::bad_request("qrFormat.size only applies to IMAGE/PNG"));
        }
    }
    if let Some(c) = &req.customer {
        let set = [&c.phone_number, &c.personal_qr, &c.customer_token]
            .iter()
            .filter(|f| f.is_some())
            .count();
        if set != 1 {
            return Err(Fail::bad_request(
                "customer takes exactly one of phoneNumber, personalQr, customerToken",
            ));
        }
        if let Some(n) = &c.phone_number
            && !((10..=15).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(Fail::bad_request(
                "customer.phoneNumber must match ^\\d{10,15}$ (MSISDN: country code and number, digits only)",
            ));
        }
        if let Some(q) = &c.personal_qr
            && !(5..=255).contains(&q.chars().count())
        {
            return Err(Fail::bad_request(
                "customer.personalQr must be 5 to 255 characters",
            ));
        }
    }
    Ok(())
}

/// Whether the customer a `PUSH_MESSAGE` payment is addressed to can get it.
/// The spec does not say what Vipps answers when it cannot (its errors guide:
/// a 400 problem); nor can a simulator know who has the app. Its users are
/// every Norwegian mobile number (47, then 8 digits starting with 4 or 9:
/// the spec says only Norwegian numbers are supported) and every personal QR
/// that is a Vipps or MobilePay QR link (the spec's example:
/// `https://qr.vipps.no/28/2/01/031/4791234567?v=1`); anything else is refused
/// with 400, a detail that never repeats the number, and no payment made.
pub(crate) fn customer_known(req: &CreatePaymentRequest) -> Result<(), Fail> {
    let Some(c) = &req.customer else {
        return Ok(());
    };
    if let Some(n) = &c.phone_number {
        let mobile = n
            .strip_prefix("47")
            .is_some_and(|local| local.len() == 8 && local.starts_with(['4', '9']));
        if !mobile {
            return Err(Fail::bad_request(
                "User not found: customer.phoneNumber is not a Vipps MobilePay user \
                 (only Norwegian mobile numbers are supported)",
            ));
        }
    }
    if let Some(q) = &c.personal_qr {
        let lower = q.to_ascii_lowercase();
        let ours = ["https://qr.vipps.no/", "https://qr.mobilepay."]
            .iter()
            .any(|p| lower.starts_with(p));
        if !ours {
            return Err(Fail::bad_request(
                "Invalid personal QR: customer.personalQr is not a Vipps MobilePay personal QR code",
            ));
        }
    }
    Ok(())
}

/// The spec does not say so, but Vipps rejects a receipt whose order lines do not add up
/// to the payment amount. The sum here is the order lines' `totalAmount` (returns count
/// negative, as the schema says) plus `bottomLine.tipAmount`.
fn receipt_sums(receipt: &Receipt, req: &CreatePaymentRequest) -> Result<(), Fail> {
    if receipt.order_lines.is_empty() {
        return Err(Fail::bad_request("receipt.orderLines must not be empty"));
    }
    if receipt.bottom_line.currency != req.amount.currency {
        return Err(Fail::bad_request(
            "receipt.bottomLine.currency differs from amount.currency",
        ));
    }
    let mut sum: i64 = receipt.bottom_line.tip_amount.unwrap_or(0);
    for line in &receipt.order_lines {
        if !(0..=100).contains(&line.tax_percentage) {
            return Err(Fail::bad_request(format!(
                "order line '{}': taxPercentage must be 0 to 100",
                line.id
            )));
        }
        let signed = if line.is_return == Some(true) {
            -line.total_amount
        } else {
            line.total_amount
        };
        sum = sum.saturating_add(signed);
    }
    if sum != req.amount.value {
        return Err(Fail::bad_request(format!(
            "receipt order lines sum to {sum}, but amount.value is {}",
            req.amount.value
        )));
    }
    Ok(())
}

/// expiresAt: RFC 3339, more than 10 minutes and less than 28 days ahead, only with
/// PUSH_MESSAGE or QR, and only together with a receipt.
fn expires_at(at: &str, req: &CreatePaymentRequest, now: OffsetDateTime) -> Result<Duration, Fail> {
    if !matches!(req.user_flow, UserFlow::PushMessage | UserFlow::Qr) {
        return Err(Fail::bad_request(
            "expiresAt can only be combined with userFlow PUSH_MESSAGE or QR",
        ));
    }
    if req.receipt.is_none() {
        return Err(Fail::bad_request("expiresAt requires receipt"));
    }
    let at = OffsetDateTime::parse(at, &Rfc3339)
        .map_err(|e| Fail::bad_request(format!("expiresAt is not RFC 3339: {e}")))?;
    let ahead = at - now;
    if ahead <= time::Duration::minutes(10) || ahead >= time::Duration::days(28) {
        return Err(Fail::bad_request(
            "expiresAt must be more than 10 minutes and less than 28 days in the future",
        ));
    }
    Ok(Duration::try_from(ahead).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn req(extra: serde_json::Value) -> CreatePaymentRequest {
        let mut base = json!({
            "amount": {"currency": "NOK", "value": 14950},
            "paymentMethod": {"type": "WALLET"},
            "reference": "kiosk1-0001",
            "userFlow": "QR",
            "qrFormat": {"format": "TEXT/TARGETURL"}
        });
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn check(extra: serde_json::Value) -> Result<Option<Duration>, Fail> {
        create_request(&req(extra), OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn references() {
        assert!(valid_reference("abcd-1234"));
        assert!(!valid_reference("short"));
        assert!(!valid_reference("has space 123"));
        assert!(!valid_reference(&"a".repeat(51)));
    }

    #[test]
    fn idempotency_keys() {
        assert!(idempotency_key(None).is_err());
        assert!(idempotency_key(Some(&"k".repeat(51))).is_err());
        assert_eq!(idempotency_key(Some("k1")).unwrap(), "k1");
    }

    #[test]
    fn table_of_create_rules() {
        let line = |total: i64| {
            json!({"name": "Kaffe", "id": "1", "totalAmount": total,
                   "totalAmountExcludingTax": total, "totalTaxAmount": 0, "taxPercentage": 0})
        };
        let cases = [
            (json!({}), true),
            (json!({"amount": {"currency": "NOK", "value": 99}}), false),
            (
                json!({"amount": {"currency": "NOK", "value": 65000001}}),
                false,
            ),
            (json!({"reference": "bad ref!"}), false),
            (json!({"paymentDescription": "ab"}), false),
            (json!({"paymentDescription": "Kiosk"}), true),
            (json!({"userFlow": "PUSH_MESSAGE", "qrFormat": null}), false),
            (json!({"userFlow": "WEB_REDIRECT"}), false),
            (json!({"paymentMethod": {"type": "CARD"}}), false),
            (
                json!({"receipt": {"orderLines": [line(14950)], "bottomLine": {"currency": "NOK"}}}),
                true,
            ),
            (
                json!({"receipt": {"orderLines": [line(15000)], "bottomLine": {"currency": "NOK"}}}),
                false,
            ),
            (
                json!({"receipt": {"orderLines": [line(14000)], "bottomLine": {"currency": "NOK", "tipAmount": 950}}}),
                true,
            ),
            (json!({"expiresAt": "1970-01-01T00:30:00Z"}), false),
        ];
        for (i, (extra, ok)) in cases.into_iter().enumerate() {
            assert_eq!(check(extra.clone()).is_ok(), ok, "case {i}: {extra}");
        }
    }

    #[test]
    fn push_message_customers() {
        let push = |customer: serde_json::Value| {
            req(json!({"userFlow": "PUSH_MESSAGE", "qrFormat": null, "customer": customer}))
        };
        let at = OffsetDateTime::UNIX_EPOCH;
        let known = |c: serde_json::Value| {
            let r = push(c);
            create_request(&r, at).is_ok() && customer_known(&r).is_ok()
        };
        assert!(known(json!({"phoneNumber": "4791234567"})));
        assert!(known(
            json!({"personalQr": "https://qr.vipps.no/28/2/01/031/4791234567?v=1"})
        ));
        // Malformed: refused as a validation error.
        assert!(create_request(&push(json!({"phoneNumber": "91234567"})), at).is_err());
        assert!(create_request(&push(json!({"phoneNumber": "+4791234567"})), at).is_err());
        assert!(create_request(&push(json!({"personalQr": "abcd"})), at).is_err());
        assert!(
            create_request(
                &push(json!({"phoneNumber": "4791234567", "personalQr": "https://qr.vipps.no/x"})),
                at
            )
            .is_err()
        );
        // Well-formed, but nobody Vipps can send it to; the detail keeps the number out.
        for c in [
            json!({"phoneNumber": "4722334455"}),
            json!({"phoneNumber": "4512345678"}),
            json!({"personalQr": "7038010009457"}),
        ] {
            let r = push(c.clone());
            assert!(create_request(&r, at).is_ok(), "{c}");
            let e = customer_known(&r).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(!e.detail.contains("4722334455") && !e.detail.contains("4512345678"));
        }
        // The QR flow has no customer to know.
        assert!(customer_known(&req(json!({}))).is_ok());
    }

    #[test]
    fn expires_at_sets_the_lifetime() {
        let r = check(json!({
            "expiresAt": "1970-01-01T00:30:00Z",
            "receipt": {"orderLines": [{"name": "x", "id": "1", "totalAmount": 14950,
                "totalAmountExcludingTax": 14950, "totalTaxAmount": 0, "taxPercentage": 0}],
                "bottomLine": {"currency": "NOK"}}
        }));
        assert_eq!(r.unwrap(), Some(Duration::from_secs(1800)));
    }
}
