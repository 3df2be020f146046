// SPDX-License-Identifier: MPL-2.0
//! Borrowed views of video frames in the packed RGB-family formats, and bilinear sampling.
//!
//! Planar YUV frames (I420, NV12) are read the same way through [`YuvView`], so no element has
//! to convert a whole frame just to feed a model a 256x256 crop.

use crate::error::{ImageError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackedFormat {
    Rgb,
    Bgr,
    Rgba,
    Rgbx,
    Bgra,
    Bgrx,
    Argb,
    Xrgb,
    Abgr,
    Xbgr,
}

impl PackedFormat {
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            Self::Rgb | Self::Bgr => 3,
            _ => 4,
        }
    }

    /// Byte offsets of red, green and blue inside a pixel.
    pub fn rgb_offsets(self) -> [usize; 3] {
        match self {
            Self::Rgb | Self::Rgba | Self::Rgbx => [0, 1, 2],
            Self::Bgr | Self::Bgra | Self::Bgrx => [2, 1, 0],
            Self::Argb | Self::Xrgb => [1, 2, 3],
            Self::Abgr | Self::Xbgr => [3, 2, 1],
        }
    }
}

/// Anything a model input can be sampled from: RGB in 0..=255 at integer pixel positions.
pub trait RgbSource {
    fn width(&self) -> u32;
    fn height(&self) -> u32;
    /// The pixel at (x, y); callers keep x < width and y < height.
    fn rgb(&self, x: u32, y: u32) -> [f32; 3];

    /// The pixel in the source's own colour space (RGB, or Y, U, V). Resampling can average
    /// these and convert once at the end, because the conversion to RGB is affine.
    #[inline]
    fn native(&self, x: u32, y: u32) -> [f32; 3] {
        self.rgb(x, y)
    }
    /// The mean of the 2x2 block of [`Self::native`] pixels whose top-left corner is (x, y),
    /// x and y even; callers keep x + 1 < width and y + 1 < height. What halving a frame
    /// reads: a 4:2:0 frame answers it with one chroma sample instead of four.
    #[inline]
    fn native_mean_2x2(&self, x: u32, y: u32) -> [f32; 3] {
        mean_2x2_pixel_by_pixel(self, x, y)
    }
    /// Appends the [`Self::native`] pixels of row `y` from column `xs.start` up to `xs.end`
    /// (callers keep `xs.end` <= width and y < height) to `out`: what copying a region reads,
    /// row by row.
    #[inline]
    fn extend_native_row(&self, y: u32, xs: std::ops::Range<u32>, out: &mut Vec<[f32; 3]>) {
        out.extend(xs.map(|x| self.native(x, y)));
    }
    /// [`Self::native`] values (or averages of them) to RGB.
    #[inline]
    fn native_to_rgb(&self, v: [f32; 3]) -> [f32; 3] {
        v
    }
    /// An RGB colour in the source's own colour space (for padding).
    #[inline]
    fn rgb_to_native(&self, rgb: [f32; 3]) -> [f32; 3] {
        rgb
    }

    /// Runs `work` on the concrete source. A source that wraps several kinds of frame
    /// ([`FrameView`]) overrides this to pick its kind once per crop, not once per pixel.
    fn with_concrete<W: WithSource>(&self, work: W) -> W::Output {
        work.run(self)
    }
}

/// [`RgbSource::native_mean_2x2`] from the four [`RgbSource::native`] pixels.
#[inline]
pub fn mean_2x2_pixel_by_pixel<S: RgbSource + ?Sized>(src: &S, x: u32, y: u32) -> [f32; 3] {
    let block = [src.native(x, y), src.native(x + 1, y), src.native(x, y + 1), src.native(x + 1, y + 1)];
    let mut sum = [0f32; 3];
    for p in block {
        sum[0] += p[0];
        sum[1] += p[1];
        sum[2] += p[2];
    }
    sum.map(|s| s * 0.25)
}

/// Work over a whole frame that should be compiled for each concrete kind of source (a crop's
/// thousands of pixel reads), handed to [`RgbSource::with_concrete`].
pub trait WithSource {
    type Output;
    fn run<S: RgbSource + ?Sized>(self, src: &S) -> Self::Output;
}

/// A packed RGB-family frame: `stride` bytes per row, rows possibly padded.
#[derive(Debug, Clone, Copy)]
pub struct PackedView<'a> {
    data: &'a [u8],
    width: u32,
    height: u32,
    stride: usize,
    format: PackedFormat,
    offsets: [usize; 3],
    bpp: usize,
}

