//! `Money::parse`, the keypad's amount parser, and the keypad rules that
//! build its text. The first byte picks the target.
//!
//! An amount that parses is never negative, formats back ("149,50",
//! "kr 149,50") to text that parses to the same øre, and agrees with an
//! independent reading of the grammar; any key sequence the keypad accepts
//! gives text the parser takes.

use luka::domain::{AmountError, Currency, Money};
use luka::ui::keypad;

pub fn run(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    match pick % 3 {
        0 => text(&String::from_utf8_lossy(body)),
        1 => keys(body),
        _ => {
            if body.len() >= 8 {
                let minor = i64::from_le_bytes(body[..8].try_into().unwrap()).unsigned_abs();
                let m = Money::nok(i64::try_from(minor).unwrap_or(i64::MAX));
                assert_eq!(Money::parse(&m.format_plain(), Currency::NOK), Ok(m));
                assert_eq!(Money::parse(&m.to_string(), Currency::NOK), Ok(m));
            }
        }
    }
}

fn text(t: &str) {
    let parsed = Money::parse(t, Currency::NOK);
    if let Ok(m) = parsed {
        assert!(m.minor() >= 0, "{t:?} parsed as {m}");
        for back in [m.format_plain(), m.to_string()] {
            assert_eq!(
                Money::parse(&back, Currency::NOK),
                Ok(m),
                "{t:?} -> {back:?}"
            );
        }
    }
    if let Some(want) = oracle(t) {
        assert_eq!(parsed, want, "{t:?}");
    }
}

/// The grammar read a second way, for the texts it can judge on its own:
/// optional "kr" in front, optional ",-" or "kr" behind, digits with spaces
/// between, one ',' or '.', at most two decimals. `None`: not judged.
fn oracle(t: &str) -> Option<Result<Money, AmountError>> {
    let t = t.trim();
    let body = t.strip_prefix("kr").unwrap_or(t);
    let body = body.strip_suffix(",-").unwrap_or(body);
    let body = body.strip_suffix("kr").unwrap_or(body);
    if body.contains("kr") || body.contains(",-") || body.contains('-') {
        return None;
    }
    let squeezed: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if !squeezed
        .chars()
        .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    {
        return None;
    }
    let seps = squeezed.matches([',', '.']).count();
    if squeezed.is_empty() || seps > 1 {
        return None;
    }
    let (whole, frac) = squeezed.split_once([',', '.']).unwrap_or((&squeezed, ""));
    if (whole.is_empty() && frac.is_empty()) || frac.len() > 2 || whole.len() > 15 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(Ok(Money::nok(whole * 100 + frac)))
}

/// A run of keypad presses from an empty display.
fn keys(body: &[u8]) {
    const KEYS: [&str; 14] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ",", ".", "back", "x",
    ];
    let mut shown = String::new();
    for b in body {
        shown = keypad::amount(&shown, KEYS[usize::from(*b) % KEYS.len()]);
        let typed = shown.trim_end_matches(',');
        match Money::parse(typed, Currency::NOK) {
            Ok(m) => assert!(m.minor() <= 999_999_999, "{shown:?}"),
            Err(AmountError::Empty) => assert!(typed.is_empty(), "{shown:?}"),
            Err(e) => panic!("the keypad showed {shown:?}, which does not parse: {e}"),
        }
    }
}
