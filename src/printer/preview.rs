//! `Document` → PNG, the picture of the paper a receipt would come out as.
//!
//! Used by the preview driver (training mode on a desktop), the docs and the
//! tests. It draws what the printer would print: text through PC865 (so an
//! unprintable character shows as '?'), font A's 12×24 dot cell, double size
//! as twice the cell, one pixel per printer dot. It must never send anything
//! to a printer and never decide layout: lines arrive fitted.
//!
//! The font is DejaVu Sans Mono, bundled under `assets/fonts/` (Bitstream
//! Vera licence, redistribution allowed) so æøå render without system fonts.

use std::{collections::HashMap, sync::OnceLock};

use fontdue::{Font, FontSettings, Metrics};
use image::{GrayImage, Luma};

use super::document::{Align, Bitmap, Block, Document, Size};
use super::error::PrintError;
use super::pc865;

/// Font A: 12 dots wide, 24 high; a line advances 30 dots (printer default).
const CELL_W: u32 = 12;
const CELL_H: u32 = 24;
const LINE_GAP: u32 = 6;
/// Blank paper either side of the printable area, as on a real roll.
const MARGIN: u32 = 16;
/// Pixel size at which DejaVu Sans Mono advances 12 px (advance = 0.602 em).
const FONT_PX: f32 = 19.9;
const INK: Luma<u8> = Luma([0]);

struct Fonts {
    regular: Font,
    bold: Font,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let load = |bytes: &'static [u8]| {
            Font::from_bytes(bytes, FontSettings::default()).expect("bundled font parses")
        };
        Fonts {
            regular: load(include_bytes!("../../assets/fonts/DejaVuSansMono.ttf")),
            bold: load(include_bytes!("../../assets/fonts/DejaVuSansMono-Bold.ttf")),
        }
    })
}

/// The document as a PNG file's bytes.
pub fn render_png(doc: &Document) -> Result<Vec<u8>, PrintError> {
    let img = render_image(doc);
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| PrintError::Render(format!("PNG: {e}")))?;
    Ok(out.into_inner())
}

/// The document as a grey image, white paper and black dots.
pub fn render_image(doc: &Document) -> GrayImage {
    let dots = doc.width.dots();
    let height: u32 = doc.blocks.iter().map(block_height).sum::<u32>() + 2 * MARGIN;
    let mut img = GrayImage::from_pixel(dots + 2 * MARGIN, height, Luma([255]));
    let mut glyphs = GlyphCache::default();
    let mut y = MARGIN;
    for block in &doc.blocks {
        match block {
            Block::Text { text, style } => draw_line(
                &mut img,
                &mut glyphs,
                text,
                style.bold,
                style.size,
                style.align,
                dots,
                y,
            ),
            Block::Row { left, right, bold } => {
                let line = super::text::pad_row(left, right, doc.width.columns());
                draw_line(
                    &mut img,
                    &mut glyphs,
                    &line,
                    *bold,
                    Size::NORMAL,
                    Align::Left,
                    dots,
                    y,
                )
            }
            Block::Separator => {
                let line = "-".repeat(doc.width.columns());
                draw_line(
                    &mut img,
                    &mut glyphs,
                    &line,
                    false,
                    Size::NORMAL,
                    Align::Left,
                    dots,
                    y,
                )
            }
            Block::Image(bitmap) => draw_bitmap(
                &mut img,
                bitmap,
                MARGIN + (dots.saturating_sub(bitmap.width)) / 2,
                y,
            ),
            Block::Qr { data, module_dots } => {
                if let Some(qr) = qr_bitmap(data, *module_dots) {
                    draw_bitmap(&mut img, &qr, MARGIN + dots.saturating_sub(qr.width) / 2, y);
                }
            }
            Block::Cut => {
                // A dashed line where the knife goes, so a reader sees the end.
                let cut_y = y + CELL_H / 2;
                for x in (0..img.width()).filter(|x| x % 12 < 7) {
                    img.put_pixel(x, cut_y, INK);
                }
            }
            Block::Feed(_) | Block::DrawerKick => {}
        }
        y += block_height(block);
    }
    img
}

