// SPDX-License-Identifier: MPL-2.0
//! Frame to model input: one pass that crops a rotated region, resamples it to the model's
//! size, normalises and lays out the values. Letterboxing is the special case of an upright
//! square region larger than the frame.

use crate::models::Layout;
use crate::tensor::Tensor;
use aicoach_vision::geometry::{Affine, Point, RotatedRect};
use aicoach_vision::image::{RgbSource, WithSource, sample_native};

use crate::region_copy::RegionCopy;

/// How raw 0..=255 values become model inputs: `value * scale[c] + offset[c]`, per output
/// channel, after optional channel reversal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalization {
    pub scale: [f32; 3],
    pub offset: [f32; 3],
    /// Feed channels as BGR instead of RGB.
    pub bgr: bool,
    /// Value of pixels outside the frame, in raw 0..=255 units.
    pub fill: [f32; 3],
}

impl Normalization {
    /// `x / 127.5 - 1` into [-1, 1], black padding (the BlazePose detector).
    pub const SIGNED_UNIT: Self = Self { scale: [1.0 / 127.5; 3], offset: [-1.0; 3], bgr: false, fill: [0.0; 3] };
    /// `x / 255` into [0, 1], black padding (the BlazePose landmark models).
    pub const UNIT: Self = Self { scale: [1.0 / 255.0; 3], offset: [0.0; 3], bgr: false, fill: [0.0; 3] };
    /// NanoDet's BGR mean and standard deviation, grey (114) padding.
    pub const NANODET: Self = Self {
        scale: [1.0 / 57.375, 1.0 / 57.12, 1.0 / 58.395],
        offset: [-103.53 / 57.375, -116.28 / 57.12, -123.675 / 58.395],
        bgr: true,
        fill: [114.0; 3],
    };
}

/// The tensor for one model input and the map from its pixels back to the frame.
#[derive(Debug, Clone)]
pub struct PreparedInput {
    pub tensor: Tensor,
    /// Crop pixel coordinates to frame pixel coordinates.
    pub to_frame: Affine,
}

impl PreparedInput {
    pub fn point_to_frame(&self, x: f32, y: f32) -> Point {
        self.to_frame.apply(Point::new(x, y))
    }
}

/// Most taps per axis when a crop pixel covers several frame pixels. 2x2 taps of a bilinear
/// sample already average a 3x3-pixel footprint; 4x4 cost four times as much (11 ms instead of
/// 3 for a 224 letterbox of 1280x720, measured) for no change in keypoints at PCK precision.
const MAX_TAPS: usize = 2;

/// How a crop that shrinks the picture averages the frame under each of its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shrink {
    /// Up to 2x2 bilinear taps per crop pixel, read from the frame.
    EveryTap,
    /// The same taps, read from a copy of the region: contiguous reads, whole where the crop
    /// shrinks by 1 to 2 (`COPY_SCALES`: the same values), halved where it shrinks by 2 to 4
    /// (`HALVE_SCALES`: fewer reads). What the detectors' thresholds were set with.
    Taps,
    /// As `Taps`, but where both axes shrink by 2 to 4, one bilinear tap of the half-size copy
    /// blurred by a 2x2 box: a footprint of about 6x6 frame pixels in a quarter of the reads
    /// (landmark crop 256 from 1280x720 I420: 2.60 -> 1.67 ms, AMD EPYC). The pose models':
    /// development PCK padded 89.3 -> 89.6, clipped 81.7 -> 82.8 with it (the detectors' inputs
    /// blurred as well: 90.8 and 83.1, but the BlazePose detector's box then turned MoveNet's
    /// sides round on a test photo, and their thresholds were set with `Taps`). A crop
    /// stretched less along one axis keeps the taps: the blur would smear that axis.
    Smooth,
}

/// Crops `roi` out of `src` into a `size` x `size` tensor in `layout`, normalised by `norm`.
///
/// When shrinking, each output pixel averages a grid of bilinear taps over its footprint
/// (like an area filter), so fine detail does not alias into the model input ([`Shrink::Taps`]).
pub fn crop_to_tensor<S: RgbSource + ?Sized>(
    src: &S,
    roi: &RotatedRect,
    size: usize,
    layout: Layout,
    norm: &Normalization,
) -> PreparedInput {
    crop_to_tensor_with(src, roi, (size, size), layout, norm, Shrink::Taps)
}

