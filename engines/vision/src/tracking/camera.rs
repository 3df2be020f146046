// SPDX-License-Identifier: MPL-2.0
//! How the camera moved between two frames: the shift of the whole picture, found by phase
//! correlation of small grey thumbnails (Kuglin and Hines, 1975). People's boxes and the
//! middle of the picture are left out of the thumbnails, so that a large athlete crossing a
//! plain background is not taken for a pan, nor one the camera follows for a still camera. The
//! tracker compares it with the athlete's motion: a camera follows its athlete, and what moves
//! with the background is a spectator or the background itself.

use rustfft::num_complex::Complex32;

use super::fft::{Fft2d, tukey_window};
use super::patch;
use crate::image::RgbSource;
use crate::{Point, Rect};

/// Thumbnail side in samples, over the frame's width and height alike.
const SIZE: usize = 64;
/// Point reads per thumbnail sample along each axis, averaged: a 1080p frame has 30 pixels
/// per sample, and single reads would alias a pan into noise.
const TAPS: u32 = 3;
/// The inverse of the normalised cross-power spectrum peaks at 1 for two frames that are one
/// shifted picture; below this, the frames share too little to say how the camera moved.
const MIN_PEAK: f32 = 0.15;
/// The window tapers only the outer quarter on each side: the rest of the picture counts alike.
const TAPER: f32 = 0.5;
/// The middle of the picture (this share of each side) is left out too: it is where a camera
/// keeps whom it follows, who stands still in the picture whoever the tracker is on.
const MIDDLE: f32 = 1.0 / 3.0;
/// The athlete's box grows by this factor before it is left out (limbs reach past it).
const MASK_SCALE: f32 = 1.5;

/// After the picture moved this many thumbnail samples from the reference frame (along either
/// axis), the current frame becomes the reference: the two must keep most of the picture in
/// common.
const REFERENCE_SPAN: f32 = 8.0;

/// A frame's step may differ from the one before by this many thumbnail samples...
const MAX_JERK: f32 = 2.0;
/// ...and after this many frames that differ more, the camera is measured afresh from the
/// current frame.
const MAX_REJECTED: u32 = 3;

/// The camera's motion is measured against a reference frame, not the frame before: a slow pan
/// moves a fraction of a thumbnail sample per frame, and fractions summed frame by frame add
/// up their errors, while a shift of several samples from one reference is found to a fraction
/// of one.
pub struct CameraMotion {
    fft: Fft2d,
    window: Vec<f32>,
    reference: Option<Reference>,
}

struct Reference {
    thumbnail: Thumbnail,
    /// The frame size it came from.
    size: (u32, u32),
    /// How far the picture had moved from it by the previous frame, in thumbnail samples.
    moved: Point,
    /// The previous frame's step, in thumbnail samples (`None` when the camera is measured
    /// afresh).
    step: Option<Point>,
    /// Frames since then whose step was rejected.
    rejected: u32,
}

impl Reference {
    fn new(thumbnail: Thumbnail, size: (u32, u32)) -> Self {
        Self { thumbnail, size, moved: Point::default(), step: None, rejected: 0 }
    }
}

/// A frame's grey samples, and which of them lie outside the left-out box.
struct Thumbnail {
    grey: Vec<f32>,
    kept: Vec<bool>,
}

impl Default for CameraMotion {
    fn default() -> Self {
        Self { fft: Fft2d::new(SIZE), window: tukey_window(SIZE, TAPER), reference: None }
    }
}

impl CameraMotion {
    /// Forgets the frames seen (a seek, a new stream).
    pub fn reset(&mut self) {
        self.reference = None;
    }

    /// How far the picture moved since the previous frame, in frame pixels (a point that
    /// stands still in the world moved by this much in the frame), with the boxes in
    /// `exclude` (people: the athlete, whoever the detector found) left out. `None` on the
    /// first frame, after a change of size, and when the frames share too little (a cut, a
    /// flash, a blank picture).
    pub fn observe<S: RgbSource + ?Sized>(&mut self, frame: &S, exclude: &[Rect]) -> Option<Point> {
        let size = (frame.width(), frame.height());
        if size.0 == 0 || size.1 == 0 {
            self.reference = None;
            return None;
        }
        let current = Thumbnail::of(frame, exclude);
        let moved = match self.reference.as_ref().filter(|r| r.size == size) {
            Some(r) => self.shift(&r.thumbnail, &current),
            None => None,
        };
        let (Some(moved), Some(reference)) = (moved, self.reference.as_mut()) else {
            self.reference = Some(Reference::new(current, size));
            return None;
        };
        let step = Point::new(moved.x - reference.moved.x, moved.y - reference.moved.y);
        // A camera has inertia: a step far from the last one is a wrong peak (a plain picture,
        // a repeating pattern), unless it keeps happening (a cut, a whip pan).
        if reference.step.is_some_and(|last| (step.x - last.x).hypot(step.y - last.y) > MAX_JERK) {
            reference.rejected += 1;
            if reference.rejected > MAX_REJECTED {
                self.reference = Some(Reference::new(current, size));
            }
            return None;
        }
        if moved.x.abs().max(moved.y.abs()) > REFERENCE_SPAN {
            // Keeps the step: the camera's inertia carries over to the new reference.
            *reference = Reference::new(current, size);
        } else {
            (reference.moved, reference.rejected) = (moved, 0);
        }
        reference.step = Some(step);
        Some(Point::new(step.x * size.0 as f32 / SIZE as f32, step.y * size.1 as f32 / SIZE as f32))
    }

