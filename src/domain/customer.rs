//! The customer a Vipps sale is sent to ("merchant scan"): the personal QR
//! the volunteer scanned from the customer's app, or the mobile number the
//! customer said out loud. Such a sale is created with `userFlow:
//! PUSH_MESSAGE` and no QR is shown: the customer only taps approve.
//!
//! Both are personal data: [`Customer::masked`] is what a log may carry.
//! The rules are the ePayment spec's (`CustomerPhoneNumber`: MSISDN, digits
//! only, 10 to 15; `PersonalQrCode`: the full scanned text, 5 to 255
//! characters, whose content may change without warning, so it is not parsed).

use serde::{Deserialize, Serialize};

/// Who the payment request goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Customer {
    /// MSISDN: country code and subscriber number, digits only ("4791234567").
    Phone(String),
    /// The full text of the customer's personal QR code, as scanned.
    PersonalQr(String),
}

/// Why a typed number or a scan cannot be sent to Vipps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerError {
    #[error(
        "'{0}' is not a phone number: type the customer's 8-digit Norwegian mobile \
         number (e.g. 91234567), or the full number with country code (4791234567)"
    )]
    PhoneNotANumber(String),
    #[error(
        "'{0}' is not a Norwegian mobile number (those start with 4 or 9): check the \
         number with the customer, or take the payment by QR instead"
    )]
    PhoneNotMobile(String),
    #[error(
        "the scan is not a Vipps code ({0} characters): scan the QR code in the \
         customer's Vipps app again, or take the payment by QR instead"
    )]
    QrNotACode(usize),
}

/// The shortest and longest personal QR text the spec accepts.
const QR_LEN: std::ops::RangeInclusive<usize> = 5..=255;

impl Customer {
    /// A phone number as a volunteer types it: 8 digits are a Norwegian
    /// number (47 is put in front); with a country code ("+47 912 34 567",
    /// "0047…", "4791234567") it must be 10 to 15 digits. Spaces, dots and
    /// dashes are ignored.
    pub fn phone(typed: &str) -> Result<Customer, CustomerError> {
        let mut s: String = typed
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '\u{a0}'))
            .collect();
        if let Some(rest) = s.strip_prefix('+') {
            s = rest.to_string();
        } else if let Some(rest) = s.strip_prefix("00") {
            s = rest.to_string();
        }
        let shown = || typed.trim().chars().take(20).collect::<String>();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CustomerError::PhoneNotANumber(shown()));
        }
        let msisdn = match s.len() {
            8 => format!("47{s}"),
            10..=15 => s,
            _ => return Err(CustomerError::PhoneNotANumber(shown())),
        };
        // Norwegian numbers: 8 digits after 47, mobile ones start with 4 or 9.
        if let Some(local) = msisdn.strip_prefix("47")
            && local.len() == 8
            && !local.starts_with(['4', '9'])
        {
            return Err(CustomerError::PhoneNotMobile(shown()));
        }
        Ok(Customer::Phone(msisdn))
    }

    /// A scanner's text: the trailing Enter and surrounding blanks removed,
    /// never parsed (Vipps may change what the code holds).
    pub fn personal_qr(scanned: &str) -> Result<Customer, CustomerError> {
        let text = scanned.trim();
        let n = text.chars().count();
        if !QR_LEN.contains(&n) || text.chars().any(char::is_control) {
            return Err(CustomerError::QrNotACode(n));
        }
        Ok(Customer::PersonalQr(text.to_string()))
    }

    /// "phone" or "personal_qr": what the journal and the log say.
    pub fn kind(&self) -> &'static str {
        match self {
            Customer::Phone(_) => "phone",
            Customer::PersonalQr(_) => "personal_qr",
        }
    }

    /// For logs and receipts of the flow: "47******67", or the QR's length.
    pub fn masked(&self) -> String {
        match self {
            Customer::Phone(n) => {
                let keep = n.len().saturating_sub(2);
                format!("{}{}{}", &n[..2], "*".repeat(keep - 2), &n[keep..])
            }
            Customer::PersonalQr(q) => format!("personal QR ({} chars)", q.chars().count()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_as_volunteers_type_them() {
        let ok = |t: &str, want: &str| {
            assert_eq!(Customer::phone(t), Ok(Customer::Phone(want.into())), "{t}");
        };
        ok("91234567", "4791234567");
        ok("912 34 567", "4791234567");
        ok("41-23-45-67", "4741234567");
        ok("+47 912 34 567", "4791234567");
        ok("004791234567", "4791234567");
        ok("4791234567", "4791234567");
        // Another country: sent as typed; Vipps says whether it takes it.
        ok("4512345678", "4512345678");
        ok("358401234567", "358401234567");
    }

    #[test]
    fn phone_numbers_refused_before_any_call() {
        use CustomerError::*;
        let bad = |t: &str| Customer::phone(t).unwrap_err();
        assert!(matches!(bad(""), PhoneNotANumber(_)));
        assert!(matches!(bad("9123456"), PhoneNotANumber(_)));
        assert!(matches!(bad("912345678"), PhoneNotANumber(_)));
        assert!(matches!(bad("9123456a"), PhoneNotANumber(_)));
        assert!(matches!(bad("1234567890123456"), PhoneNotANumber(_)));
        // Landlines: 8 digits not starting with 4 or 9, with or without 47.
        assert!(matches!(bad("22334455"), PhoneNotMobile(_)));
        assert!(matches!(bad("+47 22 33 44 55"), PhoneNotMobile(_)));
        assert!(bad("22334455").to_string().contains("start with 4 or 9"));
    }

    #[test]
    fn personal_qr_is_kept_whole_and_only_trimmed() {
        let url = "https://qr.vipps.no/28/2/01/031/4791234567?v=1";
        assert_eq!(
            Customer::personal_qr(&format!("{url}\r\n")),
            Ok(Customer::PersonalQr(url.into()))
        );
        assert_eq!(
            Customer::personal_qr("abcd"),
            Err(CustomerError::QrNotACode(4))
        );
        assert!(Customer::personal_qr(&"x".repeat(256)).is_err());
        assert!(Customer::personal_qr("abc\u{1b}def").is_err());
    }

    #[test]
    fn masked_keeps_no_number() {
        assert_eq!(Customer::Phone("4791234567".into()).masked(), "47******67");
        let qr = Customer::PersonalQr("https://qr.vipps.no/28/2/01/031/4791234567?v=1".into());
        assert!(!qr.masked().contains("4791234567"));
        assert_eq!(qr.kind(), "personal_qr");
    }
}
