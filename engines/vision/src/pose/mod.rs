// SPDX-License-Identifier: MPL-2.0
//! One athlete's 2D pose over time, independent of the model that produced it: the per-frame
//! keypoints with confidences, the skeleton that joins them, and the spatial-temporal
//! refinement and jitter measure built on them.

pub mod jitter;
pub mod one_euro;
pub mod refiner;
pub mod skeleton;
pub mod spatial;
pub mod temporal;

use crate::geometry::{Point, Rect};

pub use refiner::{RefineMode, Refiner, RefinerConfig};

/// One keypoint in frame pixels with the model's confidence that it is visible (0..1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Joint {
    pub x: f32,
    pub y: f32,
    pub confidence: f32,
}

impl Joint {
    pub fn point(&self) -> Point {
        Point::new(self.x, self.y)
    }
}

/// The keypoints of one person on one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct PoseFrame {
    /// Presentation time in seconds; refinement uses the spacing between frames.
    pub time: f64,
    /// The model's confidence that a person is in the crop at all.
    pub score: f32,
    /// In the model's keypoint order (BlazePose's 33 for our landmark models).
    pub joints: Vec<Joint>,
}

/// Joints at or above this confidence count as seen when measuring the body's size.
pub const SEEN_CONFIDENCE: f32 = 0.5;

impl PoseFrame {
    /// This pose moved by (`dx`, `dy`) and stamped `time`: the last pose carried onto a frame
    /// that was not analysed, following the athlete's box.
    pub fn carried(&self, dx: f32, dy: f32, time: f64) -> Self {
        let joints = self.joints.iter().map(|j| Joint { x: j.x + dx, y: j.y + dy, ..*j }).collect();
        Self { time, score: self.score, joints }
    }

    /// The box around the joints seen with confidence, or around all of them if none are.
    pub fn bounding_box(&self) -> Option<Rect> {
        let seen = self.joints.iter().filter(|j| j.confidence >= SEEN_CONFIDENCE).map(Joint::point);
        Rect::bounding(seen).or_else(|| Rect::bounding(self.joints.iter().map(Joint::point)))
    }

    /// The body's size in pixels (the longer side of its box): the unit that makes speeds and
    /// jitter comparable between a close-up and a skier far away.
    pub fn scale(&self) -> f32 {
        self.bounding_box().map_or(0.0, |b| b.w.max(b.h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_carried_pose_moves_every_joint_and_keeps_confidences() {
        let pose = PoseFrame { time: 1.0, score: 0.8, joints: vec![Joint { x: 10.0, y: 20.0, confidence: 0.7 }; 3] };
        let carried = pose.carried(5.0, -2.0, 1.04);
        assert_eq!((carried.time, carried.score), (1.04, 0.8));
        assert!(carried.joints.iter().all(|j| *j == Joint { x: 15.0, y: 18.0, confidence: 0.7 }));
    }

    #[test]
    fn scale_is_the_longer_side_of_the_seen_joints() {
        let frame = PoseFrame {
            time: 0.0,
            score: 1.0,
            joints: vec![
                Joint { x: 10.0, y: 10.0, confidence: 0.9 },
                Joint { x: 30.0, y: 110.0, confidence: 0.9 },
                // Unseen: ignored while others are seen.
                Joint { x: 500.0, y: 500.0, confidence: 0.1 },
            ],
        };
        assert_eq!(frame.scale(), 100.0);
    }
}
