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

/// BlazePose's leg joints: knees, ankles, heels and toes.
const LEG_JOINTS: std::ops::Range<usize> = 25..33;
/// BlazePose's hips.
const HIP_JOINTS: std::ops::Range<usize> = 23..25;

/// [`PoseFrame::body_extent`]'s margins around the joints' box, as shares of its width and height.
const BODY_PAD_SIDE: f32 = 0.1;
const BODY_PAD_ABOVE: f32 = 0.12;
/// ...but at least this share of the box's other side on each side: a body seen side-on (or
/// lying, or in flight) is wider than the line of its joints by half a torso's depth (about 7 %
/// of a person's height, 8 % of the joints' box, which stops at the eyes and soles).
const BODY_HALF_DEPTH: f32 = 0.08;

/// Where the joints seen with confidence are.
fn seen_points(joints: &[Joint]) -> impl Iterator<Item = Point> + '_ {
    joints.iter().filter(|j| j.confidence >= SEEN_CONFIDENCE).map(Joint::point)
}

impl PoseFrame {
    /// This pose moved by (`dx`, `dy`) and stamped `time`: the last pose carried onto a frame
    /// that was not analysed, following the athlete's box.
    pub fn carried(&self, dx: f32, dy: f32, time: f64) -> Self {
        let joints = self.joints.iter().map(|j| Joint { x: j.x + dx, y: j.y + dy, ..*j }).collect();
        Self { time, score: self.score, joints }
    }

    /// The box around the joints seen with confidence, or around all of them if none are.
    pub fn bounding_box(&self) -> Option<Rect> {
        Rect::bounding(seen_points(&self.joints)).or_else(|| Rect::bounding(self.joints.iter().map(Joint::point)))
    }

    /// The box the whole body fills: the seen joints' box widened past the outermost joint
    /// centres to the skin (and to the back and front of a body seen side-on), with room above
    /// the eyes and ears for the top of the head (the feet have joints of their own: heels and
    /// toes). Trackers and annotations draw people this way;
    /// the joints alone cut the head and hands in half.
    pub fn body_extent(&self) -> Option<Rect> {
        let b = self.bounding_box()?;
        let side = (BODY_PAD_SIDE * b.w).max(BODY_HALF_DEPTH * b.h);
        let above = (BODY_PAD_ABOVE * b.h).max(BODY_HALF_DEPTH * b.w);
        // Below, the lowest joint seen is where the visible body ends (the soles where heels
        // and toes are seen; feet hidden in snow, water or behind something are not part of
        // it), but for the body's depth under joints lying in a line. Padding past them put the
        // box's bottom 17 to 29 px under the athlete's feet on the development clips.
        let below = (BODY_HALF_DEPTH * b.w - b.h / 2.0).max(0.0);
        Some(Rect { x: b.x - side, y: b.y - above, w: b.w + 2.0 * side, h: b.h + above + below })
    }

    /// The athlete's box on this frame, given a tracker's box for them: the body's extent
    /// where the two are the same person (an IoU of at least `min_iou`; else `None`: the pose
    /// may be a neighbour's, and the tracker's box stands). A tracker keeps a box's size
    /// between detections while the body tucks, strides and throws out its arms every frame.
    /// Where no leg is seen the body holds the tracker's box too: the legs are in the picture
    /// but the model did not find them (a camera close on a snowboarder: it saw the jacket,
    /// the box shrank to the chest), or something hides them, and then the detector's box
    /// ended where they disappear.
    pub fn fitted_box(&self, tracked: &Rect, min_iou: f32) -> Option<Rect> {
        let body = self.body_extent().filter(|b| b.iou(tracked) >= min_iou)?;
        Some(if self.legs_seen() { body } else { body.union(tracked) })
    }

    /// Where the body is, for a tracker that follows the centre of a box of `tracked`'s size:
    /// [`Self::body_extent`] where a leg is seen. Where none is (blur, back light, snow or
    /// water hiding them) that extent covers the upper body alone and its centre lies above the
    /// body's; the hips are then the centre, the middle of a body in any posture or rotation
    /// (a backlit 320 px sports2d: the legs faded out, the box followed the shrinking upper
    /// body 25 px up onto the sky and the athlete was lost for three seconds).
    pub fn sighting(&self, tracked: &Rect) -> Option<Rect> {
        let body = self.body_extent()?;
        if self.legs_seen() {
            return Some(body);
        }
        let hips = Rect::bounding(seen_points(self.joints.get(HIP_JOINTS).unwrap_or_default()));
        Some(hips.map_or(body, |h| Rect::from_center(h.center().x, h.center().y, tracked.w, tracked.h)))
    }

