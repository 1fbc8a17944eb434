//! Code page 865 (Nordic), the character table behind `ESC t 5` on Epson-style printers.
//!
//! Owns the one mapping between Unicode and the printer's bytes, used by the
//! ESC/POS renderer, the byte interpreter and the preview so all three agree.
//! It must never let a control byte through: a product name must not be able
//! to inject a printer command.

/// `n` for `ESC t n` selecting PC865 on Epson TM printers and their clones.
pub const ESC_T_PC865: u8 = 5;

/// Bytes 0x80..=0xFF of PC865 (CP437 with ø at 0x9B, Ø at 0x9D, ¤ at 0xAF).
const HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', 'ø', '£', 'Ø', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '¤', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{A0}',
];

/// Characters PC865 lacks but that have an obvious one-character stand-in,
/// so widths stay what layout counted.
fn stand_in(c: char) -> Option<char> {
    Some(match c {
        '–' | '—' | '‐' | '‑' | '−' => '-',
        '‘' | '’' | '‚' | '´' => '\'',
        '“' | '”' | '„' => '"',
        '…' => '.',
        '\u{A0}' | '\u{2009}' | '\u{202F}' => ' ',
        _ => return None,
    })
}

/// The byte for one character; `None` when PC865 cannot print it.
pub fn encode_char(c: char) -> Option<u8> {
    let c = stand_in(c).unwrap_or(c);
    if (' '..='~').contains(&c) {
        return Some(c as u8);
    }
    HIGH.iter()
        .position(|&h| h == c && h != '\u{A0}')
        .map(|i| 0x80 + i as u8)
}

/// Text → PC865 bytes; the soft hyphen is dropped, anything unprintable is '?'.
pub fn encode(text: &str) -> Vec<u8> {
    text.chars()
        .filter(|&c| c != '\u{AD}')
        .map(|c| encode_char(c).unwrap_or(b'?'))
        .collect()
}

/// PC865 bytes → text. Control bytes come back as '?', as they never print.
pub fn decode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x20..=0x7E => b as char,
            0x80..=0xFF => HIGH[(b - 0x80) as usize],
            _ => '?',
        })
        .collect()
}

/// What the paper will show for `text`: the preview draws this, not the input.
pub fn printable(text: &str) -> String {
    decode(&encode(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norwegian_letters_have_their_pc865_code_points() {
        let cases = [
            ('æ', 0x91),
            ('Æ', 0x92),
            ('ø', 0x9B),
            ('Ø', 0x9D),
            ('å', 0x86),
            ('Å', 0x8F),
        ];
        for (c, byte) in cases {
            assert_eq!(encode_char(c), Some(byte), "{c}");
            assert_eq!(decode(&[byte]), c.to_string());
        }
        assert_eq!(encode("é ü ¤"), vec![0x82, b' ', 0x81, b' ', 0xAF]);
    }

    #[test]
    fn unprintables_become_question_marks_and_controls_never_pass() {
        assert_eq!(encode("€ 漢"), b"? ?");
        assert_eq!(encode("a\x1b@\n\x10"), b"a?@??");
        assert_eq!(
            printable("Trenings\u{AD}kvittering – KJØP…"),
            "Treningskvittering - KJØP."
        );
    }

    #[test]
    fn every_high_byte_round_trips() {
        for b in 0x80u8..=0xFE {
            assert_eq!(encode(&decode(&[b])), vec![b], "{b:#x}");
        }
    }

    /// The escpos crate carries its own PC865 table; ours must agree with it
    /// wherever it has a single byte for a character, or the same text would
    /// reach the printer as two different byte strings.
    #[test]
    fn agrees_with_the_escpos_crate_table() {
        use escpos::{
            printer::Printer,
            utils::{PageCode, Protocol},
        };
        let mut agreed = 0;
        for b in 0x80u8..=0xFE {
            let c = decode(&[b]);
            let sink = crate::printer::escpos::VecDriver::default();
            let mut p = Printer::new(sink.clone(), Protocol::default(), None);
            p.page_code(PageCode::PC865)
                .unwrap()
                .write(&c)
                .unwrap()
                .print()
                .unwrap();
            let theirs = sink.take()[3..].to_vec();
            if theirs.len() == 1 {
                assert_eq!(theirs, [b], "{c}");
                agreed += 1;
            }
        }
        assert!(agreed >= 100, "escpos knew only {agreed} PC865 characters");
        for c in "æøåÆØÅ".chars() {
            let sink = crate::printer::escpos::VecDriver::default();
            let mut p = Printer::new(sink.clone(), Protocol::default(), None);
            p.page_code(PageCode::PC865)
                .unwrap()
                .write(&c.to_string())
                .unwrap()
                .print()
                .unwrap();
            assert_eq!(sink.take()[3..], [encode_char(c).unwrap()], "{c}");
        }
    }
}