impl<'a> PackedView<'a> {
    pub fn new(data: &'a [u8], width: u32, height: u32, stride: usize, format: PackedFormat) -> Result<Self> {
        let bpp = format.bytes_per_pixel();
        if width == 0 || height == 0 {
            return Err(ImageError(format!("empty frame {width}x{height}")));
        }
        if stride < width as usize * bpp {
            return Err(ImageError(format!("stride {stride} is too small for {width} pixels of {format:?}")));
        }
        let needed = stride * (height as usize - 1) + width as usize * bpp;
        if data.len() < needed {
            return Err(ImageError(format!(
                "{width}x{height} {format:?} with stride {stride} needs {needed} bytes, got {}",
                data.len()
            )));
        }
        Ok(Self { data, width, height, stride, format, offsets: format.rgb_offsets(), bpp })
    }

    /// A tightly packed RGB buffer (as image decoders return).
    pub fn rgb(data: &'a [u8], width: u32, height: u32) -> Result<Self> {
        Self::new(data, width, height, width as usize * 3, PackedFormat::Rgb)
    }

    pub fn format(&self) -> PackedFormat {
        self.format
    }
}

impl RgbSource for PackedView<'_> {
    fn width(&self) -> u32 {
        self.width
    }
    fn height(&self) -> u32 {
        self.height
    }
    #[inline]
    fn rgb(&self, x: u32, y: u32) -> [f32; 3] {
        let i = y as usize * self.stride + x as usize * self.bpp;
        let p = &self.data[i..i + self.bpp];
        [p[self.offsets[0]] as f32, p[self.offsets[1]] as f32, p[self.offsets[2]] as f32]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YuvLayout {
    /// Y plane, then U and V planes at half resolution.
    I420,
    /// Y plane, then one plane of interleaved U, V at half resolution.
    Nv12,
}

/// A planar 4:2:0 frame (BT.601 limited range, as most cameras and decoders deliver).
#[derive(Debug, Clone, Copy)]
pub struct YuvView<'a> {
    y: &'a [u8],
    u: &'a [u8],
    v: &'a [u8],
    y_stride: usize,
    uv_stride: usize,
    /// 1 for I420 (separate planes), 2 for NV12 (interleaved).
    uv_step: usize,
    width: u32,
    height: u32,
}

impl<'a> YuvView<'a> {
    /// `planes` are the Y plane and, for I420, the U and V planes, or for NV12 the UV plane
    /// (pass it twice); `strides` likewise.
    pub fn new(layout: YuvLayout, planes: [&'a [u8]; 3], strides: [usize; 3], width: u32, height: u32) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(ImageError(format!("empty frame {width}x{height}")));
        }
        let (cw, ch) = (width.div_ceil(2) as usize, height.div_ceil(2) as usize);
        let (u, v, uv_step) = match layout {
            YuvLayout::I420 => (planes[1], planes[2], 1),
            YuvLayout::Nv12 => (planes[1], &planes[1][1.min(planes[1].len())..], 2),
        };
        let check = |name: &str, plane: &[u8], stride: usize, w: usize, h: usize| {
            if stride < w || plane.len() < stride * (h - 1) + w {
                Err(ImageError(format!("{layout:?} {name} plane too small for {width}x{height}")))
            } else {
                Ok(())
            }
        };
        check("Y", planes[0], strides[0], width as usize, height as usize)?;
        check("U", u, strides[1], (cw - 1) * uv_step + 1, ch)?;
        check("V", v, strides[1], (cw - 1) * uv_step + 1, ch)?;
        Ok(Self { y: planes[0], u, v, y_stride: strides[0], uv_stride: strides[1], uv_step, width, height })
    }
}

impl YuvView<'_> {
    /// Where the chroma sample of pixel (x, y) lies in the U and V planes: one sample per 2x2
    /// block.
    #[inline]
    fn chroma_index(&self, x: usize, y: usize) -> usize {
        (y / 2) * self.uv_stride + (x / 2) * self.uv_step
    }
}

/// A luma byte as [`YuvView`]'s native value. Luma outside the nominal 16..=235 turns into RGB
/// outside 0..=255, which per-pixel conversion clamps; clamping it here keeps averages of dark
/// (or bright) edges equal to averages of the converted pixels.
#[inline]
fn clamped_luma(v: u8) -> f32 {
    (v as f32).clamp(16.0, 235.0)
}

