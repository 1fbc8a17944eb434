//! Fitting text to a fixed number of columns: wrapping, truncating, padding.
//!
//! Widths are counted in characters, because a thermal printer's font A is
//! monospaced and every character we print is one byte in PC865. This module
//! knows nothing of receipts and must never pick styles or sizes.

/// Marks where a long word may break with a hyphen ("Trenings\u{AD}kvittering").
pub const SOFT_HYPHEN: char = '\u{AD}';

pub fn width(s: &str) -> usize {
    s.chars().filter(|&c| c != SOFT_HYPHEN).count()
}

fn visible(s: &str) -> String {
    s.chars().filter(|&c| c != SOFT_HYPHEN).collect()
}

/// `left` and `right` on one line of exactly `cols` characters when they fit;
/// otherwise they are joined by one space and the caller chose badly.
pub fn pad_row(left: &str, right: &str, cols: usize) -> String {
    let gap = cols.saturating_sub(width(left) + width(right)).max(1);
    format!("{left}{}{right}", " ".repeat(gap))
}

/// Keeps the first `max` characters, ending in ".." when something was cut,
/// so a reader sees that the name goes on.
pub fn truncate(s: &str, max: usize) -> String {
    let s = visible(s);
    if s.chars().count() <= max {
        return s;
    }
    let keep = max.saturating_sub(2);
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(&"..".chars().take(max - keep).collect::<String>());
    out
}

/// Word-wraps to `cols`. Words longer than a line break at a soft hyphen when
/// one fits (printing a '-'), and hard at the column otherwise (references).
pub fn wrap(text: &str, cols: usize) -> Vec<String> {
    let cols = cols.max(1);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let cur_w = width(&cur);
            let need = if cur.is_empty() {
                width(&word)
            } else {
                cur_w + 1 + width(&word)
            };
            if need <= cols {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(&visible(&word));
                break;
            }
            let room = if cur.is_empty() {
                cols
            } else {
                cols.saturating_sub(cur_w + 1)
            };
            if let Some((head, tail)) = split_at_soft_hyphen(&word, room) {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(&head);
                cur.push('-');
                lines.push(std::mem::take(&mut cur));
                word = tail;
                continue;
            }
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
                continue;
            }
            let chars: Vec<char> = visible(&word).chars().collect();
            lines.push(chars[..cols].iter().collect());
            word = chars[cols..].iter().collect();
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// The longest prefix ending at a soft hyphen that fits `room` with its '-'.
fn split_at_soft_hyphen(word: &str, room: usize) -> Option<(String, String)> {
    let mut best = None;
    for (i, c) in word.char_indices() {
        if c == SOFT_HYPHEN && width(&word[..i]) < room && i > 0 {
            best = Some(i);
        }
    }
    best.map(|i| {
        (
            visible(&word[..i]),
            word[i + SOFT_HYPHEN.len_utf8()..].to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_soft_hyphens_and_long_references() {
        let cases: &[(&str, usize, &[&str])] = &[
            ("Kaffe og vaffel", 32, &["Kaffe og vaffel"]),
            ("Kaffe og vaffel", 8, &["Kaffe og", "vaffel"]),
            (
                "Trenings\u{AD}kvittering – IKKJE",
                16,
                &["Trenings-", "kvittering –", "IKKJE"],
            ),
            ("Trenings\u{AD}kvittering", 24, &["Treningskvittering"]),
            ("ABCDEFGHIJKLMNOPQRST", 8, &["ABCDEFGH", "IJKLMNOP", "QRST"]),
            ("a ABCDEFGHIJ", 8, &["a", "ABCDEFGH", "IJ"]),
            ("", 8, &[]),
        ];
        for (text, cols, want) in cases {
            assert_eq!(wrap(text, *cols), *want, "{text:?} at {cols}");
        }
    }

    #[test]
    fn pads_and_truncates_to_the_column() {
        assert_eq!(pad_row("2 x Kaffe", "60,00", 20), "2 x Kaffe      60,00");
        assert_eq!(pad_row("abcdef", "123", 6), "abcdef 123");
        assert_eq!(truncate("Sjokoladekake", 8), "Sjokol..");
        assert_eq!(truncate("Kake", 8), "Kake");
    }
}
