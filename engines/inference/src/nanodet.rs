// SPDX-License-Identifier: MPL-2.0
//! Decoding NanoDet-m (COCO-80, 416x416): per-level class scores and distribution boxes
//! (generalised focal loss: each side is a softmax over 11 bins times the stride).

use crate::nms::hard_nms;
use aicoach_vision::Detection;
use aicoach_vision::geometry::{Affine, Point};

pub const INPUT_SIZE: usize = 416;
pub const NUM_CLASSES: usize = 80;
pub const PERSON_CLASS: usize = 0;
const BINS: usize = 11;
pub const REG_VALUES: usize = 4 * BINS;
pub const STRIDES: [usize; 3] = [8, 16, 32];
pub const NMS_IOU: f32 = 0.5;

/// Cells of the feature map at `stride`.
pub fn cells(stride: usize) -> usize {
    let fm = INPUT_SIZE.div_ceil(stride);
    fm * fm
}

/// Expected distance of a side: softmax over the bins, expectation in units of bins.
fn side_distance(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    let mut expectation = 0.0;
    for (bin, &l) in logits.iter().enumerate() {
        let e = (l - max).exp();
        sum += e;
        expectation += e * bin as f32;
    }
    expectation / sum
}

/// One pyramid level's outputs: class scores (cells x 80, already sigmoided) and box
/// distributions (cells x 44).
pub struct Level<'a> {
    pub stride: usize,
    pub scores: &'a [f32],
    pub boxes: &'a [f32],
}

/// Decodes the person detections of all levels into frame pixels.
pub fn decode(levels: &[Level], to_frame: &Affine, min_score: f32, max: usize) -> Vec<Detection> {
    let mut candidates = Vec::new();
    for level in levels {
        let fm = INPUT_SIZE.div_ceil(level.stride);
        let n = cells(level.stride).min(level.scores.len() / NUM_CLASSES).min(level.boxes.len() / REG_VALUES);
        let stride = level.stride as f32;
        for i in 0..n {
            let score = level.scores[i * NUM_CLASSES + PERSON_CLASS];
            // Scores are probabilities; anything else (NaN, huge) is a broken model's output.
            if !(min_score..=1.0).contains(&score) {
                continue;
            }
            let reg = &level.boxes[i * REG_VALUES..(i + 1) * REG_VALUES];
            let [l, t, r, b] = [0, 1, 2, 3].map(|s| side_distance(&reg[s * BINS..(s + 1) * BINS]) * stride);
            let cx = ((i % fm) as f32 + 0.5) * stride;
            let cy = ((i / fm) as f32 + 0.5) * stride;
            let p0 = to_frame.apply(Point::new(cx - l, cy - t));
            let p1 = to_frame.apply(Point::new(cx + r, cy + b));
            candidates.extend(Detection::from_corners(score, p0, p1));
        }
    }
    hard_nms(candidates, NMS_IOU, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aicoach_vision::geometry::RotatedRect;

    #[test]
    fn a_peaked_distribution_gives_its_bin() {
        let mut logits = [0f32; BINS];
        logits[3] = 50.0;
        assert!((side_distance(&logits) - 3.0).abs() < 1e-4);
        // Two equal bins average.
        let mut logits = [-50f32; BINS];
        logits[2] = 0.0;
        logits[4] = 0.0;
        assert!((side_distance(&logits) - 3.0).abs() < 1e-4);
    }

    #[test]
    fn decodes_one_person_at_stride_32() {
        let n8 = cells(8);
        let n16 = cells(16);
        let n32 = cells(32);
        assert_eq!((n8, n16, n32), (2704, 676, 169));
        let s8 = vec![0f32; n8 * NUM_CLASSES];
        let b8 = vec![0f32; n8 * REG_VALUES];
        let s16 = vec![0f32; n16 * NUM_CLASSES];
        let b16 = vec![0f32; n16 * REG_VALUES];
        let mut s32 = vec![0f32; n32 * NUM_CLASSES];
        let mut b32 = vec![-50f32; n32 * REG_VALUES];
        // Cell (col 2, row 1) at stride 32: centre (80, 48). Sides 1, 1, 2, 3 bins.
        let cell = 13 + 2;
        s32[cell * NUM_CLASSES + PERSON_CLASS] = 0.8;
        s32[cell * NUM_CLASSES + 1] = 0.99; // a bicycle there is ignored
        for (side, bin) in [1usize, 1, 2, 3].iter().enumerate() {
            b32[cell * REG_VALUES + side * BINS + bin] = 50.0;
        }
        let levels = [
            Level { stride: 8, scores: &s8, boxes: &b8 },
            Level { stride: 16, scores: &s16, boxes: &b16 },
            Level { stride: 32, scores: &s32, boxes: &b32 },
        ];
        let identity = RotatedRect::letterbox(416, 416).crop_to_frame(416);
        let dets = decode(&levels, &identity, 0.5, 10);
        assert_eq!(dets.len(), 1);
        let b = dets[0].bbox;
        assert!((b.x - 48.0).abs() < 1e-3 && (b.y - 16.0).abs() < 1e-3, "{b:?}");
        assert!((b.w - 96.0).abs() < 1e-3 && (b.h - 128.0).abs() < 1e-3, "{b:?}");
    }
}
