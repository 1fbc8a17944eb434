//! A test-side ESC/POS decoder: bytes back to text lines with style markers.
//!
//! Written apart from `luka::printer` on purpose, so the golden tests check
//! the bytes against an independent reading of the protocol, not against the
//! code that produced them. It must never be used by the program itself.
//!
//! Each printed line comes back as `[markers]text`: `[B]` bold, `[2x]` double
//! width and height, `[2h]` double height, `[2w]` double width, `[C]`/`[R]`
//! centred/right. Other commands become lines of their own: `[INIT]`,
//! `[CP n]`, `[IMG wxh]`, `[QR data]`, `[FEED n]`, `[CUT]`, `[DRAWER]`.

#![allow(dead_code)]

/// PC865 bytes 0x80..=0xAF as Epson's code page table prints them.
const PC865_80: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø₧ƒáíóúñÑªº¿⌐¬½¼¡«¤";

fn pc865_char(b: u8) -> char {
    match b {
        0x20..=0x7E => b as char,
        0x80..=0xAF => PC865_80.chars().nth((b - 0x80) as usize).unwrap(),
        _ => '\u{FFFD}',
    }
}

#[derive(Default)]
struct State {
    bold: bool,
    width: u8,
    height: u8,
    align: u8,
    code_page: u8,
}

impl State {
    fn markers(&self) -> String {
        let mut m = String::new();
        match self.align {
            1 => m.push_str("[C]"),
            2 => m.push_str("[R]"),
            _ => {}
        }
        if self.bold {
            m.push_str("[B]");
        }
        match (self.width, self.height) {
            (2, 2) => m.push_str("[2x]"),
            (1, 2) => m.push_str("[2h]"),
            (2, 1) => m.push_str("[2w]"),
            _ => {}
        }
        m
    }
}

/// Decodes a whole byte stream; panics on anything it does not understand,
/// so an unexpected command fails the test instead of vanishing.
pub fn decode(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut st = State {
        width: 1,
        height: 1,
        ..State::default()
    };
    let mut line = String::new();
    let mut qr = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            0x0A => {
                out.push(format!("{}{}", st.markers(), line));
                line.clear();
                i += 1;
            }
            0x1B => {
                let cmd = bytes[i + 1];
                i += match cmd {
                    b'@' => {
                        st = State {
                            width: 1,
                            height: 1,
                            ..State::default()
                        };
                        out.push("[INIT]".into());
                        2
                    }
                    b't' => {
                        st.code_page = bytes[i + 2];
                        out.push(format!("[CP {}]", st.code_page));
                        3
                    }
                    b'E' => {
                        st.bold = bytes[i + 2] & 1 == 1;
                        3
                    }
                    b'a' => {
                        st.align = bytes[i + 2] % 48;
                        3
                    }
                    b'd' => {
                        out.push(format!("[FEED {}]", bytes[i + 2]));
                        3
                    }
                    b'p' => {
                        out.push("[DRAWER]".into());
                        5
                    }
                    other => panic!("unexpected ESC {other:#x} at {i}"),
                };
            }
            0x1D => {
                let cmd = bytes[i + 1];
                i += match cmd {
                    b'!' => {
                        let n = bytes[i + 2];
                        st.width = (n >> 4) + 1;
                        st.height = (n & 0x0F) + 1;
                        3
                    }
                    b'V' => {
                        out.push("[CUT]".into());
                        if matches!(bytes[i + 2], 65 | 66) {
                            4
                        } else {
                            3
                        }
                    }
                    b'v' => {
                        let w = bytes[i + 4] as usize + 256 * bytes[i + 5] as usize;
                        let h = bytes[i + 6] as usize + 256 * bytes[i + 7] as usize;
                        out.push(format!("[IMG {}x{}]", w * 8, h));
                        8 + w * h
                    }
                    b'(' => {
                        let len = bytes[i + 3] as usize + 256 * bytes[i + 4] as usize;
                        let body = &bytes[i + 5..i + 5 + len];
                        if body[0] == 49 && body[1] == 80 {
                            qr = String::from_utf8(body[3..].to_vec()).unwrap();
                        }
                        if body[0] == 49 && body[1] == 81 {
                            out.push(format!("[QR {qr}]"));
                        }
                        5 + len
                    }
                    other => panic!("unexpected GS {other:#x} at {i}"),
                };
            }
            0x20..=0xFF => {
                assert_eq!(st.code_page, 5, "text before ESC t 5 at {i}");
                line.push(pc865_char(b));
                i += 1;
            }
            other => panic!("unexpected control byte {other:#x} at {i}"),
        }
    }
    assert!(
        line.is_empty(),
        "text without a line feed at the end: {line:?}"
    );
    out
}