    /// How far (in thumbnail samples) the picture in `now` moved from `then`, by phase
    /// correlation over the samples both keep; `None` when they share too little.
    fn shift(&self, then: &Thumbnail, now: &Thumbnail) -> Option<Point> {
        // Both frames leave out both boxes: a hole where only one frame has it would move with
        // the athlete, and the correlation would follow its edges.
        let kept: Vec<bool> = now.kept.iter().zip(&then.kept).map(|(a, b)| *a && *b).collect();
        let a = self.spectrum(&now.grey, &kept)?;
        let b = self.spectrum(&then.grey, &kept)?;
        let cross: Vec<Complex32> = a
            .iter()
            .zip(&b)
            .map(|(a, b)| {
                let c = a * b.conj();
                let norm = c.norm();
                if norm > 1e-12 { c / norm } else { Complex32::new(0.0, 0.0) }
            })
            .collect();
        let (values, peak_index, peak) = self.fft.response(cross);
        // NaN (a broken frame) is no peak either.
        if peak.is_nan() || peak < MIN_PEAK {
            return None;
        }
        let (px, py) = (peak_index % SIZE, peak_index / SIZE);
        let at = |x: usize, y: usize| values[(y % SIZE) * SIZE + x % SIZE];
        let dx = signed(px) + subsample(at(px + SIZE - 1, py), peak, at(px + 1, py));
        let dy = signed(py) + subsample(at(px, py + SIZE - 1), peak, at(px, py + 1));
        Some(Point::new(dx, dy))
    }

    /// The windowed, zero-mean spectrum of the `kept` samples of `grey`; `None` when too few
    /// are kept or they show no detail.
    fn spectrum(&self, grey: &[f32], kept: &[bool]) -> Option<Vec<Complex32>> {
        let seen: Vec<f32> = grey.iter().zip(kept).filter(|(_, k)| **k).map(|(v, _)| *v).collect();
        if seen.len() < SIZE * SIZE / 3 {
            return None;
        }
        let mean = seen.iter().sum::<f32>() / seen.len() as f32;
        let energy = seen.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / seen.len() as f32;
        if energy < 1.0 {
            return None;
        }
        // Left-out samples read as the mean: after the mean is taken away, they are zero and
        // take no part in the correlation.
        let mut spectrum: Vec<Complex32> = grey
            .iter()
            .zip(kept)
            .zip(&self.window)
            .map(|((v, k), win)| Complex32::new(if *k { (v - mean) * win } else { 0.0 }, 0.0))
            .collect();
        self.fft.transform(&mut spectrum, false);
        Some(spectrum)
    }
}

impl Thumbnail {
    /// `SIZE` x `SIZE` grey samples over the whole frame, each the mean of `TAPS` x `TAPS`
    /// reads; samples in the middle or inside a box of `exclude` (grown by `MASK_SCALE`) are
    /// marked left out.
    fn of<S: RgbSource + ?Sized>(frame: &S, exclude: &[Rect]) -> Self {
        let (w, h) = (frame.width(), frame.height());
        let masks: Vec<Rect> = exclude.iter().map(|r| r.scaled(MASK_SCALE)).collect();
        let middle = Rect::from_center(w as f32 / 2.0, h as f32 / 2.0, w as f32 * MIDDLE, h as f32 * MIDDLE);
        let (cell_w, cell_h) = (w as f32 / SIZE as f32, h as f32 / SIZE as f32);
        let mut grey = Vec::with_capacity(SIZE * SIZE);
        let mut kept = Vec::with_capacity(SIZE * SIZE);
        for v in 0..SIZE {
            for u in 0..SIZE {
                let (x0, y0) = (u as f32 * cell_w, v as f32 * cell_h);
                let centre = Point::new(x0 + cell_w / 2.0, y0 + cell_h / 2.0);
                kept.push(!middle.contains(centre) && !masks.iter().any(|m| m.contains(centre)));
                let mut sum = [0.0f32; 3];
                for j in 0..TAPS {
                    let y = ((y0 + (j as f32 + 0.5) * cell_h / TAPS as f32) as u32).min(h - 1);
                    for i in 0..TAPS {
                        let x = ((x0 + (i as f32 + 0.5) * cell_w / TAPS as f32) as u32).min(w - 1);
                        let p = frame.native(x, y);
                        sum = [sum[0] + p[0], sum[1] + p[1], sum[2] + p[2]];
                    }
                }
                let n = (TAPS * TAPS) as f32;
                grey.push(patch::grey(frame.native_to_rgb([sum[0] / n, sum[1] / n, sum[2] / n])));
            }
        }
        Self { grey, kept }
    }
}

