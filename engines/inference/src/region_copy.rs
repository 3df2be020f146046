// SPDX-License-Identifier: MPL-2.0
//! A frame region copied in the source's own colour space, whole or shrunk to half its size
//! (each pixel the mean of a 2x2 block): what a crop that shrinks the picture samples instead of
//! the frame. Its pixels are contiguous and already decoded (a YUV pixel is three reads from
//! two planes), so the crop's scattered reads, four bilinear taps of four pixels each per crop
//! pixel, stay in cache; halved, each also covers four frame pixels.

use aicoach_vision::geometry::{Point, Rect, RotatedRect};
use aicoach_vision::image::RgbSource;

pub struct RegionCopy<'a, S: ?Sized> {
    src: &'a S,
    /// Native values, row by row.
    data: Vec<[f32; 3]>,
    width: u32,
    height: u32,
    /// The frame position of the region's top-left corner (even coordinates when halved).
    origin: (u32, u32),
    /// Frame pixels per copied pixel along a side: 1 or 2.
    scale: f32,
    /// Copied pixels the image moved up and left ([`Self::blur_2x2`]).
    shift: f32,
}

impl<'a, S: RgbSource + ?Sized> RegionCopy<'a, S> {
    fn new(src: &'a S, data: Vec<[f32; 3]>, (w, h): (usize, usize), (x0, y0): (i64, i64), scale: f32) -> Self {
        Self { src, data, width: w as u32, height: h as u32, origin: (x0 as u32, y0 as u32), scale, shift: 0.0 }
    }

    /// The part of `src` under `region` (frame pixels, grown by two for the samplers' reach,
    /// clipped to the frame), pixel for pixel: a crop sampling it reads what it would read from
    /// the frame, beyond whose edge it still finds nothing (`fill`). `None` when the region
    /// misses the frame.
    #[inline(always)]
    pub fn whole(src: &'a S, region: &Rect) -> Option<Self> {
        let (x0, y0, x1, y1) = span(src, region, 1);
        let (w, h) = ((x1 - x0) as usize, (y1 - y0) as usize);
        if w == 0 || h == 0 {
            return None;
        }
        let mut data = Vec::with_capacity(w * h);
        for y in y0 as u32..y1 as u32 {
            src.extend_native_row(y, x0 as u32..x1 as u32, &mut data);
        }
        Some(Self::new(src, data, (w, h), (x0, y0), 1.0))
    }

    /// The part of `src` under `region` (frame pixels, grown by a pixel for the samplers'
    /// reach, clipped to the frame), halved. Frame pixels beyond the frame's edge count as
    /// `fill` (native), as padding would; `None` when the region misses the frame.
    #[inline(always)]
    pub fn halved(src: &'a S, region: &Rect, fill: [f32; 3]) -> Option<Self> {
        let (fw, fh) = (src.width() as i64, src.height() as i64);
        let (x0, y0, x1, y1) = span(src, region, 2);
        let (w, h) = (((x1 - x0 + 1) / 2) as usize, ((y1 - y0 + 1) / 2) as usize);
        if w == 0 || h == 0 {
            return None;
        }
        let mut data = Vec::with_capacity(w * h);
        for j in 0..h {
            let y = y0 as u32 + 2 * j as u32;
            let rows = [y, y + 1];
            for i in 0..w {
                let x = x0 as u32 + 2 * i as u32;
                if (x as i64) + 1 < fw && (y as i64) + 1 < fh {
                    data.push(src.native_mean_2x2(x, y));
                    continue;
                }
                let mut sum = [0f32; 3];
                for yy in rows {
                    for xx in [x, x + 1] {
                        let p = if (xx as i64) < fw && (yy as i64) < fh { src.native(xx, yy) } else { fill };
                        sum[0] += p[0];
                        sum[1] += p[1];
                        sum[2] += p[2];
                    }
                }
                data.push(sum.map(|s| s * 0.25));
            }
        }
        Some(Self::new(src, data, (w, h), (x0, y0), 2.0))
    }

    /// Each pixel replaced by the mean of the 2x2 block it starts (the last row and column
    /// repeated): a box filter a single bilinear tap then reads as a wider footprint. The
    /// image moves half a pixel up and left, which [`Self::roi`] then accounts for.
    pub fn blur_2x2(&mut self) {
        let (w, h) = (self.width as usize, self.height as usize);
        for y in 0..h {
            let below = (y + 1).min(h - 1);
            for x in 0..w {
                let right = (x + 1).min(w - 1);
                let (a, b, c, d) = (
                    self.data[y * w + x],
                    self.data[y * w + right],
                    self.data[below * w + x],
                    self.data[below * w + right],
                );
                self.data[y * w + x] = [0, 1, 2].map(|k| (a[k] + b[k] + c[k] + d[k]) * 0.25);
            }
        }
        self.shift = 0.5;
    }

    /// `roi` (frame pixels) in this image's pixels.
    pub fn roi(&self, roi: &RotatedRect) -> RotatedRect {
        let (ox, oy, s) = (self.origin.0 as f32, self.origin.1 as f32, self.scale);
        RotatedRect {
            center: Point::new((roi.center.x - ox) / s - self.shift, (roi.center.y - oy) / s - self.shift),
            width: roi.width / s,
            height: roi.height / s,
            rotation: roi.rotation,
        }
    }
}

