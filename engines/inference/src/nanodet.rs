// SPDX-License-Identifier: MPL-2.0
//! Decoding NanoDet-m (COCO-80, trained at 416x416): per-level class scores and distribution
//! boxes (generalised focal loss: each side is a softmax over 11 bins times the stride).
//!
//! The network is fully convolutional, so a wide frame is fed as a wide input
//! ([`input_size_for`]) instead of a square one that is mostly padding.

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

/// The input for a `width` x `height` frame: [`INPUT_SIZE`] pixels along its longer side;
/// along the other, the frame plus a cell of the coarsest grid of padding on each side,
/// rounded up to that cell (every level's grid must divide it). Without the padding, people
/// cut by the frame's top or bottom edge (feet out of view) scored a few hundredths lower than
/// in the square letterbox, enough to drop under the threshold (sports2d: 278 detections
/// against 287; with it, 286).
pub fn input_size_for(width: u32, height: u32) -> (usize, usize) {
    let (long, short) = (width.max(height).max(1) as f32, width.min(height) as f32);
    let cell = STRIDES[STRIDES.len() - 1];
    let frame = INPUT_SIZE as f32 * short / long;
    let other = (((frame + 2.0 * cell as f32) / cell as f32).ceil() as usize).clamp(1, INPUT_SIZE / cell) * cell;
    if width >= height { (INPUT_SIZE, other) } else { (other, INPUT_SIZE) }
}

/// Columns and rows of the feature map at `stride` for a `cols` x `rows` input.
pub fn grid(stride: usize, (cols, rows): (usize, usize)) -> (usize, usize) {
    (cols.div_ceil(stride), rows.div_ceil(stride))
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
/// distributions (cells x 44), cells row by row.
pub struct Level<'a> {
    pub stride: usize,
    /// Cells per row.
    pub columns: usize,
    pub scores: &'a [f32],
    pub boxes: &'a [f32],
}

/// Decodes the person detections of all levels into frame pixels.
pub fn decode(levels: &[Level], to_frame: &Affine, min_score: f32, max: usize) -> Vec<Detection> {
    let mut candidates = Vec::new();
    for level in levels {
        let fm = level.columns.max(1);
        let n = (level.scores.len() / NUM_CLASSES).min(level.boxes.len() / REG_VALUES);
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
        let square = (INPUT_SIZE, INPUT_SIZE);
        let cells = |stride| {
            let (c, r) = grid(stride, square);
            c * r
        };
        let (n8, n16, n32) = (cells(8), cells(16), cells(32));
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
            Level { stride: 8, columns: 52, scores: &s8, boxes: &b8 },
            Level { stride: 16, columns: 26, scores: &s16, boxes: &b16 },
            Level { stride: 32, columns: 13, scores: &s32, boxes: &b32 },
        ];
        let identity = RotatedRect::letterbox(416, 416).crop_to_frame(416);
        let dets = decode(&levels, &identity, 0.5, 10);
        assert_eq!(dets.len(), 1);
        let b = dets[0].bbox;
        assert!((b.x - 48.0).abs() < 1e-3 && (b.y - 16.0).abs() < 1e-3, "{b:?}");
        assert!((b.w - 96.0).abs() < 1e-3 && (b.h - 128.0).abs() < 1e-3, "{b:?}");
    }

    #[test]
    fn wide_and_tall_frames_get_inputs_of_their_aspect() {
        // 1280x720: 234 rows of frame and 2 x 32 of padding, rounded up to 320.
        assert_eq!(input_size_for(1280, 720), (416, 320));
        assert_eq!(input_size_for(720, 1280), (320, 416));
        assert_eq!(input_size_for(640, 480), (416, 384));
        assert_eq!(input_size_for(500, 500), (416, 416));
        // A strip keeps its padding; nonsense sizes do not panic.
        assert_eq!(input_size_for(4000, 10), (416, 96));
        assert_eq!(input_size_for(0, 0), (416, 64));
        assert_eq!(grid(8, (416, 320)), (52, 40));
    }
}
