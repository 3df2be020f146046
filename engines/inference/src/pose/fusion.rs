// SPDX-License-Identifier: MPL-2.0
//! One pose from two models: MoveNet's body joints (it keeps to the person it was pointed at)
//! and BlazePose's points MoveNet lacks (heels and toes, which give the skis' direction; hands;
//! the face's details), each moved with the MoveNet joint it hangs from so the skeleton stays
//! in one piece.

use crate::blazepose::landmarks::Landmarks;
use crate::movenet::{Body, confidence_from_score};
use aicoach_vision::pose::{Joint, PoseFrame};

/// BlazePose points that MoveNet lacks, each with the BlazePose joint it hangs from (which
/// MoveNet has): eye corners from the eye, the mouth from the nose, fingers from the wrist,
/// heel and toe from the ankle.
const HANGING: [(usize, usize); 16] = [
    (1, 2),
    (3, 2),
    (4, 5),
    (6, 5),
    (9, 0),
    (10, 0),
    (17, 15),
    (19, 15),
    (21, 15),
    (18, 16),
    (20, 16),
    (22, 16),
    (29, 27),
    (31, 27),
    (30, 28),
    (32, 28),
];

/// Below this MoveNet score a joint is not trusted to carry the points hanging from it; they
/// keep BlazePose's own position.
const ANCHOR_MIN_SCORE: f32 = 0.3;

/// The athlete's 33 BlazePose-ordered joints from MoveNet's body and, when BlazePose found the
/// same person (`landmarks`, run on the region the body placed), its extra points.
pub fn fuse(body: &Body, landmarks: Option<&Landmarks>, time: f64) -> PoseFrame {
    let blaze = landmarks.map(|l| l.pose_frame(time));
    let mut joints = match &blaze {
        Some(b) => b.joints.clone(),
        None => vec![Joint::default(); crate::blazepose::landmarks::NUM_BODY_POINTS],
    };
    // A head MoveNet put on a neighbour's face is left unseen, and the face's details stay
    // BlazePose's.
    for (coco, (i, p)) in body.as_blazepose().enumerate() {
        let confidence = if body.attached(coco) { confidence_from_score(p.score) } else { 0.0 };
        joints[i] = Joint { x: p.x, y: p.y, confidence };
    }
    for (extra, anchor) in HANGING {
        let moved = &body.points[coco_index(anchor)];
        joints[extra] = match &blaze {
            Some(b) if moved.score >= ANCHOR_MIN_SCORE && body.attached(coco_index(anchor)) => {
                let (from, own) = (b.joints[anchor], b.joints[extra]);
                Joint {
                    x: own.x + moved.x - from.x,
                    y: own.y + moved.y - from.y,
                    confidence: own.confidence.min(joints[anchor].confidence),
                }
            }
            Some(b) => b.joints[extra],
            // No BlazePose: the point sits on its anchor, unseen.
            None => Joint { x: moved.x, y: moved.y, confidence: 0.0 },
        };
    }
    PoseFrame { time, score: landmarks.map_or(body.score(), |l| l.pose_score.max(body.score())), joints }
}

/// The limbs' joints (shoulders to ankles, BlazePose indices), on which two models' poses of
/// one person must agree.
const LIMB_JOINTS: [usize; 12] = [11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28];
/// Two poses are of the same person when their limb joints lie within this fraction of the
/// body's size of each other (the median over the joints both models see).
const AGREEMENT: f32 = 0.2;

/// Whether BlazePose's `landmarks` are of the body MoveNet found (the landmark model can still
/// take a neighbour who reaches into its region).
pub fn agrees(body: &Body, landmarks: &Landmarks) -> bool {
    let Some(size) = body.bounding_box().map(|b| b.w.max(b.h)).filter(|s| *s > 1.0) else {
        return false;
    };
    let mut distances: Vec<f32> = LIMB_JOINTS
        .iter()
        .filter_map(|&j| {
            let m = body.points[coco_index(j)];
            let k = landmarks.keypoints[j];
            (m.score >= ANCHOR_MIN_SCORE).then(|| m.point().distance(k.point()))
        })
        .collect();
    if distances.len() < 3 {
        return false;
    }
    distances.sort_by(f32::total_cmp);
    distances[distances.len() / 2] <= AGREEMENT * size
}

