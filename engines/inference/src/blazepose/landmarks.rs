// SPDX-License-Identifier: MPL-2.0
//! Decoding the BlazePose landmark model: 33 body keypoints in frame pixels with visibility and
//! presence, the pose flag, and the ROI for the next frame from the two auxiliary points.

use super::ROI_SCALE;
use super::detector::sigmoid;
use aicoach_vision::geometry::{Affine, Point, RotatedRect};
use aicoach_vision::pose::{Joint, PoseFrame};

pub const INPUT_SIZE: usize = 256;
/// 33 body keypoints then 6 auxiliary ones (the first two align the next frame's ROI).
pub const NUM_OUTPUT_POINTS: usize = 39;
pub const NUM_BODY_POINTS: usize = 33;
const VALUES_PER_POINT: usize = 5;
pub const OUTPUT_LEN: usize = NUM_OUTPUT_POINTS * VALUES_PER_POINT;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Keypoint {
    pub x: f32,
    pub y: f32,
    /// Depth relative to the hips, in the same pixel scale as x and y (smaller is nearer).
    pub z: f32,
    /// Probability that the point is visible (not occluded).
    pub visibility: f32,
    /// Probability that the point is inside the frame at all.
    pub presence: f32,
}

impl Keypoint {
    pub fn point(&self) -> Point {
        Point::new(self.x, self.y)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Landmarks {
    /// The model's confidence that a person is in the crop at all (0..1).
    pub pose_score: f32,
    pub keypoints: Vec<Keypoint>,
    /// Hip centre and the point whose distance from it is the body radius.
    pub alignment: [Point; 2],
}

impl Landmarks {
    /// BlazePose landmarks as joints: confidence is the model's visibility, because presence
    /// only says the point is inside the frame, not that the model saw it.
    pub fn pose_frame(&self, time: f64) -> PoseFrame {
        let joints =
            self.keypoints.iter().map(|k| Joint { x: k.x, y: k.y, confidence: k.visibility.min(k.presence) }).collect();
        PoseFrame { time, score: self.pose_score, joints }
    }

    /// The ROI MediaPipe derives for the next frame from this frame's auxiliary points.
    pub fn next_roi(&self) -> Option<RotatedRect> {
        let roi = RotatedRect::from_alignment(self.alignment[0], self.alignment[1], ROI_SCALE);
        (roi.width.is_finite() && roi.width > 1.0).then_some(roi)
    }
}

/// Decodes the raw `Identity` (195 values) and the pose flag, with `to_frame` mapping the
/// 256x256 crop to the frame. Output that is short or not finite (a broken model) is no
/// landmarks: NaN would otherwise travel into the filters, the angles and the report.
pub fn decode(raw: &[f32], pose_flag: f32, to_frame: &Affine) -> Option<Landmarks> {
    if raw.len() < OUTPUT_LEN || !pose_flag.is_finite() || !raw[..OUTPUT_LEN].iter().all(|v| v.is_finite()) {
        return None;
    }
    let z_scale = to_frame.scale();
    let point = |i: usize| {
        let v = &raw[i * VALUES_PER_POINT..(i + 1) * VALUES_PER_POINT];
        let p = to_frame.apply(Point::new(v[0], v[1]));
        Keypoint { x: p.x, y: p.y, z: v[2] * z_scale, visibility: sigmoid(v[3]), presence: sigmoid(v[4]) }
    };
    let keypoints: Vec<Keypoint> = (0..NUM_BODY_POINTS).map(point).collect();
    let alignment = [point(NUM_BODY_POINTS).point(), point(NUM_BODY_POINTS + 1).point()];
    // Huge values overflow in the transform.
    let finite = keypoints.iter().all(|k| k.x.is_finite() && k.y.is_finite() && k.z.is_finite())
        && alignment.iter().all(|p| p.x.is_finite() && p.y.is_finite());
    if !finite {
        return None;
    }
    Some(Landmarks { pose_score: pose_flag, keypoints, alignment })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_points_through_the_crop_transform() {
        let mut raw = vec![0f32; OUTPUT_LEN];
        // Nose at crop (128, 64), certain; hip centre (aux 33) at (128, 160), radius point at (128, 96).
        raw[..5].copy_from_slice(&[128.0, 64.0, -10.0, 20.0, 20.0]);
        raw[33 * 5..33 * 5 + 2].copy_from_slice(&[128.0, 160.0]);
        raw[34 * 5..34 * 5 + 2].copy_from_slice(&[128.0, 96.0]);
        // The crop covers a 512-pixel square centred at (1000, 500): 2 frame pixels per crop pixel.
        let roi = RotatedRect { center: Point::new(1000.0, 500.0), width: 512.0, height: 512.0, rotation: 0.0 };
        let lm = decode(&raw, 0.9, &roi.crop_to_frame(INPUT_SIZE)).unwrap();
        let nose = lm.keypoints[0];
        assert!((nose.x - 1000.0).abs() < 1e-3 && (nose.y - 372.0).abs() < 1e-3, "{nose:?}");
        assert!((nose.z + 20.0).abs() < 1e-3);
        assert!(nose.visibility > 0.99 && nose.presence > 0.99);
        assert!((lm.keypoints[1].visibility - 0.5).abs() < 1e-6);
        let next = lm.next_roi().unwrap();
        assert!((next.center.y - 564.0).abs() < 1e-3);
        assert!((next.width - 2.0 * 128.0 * ROI_SCALE).abs() < 1e-3);
        assert_eq!(lm.pose_score, 0.9);
    }

    #[test]
    fn short_output_is_no_landmarks() {
        let roi = RotatedRect::letterbox(10, 10);
        assert!(decode(&[0.0; 100], 1.0, &roi.crop_to_frame(256)).is_none());
    }

    #[test]
    fn output_that_is_not_finite_is_no_landmarks() {
        let to_frame = RotatedRect::letterbox(10, 10).crop_to_frame(256);
        let mut raw = vec![1.0; OUTPUT_LEN];
        assert!(decode(&raw, f32::NAN, &to_frame).is_none());
        raw[7] = f32::INFINITY;
        assert!(decode(&raw, 0.9, &to_frame).is_none());
    }
}