/// A peak index as a shift: indices past the middle wrap round to negative shifts.
fn signed(index: usize) -> f32 {
    if index > SIZE / 2 { index as f32 - SIZE as f32 } else { index as f32 }
}

/// Where between its neighbours the peak lies: a shift by a fraction of a sample spreads the
/// phase correlation's peak onto the neighbour on that side (negative lobes read as none), and
/// the three values' centroid says how far.
fn subsample(before: f32, peak: f32, after: f32) -> f32 {
    let (before, after) = (before.max(0.0), after.max(0.0));
    (after - before) / (before + peak + after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::PackedView;
    use crate::tracking::test_world::{H, W, frame};

    fn shift(camera: &mut CameraMotion, a: &[u8], b: &[u8], exclude: &[Rect]) -> Option<Point> {
        camera.reset();
        camera.observe(&PackedView::rgb(a, W, H).unwrap(), exclude);
        camera.observe(&PackedView::rgb(b, W, H).unwrap(), exclude)
    }

    #[test]
    fn a_pan_moves_the_picture_the_other_way() {
        let mut camera = CameraMotion::default();
        // The camera turns 12 px right and 7 px up: the world moves 12 left and 7 down.
        let moved = shift(&mut camera, &frame(100.0, 100.0, &[]), &frame(112.0, 93.0, &[]), &[]).unwrap();
        assert!((moved.x + 12.0).abs() < 2.0 && (moved.y - 7.0).abs() < 2.0, "{moved:?}");
        let still = shift(&mut camera, &frame(100.0, 100.0, &[]), &frame(100.0, 100.0, &[]), &[]).unwrap();
        assert!(still.x.abs() < 0.5 && still.y.abs() < 0.5, "{still:?}");
    }

    #[test]
    fn the_athlete_left_out_does_not_count_as_the_camera() {
        let mut camera = CameraMotion::default();
        // A still camera; an athlete filling a quarter of the frame runs 20 px right.
        let (from, to) = (Point::new(140.0, 120.0), Point::new(160.0, 120.0));
        let box_at = |p: Point| Rect::from_center(p.x, p.y, 120.0, 160.0);
        let (a, b) = (frame(0.0, 0.0, &[box_at(from)]), frame(0.0, 0.0, &[box_at(to)]));
        let (a, b) = (PackedView::rgb(&a, W, H).unwrap(), PackedView::rgb(&b, W, H).unwrap());
        camera.observe(&a, &[box_at(from)]);
        let moved = camera.observe(&b, &[box_at(to)]).unwrap();
        assert!(moved.x.abs() < 3.0 && moved.y.abs() < 3.0, "{moved:?}");
        // Left in, the athlete's motion is what the correlation finds.
        camera.reset();
        camera.observe(&a, &[]);
        let fooled = camera.observe(&b, &[]).unwrap();
        assert!(fooled.x > 10.0, "{fooled:?}");
    }

    #[test]
    fn a_step_the_camera_cannot_make_is_left_out_and_a_steady_pan_adds_up() {
        let mut camera = CameraMotion::default();
        let see = |camera: &mut CameraMotion, x: f32| {
            let data = frame(x, 0.0, &[]);
            camera.observe(&PackedView::rgb(&data, W, H).unwrap(), &[])
        };
        see(&mut camera, 0.0);
        let mut total = 0.0;
        for i in 1..=30 {
            // One frame jumps 40 px (a wrong picture: a flash of something else) and is
            // rejected; the pan goes on 3 px a frame around it.
            let x = if i == 15 { 3.0 * i as f32 + 40.0 } else { 3.0 * i as f32 };
            match see(&mut camera, x) {
                Some(step) if i != 15 => total += step.x,
                None if i == 15 => {}
                other => panic!("frame {i}: {other:?}"),
            }
        }
        // The frame after the rejected one steps over both. The picture moved 90 px left,
        // measured to within a few pixels over many reference changes.
        assert!((total + 90.0).abs() < 4.0, "{total}");
    }

    #[test]
    fn unrelated_or_blank_frames_say_nothing() {
        let mut camera = CameraMotion::default();
        let blank = vec![90u8; (W * H * 3) as usize];
        assert_eq!(shift(&mut camera, &blank, &blank, &[]), None);
        let noise: Vec<u8> = (0..W * H * 3).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        assert_eq!(shift(&mut camera, &frame(0.0, 0.0, &[]), &noise, &[]), None);
        // The first frame has nothing to compare with.
        camera.reset();
        assert_eq!(camera.observe(&PackedView::rgb(&noise, W, H).unwrap(), &[]), None);
    }
}
