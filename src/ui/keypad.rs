//! What a keypad press does to the text being typed: an amount in kroner
//! ("149,50") or a PIN. Pure, so every rule has a test.

/// The longest amount the keypad accepts: 9 999 999,99 is more than any
/// sale at a club kiosk, and short enough that an overflow is impossible.
const MAX_WHOLE_DIGITS: usize = 7;

/// Applies `key` ("0"–"9", ",", "back") to an amount. Keys that would make
/// it invalid (a second comma, a third decimal, a leading zero) are ignored.
pub fn amount(text: &str, key: &str) -> String {
    let mut out = text.to_string();
    match key {
        "back" => {
            out.pop();
        }
        "," | "." if !out.contains(',') => {
            if out.is_empty() {
                out.push('0');
            }
            out.push(',');
        }
        d if d.len() == 1 && d.as_bytes()[0].is_ascii_digit() => match out.split_once(',') {
            Some((_, decimals)) if decimals.len() >= 2 => {}
            Some(_) => out.push_str(d),
            None if out == "0" => out = d.to_string(),
            None if out.len() >= MAX_WHOLE_DIGITS => {}
            None => out.push_str(d),
        },
        _ => {}
    }
    out
}

/// Applies `key` to a PIN being typed (digits only, at most 12).
pub fn pin(text: &str, key: &str) -> String {
    let mut out = text.to_string();
    match key {
        "back" => {
            out.pop();
        }
        d if d.len() == 1 && d.as_bytes()[0].is_ascii_digit() && out.len() < 12 => out.push_str(d),
        _ => {}
    }
    out
}

/// Applies `key` to a phone number being typed: digits, and "+" only
/// first (a country code follows); at most 16 characters.
pub fn phone(text: &str, key: &str) -> String {
    let mut out = text.to_string();
    match key {
        "back" => {
            out.pop();
        }
        "+" if out.is_empty() => out.push('+'),
        d if d.len() == 1 && d.as_bytes()[0].is_ascii_digit() && out.len() < 16 => out.push_str(d),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_keys() {
        let typed = |keys: &[&str]| keys.iter().fold(String::new(), |t, k| phone(&t, k));
        assert_eq!(typed(&["+", "4", "7", "+", "9"]), "+479");
        assert_eq!(typed(&["9", "1", "back", "2"]), "92");
        assert_eq!(typed(&["1"; 20]).len(), 16);
        assert_eq!(typed(&[",", "a"]), "");
    }

    fn typed(keys: &[&str]) -> String {
        keys.iter().fold(String::new(), |t, k| amount(&t, k))
    }

    #[test]
    fn amounts_are_typed_the_norwegian_way() {
        let cases: &[(&[&str], &str)] = &[
            (&["1", "4", "9", ",", "5", "0"], "149,50"),
            (&["1", ",", "5", "0", "0"], "1,50"),
            (&[",", "5"], "0,5"),
            (&["0", "0", "7"], "7"),
            (&["1", ",", ",", "2"], "1,2"),
            (&["1", "2", "back"], "1"),
            (&["back"], ""),
            (&["1", "2", "3", "4", "5", "6", "7", "8"], "1234567"),
            (&["1", "x", "."], "1,"),
        ];
        for (keys, want) in cases {
            assert_eq!(typed(keys), *want, "keys {keys:?}");
        }
    }

    #[test]
    fn every_typed_amount_parses() {
        use crate::domain::{Currency, Money};
        for text in ["149,50", "1,5", "0,5", "1234567", "1,"] {
            let t = text.trim_end_matches(',');
            assert!(Money::parse(t, Currency::NOK).is_ok(), "{text}");
        }
    }

    #[test]
    fn pins_are_digits_only() {
        let p = ["1", "2", ",", "3", "OK", "4"]
            .iter()
            .fold(String::new(), |t, k| pin(&t, k));
        assert_eq!(p, "1234");
        assert_eq!(pin("1234", "back"), "123");
        assert_eq!(pin("123456789012", "3"), "123456789012");
    }
}
