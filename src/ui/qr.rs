//! The payment QR, rendered locally from the payment's `redirectUrl`: black
//! modules on white with the 4-module quiet zone scanners need. Pixels are
//! built off the UI thread; only the finished buffer crosses over.

use qrcode::{Color, EcLevel, QrCode};
use slint::{Rgb8Pixel, SharedPixelBuffer};

/// Pixels per module. The page scales the image to fit; starting from whole
/// modules keeps every edge sharp.
const SCALE: u32 = 8;
const QUIET: u32 = 4;

pub fn pixels(text: &str) -> Result<SharedPixelBuffer<Rgb8Pixel>, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut buf = SharedPixelBuffer::<Rgb8Pixel>::new(side, side);
    let white = Rgb8Pixel::new(255, 255, 255);
    let black = Rgb8Pixel::new(0, 0, 0);
    let px = buf.make_mut_slice();
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (x / SCALE, y / SCALE);
            let dark = mx >= QUIET
                && my >= QUIET
                && mx < modules + QUIET
                && my < modules + QUIET
                && colors[((my - QUIET) * modules + (mx - QUIET)) as usize] == Color::Dark;
            px[(y * side + x) as usize] = if dark { black } else { white };
        }
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_has_a_white_quiet_zone_and_dark_finder_patterns() {
        let buf = pixels("http://192.168.1.20:8099/phone/abc").unwrap();
        let side = buf.width();
        assert_eq!(side, buf.height());
        assert_eq!(side % SCALE, 0);
        let at = |x: u32, y: u32| buf.as_slice()[(y * side + x) as usize];
        assert_eq!(at(0, 0), Rgb8Pixel::new(255, 255, 255), "quiet zone");
        let finder = QUIET * SCALE + 1;
        assert_eq!(
            at(finder, finder),
            Rgb8Pixel::new(0, 0, 0),
            "finder pattern corner"
        );
    }
}