/// [`crop_to_tensor`] into `cols` x `rows` pixels (for a model that takes any input size),
/// shrinking as `shrink` says.
pub fn crop_to_tensor_with<S: RgbSource + ?Sized>(
    src: &S,
    roi: &RotatedRect,
    (cols, rows): (usize, usize),
    layout: Layout,
    norm: &Normalization,
    shrink: Shrink,
) -> PreparedInput {
    src.with_concrete(Crop { roi, cols, rows, layout, norm, shrink })
}

/// [`crop_to_tensor`] with every tap read from the frame ([`Shrink::EveryTap`]): what the CUDA
/// kernel computes, one thread per crop pixel, with no copy to make.
pub fn crop_to_tensor_every_tap<S: RgbSource + ?Sized>(
    src: &S,
    roi: &RotatedRect,
    size: usize,
    layout: Layout,
    norm: &Normalization,
) -> PreparedInput {
    crop_to_tensor_with(src, roi, (size, size), layout, norm, Shrink::EveryTap)
}

/// [`crop_to_tensor_with`]'s arguments, run on the concrete source behind a [`FrameView`]
/// (see [`RgbSource::with_concrete`]).
///
/// [`FrameView`]: aicoach_vision::image::FrameView
struct Crop<'a> {
    roi: &'a RotatedRect,
    cols: usize,
    rows: usize,
    layout: Layout,
    norm: &'a Normalization,
    shrink: Shrink,
}

impl WithSource for Crop<'_> {
    type Output = PreparedInput;
    fn run<S: RgbSource + ?Sized>(self, src: &S) -> PreparedInput {
        crop_resampled(src, self.roi, (self.cols, self.rows), self.layout, self.norm, self.shrink)
    }
}

/// [`crop_to_tensor_with`] for one concrete kind of source.
///
/// The taps are averaged in the source's own colour space and converted to RGB once per
/// output pixel: for YUV frames that is one conversion instead of sixteen.
pub fn crop_resampled<S: RgbSource + ?Sized>(
    src: &S,
    roi: &RotatedRect,
    size: (usize, usize),
    layout: Layout,
    norm: &Normalization,
    shrink: Shrink,
) -> PreparedInput {
    // The same loop compiled for AVX2 and FMA where the CPU has them (any x86-64 of the last
    // decade): `floor` becomes one instruction instead of a libm call per tap, and the
    // arithmetic is fused. Without them, the baseline x86-64 build.
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features the function is compiled for (checked above).
        return unsafe { crop_resampled_avx2(src, roi, size, layout, norm, shrink) };
    }
    crop_resampled_portable(src, roi, size, layout, norm, shrink)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn crop_resampled_avx2<S: RgbSource + ?Sized>(
    src: &S,
    roi: &RotatedRect,
    size: (usize, usize),
    layout: Layout,
    norm: &Normalization,
    shrink: Shrink,
) -> PreparedInput {
    crop_resampled_portable(src, roi, size, layout, norm, shrink)
}

/// Frame pixels per crop pixel (along a side) for which a crop samples a half-size copy of its
/// region ([`RegionCopy::halved`]) instead of the frame: from 2, where the copy's pixels still
/// cover the crop's, up to 4, where halving reads scale^2 = 16 frame pixels per crop pixel, as
/// many as the 2x2 bilinear taps themselves (beyond, [`Shrink::Smooth`]'s one tap falls short
/// of the crop pixel's footprint: with every crop smoothed, halving up to 8 took development
/// PCK padded from 90.8 to 88.5).
const HALVE_SCALES: std::ops::Range<f32> = 2.0..4.0;