    fn legs_seen(&self) -> bool {
        self.joints.get(LEG_JOINTS).is_some_and(|legs| seen_points(legs).next().is_some())
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

    const UNSEEN: Joint = Joint { x: 0.0, y: 0.0, confidence: 0.1 };

    /// Head, shoulders and hips of someone standing in a tracker's box (returned too), legs not
    /// found (blur, snow, or the model missed them).
    fn legs_unseen() -> (PoseFrame, Rect) {
        let mut joints = vec![UNSEEN; 33];
        joints[0] = Joint { x: 120.0, y: 80.0, confidence: 0.9 };
        joints[11] = Joint { x: 100.0, y: 100.0, confidence: 0.9 };
        joints[12] = Joint { x: 140.0, y: 100.0, confidence: 0.9 };
        joints[23] = Joint { x: 105.0, y: 180.0, confidence: 0.9 };
        joints[24] = Joint { x: 135.0, y: 180.0, confidence: 0.9 };
        (PoseFrame { time: 0.0, score: 0.9, joints }, Rect { x: 90.0, y: 60.0, w: 60.0, h: 240.0 })
    }

    #[test]
    fn the_box_fits_a_whole_body_and_keeps_the_trackers_where_no_leg_is_seen() {
        let (mut pose, tracked) = legs_unseen();
        let upper = pose.body_extent().unwrap();
        assert!(upper.y + upper.h < 200.0, "the joints' box ends at the hips: {upper:?}");
        assert_eq!(pose.fitted_box(&tracked, 0.3), Some(upper.union(&tracked)));
        // Knees and ankles seen: the body is the box.
        pose.joints[25] = Joint { x: 106.0, y: 240.0, confidence: 0.9 };
        pose.joints[27] = Joint { x: 107.0, y: 295.0, confidence: 0.9 };
        let whole = pose.body_extent().unwrap();
        assert_eq!(pose.fitted_box(&tracked, 0.3), Some(whole));
        // Somewhere else: someone else's pose, the tracker's box stands.
        assert_eq!(pose.fitted_box(&Rect { x: 400.0, ..tracked }, 0.3), None);
    }

    #[test]
    fn a_body_whose_legs_faded_out_is_sighted_at_its_hips() {
        let (mut pose, tracked) = legs_unseen();
        let upper = pose.body_extent().unwrap();
        assert!(upper.center().y < 140.0, "the upper body's centre is high: {upper:?}");
        let sighted = pose.sighting(&tracked).unwrap();
        assert_eq!(sighted.center(), Point::new(120.0, 180.0));
        assert_eq!((sighted.w, sighted.h), (tracked.w, tracked.h));
        // Upside down (a handstand), the hips are still the middle.
        for j in &mut pose.joints {
            j.y = 360.0 - j.y;
        }
        assert_eq!(pose.sighting(&tracked).unwrap().center(), Point::new(120.0, 180.0));
        // A knee seen: the body's extent is the sighting.
        pose.joints[25] = Joint { x: 106.0, y: 120.0, confidence: 0.9 };
        assert_eq!(pose.sighting(&tracked), pose.body_extent());
        // No hips either: the upper body is all there is to go by.
        pose.joints[25] = UNSEEN;
        pose.joints[23] = UNSEEN;
        pose.joints[24] = UNSEEN;
        assert_eq!(pose.sighting(&tracked), pose.body_extent());
    }

    #[test]
    fn the_body_extent_holds_the_joints_with_room_for_the_head() {
        let joint = |x, y| Joint { x, y, confidence: 0.9 };
        let pose = PoseFrame { time: 0.0, score: 0.9, joints: vec![joint(100.0, 50.0), joint(140.0, 250.0)] };
        let b = pose.body_extent().unwrap();
        assert!(b.x < 100.0 && b.x + b.w > 140.0);
        assert!(50.0 - b.y > b.y + b.h - 250.0, "more room above than below: {b:?}");
        // Standing, the body ends at the lowest joint (heels and toes are joints): annotators'
        // boxes stop at the soles.
        assert_eq!(b.y + b.h, 250.0);
        assert_eq!(PoseFrame { time: 0.0, score: 0.0, joints: vec![] }.body_extent(), None);
        // Seen side-on, the joints nearly in a line: the box is still as wide as a body is deep;
        // lying down, as tall.
        let side_on = PoseFrame { time: 0.0, score: 0.9, joints: vec![joint(100.0, 50.0), joint(104.0, 250.0)] };
        let b = side_on.body_extent().unwrap();
        assert!(b.w >= 0.16 * 200.0, "{b:?}");
        let lying = PoseFrame { time: 0.0, score: 0.9, joints: vec![joint(50.0, 100.0), joint(250.0, 104.0)] };
        let b = lying.body_extent().unwrap();
        assert!(b.h >= 0.16 * 200.0, "{b:?}");
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