impl RgbSource for YuvView<'_> {
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
        let luma = clamped_luma(self.y[y as usize * self.y_stride + x as usize]);
        let ci = self.chroma_index(x as usize, y as usize);
        [luma, self.u[ci] as f32, self.v[ci] as f32]
    }
    #[inline]
    fn native_mean_2x2(&self, x: u32, y: u32) -> [f32; 3] {
        let (x, y) = (x as usize, y as usize);
        let i = y * self.y_stride + x;
        let (top, bottom) = (&self.y[i..i + 2], &self.y[i + self.y_stride..i + self.y_stride + 2]);
        // Summed in the order the generic mean adds them, so both give the same bits.
        let sum = clamped_luma(top[0]) + clamped_luma(top[1]) + clamped_luma(bottom[0]) + clamped_luma(bottom[1]);
        // An even-aligned 2x2 block shares one chroma sample.
        let ci = self.chroma_index(x, y);
        [sum * 0.25, self.u[ci] as f32, self.v[ci] as f32]
    }
    #[inline]
    fn extend_native_row(&self, y: u32, xs: std::ops::Range<u32>, out: &mut Vec<[f32; 3]>) {
        // The row's luma as one slice instead of an index per pixel.
        let (x0, x1, y) = (xs.start as usize, xs.end as usize, y as usize);
        let luma = &self.y[y * self.y_stride..][x0..x1];
        out.extend(luma.iter().zip(x0..x1).map(|(&l, x)| {
            let ci = self.chroma_index(x, y);
            [clamped_luma(l), self.u[ci] as f32, self.v[ci] as f32]
        }));
    }
    /// BT.601 limited range.
    #[inline]
    fn native_to_rgb(&self, [luma, u, v]: [f32; 3]) -> [f32; 3] {
        let (l, u, v) = (1.164 * (luma - 16.0), u - 128.0, v - 128.0);
        [
            (l + 1.596 * v).clamp(0.0, 255.0),
            (l - 0.392 * u - 0.813 * v).clamp(0.0, 255.0),
            (l + 2.017 * u).clamp(0.0, 255.0),
        ]
    }
    #[inline]
    fn rgb_to_native(&self, [r, g, b]: [f32; 3]) -> [f32; 3] {
        [
            16.0 + 0.257 * r + 0.504 * g + 0.098 * b,
            128.0 - 0.148 * r - 0.291 * g + 0.439 * b,
            128.0 + 0.439 * r - 0.368 * g - 0.071 * b,
        ]
    }
}

/// Any frame the elements receive: one type, so callers need no generic code per format and
/// the per-pixel dispatch is a predictable branch rather than a virtual call.
#[derive(Debug, Clone, Copy)]
pub enum FrameView<'a> {
    Packed(PackedView<'a>),
    Yuv(YuvView<'a>),
}

impl RgbSource for FrameView<'_> {
    fn width(&self) -> u32 {
        match self {
            Self::Packed(v) => v.width(),
            Self::Yuv(v) => v.width(),
        }
    }
    fn height(&self) -> u32 {
        match self {
            Self::Packed(v) => v.height(),
            Self::Yuv(v) => v.height(),
        }
    }
    #[inline]
    fn rgb(&self, x: u32, y: u32) -> [f32; 3] {
        match self {
            Self::Packed(v) => v.rgb(x, y),
            Self::Yuv(v) => v.rgb(x, y),
        }
    }
    fn with_concrete<W: WithSource>(&self, work: W) -> W::Output {
        match self {
            Self::Packed(v) => work.run(v),
            Self::Yuv(v) => work.run(v),
        }
    }
}

/// Bilinear sample at continuous position (x, y), pixel centres at integer + 0.5. Positions
/// outside the frame blend towards `fill`, as padding would.
#[inline]
pub fn sample_bilinear<S: RgbSource + ?Sized>(src: &S, x: f32, y: f32, fill: [f32; 3]) -> [f32; 3] {
    src.native_to_rgb(sample_native(src, x, y, src.rgb_to_native(fill)))
}