/// The frame pixels `x0..x1`, `y0..y1` a copy of `region` covers: the region grown by two for
/// the samplers' reach, its start rounded down to a multiple of `step` (a halved copy's 2x2
/// blocks start on even pixels), clipped to the frame.
fn span<S: RgbSource + ?Sized>(src: &S, region: &Rect, step: i64) -> (i64, i64, i64, i64) {
    let (fw, fh) = (src.width() as i64, src.height() as i64);
    let start = |v: f32, limit: i64| (((v.floor() as i64 - 2).max(0) / step) * step).min(limit);
    let (x0, y0) = (start(region.x, fw), start(region.y, fh));
    let x1 = ((region.x + region.w).ceil() as i64 + 2).clamp(x0, fw);
    let y1 = ((region.y + region.h).ceil() as i64 + 2).clamp(y0, fh);
    (x0, y0, x1, y1)
}

impl<S: RgbSource + ?Sized> RgbSource for RegionCopy<'_, S> {
    fn width(&self) -> u32 {
        self.width
    }
    fn height(&self) -> u32 {
        self.height
    }
    #[inline]
    fn rgb(&self, x: u32, y: u32) -> [f32; 3] {
        self.native_to_rgb(self.native(x, y))
    }
    #[inline]
    fn native(&self, x: u32, y: u32) -> [f32; 3] {
        self.data[y as usize * self.width as usize + x as usize]
    }
    #[inline]
    fn native_to_rgb(&self, v: [f32; 3]) -> [f32; 3] {
        self.src.native_to_rgb(v)
    }
    #[inline]
    fn rgb_to_native(&self, rgb: [f32; 3]) -> [f32; 3] {
        self.src.rgb_to_native(rgb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aicoach_vision::image::{PackedView, sample_native};

    #[test]
    fn each_pixel_is_the_mean_of_its_block_and_the_roi_follows() {
        // 4x2 grey ramp: 0, 10, 20, 30 on both rows.
        let data: Vec<u8> = (0..2).flat_map(|_| [0u8, 10, 20, 30]).flat_map(|v| [v, v, v]).collect();
        let view = PackedView::rgb(&data, 4, 2).unwrap();
        let half = RegionCopy::halved(&view, &Rect { x: 0.0, y: 0.0, w: 4.0, h: 2.0 }, [0.0; 3]).unwrap();
        assert_eq!((half.width(), half.height()), (2, 1));
        assert_eq!(half.rgb(0, 0), [5.0; 3]);
        assert_eq!(half.rgb(1, 0), [25.0; 3]);
        let roi = RotatedRect { center: Point::new(2.0, 1.0), width: 4.0, height: 2.0, rotation: 0.3 };
        let r = half.roi(&roi);
        assert_eq!((r.center, r.width, r.height, r.rotation), (Point::new(1.0, 0.5), 2.0, 1.0, 0.3));
    }

    #[test]
    fn blurring_averages_each_block_it_starts_and_the_roi_moves_with_the_picture() {
        // 6x4 frame, grey ramp along x: 0, 10, ..., 50; halved: 5, 25, 45 on both rows.
        let data: Vec<u8> = (0..4).flat_map(|_| (0..6).map(|x| 10 * x as u8)).flat_map(|v| [v, v, v]).collect();
        let view = PackedView::rgb(&data, 6, 4).unwrap();
        let mut half = RegionCopy::halved(&view, &Rect { x: 0.0, y: 0.0, w: 6.0, h: 4.0 }, [0.0; 3]).unwrap();
        assert_eq!((half.width(), half.height()), (3, 2));
        let roi = RotatedRect { center: Point::new(3.0, 2.0), width: 2.0, height: 2.0, rotation: 0.0 };
        let before = half.roi(&roi).center;
        let unblurred = sample_native(&half, before.x, before.y, [0.0; 3]);
        half.blur_2x2();
        assert_eq!(half.rgb(0, 0), [15.0; 3]);
        assert_eq!(half.rgb(1, 1), [35.0; 3]);
        // The last column repeats itself.
        assert_eq!(half.rgb(2, 0), [45.0; 3]);
        // The blurred pixel (0, 0) now stands where (0.5, 0.5) stood.
        let after = half.roi(&roi).center;
        assert_eq!((after.x, after.y), (before.x - 0.5, before.y - 0.5));
        // On a ramp the box filter changes nothing at the roi's centre.
        assert_eq!(sample_native(&half, after.x, after.y, [0.0; 3]), unblurred);
    }

    #[test]
    fn beyond_the_frame_is_fill_and_a_region_off_the_frame_is_none() {
        let data = [100u8; 3 * 3];
        let view = PackedView::rgb(&data, 3, 1).unwrap();
        let half = RegionCopy::halved(&view, &Rect { x: 0.0, y: 0.0, w: 3.0, h: 1.0 }, [0.0; 3]).unwrap();
        // The last block holds one frame pixel and three beyond the edge.
        assert_eq!(half.rgb(1, 0), [25.0; 3]);
        assert!(RegionCopy::halved(&view, &Rect { x: 50.0, y: 50.0, w: 3.0, h: 3.0 }, [0.0; 3]).is_none());
    }
}
