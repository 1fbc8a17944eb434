//! Money as an integer number of minor units (øre) with its currency.
//!
//! No floats anywhere near an amount: parsing goes from text straight to øre,
//! and arithmetic is checked so an overflow is an error, never a wrap.

use std::fmt;

use serde::{Deserialize, Serialize};

/// ISO 4217 currencies the till can handle. Vipps ePayment takes these three.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    #[default]
    NOK,
    DKK,
    EUR,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::NOK => "NOK",
            Currency::DKK => "DKK",
            Currency::EUR => "EUR",
        }
    }

    pub fn parse(code: &str) -> Option<Currency> {
        match code.trim().to_ascii_uppercase().as_str() {
            "NOK" => Some(Currency::NOK),
            "DKK" => Some(Currency::DKK),
            "EUR" => Some(Currency::EUR),
            _ => None,
        }
    }
}

/// An amount of money in minor units (øre for NOK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// Why a text could not be read as an amount. The messages are shown to a
/// cashier typing on a keypad, so they say what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("the amount is empty: type an amount like 150 or 149,50")]
    Empty,
    #[error("'{0}' is not an amount: use digits with at most two decimals, like 149,50")]
    Invalid(String),
    #[error("'{0}' has more than two decimals: øre is the smallest unit")]
    TooManyDecimals(String),
    #[error("'{0}' is too large for an amount")]
    TooLarge(String),
    #[error("amounts cannot be negative")]
    Negative,
}

/// The largest amount a single sale may carry: Vipps' own ceiling (650 000 kr).
pub const MAX_SALE_MINOR: i64 = 65_000_000;

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// An amount in Norwegian øre.
    pub const fn nok(ore: i64) -> Money {
        Money::new(ore, Currency::NOK)
    }

    pub const fn zero(currency: Currency) -> Money {
        Money::new(0, currency)
    }

    pub const fn minor(self) -> i64 {
        self.minor
    }

    pub const fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money::new(
            self.minor.checked_add(other.minor)?,
            self.currency,
        ))
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money::new(
            self.minor.checked_sub(other.minor)?,
            self.currency,
        ))
    }

    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        Some(Money::new(self.minor.checked_mul(factor)?, self.currency))
    }

    /// Reads what a cashier types: `150`, `149,50`, `149.5`, `1 234,00`, `kr 20`.
    /// A comma or a dot is the decimal separator; spaces group thousands.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, AmountError> {
        let cleaned: String = text
            .trim()
            .trim_start_matches("kr")
            .trim_end_matches(",-")
            .trim_end_matches("kr")
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
            .collect();
        if cleaned.is_empty() {
            return Err(AmountError::Empty);
        }
        if cleaned.starts_with('-') {
            return Err(AmountError::Negative);
        }
        let normalised = cleaned.replace(',', ".");
        let (whole, frac) = match normalised.split_once('.') {
            Some((w, f)) => (w, f),
            None => (normalised.as_str(), ""),
        };
        let digits_only = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty())
            || !digits_only(whole)
            || !digits_only(frac)
            || frac.contains('.')
        {
            return Err(AmountError::Invalid(text.trim().to_string()));
        }
        if frac.len() > 2 {
            return Err(AmountError::TooManyDecimals(text.trim().to_string()));
        }
        let too_large = || AmountError::TooLarge(text.trim().to_string());
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_large())?
        };
        let frac_minor: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().unwrap_or(0) * 10,
            _ => frac.parse::<i64>().unwrap_or(0),
        };
        let minor = whole
            .checked_mul(100)
            .and_then(|m| m.checked_add(frac_minor))
            .ok_or_else(too_large)?;
        Ok(Money::new(minor, currency))
    }

    /// "149,50" — the Norwegian way, without the currency.
    pub fn format_plain(self) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!("{sign}{},{:02}", group_thousands(abs / 100), abs % 100)
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Money {
    /// "kr 149,50" for NOK, "EUR 10,00" otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.currency {
            Currency::NOK => write!(f, "kr {}", self.format_plain()),
            other => write!(f, "{} {}", other.code(), self.format_plain()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_a_cashier_types() {
        let cases = [
            ("150", 15_000),
            ("149,50", 14_950),
            ("149.5", 14_950),
            ("0,05", 5),
            (",5", 50),
            ("1 234,00", 123_400),
            ("kr 20", 2_000),
            ("20,-", 2_000),
            ("20.", 2_000),
        ];
        for (text, minor) in cases {
            assert_eq!(
                Money::parse(text, Currency::NOK),
                Ok(Money::nok(minor)),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        assert_eq!(Money::parse("", Currency::NOK), Err(AmountError::Empty));
        assert_eq!(
            Money::parse("-5", Currency::NOK),
            Err(AmountError::Negative)
        );
        assert!(matches!(
            Money::parse("1,234", Currency::NOK),
            Err(AmountError::TooManyDecimals(_))
        ));
        assert!(matches!(
            Money::parse("12a", Currency::NOK),
            Err(AmountError::Invalid(_))
        ));
        assert!(matches!(
            Money::parse("1.2.3", Currency::NOK),
            Err(AmountError::Invalid(_))
        ));
        assert!(matches!(
            Money::parse(".", Currency::NOK),
            Err(AmountError::Invalid(_))
        ));
        assert!(matches!(
            Money::parse("99999999999999999999", Currency::NOK),
            Err(AmountError::TooLarge(_))
        ));
    }

    #[test]
    fn formats_the_norwegian_way() {
        assert_eq!(Money::nok(14_950).to_string(), "kr 149,50");
        assert_eq!(Money::nok(123_456_700).format_plain(), "1 234 567,00");
        assert_eq!(Money::nok(-5).format_plain(), "-0,05");
        assert_eq!(Money::new(1000, Currency::EUR).to_string(), "EUR 10,00");
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        assert_eq!(
            Money::nok(1).checked_add(Money::new(1, Currency::DKK)),
            None
        );
        assert_eq!(Money::nok(i64::MAX).checked_add(Money::nok(1)), None);
        assert_eq!(
            Money::nok(300).checked_sub(Money::nok(100)),
            Some(Money::nok(200))
        );
    }
}
