//! The printed document: what `layout` produces and every renderer consumes.
//!
//! A `Document` is already fitted to its paper: every text line fits the
//! columns at its size. It carries no printer bytes and no pixels, so the
//! ESC/POS renderer and the PNG preview draw the very same thing. Nothing here
//! may know about a sale or a report.

/// The two paper rolls clubs buy. Font A is 12 dots wide on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaperWidth {
    Mm58,
    Mm80,
}

impl PaperWidth {
    /// Characters per line in font A at normal width.
    pub fn columns(self) -> usize {
        match self {
            PaperWidth::Mm58 => 32,
            PaperWidth::Mm80 => 48,
        }
    }

    /// Printable dots per line (203 dpi heads).
    pub fn dots(self) -> u32 {
        match self {
            PaperWidth::Mm58 => 384,
            PaperWidth::Mm80 => 576,
        }
    }

    /// From `width_mm` in the config; `None` names an unsupported roll.
    pub fn from_mm(mm: u32) -> Option<PaperWidth> {
        match mm {
            58 => Some(PaperWidth::Mm58),
            80 => Some(PaperWidth::Mm80),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// Character magnification, 1 or 2 in each direction (ESC/POS allows up to 8,
/// but a receipt never needs more than double).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub width: u8,
    pub height: u8,
}

impl Size {
    pub const NORMAL: Size = Size {
        width: 1,
        height: 1,
    };
    pub const DOUBLE: Size = Size {
        width: 2,
        height: 2,
    };
    pub const TALL: Size = Size {
        width: 1,
        height: 2,
    };
}

impl Default for Size {
    fn default() -> Size {
        Size::NORMAL
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub bold: bool,
    pub size: Size,
    pub align: Align,
}

impl Style {
    pub fn bold(mut self) -> Style {
        self.bold = true;
        self
    }
    pub fn size(mut self, size: Size) -> Style {
        self.size = size;
        self
    }
    pub fn align(mut self, align: Align) -> Style {
        self.align = align;
        self
    }
}

/// A 1-bit image, rows packed MSB first, 1 = black: exactly the raster
/// format of `GS v 0`, so rendering it is a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: u32,
    pub height: u32,
    pub bits: Vec<u8>,
}

impl Bitmap {
    pub fn bytes_per_row(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    pub fn is_black(&self, x: u32, y: u32) -> bool {
        let byte = self.bits[y as usize * self.bytes_per_row() + (x / 8) as usize];
        byte & (0x80 >> (x % 8)) != 0
    }

    /// Reads a PNG and thresholds it: dark, opaque pixels print.
    pub fn from_png(png: &[u8]) -> Result<Bitmap, image::ImageError> {
        let img =
            image::load_from_memory_with_format(png, image::ImageFormat::Png)?.to_luma_alpha8();
        let (width, height) = img.dimensions();
        let row = width.div_ceil(8) as usize;
        let mut bits = vec![0u8; row * height as usize];
        for (x, y, p) in img.enumerate_pixels() {
            let [luma, alpha] = p.0;
            if alpha >= 128 && luma < 128 {
                bits[y as usize * row + (x / 8) as usize] |= 0x80 >> (x % 8);
            }
        }
        Ok(Bitmap {
            width,
            height,
            bits,
        })
    }
}

/// One element of a receipt, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// One printed line; `layout` guarantees it fits at its size.
    Text { text: String, style: Style },
    /// Left and right text on one normal-size line, padded to the full width.
    Row {
        left: String,
        right: String,
        bold: bool,
    },
    /// A full-width line of dashes.
    Separator,
    /// A centred raster image.
    Image(Bitmap),
    /// A centred QR code printed by the printer itself (`GS ( k`).
    Qr { data: String, module_dots: u8 },
    /// Blank lines.
    Feed(u8),
    /// Feed to the cutter and cut.
    Cut,
    /// Pulse the cash drawer.
    DrawerKick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub width: PaperWidth,
    pub blocks: Vec<Block>,
}

impl Document {
    /// Every text as it will read, one string per line: handy for tests and logs.
    pub fn plain_lines(&self) -> Vec<String> {
        let cols = self.width.columns();
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } => Some(text.clone()),
                Block::Row { left, right, .. } => {
                    Some(crate::printer::text::pad_row(left, right, cols))
                }
                Block::Separator => Some("-".repeat(cols)),
                _ => None,
            })
            .collect()
    }
}
