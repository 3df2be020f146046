// SPDX-License-Identifier: MPL-2.0
//! A frame seen through a window: black outside one rectangle, as if the picture ended there.
//!
//! A single-person model shown a square around the athlete takes whoever it likes best in it;
//! with a neighbour beside them in a small or crowded picture, that is sometimes the neighbour.
//! Shown the same square with everything outside the athlete's box blacked out, it has only the
//! athlete to choose.

use crate::geometry::Rect;
use crate::image::{RgbSource, WithSource, mean_2x2_pixel_by_pixel};

/// `inner` with every pixel outside `window` black.
pub struct Masked<'a, S: ?Sized> {
    inner: &'a S,
    /// Pixels kept: x0 <= x < x1, y0 <= y < y1.
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

impl<'a, S: RgbSource + ?Sized> Masked<'a, S> {
    /// The pixels whose centres lie inside `window` are kept.
    pub fn new(inner: &'a S, window: &Rect) -> Self {
        let edge = |v: f32, limit: u32| (v - 0.5).ceil().clamp(0.0, limit as f32) as u32;
        Self {
            inner,
            x0: edge(window.x, inner.width()),
            y0: edge(window.y, inner.height()),
            x1: edge(window.x + window.w, inner.width()),
            y1: edge(window.y + window.h, inner.height()),
        }
    }

    #[inline]
    fn keeps(&self, x: u32, y: u32) -> bool {
        x >= self.x0 && x < self.x1 && y >= self.y0 && y < self.y1
    }

    fn black(&self) -> [f32; 3] {
        self.inner.rgb_to_native([0.0; 3])
    }
}

impl<S: RgbSource + ?Sized> RgbSource for Masked<'_, S> {
    fn width(&self) -> u32 {
        self.inner.width()
    }
    fn height(&self) -> u32 {
        self.inner.height()
    }
    #[inline]
    fn rgb(&self, x: u32, y: u32) -> [f32; 3] {
        if self.keeps(x, y) { self.inner.rgb(x, y) } else { [0.0; 3] }
    }
    #[inline]
    fn native(&self, x: u32, y: u32) -> [f32; 3] {
        if self.keeps(x, y) { self.inner.native(x, y) } else { self.black() }
    }
    #[inline]
    fn native_mean_2x2(&self, x: u32, y: u32) -> [f32; 3] {
        if self.keeps(x, y) && self.keeps(x + 1, y + 1) {
            return self.inner.native_mean_2x2(x, y);
        }
        // Across the window's edge: the black pixels count.
        mean_2x2_pixel_by_pixel(self, x, y)
    }
    #[inline]
    fn native_to_rgb(&self, v: [f32; 3]) -> [f32; 3] {
        self.inner.native_to_rgb(v)
    }
    #[inline]
    fn rgb_to_native(&self, rgb: [f32; 3]) -> [f32; 3] {
        self.inner.rgb_to_native(rgb)
    }
    /// The inner frame's kind is picked once, the window kept around it.
    fn with_concrete<W: WithSource>(&self, work: W) -> W::Output {
        struct Windowed<W> {
            work: W,
            window: [u32; 4],
        }
        impl<W: WithSource> WithSource for Windowed<W> {
            type Output = W::Output;
            fn run<T: RgbSource + ?Sized>(self, src: &T) -> W::Output {
                let [x0, y0, x1, y1] = self.window;
                self.work.run(&Masked { inner: src, x0, y0, x1, y1 })
            }
        }
        self.inner.with_concrete(Windowed { work, window: [self.x0, self.y0, self.x1, self.y1] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{PackedView, YuvLayout, YuvView};

    #[test]
    fn pixels_outside_the_window_are_black_and_inside_unchanged() {
        let data: Vec<u8> = (0..4 * 3 * 3).map(|i| 10 + i as u8).collect();
        let frame = PackedView::rgb(&data, 4, 3).unwrap();
        // Centres of columns 1..=2 and rows 0..=1.
        let masked = Masked::new(&frame, &Rect { x: 0.8, y: -3.0, w: 2.4, h: 4.9 });
        for y in 0..3 {
            for x in 0..4 {
                let inside = (1..=2).contains(&x) && y <= 1;
                let expected = if inside { frame.rgb(x, y) } else { [0.0; 3] };
                assert_eq!(masked.rgb(x, y), expected, "({x}, {y})");
                assert_eq!(masked.native_to_rgb(masked.native(x, y)), expected, "({x}, {y})");
            }
        }
        // A 2x2 block across the window's edge averages the black in.
        let across = masked.native_mean_2x2(2, 0);
        let inside = [frame.native(2, 0), frame.native(2, 1)];
        for c in 0..3 {
            assert!((across[c] - (inside[0][c] + inside[1][c]) / 4.0).abs() < 1e-4);
        }
    }

    #[test]
    fn black_is_black_in_a_yuv_frame_too() {
        let (w, h) = (4u32, 4u32);
        let y = vec![200u8; 16];
        let uv = vec![90u8; 4];
        let frame = YuvView::new(YuvLayout::I420, [&y, &uv, &uv], [4, 2, 2], w, h).unwrap();
        let masked = Masked::new(&frame, &Rect { x: 0.0, y: 0.0, w: 2.0, h: 2.0 });
        let rgb = masked.native_to_rgb(masked.native(3, 3));
        assert!(rgb.iter().all(|v| v.abs() < 1.0), "{rgb:?}");
        assert_eq!(masked.native_to_rgb(masked.native(0, 0)), frame.native_to_rgb(frame.native(0, 0)));
    }
}
