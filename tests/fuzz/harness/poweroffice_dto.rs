//! The PowerOffice Go wire types (`bookkeeping::poweroffice::dto`), the exact
//! øre ↔ JSON-number conversion (`amount.rs`) and the duplicate refusal's
//! voucher id. The first byte picks the target, the rest is the input.
//!
//! For amounts: a JSON number is read exactly or refused, never rounded;
//! what is read writes back to text that reads to the same øre; and the
//! value agrees with the number's own value.

use luka::bookkeeping::poweroffice::PowerOfficeError;
use luka::bookkeeping::poweroffice::amount::{DecimalError, Nok, format_decimal, parse_decimal};
use luka::bookkeeping::poweroffice::dto::*;
use luka::bookkeeping::poweroffice::duplicate::{is_duplicate_reference, voucher_id};
use luka::domain::voucher::{VoucherKind, transfer};

use super::round_trip;

pub fn run(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    match pick % 12 {
        0 => decimal(body),
        1 => nok(body),
        2 => {
            round_trip::<Vec<VoucherDto>>(body);
        }
        3 => {
            round_trip::<Vec<AccountTransactionDto>>(body);
        }
        4 => {
            round_trip::<Vec<GeneralLedgerAccountDto>>(body);
        }
        5 => {
            round_trip::<Vec<VatCodeDto>>(body);
        }
        6 => {
            round_trip::<ProblemDetails>(body);
        }
        7 => {
            round_trip::<OAuthError>(body);
            round_trip::<GatewayMessage>(body);
        }
        8 => {
            // Read-only shapes: they must parse or refuse, nothing else.
            let _ = serde_json::from_slice::<VoucherCreated>(body);
            let _ = serde_json::from_slice::<Vec<TransactionRef>>(body);
            if let Some(t) = round_trip::<TokenResponse>(body) {
                let _ = t.expires_in;
            }
        }
        9 => refusal(body),
        10 => {
            if body.len() >= 8 {
                let ore = i64::from_le_bytes(body[..8].try_into().unwrap());
                let scale = u32::from(body.get(8).copied().unwrap_or(2) % 5);
                let text = format_decimal(ore, scale);
                assert_eq!(parse_decimal(&text, scale), Ok(ore), "{text}");
            }
        }
        _ => {
            round_trip::<Vec<VoucherLineDto>>(body);
        }
    }
}

/// `parse_decimal` on a JSON number, at every scale Luka uses.
fn decimal(body: &[u8]) {
    let Some((&s, text)) = body.split_first() else {
        return;
    };
    let scale = u32::from(s % 5);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let parsed = parse_decimal(text, scale);
    let is_json_number = matches!(
        serde_json::from_str::<serde_json::Value>(text),
        Ok(serde_json::Value::Number(_))
    ) && text.trim() == text;
    if !is_json_number {
        // What is not a JSON number never reaches the parser from the wire;
        // whatever it says, it must not be a made-up amount.
        return;
    }
    let value: f64 = text.parse().expect("a JSON number is a float");
    match parsed {
        Ok(units) => {
            let back = format_decimal(units, scale);
            assert_eq!(parse_decimal(&back, scale), Ok(units), "{text} -> {back}");
            let exact = units as f64 / 10f64.powi(scale as i32);
            let tolerance = value.abs().max(1.0) * 1e-12;
            assert!(
                (exact - value).abs() <= tolerance,
                "{text} read as {units} at scale {scale}"
            );
        }
        Err(DecimalError::NotANumber) => panic!("{text} is a JSON number"),
        Err(DecimalError::TooLarge) => assert!(
            (value * 10f64.powi(scale as i32)).abs() >= 9.0e18,
            "{text} refused as too large at scale {scale}"
        ),
        Err(DecimalError::TooPrecise(_)) => {
            let scaled = value * 10f64.powi(scale as i32);
            // Exactly representable and whole: then it was not too precise.
            if scaled.abs() < 1e15 && value != 0.0 {
                assert!(
                    scaled.fract() != 0.0 || text.len() > 17,
                    "{text} refused as too precise at scale {scale}"
                );
            }
        }
    }
}

/// `Nok` straight from JSON text, as the client reads an amount.
fn nok(body: &[u8]) {
    if let Ok(n) = serde_json::from_slice::<Nok>(body) {
        let text = serde_json::to_string(&n).unwrap();
        assert_eq!(text, format_decimal(n.0, 2));
        assert_eq!(serde_json::from_str::<Nok>(&text).unwrap(), n);
    }
}

/// A 400 refusal with arbitrary words: the voucher id it names must be a
/// single word taken from those words, never invented.
fn refusal(body: &[u8]) {
    let text = String::from_utf8_lossy(body).to_string();
    let v = transfer(
        VoucherKind::VippsFees,
        "2026-11-30",
        "F".into(),
        "luka-kiosk-1-fees".into(),
        "fees".into(),
        "NOK",
        (7770, 1903),
        100,
    );
    for status in [400, 409, 500] {
        let e = PowerOfficeError::Http {
            status,
            text: text.clone(),
            retry_after: None,
        };
        let _ = is_duplicate_reference(&e);
        if let Ok(id) = voucher_id(&v, &[], &e) {
            assert!(!id.is_empty() && !id.contains(' '), "{id:?}");
            assert!(text.contains(&id), "{id:?} is not in {text:?}");
        }
    }
}
