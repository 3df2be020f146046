// SPDX-License-Identifier: MPL-2.0
//! Decoding the pedestrian SSDLite-MobileNetV2 (300x300, 1917 anchors, TensorFlow Object
//! Detection API): box encodings against fixed anchors and a person logit per anchor.
//!
//! The model sees the whole frame stretched to 300x300 (no letterbox), as it was trained.

use std::sync::LazyLock;

use crate::nms::hard_nms;
use aicoach_vision::Detection;
use aicoach_vision::geometry::{Affine, Point};

pub const INPUT_SIZE: usize = 300;
pub const NUM_ANCHORS: usize = 1917;
/// Box encodings per anchor: (ty, tx, th, tw).
pub const BOX_VALUES: usize = 4;
/// Class logits per anchor: background, pedestrian.
pub const CLASS_VALUES: usize = 2;
/// The Object Detection API's box coder scales for (y, x, h, w).
const SCALE_YX: f32 = 10.0;
const SCALE_HW: f32 = 5.0;
/// The graph's own post-processing suppressed at 0.6 IoU.
pub const NMS_IOU: f32 = 0.6;

/// An anchor in normalised input coordinates: centre and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    pub cy: f32,
    pub cx: f32,
    pub h: f32,
    pub w: f32,
}

/// The anchors, as the graph's `Concatenate/concat:0` constant holds them (vendored beside the
/// model and compiled in, so they can never disagree with a file on disk).
pub static ANCHORS: LazyLock<Vec<Anchor>> = LazyLock::new(|| {
    parse_anchors(include_str!("../models/pedestrian_ssdlite_300.anchors.json"))
        .expect("the vendored anchors file is valid (checked by a unit test)")
});

/// Reads `{"anchors": [[ymin, xmin, ymax, xmax], ...]}`.
pub fn parse_anchors(json: &str) -> Result<Vec<Anchor>, String> {
    #[derive(serde::Deserialize)]
    struct File {
        anchors: Vec<[f32; 4]>,
    }
    let file: File = serde_json::from_str(json).map_err(|e| format!("anchors: {e}"))?;
    if file.anchors.len() != NUM_ANCHORS {
        return Err(format!("anchors: expected {NUM_ANCHORS}, got {}", file.anchors.len()));
    }
    Ok(file
        .anchors
        .iter()
        .map(|[y0, x0, y1, x1]| Anchor { cy: (y0 + y1) / 2.0, cx: (x0 + x1) / 2.0, h: y1 - y0, w: x1 - x0 })
        .collect())
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Decodes `boxes` (1917 x 4) and `logits` (1917 x 2) into person detections in frame pixels.
/// `to_frame` maps the 300x300 input's pixels to the frame.
pub fn decode(
    boxes: &[f32],
    logits: &[f32],
    anchors: &[Anchor],
    to_frame: &Affine,
    min_score: f32,
    max: usize,
) -> Vec<Detection> {
    let size = INPUT_SIZE as f32;
    let mut candidates = Vec::new();
    for (i, a) in anchors.iter().enumerate() {
        let (Some(raw), Some(classes)) =
            (boxes.get(i * BOX_VALUES..(i + 1) * BOX_VALUES), logits.get(i * CLASS_VALUES..(i + 1) * CLASS_VALUES))
        else {
            break;
        };
        let score = sigmoid(classes[1]);
        // NaN scores come from a broken model: never a detection.
        if score.is_nan() || score < min_score {
            continue;
        }
        let cy = raw[0] / SCALE_YX * a.h + a.cy;
        let cx = raw[1] / SCALE_YX * a.w + a.cx;
        let h = (raw[2] / SCALE_HW).exp() * a.h;
        let w = (raw[3] / SCALE_HW).exp() * a.w;
        let p0 = to_frame.apply(Point::new((cx - w / 2.0) * size, (cy - h / 2.0) * size));
        let p1 = to_frame.apply(Point::new((cx + w / 2.0) * size, (cy + h / 2.0) * size));
        candidates.extend(Detection::from_corners(score, p0, p1));
    }
    hard_nms(candidates, NMS_IOU, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aicoach_vision::geometry::RotatedRect;

    #[test]
    fn the_vendored_anchors_parse_and_cover_the_input() {
        let anchors = &*ANCHORS;
        assert_eq!(anchors.len(), NUM_ANCHORS);
        // The first layer is a 19x19 grid of 3 anchors; its first cell sits at (0.5 / 19).
        assert!((anchors[0].cx - 0.5 / 19.0).abs() < 1e-4, "{:?}", anchors[0]);
        assert!(anchors.iter().all(|a| a.w > 0.0 && a.h > 0.0 && (0.0..=1.0).contains(&a.cx)));
        assert!(parse_anchors(r#"{"anchors": [[0, 0, 1, 1]]}"#).unwrap_err().contains("1917"));
    }

    #[test]
    fn decodes_an_encoding_against_its_anchor_into_a_stretched_frame() {
        let anchors = vec![Anchor { cy: 0.5, cx: 0.25, h: 0.4, w: 0.2 }, Anchor { cy: 0.5, cx: 0.75, h: 0.4, w: 0.2 }];
        // Anchor 0: centre moved by 0.1 anchor heights down, height doubled (th = 5 ln 2).
        let boxes = [1.0, 0.0, 5.0 * 2f32.ln(), 0.0, 0.0, 0.0, 0.0, 0.0];
        let logits = [0.0, 3.0, 0.0, -3.0];
        // A 600x300 frame stretched into the 300x300 input: x doubles.
        let stretch = RotatedRect { center: Point::new(300.0, 150.0), width: 600.0, height: 300.0, rotation: 0.0 }
            .crop_to_frame(INPUT_SIZE);
        let dets = decode(&boxes, &logits, &anchors, &stretch, 0.5, 10);
        assert_eq!(dets.len(), 1, "the second anchor's score is under 0.5");
        let b = dets[0].bbox;
        // cy = 0.54, h = 0.8, cx = 0.25, w = 0.2 -> y 0.14..0.94 of 300, x 0.15..0.35 of 600.
        assert!((b.x - 90.0).abs() < 1e-2 && (b.w - 120.0).abs() < 1e-2, "{b:?}");
        assert!((b.y - 42.0).abs() < 1e-2 && (b.h - 240.0).abs() < 1e-2, "{b:?}");
        assert!((dets[0].score - sigmoid(3.0)).abs() < 1e-6);
    }

    #[test]
    fn broken_outputs_give_no_detection() {
        let anchors = vec![Anchor { cy: 0.5, cx: 0.5, h: 0.4, w: 0.2 }; 2];
        let boxes = [f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 1e30, 0.0];
        let logits = [0.0, 9.0, 0.0, f32::NAN];
        let id = RotatedRect::letterbox(300, 300).crop_to_frame(INPUT_SIZE);
        assert!(decode(&boxes, &logits, &anchors, &id, 0.5, 10).is_empty());
        assert!(decode(&boxes[..3], &logits, &anchors, &id, 0.5, 10).is_empty(), "short outputs");
    }
}