fn block_height(block: &Block) -> u32 {
    match block {
        Block::Text { style, .. } => CELL_H * style.size.height as u32 + LINE_GAP,
        Block::Row { .. } | Block::Separator => CELL_H + LINE_GAP,
        Block::Image(b) => b.height,
        Block::Qr { data, module_dots } => {
            qr_bitmap(data, *module_dots).map_or(0, |q| q.height) + LINE_GAP
        }
        Block::Feed(n) => (CELL_H + LINE_GAP) * *n as u32,
        Block::Cut => CELL_H,
        Block::DrawerKick => 0,
    }
}

#[derive(Default)]
struct GlyphCache(HashMap<(char, bool, u8), (Metrics, Vec<u8>)>);

impl GlyphCache {
    fn get(&mut self, c: char, bold: bool, height: u8) -> &(Metrics, Vec<u8>) {
        self.0.entry((c, bold, height)).or_insert_with(|| {
            let f = fonts();
            let font = if bold { &f.bold } else { &f.regular };
            font.rasterize(c, FONT_PX * height as f32)
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_line(
    img: &mut GrayImage,
    glyphs: &mut GlyphCache,
    text: &str,
    bold: bool,
    size: Size,
    align: Align,
    dots: u32,
    top: u32,
) {
    let (sw, sh) = (size.width.max(1) as u32, size.height.max(1) as u32);
    let shown = pc865::printable(text);
    let line_w = shown.chars().count() as u32 * CELL_W * sw;
    let left = MARGIN
        + match align {
            Align::Left => 0,
            Align::Center => dots.saturating_sub(line_w) / 2,
            Align::Right => dots.saturating_sub(line_w),
        };
    // DejaVu's ascent at this size is about 19 of the cell's 24 dots.
    let baseline = top as i64 + (19 * sh) as i64;
    for (i, c) in shown.chars().enumerate() {
        let (m, cov) = glyphs.get(c, bold, size.height.max(1));
        let cell_x = left as i64 + (i as u32 * CELL_W * sw) as i64;
        // The glyph is rasterised at the cell's height; a width factor other
        // than the height factor stretches it sideways, as the printer does.
        let (out_w, src_w) = ((m.width as u32 * sw).div_ceil(sh), m.width.max(1) as u32);
        for gy in 0..m.height as u32 {
            for ox in 0..out_w {
                let gx = (ox * sh / sw).min(src_w - 1);
                if cov[(gy * src_w + gx) as usize] < 110 {
                    continue;
                }
                let x = cell_x + (m.xmin as i64 * sw as i64) / sh as i64 + ox as i64;
                let y = baseline - m.ymin as i64 - m.height as i64 + gy as i64;
                if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
                    img.put_pixel(x as u32, y as u32, INK);
                }
            }
        }
    }
}

fn draw_bitmap(img: &mut GrayImage, b: &Bitmap, left: u32, top: u32) {
    for y in 0..b.height {
        for x in 0..b.width {
            if b.is_black(x, y) && left + x < img.width() && top + y < img.height() {
                img.put_pixel(left + x, top + y, INK);
            }
        }
    }
}

/// The QR the printer would draw: error correction M, a 4-module quiet zone.
fn qr_bitmap(data: &str, module_dots: u8) -> Option<Bitmap> {
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M).ok()?;
    let n = code.width() as u32;
    let m = module_dots.max(1) as u32;
    let side = (n + 8) * m;
    let row = side.div_ceil(8) as usize;
    let mut bits = vec![0u8; row * side as usize];
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i as u32 % n + 4, i as u32 / n + 4);
        for y in my * m..(my + 1) * m {
            for x in mx * m..(mx + 1) * m {
                bits[y as usize * row + (x / 8) as usize] |= 0x80 >> (x % 8);
            }
        }
    }
    Some(Bitmap {
        width: side,
        height: side,
        bits,
    })
}