/// Frame pixels per crop pixel (along a side) under [`HALVE_SCALES`] for which a crop samples a
/// whole copy of its region: above 1 each crop pixel reads 2x2 taps of 2x2 pixels, and copying
/// the region costs at most 4 reads per crop pixel more (landmark crop 256 of a 384 px square
/// from 1280x720 I420: 4.74 -> 2.70 ms, AMD EPYC). The copy holds the frame's values, so
/// the crop reads the same numbers.
const COPY_SCALES: std::ops::Range<f32> = 1.0..2.0;

#[inline(always)]
fn crop_resampled_portable<S: RgbSource + ?Sized>(
    src: &S,
    roi: &RotatedRect,
    size: (usize, usize),
    layout: Layout,
    norm: &Normalization,
    shrink: Shrink,
) -> PreparedInput {
    let to_frame = roi.crop_to_frame_sized(size.0, size.1);
    let (scale, region) = (to_frame.scale(), roi.bounding_rect());
    // The copy the crop reads instead of the frame, if any, and its taps per axis.
    let copy = match shrink {
        Shrink::EveryTap => None,
        _ if HALVE_SCALES.contains(&scale) => {
            RegionCopy::halved(src, &region, src.rgb_to_native(norm.fill)).map(|mut half| {
                if shrink == Shrink::Smooth && to_frame.min_scale() >= HALVE_SCALES.start {
                    half.blur_2x2();
                    (half, 1)
                } else {
                    (half, MAX_TAPS)
                }
            })
        }
        _ if COPY_SCALES.contains(&scale) => RegionCopy::whole(src, &region).map(|copy| (copy, MAX_TAPS)),
        _ => None,
    };
    match copy {
        // The crop maps to the copy's pixels; the frame's map is the one to hand on.
        Some((copy, taps)) => {
            PreparedInput { tensor: resample(&copy, &copy.roi(roi), size, layout, norm, taps).tensor, to_frame }
        }
        None => resample(src, roi, size, layout, norm, MAX_TAPS),
    }
}

