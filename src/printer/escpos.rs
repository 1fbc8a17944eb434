//! `Document` → ESC/POS bytes, through the `escpos` crate's command builder.
//!
//! Owns the byte stream a printer receives: init, code page PC865, styles,
//! raster logo, QR, cut and drawer kick. It must never lay anything out
//! (text arrives fitted) and never touch a connection: it only returns bytes.
//!
//! Three things bypass the crate's builder, on purpose:
//! - text: `escpos` sends characters missing from its PC865 table as UTF-8,
//!   which prints as garbage; we encode with our own table (`pc865`) so they
//!   print as '?', and the preview and test decoder share that table;
//! - the logo: the crate rasters images only with its `graphics` feature,
//!   which pulls in every `image` codec; our `Bitmap` already is `GS v 0` data;
//! - the drawer kick: the crate emits `ESC p m` without the two pulse-time
//!   bytes the command requires, so the printer would eat our next two bytes.

use std::{cell::RefCell, rc::Rc};

use escpos::{
    driver::Driver,
    errors::Result as EscposResult,
    printer::Printer,
    utils::{JustifyMode, PageCode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption},
};

use super::document::{Align, Bitmap, Block, Document, Size};
use super::error::PrintError;
use super::pc865;

/// ESC p 0 t1 t2: pulse drawer pin 2 for 50 ms on, 500 ms off (units of 2 ms).
pub const DRAWER_KICK: [u8; 5] = [0x1B, b'p', 0, 25, 250];

/// DLE DC4 1 0 1: pulse drawer pin 2 for 100 ms *now*. A real-time command:
/// the printer does it even while out of paper or with the cover open, so a
/// cash sale's drawer opens although its receipt is held. Sent on its own,
/// never inside a receipt.
pub const REALTIME_DRAWER_PULSE: [u8; 5] = [0x10, 0x14, 1, 0, 1];

/// An in-memory `escpos` driver: the printer writes here and we take the bytes.
#[derive(Clone, Default)]
pub struct VecDriver(pub Rc<RefCell<Vec<u8>>>);

impl VecDriver {
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}

impl Driver for VecDriver {
    fn name(&self) -> String {
        "memory".to_string()
    }
    fn write(&self, data: &[u8]) -> EscposResult<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> EscposResult<usize> {
        Ok(0)
    }
    fn flush(&self) -> EscposResult<()> {
        Ok(())
    }
}

/// The ESC/POS bytes for one document, starting with `ESC @` and `ESC t 5`.
pub fn render(doc: &Document) -> Result<Vec<u8>, PrintError> {
    let sink = VecDriver::default();
    let mut p = Printer::new(sink.clone(), Protocol::default(), None);
    emit(&mut p, doc).map_err(|e| PrintError::Render(e.to_string()))?;
    Ok(sink.take())
}

/// Style currently set on the printer, so each command is sent only on change.
#[derive(PartialEq, Clone, Copy)]
struct State {
    bold: bool,
    size: Size,
    align: Align,
}

fn emit(p: &mut Printer<VecDriver>, doc: &Document) -> EscposResult<()> {
    p.init()?.page_code(PageCode::PC865)?;
    let mut st = State {
        bold: false,
        size: Size::NORMAL,
        align: Align::Left,
    };
    let cols = doc.width.columns();
    for block in &doc.blocks {
        match block {
            Block::Text { text, style } => {
                set(
                    p,
                    &mut st,
                    State {
                        bold: style.bold,
                        size: style.size,
                        align: style.align,
                    },
                )?;
                line(p, text)?;
            }
            Block::Row { left, right, bold } => {
                set(
                    p,
                    &mut st,
                    State {
                        bold: *bold,
                        size: Size::NORMAL,
                        align: Align::Left,
                    },
                )?;
                line(p, &super::text::pad_row(left, right, cols))?;
            }
            Block::Separator => {
                set(
                    p,
                    &mut st,
                    State {
                        bold: false,
                        size: Size::NORMAL,
                        align: Align::Left,
                    },
                )?;
                line(p, &"-".repeat(cols))?;
            }
            Block::Image(bitmap) => {
                let centred = State {
                    align: Align::Center,
                    ..st
                };
                set(p, &mut st, centred)?;
                p.custom(&raster(bitmap))?;
            }
            Block::Qr { data, module_dots } => {
                let centred = State {
                    align: Align::Center,
                    ..st
                };
                set(p, &mut st, centred)?;
                let opt =
                    QRCodeOption::new(QRCodeModel::Model2, *module_dots, QRCodeCorrectionLevel::M);
                p.qrcode_option(data, opt)?;
            }
            Block::Feed(n) => {
                p.feeds(*n)?;
            }
            Block::Cut => {
                p.cut()?;
            }
            Block::DrawerKick => {
                p.custom(&DRAWER_KICK)?;
            }
        }
    }
    p.print()?;
    Ok(())
}

fn set(p: &mut Printer<VecDriver>, st: &mut State, want: State) -> EscposResult<()> {
    if want.align != st.align {
        p.justify(match want.align {
            Align::Left => JustifyMode::LEFT,
            Align::Center => JustifyMode::CENTER,
            Align::Right => JustifyMode::RIGHT,
        })?;
    }
    if want.bold != st.bold {
        p.bold(want.bold)?;
    }
    if want.size != st.size {
        p.size(want.size.width.clamp(1, 8), want.size.height.clamp(1, 8))?;
    }
    *st = want;
    Ok(())
}

fn line(p: &mut Printer<VecDriver>, text: &str) -> EscposResult<()> {
    let mut bytes = pc865::encode(text);
    bytes.push(b'\n');
    p.custom(&bytes)?;
    Ok(())
}

/// `GS v 0` normal-density raster: width in bytes and height in dots, little-endian.
pub fn raster(bitmap: &Bitmap) -> Vec<u8> {
    let row = bitmap.bytes_per_row();
    let h = bitmap.height as usize;
    let mut out = Vec::with_capacity(8 + row * h);
    out.extend_from_slice(&[0x1D, b'v', b'0', 0]);
    out.extend_from_slice(&[
        (row & 0xFF) as u8,
        (row >> 8) as u8,
        (h & 0xFF) as u8,
        (h >> 8) as u8,
    ]);
    out.extend_from_slice(&bitmap.bits[..row * h]);
    out
}
