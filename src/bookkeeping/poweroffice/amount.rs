//! Decimal numbers on the wire. PowerOffice's `CurrencyAmount` is a JSON number
//! in kroner (spec: `type: number, format: double`); Luka counts øre in an
//! `i64`. This file owns the exact conversion both ways, and the same for VAT
//! rates in basis points.
//!
//! It must never go through `f64`: the text is formatted from the integer and
//! parsed back digit by digit, and a JSON number that is not a whole number of
//! øre is refused rather than rounded.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// An amount in øre that travels as a JSON number in kroner: `-1234.50`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Nok(pub i64);

impl Serialize for Nok {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        raw_number(format_decimal(self.0, 2)).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Nok {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Nok, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        parse_decimal(raw.get(), 2)
            .map(Nok)
            .map_err(|e| D::Error::custom(format!("amount {}: {e}", raw.get())))
    }
}

/// A JSON number written exactly as `text`, which [`format_decimal`] made.
pub fn raw_number(text: String) -> Box<RawValue> {
    RawValue::from_string(text).expect("a formatted decimal is a JSON number")
}

/// `units` with `scale` implied decimals, as decimal text: (123450, 2) → `1234.50`.
pub fn format_decimal(units: i64, scale: u32) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    if scale == 0 {
        return format!("{sign}{abs}");
    }
    let div = 10u64.pow(scale);
    format!(
        "{sign}{}.{:0width$}",
        abs / div,
        abs % div,
        width = scale as usize
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("is not a JSON number")]
    NotANumber,
    #[error("has more than {0} decimals")]
    TooPrecise(u32),
    #[error("is too large")]
    TooLarge,
}

/// Parses a JSON number (`-12.5`, `1e3`, `0.10`) into units of `10^-scale`.
/// Digits past `scale` must be zeros: `12.345` is refused, never rounded.
pub fn parse_decimal(text: &str, scale: u32) -> Result<i64, DecimalError> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], exponent(&rest[i + 1..])?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || !digits_ok(int)
        || !digits_ok(frac)
        || (mantissa.contains('.') && frac.is_empty())
        || (int.len() > 1 && int.starts_with('0'))
    {
        return Err(DecimalError::NotANumber);
    }
    // value = digits × 10^(exponent − frac.len()); we want value × 10^scale.
    let digits = format!("{int}{frac}");
    let shift = exponent - frac.len() as i64 + i64::from(scale);
    let digits = digits.trim_start_matches('0');
    let units: i128 = if shift >= 0 {
        if digits.is_empty() {
            0
        } else if shift > 30 {
            return Err(DecimalError::TooLarge);
        } else {
            let base: i128 = digits.parse().map_err(|_| DecimalError::TooLarge)?;
            base.checked_mul(10i128.pow(shift as u32))
                .ok_or(DecimalError::TooLarge)?
        }
    } else {
        let cut = (-shift) as usize;
        let keep = digits.len().saturating_sub(cut);
        if !digits[keep..].bytes().all(|b| b == b'0') {
            return Err(DecimalError::TooPrecise(scale));
        }
        if keep == 0 {
            0
        } else {
            digits[..keep].parse().map_err(|_| DecimalError::TooLarge)?
        }
    };
    let units = if negative { -units } else { units };
    i64::try_from(units).map_err(|_| DecimalError::TooLarge)
}

/// A JSON exponent (`3`, `+3`, `-03`), however many digits it has: beyond
/// a million it only decides "too large" or "too precise", so it is capped
/// there instead of failing as "not a number" (`0e-99999999999` is 0).
fn exponent(text: &str) -> Result<i64, DecimalError> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecimalError::NotANumber);
    }
    let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX).min(1_000_000);
    Ok(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_integers() {
        for (ore, text) in [
            (0, "0.00"),
            (5, "0.05"),
            (-5, "-0.05"),
            (100, "1.00"),
            (123_450, "1234.50"),
            (-123_456, "-1234.56"),
            (i64::MIN, "-92233720368547758.08"),
        ] {
            assert_eq!(format_decimal(ore, 2), text, "{ore}");
        }
        assert_eq!(format_decimal(2500, 4), "0.2500");
        assert_eq!(format_decimal(-7, 0), "-7");
    }

    #[test]
    fn parses_exactly_or_refuses() {
        for (text, ore) in [
            ("0", 0),
            ("-0", 0),
            ("0.05", 5),
            ("-0.05", -5),
            ("1234.5", 123_450),
            ("1234.50", 123_450),
            ("1234.500", 123_450),
            ("12", 1200),
            ("1e3", 100_000),
            ("1.5E+1", 1500),
            ("125e-2", 125),
            ("92233720368547758.07", i64::MAX),
            ("0e-999999999999", 0),
            ("0.0e99999999999999999999", 0),
        ] {
            assert_eq!(parse_decimal(text, 2), Ok(ore), "{text}");
        }
        for (text, err) in [
            ("0.1234", DecimalError::TooPrecise(2)),
            ("0.30000000000000004", DecimalError::TooPrecise(2)),
            ("1e-3", DecimalError::TooPrecise(2)),
            ("1e40", DecimalError::TooLarge),
            ("1e99999999999999999999", DecimalError::TooLarge),
            ("1e-99999999999999999999", DecimalError::TooPrecise(2)),
            ("1e", DecimalError::NotANumber),
            ("1e+-5", DecimalError::NotANumber),
            ("92233720368547758.08", DecimalError::TooLarge),
            ("", DecimalError::NotANumber),
            ("1.", DecimalError::NotANumber),
            (".5", DecimalError::NotANumber),
            ("01", DecimalError::NotANumber),
            ("\"1\"", DecimalError::NotANumber),
            ("1,5", DecimalError::NotANumber),
        ] {
            assert_eq!(parse_decimal(text, 2), Err(err), "{text}");
        }
    }

    #[test]
    fn round_trips_through_json_text() {
        for ore in [0, 1, -1, 99, 100, 10_050, -987_654_321, 1 << 60] {
            let json = serde_json::to_string(&Nok(ore)).unwrap();
            assert_eq!(json, format_decimal(ore, 2));
            assert_eq!(serde_json::from_str::<Nok>(&json).unwrap(), Nok(ore));
        }
        assert!(serde_json::from_str::<Nok>("0.001").is_err());
        assert!(serde_json::from_str::<Nok>("\"1.00\"").is_err());
    }
}