/// The crop's loop: `taps` x `taps` bilinear samples per crop pixel, averaged.
#[inline(always)]
fn resample<S: RgbSource + ?Sized>(
    src: &S,
    roi: &RotatedRect,
    size: (usize, usize),
    layout: Layout,
    norm: &Normalization,
    max_taps: usize,
) -> PreparedInput {
    let (cols, rows) = size;
    let to_frame = roi.crop_to_frame_sized(cols, rows);
    let taps = (to_frame.scale().ceil() as usize).clamp(1, max_taps);
    let inv_taps = 1.0 / (taps * taps) as f32;
    let order: [usize; 3] = if norm.bgr { [2, 1, 0] } else { [0, 1, 2] };
    let fill = src.rgb_to_native(norm.fill);
    // The map is affine: a crop pixel's frame position is origin + u * du + v * dv, and each
    // tap sits at a fixed offset from it.
    let origin = to_frame.apply(Point::new(0.0, 0.0));
    let step = |p: Point| Point::new(p.x - origin.x, p.y - origin.y);
    let du = step(to_frame.apply(Point::new(1.0, 0.0)));
    let dv = step(to_frame.apply(Point::new(0.0, 1.0)));
    let offsets: Vec<Point> = (0..taps * taps)
        .map(|i| {
            let (fx, fy) = (((i % taps) as f32 + 0.5) / taps as f32, ((i / taps) as f32 + 0.5) / taps as f32);
            Point::new(fx * du.x + fy * dv.x, fx * du.y + fy * dv.y)
        })
        .collect();
    let plane = cols * rows;
    let mut data = vec![0f32; plane * 3];
    // Where output pixel p's channel c goes: p * pixel_step + c * channel_step.
    let (pixel_step, channel_step) = match layout {
        Layout::Nhwc => (3, 1),
        Layout::Nchw => (1, plane),
    };
    for v in 0..rows {
        let row = Point::new(origin.x + v as f32 * dv.x, origin.y + v as f32 * dv.y);
        for u in 0..cols {
            let (x, y) = (row.x + u as f32 * du.x, row.y + u as f32 * du.y);
            let mut acc = [0f32; 3];
            for o in &offsets {
                let s = sample_native(src, x + o.x, y + o.y, fill);
                acc[0] += s[0];
                acc[1] += s[1];
                acc[2] += s[2];
            }
            let rgb = src.native_to_rgb([acc[0] * inv_taps, acc[1] * inv_taps, acc[2] * inv_taps]);
            let pixel = (v * cols + u) * pixel_step;
            for (c, &from) in order.iter().enumerate() {
                data[pixel + c * channel_step] = rgb[from] * norm.scale[c] + norm.offset[c];
            }
        }
    }
    let shape = layout.image_shape(cols, rows);
    PreparedInput { tensor: Tensor::f32(shape, data).expect("shape matches by construction"), to_frame }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aicoach_vision::image::PackedView;

    /// A 4x2 RGB frame: left half red, right half blue.
    fn two_colour_frame() -> Vec<u8> {
        let mut d = Vec::new();
        for _ in 0..2 {
            for x in 0..4 {
                d.extend_from_slice(if x < 2 { &[255, 0, 0] } else { &[0, 0, 255] });
            }
        }
        d
    }

    #[test]
    fn letterbox_pads_with_fill_and_normalises() {
        let data = two_colour_frame();
        let view = PackedView::rgb(&data, 4, 2).unwrap();
        let input = crop_to_tensor(&view, &RotatedRect::letterbox(4, 2), 4, Layout::Nhwc, &Normalization::SIGNED_UNIT);
        let t = input.tensor.as_f32().unwrap();
        // Row 0 is padding (black -> -1), row 1 is the frame's top row: red at the left.
        assert_eq!(&t[0..3], &[-1.0, -1.0, -1.0]);
        let row1_px0 = &t[4 * 3..4 * 3 + 3];
        assert!(row1_px0[0] > 0.9 && row1_px0[2] < -0.9, "{row1_px0:?}");
        let back = input.point_to_frame(0.0, 1.0);
        assert!((back.x - 0.0).abs() < 1e-4 && (back.y - 0.0).abs() < 1e-4, "{back:?}");
    }

    #[test]
    fn nchw_bgr_puts_blue_in_the_first_plane() {
        let data = two_colour_frame();
        let view = PackedView::rgb(&data, 4, 2).unwrap();
        let roi = RotatedRect { center: Point::new(2.0, 1.0), width: 4.0, height: 2.0, rotation: 0.0 };
        let norm = Normalization { scale: [1.0; 3], offset: [0.0; 3], bgr: true, fill: [0.0; 3] };
        let input = crop_to_tensor(&view, &roi, 4, Layout::Nchw, &norm);
        let t = input.tensor.as_f32().unwrap();
        assert_eq!(input.tensor.shape, vec![1, 3, 4, 4]);
        // Row 1 samples inside the frame (row 0 blends with the padding above it).
        // Plane 0 = blue: zero at the left column, 255 at the right column.
        assert_eq!(t[4], 0.0);
        assert_eq!(t[4 + 3], 255.0);
        // Plane 2 = red: the opposite.
        assert_eq!(t[2 * 16 + 4], 255.0);
    }

    #[test]
    fn half_turn_flips_the_crop() {
        let data = two_colour_frame();
        let view = PackedView::rgb(&data, 4, 2).unwrap();
        let roi = RotatedRect { center: Point::new(2.0, 1.0), width: 4.0, height: 2.0, rotation: std::f32::consts::PI };
        let norm = Normalization { scale: [1.0; 3], offset: [0.0; 3], bgr: false, fill: [0.0; 3] };
        let t = crop_to_tensor(&view, &roi, 4, Layout::Nhwc, &norm).tensor;
        // After a half turn, the crop's left column is the frame's right (blue) side.
        let t = t.as_f32().unwrap();
        let (u, v) = (0, 1);
        assert_eq!(&t[(v * 4 + u) * 3..(v * 4 + u) * 3 + 3], &[0.0, 0.0, 255.0]);
    }

    /// A YUV frame averaged in YUV and converted once gives what converting every pixel first
    /// gives, up to the clamping of saturated colours (luma out of range is clamped alike).
    #[test]
    fn yuv_crops_like_their_rgb_conversion() {
        use aicoach_vision::image::{FrameView, RgbSource, YuvLayout, YuvView};
        let (w, h) = (64u32, 48u32);
        // Luma over the whole byte range: super-blacks and super-whites clamp when converted.
        let y: Vec<u8> = (0..w * h).map(|i| ((i * 37 + i / w * 13) % 256) as u8).collect();
        let u: Vec<u8> = (0..w * h / 4).map(|i| (118 + (i * 3) % 20) as u8).collect();
        let v: Vec<u8> = (0..w * h / 4).map(|i| (118 + (i * 5) % 20) as u8).collect();
        let yuv =
            YuvView::new(YuvLayout::I420, [&y, &u, &v], [w as usize, w as usize / 2, w as usize / 2], w, h).unwrap();
        let rgb: Vec<u8> = (0..h)
            .flat_map(|py| (0..w).map(move |px| (px, py)))
            .flat_map(|(px, py)| yuv.rgb(px, py).map(|c| c.round() as u8))
            .collect();
        let packed = PackedView::rgb(&rgb, w, h).unwrap();
        let roi = RotatedRect { center: Point::new(30.0, 20.0), width: 50.0, height: 50.0, rotation: 0.4 };
        let norm = Normalization { scale: [1.0; 3], offset: [0.0; 3], bgr: false, fill: [0.0; 3] };
        let a = crop_to_tensor(&FrameView::Yuv(yuv), &roi, 16, Layout::Nhwc, &norm).tensor;
        let b = crop_to_tensor(&packed, &roi, 16, Layout::Nhwc, &norm).tensor;
        let worst = a.as_f32().unwrap().iter().zip(b.as_f32().unwrap()).map(|(p, q)| (p - q).abs()).fold(0.0, f32::max);
        // Chroma still shifts colours near black and white past the edge of the gamut a little.
        assert!(worst < 6.0, "largest difference {worst} of 255");
    }

    /// A crop that shrinks by 1 to 2 samples a whole copy of its region ([`COPY_SCALES`]): with
    /// its taps, the same numbers as read from the frame, also where it reaches past the
    /// frame's edge.
    #[test]
    fn a_crop_through_the_region_copy_reads_what_the_frame_gives() {
        use aicoach_vision::image::{FrameView, YuvLayout, YuvView};
        let (w, h) = (64u32, 48u32);
        let y: Vec<u8> = (0..w * h).map(|i| ((i * 37 + i / w * 13) % 256) as u8).collect();
        let u: Vec<u8> = (0..w * h / 4).map(|i| (100 + (i * 3) % 50) as u8).collect();
        let v: Vec<u8> = (0..w * h / 4).map(|i| (100 + (i * 7) % 50) as u8).collect();
        let yuv =
            YuvView::new(YuvLayout::I420, [&y, &u, &v], [w as usize, w as usize / 2, w as usize / 2], w, h).unwrap();
        let frame = FrameView::Yuv(yuv);
        // Inside the frame, and reaching past its top right corner.
        for (center, inside) in [(Point::new(32.0, 24.0), true), (Point::new(55.0, 8.0), false)] {
            // 24 crop pixels over 36 frame pixels: a scale of 1.5, turned.
            let roi = RotatedRect { center, width: 36.0, height: 36.0, rotation: 0.4 };
            assert!(COPY_SCALES.contains(&roi.crop_to_frame_sized(24, 24).scale()));
            let reach = roi.bounding_rect();
            assert_eq!(
                inside,
                reach.x >= 0.0 && reach.y >= 0.0 && reach.x + reach.w <= w as f32 && reach.y + reach.h <= h as f32
            );
            let norm = Normalization::UNIT;
            let copied = crop_to_tensor_with(&frame, &roi, (24, 24), Layout::Nhwc, &norm, Shrink::Taps).tensor;
            let direct = crop_to_tensor_every_tap(&frame, &roi, 24, Layout::Nhwc, &norm).tensor;
            let (a, b) = (copied.as_f32().unwrap(), direct.as_f32().unwrap());
            let worst = a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-4, "{center:?}: largest difference {worst} of 1");
        }
    }
}