fn coco_index(blazepose: usize) -> usize {
    aicoach_vision::keypoints::COCO17_FROM_BLAZEPOSE
        .iter()
        .position(|&b| b == blazepose)
        .expect("anchors are COCO joints")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blazepose::landmarks::Keypoint;
    use crate::movenet::{BodyPoint, NUM_KEYPOINTS};
    use aicoach_vision::geometry::Point;

    fn landmarks(dx: f32) -> Landmarks {
        let keypoints = (0..33)
            .map(|i| Keypoint { x: i as f32 + dx, y: 10.0 * i as f32, z: 0.0, visibility: 0.9, presence: 0.95 })
            .collect();
        Landmarks { pose_score: 0.8, keypoints, alignment: [Point::default(); 2] }
    }

    fn body(score: f32) -> Body {
        let mut points = [BodyPoint::default(); NUM_KEYPOINTS];
        for (c, &b) in aicoach_vision::keypoints::COCO17_FROM_BLAZEPOSE.iter().enumerate() {
            points[c] = BodyPoint { x: b as f32, y: 10.0 * b as f32, score };
        }
        Body { points }
    }

    #[test]
    fn body_joints_come_from_movenet_and_feet_follow_their_ankles() {
        // BlazePose sits 5 px to the right of MoveNet's joints everywhere.
        let pose = fuse(&body(0.9), Some(&landmarks(5.0)), 1.0);
        assert_eq!(pose.joints.len(), 33);
        assert_eq!(pose.joints[27].x, 27.0, "the ankle is MoveNet's");
        assert!((pose.joints[27].confidence - confidence_from_score(0.9)).abs() < 1e-6);
        // The heel moved with the ankle, back onto MoveNet's frame of the body.
        assert_eq!((pose.joints[29].x, pose.joints[29].y), (29.0, 290.0));
        assert!((pose.joints[29].confidence - 0.9).abs() < 1e-6);
        assert!((pose.score - 0.9).abs() < 1e-6, "the surer of the two models: {}", pose.score);
    }

    #[test]
    fn a_head_out_of_reach_of_the_shoulders_is_unseen_and_the_face_stays_blazepose() {
        // Torso: shoulders (11, 12) at y 110-120, hips (23, 24) at y 230-240: 120 px long.
        let mut b = body(0.9);
        // The left eye (COCO 1) and ear (COCO 3) on a neighbour 200 px to the right.
        for coco in [1, 3] {
            b.points[coco].x += 200.0;
        }
        let pose = fuse(&b, Some(&landmarks(5.0)), 0.0);
        assert_eq!((pose.joints[2].confidence, pose.joints[7].confidence), (0.0, 0.0), "left eye and ear unseen");
        assert!(pose.joints[0].confidence > 0.5 && pose.joints[5].confidence > 0.5, "nose and right eye seen");
        // The left eye's corners keep BlazePose's own place instead of following the stray eye.
        assert_eq!(pose.joints[1].x, 6.0);
        // Back within reach, the eye is the body's again.
        assert!(body(0.9).attached(1) && !b.attached(1) && b.attached(2));
    }

    #[test]
    fn an_unsure_anchor_leaves_blazepose_points_where_they_are() {
        let pose = fuse(&body(0.1), Some(&landmarks(5.0)), 0.0);
        assert_eq!(pose.joints[29].x, 34.0);
        assert!(pose.joints[27].confidence < 0.5);
    }

    #[test]
    fn poses_of_one_person_agree_and_of_a_neighbour_do_not() {
        // Body joints spread over 0..320 px: 5 px apart agree, 200 px apart do not.
        assert!(agrees(&body(0.9), &landmarks(5.0)));
        assert!(!agrees(&body(0.9), &landmarks(200.0)));
        assert!(!agrees(&body(0.1), &landmarks(0.0)), "nothing MoveNet is sure of to compare");
    }

    #[test]
    fn without_blazepose_extra_points_are_unseen_on_their_anchor() {
        let pose = fuse(&body(0.9), None, 0.0);
        assert_eq!((pose.joints[31].x, pose.joints[31].confidence), (27.0, 0.0));
        assert!((pose.score - 0.9).abs() < 1e-6);
    }
}
