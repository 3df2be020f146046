// SPDX-License-Identifier: MPL-2.0
//! Decoding the BlazePose detector's raw outputs into person detections and landmark ROIs.

use super::ROI_SCALE;
use super::anchors::{INPUT_SIZE, NUM_ANCHORS};
use crate::nms::weighted_nms;
use aicoach_vision::Detection;
use aicoach_vision::geometry::{Affine, Point, Rect, RotatedRect};

/// Values per anchor: box (cx, cy, w, h) then four keypoints (x, y).
pub const VALUES_PER_ANCHOR: usize = 12;
const NUM_KEYPOINTS: usize = 4;
/// MediaPipe clips logits before the sigmoid to avoid overflow on extreme values.
const SCORE_CLIP: f32 = 100.0;
/// MediaPipe's pose detector merges detections overlapping by more than this.
pub const NMS_IOU: f32 = 0.3;

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Decodes `boxes` (2254 x 12) and `logits` (2254) into detections in frame pixels.
///
/// `to_frame` maps the 224x224 input's pixels to the frame (the letterbox transform).
pub fn decode(
    boxes: &[f32],
    logits: &[f32],
    anchors: &[Point],
    to_frame: &Affine,
    min_score: f32,
    max: usize,
) -> Vec<Detection> {
    assert_eq!(anchors.len(), NUM_ANCHORS);
    let size = INPUT_SIZE as f32;
    let scale = to_frame.scale();
    let mut candidates = Vec::new();
    for (i, anchor) in anchors.iter().enumerate() {
        let (Some(&logit), Some(raw)) = (logits.get(i), boxes.get(i * VALUES_PER_ANCHOR..(i + 1) * VALUES_PER_ANCHOR))
        else {
            break;
        };
        let score = sigmoid(logit.clamp(-SCORE_CLIP, SCORE_CLIP));
        // NaN scores come from a broken model: never a detection.
        if score.is_nan() || score < min_score {
            continue;
        }
        let (ax, ay) = (anchor.x * size, anchor.y * size);
        let centre = to_frame.apply(Point::new(raw[0] + ax, raw[1] + ay));
        let face = Rect::from_center(centre.x, centre.y, raw[2] * scale, raw[3] * scale);
        let keypoints: Vec<Point> =
            (0..NUM_KEYPOINTS).map(|k| to_frame.apply(Point::new(raw[4 + 2 * k] + ax, raw[5 + 2 * k] + ay))).collect();
        // A broken model's NaN or huge values: no box can come of them (the body box's radius
        // can overflow even where the points themselves are finite).
        let body = body_box(&keypoints);
        if ![face.x, face.y, face.w, face.h, body.x, body.y, body.w, body.h].iter().all(|v| v.is_finite()) {
            continue;
        }
        // Suppression runs on the face boxes, as MediaPipe does; the body box comes after.
        candidates.push(Detection { score, bbox: face, face: Some(face), keypoints });
    }
    let mut detections = weighted_nms(candidates, NMS_IOU, max);
    for d in &mut detections {
        d.face = Some(d.bbox);
        d.bbox = body_box(&d.keypoints);
    }
    detections
}

/// The body's box: the circle around the hips (keypoint 0) through the body-radius point
/// (keypoint 1), which MediaPipe trains to enclose the whole person.
fn body_box(keypoints: &[Point]) -> Rect {
    let radius = keypoints[0].distance(keypoints[1]);
    Rect::from_center(keypoints[0].x, keypoints[0].y, 2.0 * radius, 2.0 * radius)
}

/// The landmark model's region for a detection: centred on the hips, sized by the body radius
/// and turned upright (keypoint 0 is mid-hip, keypoint 1 sets radius and direction).
pub fn roi(detection: &Detection) -> Option<RotatedRect> {
    let (centre, edge) = (*detection.keypoints.first()?, *detection.keypoints.get(1)?);
    let roi = RotatedRect::from_alignment(centre, edge, ROI_SCALE);
    (roi.width.is_finite() && roi.width > 1.0).then_some(roi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blazepose::anchors::anchors;

    #[test]
    fn one_confident_anchor_decodes_to_frame_coordinates() {
        let anchors = anchors();
        let mut boxes = vec![0f32; NUM_ANCHORS * VALUES_PER_ANCHOR];
        let mut logits = vec![-20f32; NUM_ANCHORS];
        // Anchor 0 sits at (4, 4) in the 224 input. Offset the box by (+10, +20), 30x60 in size,
        // hips at the box centre and the radius point 25 pixels above.
        let i = 0;
        logits[i] = 5.0;
        boxes[i * 12..i * 12 + 12]
            .copy_from_slice(&[10.0, 20.0, 30.0, 60.0, 10.0, 20.0, 10.0, -5.0, 0.0, 0.0, 0.0, 0.0]);
        // A 448x448 frame letterboxed to 224: every input pixel is two frame pixels.
        let to_frame = RotatedRect::letterbox(448, 448).crop_to_frame(224);
        let dets = decode(&boxes, &logits, &anchors, &to_frame, 0.5, 5);
        assert_eq!(dets.len(), 1);
        let d = &dets[0];
        assert!((d.score - sigmoid(5.0)).abs() < 1e-6);
        let face = d.face.unwrap();
        let c = face.center();
        assert!((c.x - 28.0).abs() < 1e-3 && (c.y - 48.0).abs() < 1e-3, "{c:?}");
        assert!((face.w - 60.0).abs() < 1e-3 && (face.h - 120.0).abs() < 1e-3);
        // The body box is the 50-pixel-radius circle around the hips.
        assert_eq!(d.bbox, Rect::from_center(28.0, 48.0, 100.0, 100.0));
        let roi = roi(d).unwrap();
        assert!((roi.center.x - 28.0).abs() < 1e-3 && (roi.center.y - 48.0).abs() < 1e-3);
        assert!((roi.width - 2.0 * 50.0 * ROI_SCALE).abs() < 1e-3, "{}", roi.width);
        assert!(roi.rotation.abs() < 1e-5);
    }

    #[test]
    fn short_or_nan_outputs_do_not_panic() {
        let anchors = anchors();
        let to_frame = RotatedRect::letterbox(100, 100).crop_to_frame(224);
        assert!(decode(&[0.0; 10], &[9.0; 3], &anchors, &to_frame, 0.5, 5).is_empty());
        let boxes = vec![f32::NAN; NUM_ANCHORS * VALUES_PER_ANCHOR];
        let logits = vec![f32::NAN; NUM_ANCHORS];
        assert!(decode(&boxes, &logits, &anchors, &to_frame, 0.5, 5).is_empty());
    }
}
