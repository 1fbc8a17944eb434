//! ESC/POS bytes → commands → `Document`: the printer's side of the wire.
//!
//! The preview driver turns what a till sends back into a picture with it,
//! and the simulator uses the tokenizer to find status queries without
//! mistaking image data for commands. It understands the subset `escpos`
//! emits and must never be used to decide what a receipt says.

use super::document::{Align, Bitmap, Block, Document, PaperWidth, Size, Style};
use super::pc865;

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const DLE: u8 = 0x10;
const EOT: u8 = 0x04;
const DC4: u8 = 0x14;

/// One command (or run of text) at the head of a byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    Text(&'a [u8]),
    LineFeed,
    Init,
    CodePage(u8),
    Align(u8),
    Bold(bool),
    /// `GS !` as sent: width − 1 in the high nibble, height − 1 in the low.
    Size(u8),
    Feed(u8),
    Cut,
    DrawerKick,
    Raster {
        width_bytes: usize,
        height: usize,
        data: &'a [u8],
    },
    /// `GS ( k` for QR (cn = 49): fn 67 module size, fn 80 store, fn 81 print, others ignored.
    QrModule(u8),
    QrStore(&'a [u8]),
    QrPrint,
    /// `DLE EOT n`: a real-time status request, answered at once by a printer.
    StatusQuery(u8),
    /// `DLE DC4 1 m t`: a real-time drawer pulse, done at once even while
    /// the printer is offline (out of paper, cover open).
    RealtimePulse,
    Other(&'a [u8]),
}

/// The command at the head of `b` and its length; `None` when `b` ends mid-command.
pub fn next_command(b: &[u8]) -> Option<(Command<'_>, usize)> {
    let at = |i: usize| b.get(i).copied();
    let first = at(0)?;
    let cmd = match first {
        b'\n' => (Command::LineFeed, 1),
        DLE if at(1)? == EOT => (Command::StatusQuery(at(2)?), 3),
        DLE if at(1)? == DC4 => {
            at(4)?;
            (Command::RealtimePulse, 5)
        }
        ESC => match at(1)? {
            b'@' => (Command::Init, 2),
            b't' => (Command::CodePage(at(2)?), 3),
            b'a' => (Command::Align(at(2)? % 48), 3),
            b'E' => (Command::Bold(at(2)? & 1 == 1), 3),
            b'd' => (Command::Feed(at(2)?), 3),
            b'p' => {
                at(4)?;
                (Command::DrawerKick, 5)
            }
            _ => (Command::Other(&b[..2]), 2),
        },
        GS => match at(1)? {
            b'!' => (Command::Size(at(2)?), 3),
            b'V' => match at(2)? {
                0 | 1 | 48 | 49 => (Command::Cut, 3),
                _ => {
                    at(3)?;
                    (Command::Cut, 4)
                }
            },
            b'v' => {
                at(7)?;
                let width_bytes = at(4)? as usize | (at(5)? as usize) << 8;
                let height = at(6)? as usize | (at(7)? as usize) << 8;
                let end = 8 + width_bytes * height;
                let data = b.get(8..end)?;
                (
                    Command::Raster {
                        width_bytes,
                        height,
                        data,
                    },
                    end,
                )
            }
            b'(' if at(2)? == b'k' => {
                let len = at(3)? as usize | (at(4)? as usize) << 8;
                let body = b.get(5..5 + len)?;
                let cmd = match (body.first(), body.get(1)) {
                    (Some(49), Some(67)) => Command::QrModule(body.get(2).copied().unwrap_or(3)),
                    (Some(49), Some(80)) => Command::QrStore(body.get(3..).unwrap_or_default()),
                    (Some(49), Some(81)) => Command::QrPrint,
                    _ => Command::Other(&b[..5 + len]),
                };
                (cmd, 5 + len)
            }
            _ => (Command::Other(&b[..2]), 2),
        },
        0x20..=0xFF => {
            let n = b.iter().take_while(|&&c| c >= 0x20).count();
            (Command::Text(&b[..n]), n)
        }
        _ => (Command::Other(&b[..1]), 1),
    };
    Some(cmd)
}

/// The receipts in a byte stream, one `Document` per cut; text after the
/// last cut makes a final document too.
pub fn interpret(bytes: &[u8], width: PaperWidth) -> Vec<Document> {
    let mut docs = Vec::new();
    let mut blocks = Vec::new();
    let mut style = Style::default();
    let mut line: Vec<u8> = Vec::new();
    let (mut qr_data, mut qr_module) = (String::new(), 3u8);
    let mut rest = bytes;
    while let Some((cmd, len)) = next_command(rest) {
        rest = &rest[len..];
        match cmd {
            Command::Text(t) => line.extend_from_slice(t),
            Command::LineFeed => {
                let text = pc865::decode(&std::mem::take(&mut line));
                blocks.push(Block::Text { text, style });
            }
            Command::Init => style = Style::default(),
            Command::Align(n) => {
                style.align = match n {
                    1 => Align::Center,
                    2 => Align::Right,
                    _ => Align::Left,
                }
            }
            Command::Bold(on) => style.bold = on,
            Command::Size(n) => {
                style.size = Size {
                    width: (n >> 4) + 1,
                    height: (n & 0x0F) + 1,
                }
            }
            Command::Feed(n) => blocks.push(Block::Feed(n)),
            Command::Cut => {
                blocks.push(Block::Cut);
                docs.push(Document {
                    width,
                    blocks: std::mem::take(&mut blocks),
                });
            }
            Command::DrawerKick => blocks.push(Block::DrawerKick),
            Command::Raster {
                width_bytes,
                height,
                data,
            } => {
                let bitmap = Bitmap {
                    width: width_bytes as u32 * 8,
                    height: height as u32,
                    bits: data.to_vec(),
                };
                blocks.push(Block::Image(bitmap));
            }
            Command::QrModule(n) => qr_module = n,
            Command::QrStore(d) => qr_data = String::from_utf8_lossy(d).into_owned(),
            Command::QrPrint => blocks.push(Block::Qr {
                data: qr_data.clone(),
                module_dots: qr_module,
            }),
            Command::CodePage(_)
            | Command::StatusQuery(_)
            | Command::RealtimePulse
            | Command::Other(_) => {}
        }
    }
    if !blocks.is_empty() {
        docs.push(Document { width, blocks });
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::{LayoutConfig, escpos::render, layout, samples};

    const REALTIME_PULSE_PROBE: [u8; 5] = crate::printer::escpos::REALTIME_DRAWER_PULSE;

    #[test]
    fn tokenizer_waits_for_whole_commands() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (b"\x1b", None),
            (b"\x1bt", None),
            (b"\x1bt\x05rest", Some(3)),
            (b"\x10\x04", None),
            (b"\x10\x04\x04", Some(3)),
            (b"\x1dv0\x00\x01\x00\x02\x00\xff", None),
            (b"\x1dv0\x00\x01\x00\x02\x00\xff\x10", Some(10)),
            (b"\x1bp\x00\x19", None),
            (b"\x10\x14\x01\x00", None),
            (&REALTIME_PULSE_PROBE, Some(5)),
            (b"Hei\n", Some(3)),
        ];
        for (bytes, want) in cases {
            assert_eq!(next_command(bytes).map(|(_, n)| n), *want, "{bytes:?}");
        }
    }

    #[test]
    fn rendered_receipts_read_back_as_the_same_lines() {
        for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
            for (name, input) in samples::all() {
                let doc = layout(&input, &LayoutConfig::new(width));
                let docs = interpret(&render(&doc).unwrap(), width);
                assert_eq!(docs.len(), 1, "{name}");
                let want: Vec<String> = doc
                    .plain_lines()
                    .iter()
                    .map(|l| pc865::printable(l))
                    .collect();
                assert_eq!(docs[0].plain_lines(), want, "{name} {width:?}");
            }
        }
    }
}
