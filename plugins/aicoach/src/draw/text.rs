// SPDX-License-Identifier: MPL-2.0
//! Anti-aliased text in DejaVu Sans Bold (compiled in; see `fonts/README.md`), at any pixel
//! size, so labels stay readable from 320x240 to 1080p.

use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};

use super::canvas::{Canvas, Rgb};

static FONT: LazyLock<FontRef<'static>> = LazyLock::new(|| {
    FontRef::try_from_slice(include_bytes!("../../fonts/DejaVuSans-Bold.ttf")).expect("the bundled font parses")
});

/// Width and height in pixels of `text` at `size` pixels.
pub fn measure(text: &str, size: f32) -> (f32, f32) {
    let font = FONT.as_scaled(PxScale::from(size));
    let mut width = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            width += font.kern(p, id);
        }
        width += font.h_advance(id);
        previous = Some(id);
    }
    (width, font.ascent() - font.descent())
}

/// Draws `text` with its top-left corner at (x, y); returns its width.
pub fn draw(canvas: &mut Canvas, x: f32, y: f32, text: &str, size: f32, colour: Rgb) -> f32 {
    let scale = PxScale::from(size);
    let font = FONT.as_scaled(scale);
    let baseline = y + font.ascent();
    let mut pen = x;
    let mut previous = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            pen += font.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, point(pen, baseline));
        if let Some(outline) = FONT.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                canvas.blend(bounds.min.x as i32 + gx as i32, bounds.min.y as i32 + gy as i32, colour, coverage);
            });
        }
        pen += font.h_advance(id);
        previous = Some(id);
    }
    pen - x
}

#[cfg(test)]
mod tests {
    use super::super::canvas::{Matrix, PixelLayout};
    use super::*;

    #[test]
    fn text_is_drawn_where_measured_and_scales() {
        let (w, h) = (200usize, 60usize);
        let mut rgb = vec![0u8; w * h * 3];
        let (mut e1, mut e2): ([u8; 0], [u8; 0]) = ([], []);
        let mut c = Canvas::new(
            PixelLayout::Packed { bytes: 3, rgb: [0, 1, 2] },
            Matrix::Bt601,
            w as u32,
            h as u32,
            [&mut rgb, &mut e1, &mut e2],
            [w * 3, 0, 0],
        );
        let (mw, mh) = measure("Bent knees", 20.0);
        let drawn = draw(&mut c, 10.0, 10.0, "Bent knees", 20.0, Rgb(255, 255, 255));
        assert!((drawn - mw).abs() < 1e-3);
        assert!(mh > 18.0 && mh < 30.0, "{mh}");
        let lit: Vec<(u32, u32)> = (0..h as u32)
            .flat_map(|y| (0..w as u32).map(move |x| (x, y)))
            .filter(|&(x, y)| c.rgb(x, y)[0] > 128)
            .collect();
        assert!(lit.len() > 100, "{} pixels lit", lit.len());
        assert!(lit.iter().all(|&(x, y)| x >= 9 && (x as f32) <= 11.0 + mw && y >= 9 && (y as f32) <= 11.0 + mh));
        // Some pixels are partly covered: anti-aliased.
        assert!((0..h as u32).any(|y| (0..w as u32).any(|x| (30..220).contains(&c.rgb(x, y)[0]))));
        assert!(measure("Bent knees", 40.0).0 > 1.9 * mw);
    }
}
