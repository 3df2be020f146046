// SPDX-License-Identifier: MPL-2.0
//! Small grey patches of a frame, resampled from any source format.

use crate::image::{RgbSource, sample_bilinear};

/// An RGB colour's grey level (BT.601 luma weights).
pub fn grey([r, g, b]: [f32; 3]) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// A `size` x `size` grey patch of the square of side `side` centred at (`cx`, `cy`); pixels
/// outside the frame read as mid grey.
pub fn grey_patch<S: RgbSource + ?Sized>(src: &S, cx: f32, cy: f32, side: f32, size: usize) -> Vec<f32> {
    let step = side / size as f32;
    let x0 = cx - side / 2.0;
    let y0 = cy - side / 2.0;
    let mut out = Vec::with_capacity(size * size);
    for v in 0..size {
        for u in 0..size {
            let x = x0 + (u as f32 + 0.5) * step;
            let y = y0 + (v as f32 + 0.5) * step;
            out.push(grey(sample_bilinear(src, x, y, [128.0; 3])));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::PackedView;

    #[test]
    fn patch_samples_the_requested_square() {
        // 4x4 frame, left half black, right half white.
        let mut data = Vec::new();
        for _ in 0..4 {
            for x in 0..4 {
                let v = if x < 2 { 0 } else { 255 };
                data.extend_from_slice(&[v, v, v]);
            }
        }
        let view = PackedView::rgb(&data, 4, 4).unwrap();
        let p = grey_patch(&view, 2.0, 2.0, 4.0, 4);
        assert_eq!(p.len(), 16);
        assert!(p[0] < 1.0 && p[3] > 254.0);
        // Outside the frame: mid grey.
        let outside = grey_patch(&view, -100.0, -100.0, 4.0, 2);
        assert!(outside.iter().all(|&v| (v - 128.0).abs() < 1e-3));
    }
}