/// [`sample_bilinear`] in the source's own colour space, with `fill` in that space too.
/// Always inlined: it is the innermost loop of every crop, and inlined into a caller compiled
/// for AVX2 it is compiled for AVX2 too (`floor` one instruction, not a libm call).
#[inline(always)]
pub fn sample_native<S: RgbSource + ?Sized>(src: &S, x: f32, y: f32, fill: [f32; 3]) -> [f32; 3] {
    let fx = x - 0.5;
    let fy = y - 0.5;
    let x0 = fx.floor();
    let y0 = fy.floor();
    let (tx, ty) = (fx - x0, fy - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let (w, h) = (src.width() as i64, src.height() as i64);
    let (p00, p10, p01, p11) = if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
        // Inside: no padding checks (the common case for a crop around a person).
        let (x, y) = (x0 as u32, y0 as u32);
        (src.native(x, y), src.native(x + 1, y), src.native(x, y + 1), src.native(x + 1, y + 1))
    } else {
        let px = |xi: i64, yi: i64| {
            if xi < 0 || yi < 0 || xi >= w || yi >= h { fill } else { src.native(xi as u32, yi as u32) }
        };
        (px(x0, y0), px(x0 + 1, y0), px(x0, y0 + 1), px(x0 + 1, y0 + 1))
    };
    let mut out = [0.0; 3];
    for c in 0..3 {
        let top = p00[c] + (p10[c] - p00[c]) * tx;
        let bottom = p01[c] + (p11[c] - p01[c]) * tx;
        out[c] = top + (bottom - top) * ty;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_formats_read_the_right_channels() {
        let bgrx = [10u8, 20, 30, 0, 40, 50, 60, 0];
        let view = PackedView::new(&bgrx, 2, 1, 8, PackedFormat::Bgrx).unwrap();
        assert_eq!(view.rgb(1, 0), [60.0, 50.0, 40.0]);
        let xrgb = [0u8, 1, 2, 3];
        assert_eq!(PackedView::new(&xrgb, 1, 1, 4, PackedFormat::Xrgb).unwrap().rgb(0, 0), [1.0, 2.0, 3.0]);
    }

    #[test]
    fn short_buffers_and_strides_are_refused() {
        assert!(PackedView::new(&[0; 11], 2, 2, 6, PackedFormat::Rgb).is_err());
        assert!(PackedView::new(&[0; 12], 2, 2, 5, PackedFormat::Rgb).is_err());
        // Padded rows: the last row needs no padding.
        assert!(PackedView::new(&[0; 14], 2, 2, 8, PackedFormat::Rgb).is_ok());
    }

    #[test]
    fn bilinear_interpolates_between_pixel_centres() {
        let data = [0u8, 0, 0, 100, 100, 100];
        let view = PackedView::rgb(&data, 2, 1).unwrap();
        assert_eq!(sample_bilinear(&view, 0.5, 0.5, [0.0; 3])[0], 0.0);
        assert_eq!(sample_bilinear(&view, 1.0, 0.5, [0.0; 3])[0], 50.0);
        assert_eq!(sample_bilinear(&view, 1.5, 0.5, [0.0; 3])[0], 100.0);
        // Half a pixel beyond the right edge blends with the fill.
        assert_eq!(sample_bilinear(&view, 2.5, 0.5, [0.0; 3])[0], 0.0);
    }

    #[test]
    fn yuv_grey_and_red_convert() {
        // 2x2 I420: Y=126 (mid grey with neutral chroma) and a pure-red chroma sample.
        let y = [126u8; 4];
        let grey = YuvView::new(YuvLayout::I420, [&y, &[128], &[128]], [2, 1, 1], 2, 2).unwrap();
        let [r, g, b] = grey.rgb(1, 1);
        assert!((r - g).abs() < 1.0 && (g - b).abs() < 1.0 && (r - 128.0).abs() < 2.0, "{r} {g} {b}");
        // NV12 red: Y=81, U=90, V=240.
        let yr = [81u8; 4];
        let red = YuvView::new(YuvLayout::Nv12, [&yr, &[90, 240], &[90, 240]], [2, 2, 2], 2, 2).unwrap();
        let [r, g, b] = red.rgb(0, 0);
        assert!(r > 240.0 && g < 15.0 && b < 15.0, "{r} {g} {b}");
    }

    #[test]
    fn a_yuv_2x2_mean_and_a_row_read_at_once_are_its_pixels_to_the_bit() {
        // 6x4 I420 and NV12 with luma outside 16..=235 (clamped per pixel) and varied chroma.
        let y: Vec<u8> = (0..24u32).map(|i| (i * 53 % 256) as u8).collect();
        let (u, v): (Vec<u8>, Vec<u8>) =
            ((0..6u8).map(|i| 40 + 30 * i).collect(), (0..6u8).map(|i| 200 - 25 * i).collect());
        let uv: Vec<u8> = u.iter().zip(&v).flat_map(|(&a, &b)| [a, b]).collect();
        let i420 = YuvView::new(YuvLayout::I420, [&y, &u, &v], [6, 3, 3], 6, 4).unwrap();
        let nv12 = YuvView::new(YuvLayout::Nv12, [&y, &uv, &uv], [6, 6, 6], 6, 4).unwrap();
        for view in [i420, nv12] {
            for (x, y) in [(0, 0), (2, 0), (4, 2)] {
                let mut sum = [0f32; 3];
                for p in [view.native(x, y), view.native(x + 1, y), view.native(x, y + 1), view.native(x + 1, y + 1)] {
                    (0..3).for_each(|c| sum[c] += p[c]);
                }
                assert_eq!(view.native_mean_2x2(x, y), sum.map(|s| s * 0.25), "({x}, {y})");
            }
            // A row read at once: the pixels one by one, from odd and even columns.
            for (row, xs) in [(0, 0..6), (1, 1..4), (3, 3..6)] {
                let mut out = vec![[0.0; 3]];
                view.extend_native_row(row, xs.clone(), &mut out);
                let one_by_one: Vec<[f32; 3]> =
                    std::iter::once([0.0; 3]).chain(xs.map(|x| view.native(x, row))).collect();
                assert_eq!(out, one_by_one, "row {row}");
            }
        }
    }
}
