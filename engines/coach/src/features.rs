// SPDX-License-Identifier: MPL-2.0
//! Joint-angle features of one frame's keypoints, all in degrees.
//!
//! The paper's Table 1 describes a pose by eight angles, each between the vectors P_i -> P_j
//! and P_k -> P_l of four keypoints, over shoulders, hips, knees, ankles and skis. Our pose
//! models have no ski keypoints, so a ski's direction is its foot's: heel -> foot index (the
//! binding holds the boot along the ski). The eight:
//!
//! | feature | P_i -> P_j | P_k -> P_l | reads as |
//! |---|---|---|---|
//! | `hip_left` | left shoulder -> left hip | left hip -> left knee | 0 when trunk and thigh are in line |
//! | `hip_right` | right shoulder -> right hip | right hip -> right knee | |
//! | `knee_left` | left hip -> left knee | left knee -> left ankle | 0 when the leg is straight |
//! | `knee_right` | right hip -> right knee | right knee -> right ankle | |
//! | `ankle_left` | left knee -> left ankle | left heel -> left foot index | shank to ski, 90 when standing |
//! | `ankle_right` | right knee -> right ankle | right heel -> right foot index | |
//! | `ski_angle` | left heel -> left foot index | right heel -> right foot index | 0 when the skis are parallel |
//! | `leg_angle` | left hip -> left ankle | right hip -> right ankle | 0 when the legs are together |
//!
//! and the ones a coach reads: `hip_flexion` and `knee_flexion` (the larger of left and right),
//! `trunk_lean` (mid-hip -> mid-shoulder against the image's up), `leg_separation` (=
//! `leg_angle`), and `ski_crossing` (`ski_angle` when the tips are closer together than the
//! heels, i.e. the skis converge into an X; 0 when they open into a V).

use aicoach_vision::Point;
use aicoach_vision::keypoints::KEYPOINT_NAMES;
use aicoach_vision::pose::Joint;

/// Every feature's name, in [`Features::values`] order.
pub const FEATURE_NAMES: [&str; FEATURE_COUNT] = [
    "hip_left",
    "hip_right",
    "knee_left",
    "knee_right",
    "ankle_left",
    "ankle_right",
    "ski_angle",
    "leg_angle",
    "hip_flexion",
    "knee_flexion",
    "trunk_lean",
    "leg_separation",
    "ski_crossing",
];
pub const FEATURE_COUNT: usize = 13;
/// The paper's eight (Table 1) come first.
pub const TABLE1_COUNT: usize = 8;

pub fn feature_index(name: &str) -> Option<usize> {
    FEATURE_NAMES.iter().position(|n| *n == name)
}

/// The keypoints each feature is computed from (BlazePose names), so an overlay can colour
/// the limbs an error involves.
pub fn feature_joints(feature: usize) -> &'static [&'static str] {
    const TABLE: [&[&str]; FEATURE_COUNT] = [
        &["left_shoulder", "left_hip", "left_knee"],
        &["right_shoulder", "right_hip", "right_knee"],
        &["left_hip", "left_knee", "left_ankle"],
        &["right_hip", "right_knee", "right_ankle"],
        &["left_knee", "left_ankle", "left_heel", "left_foot_index"],
        &["right_knee", "right_ankle", "right_heel", "right_foot_index"],
        &["left_heel", "left_foot_index", "right_heel", "right_foot_index"],
        &["left_hip", "left_ankle", "right_hip", "right_ankle"],
        &["left_shoulder", "left_hip", "left_knee", "right_shoulder", "right_hip", "right_knee"],
        &["left_hip", "left_knee", "left_ankle", "right_hip", "right_knee", "right_ankle"],
        &["left_shoulder", "right_shoulder", "left_hip", "right_hip"],
        &["left_hip", "left_ankle", "right_hip", "right_ankle"],
        &["left_heel", "left_foot_index", "right_heel", "right_foot_index"],
    ];
    TABLE[feature]
}

/// One frame's features; `None` where a keypoint it needs is missing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Features {
    pub values: [Option<f64>; FEATURE_COUNT],
}

impl Features {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values[feature_index(name)?]
    }
}

/// The unsigned angle in degrees (0..180) between the vectors `a -> b` and `c -> d`.
pub fn vector_angle(a: Point, b: Point, c: Point, d: Point) -> Option<f64> {
    let (ux, uy) = ((b.x - a.x) as f64, (b.y - a.y) as f64);
    let (vx, vy) = ((d.x - c.x) as f64, (d.y - c.y) as f64);
    let (nu, nv) = (ux.hypot(uy), vx.hypot(vy));
    if nu < 1e-6 || nv < 1e-6 {
        return None;
    }
    let cos = ((ux * vx + uy * vy) / (nu * nv)).clamp(-1.0, 1.0);
    Some(cos.acos().to_degrees())
}

fn midpoint(a: Point, b: Point) -> Point {
    Point::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0)
}

/// Keypoints by BlazePose name, each present when seen with at least the given confidence.
pub struct Skeleton {
    points: Vec<Option<Point>>,
}

impl Skeleton {
    /// From joints in BlazePose order (`None`: left out), keeping those at or above
    /// `min_confidence`.
    pub fn new(joints: &[Option<Joint>], min_confidence: f32) -> Self {
        let points = (0..KEYPOINT_NAMES.len())
            .map(|i| joints.get(i).copied().flatten().filter(|j| j.confidence >= min_confidence).map(|j| j.point()))
            .collect();
        Self { points }
    }

    pub fn point(&self, name: &str) -> Option<Point> {
        self.points[KEYPOINT_NAMES.iter().position(|n| *n == name)?]
    }

    fn angle(&self, a: &str, b: &str, c: &str, d: &str) -> Option<f64> {
        vector_angle(self.point(a)?, self.point(b)?, self.point(c)?, self.point(d)?)
    }

    pub fn features(&self) -> Features {
        let hip_left = self.angle("left_shoulder", "left_hip", "left_hip", "left_knee");
        let hip_right = self.angle("right_shoulder", "right_hip", "right_hip", "right_knee");
        let knee_left = self.angle("left_hip", "left_knee", "left_knee", "left_ankle");
        let knee_right = self.angle("right_hip", "right_knee", "right_knee", "right_ankle");
        let ankle_left = self.angle("left_knee", "left_ankle", "left_heel", "left_foot_index");
        let ankle_right = self.angle("right_knee", "right_ankle", "right_heel", "right_foot_index");
        let ski_angle = self.angle("left_heel", "left_foot_index", "right_heel", "right_foot_index");
        let leg_angle = self.angle("left_hip", "left_ankle", "right_hip", "right_ankle");
        let larger = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let trunk_lean = (|| {
            let shoulders = midpoint(self.point("left_shoulder")?, self.point("right_shoulder")?);
            let hips = midpoint(self.point("left_hip")?, self.point("right_hip")?);
            // The image's up is -y.
            vector_angle(hips, shoulders, Point::new(0.0, 0.0), Point::new(0.0, -1.0))
        })();
        let ski_crossing = (|| {
            let tips = self.point("left_foot_index")?.distance(self.point("right_foot_index")?);
            let heels = self.point("left_heel")?.distance(self.point("right_heel")?);
            Some(if tips < heels { ski_angle? } else { 0.0 })
        })();
        Features {
            values: [
                hip_left,
                hip_right,
                knee_left,
                knee_right,
                ankle_left,
                ankle_right,
                ski_angle,
                leg_angle,
                larger(hip_left, hip_right),
                larger(knee_left, knee_right),
                trunk_lean,
                leg_angle,
                ski_crossing,
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skeleton(points: &[(&str, f32, f32)]) -> Skeleton {
        let mut joints = vec![None; KEYPOINT_NAMES.len()];
        for &(name, x, y) in points {
            let i = KEYPOINT_NAMES.iter().position(|n| *n == name).unwrap();
            joints[i] = Some(Joint { x, y, confidence: 0.9 });
        }
        Skeleton::new(&joints, 0.5)
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-4)
    }

    #[test]
    fn angles_between_vectors_by_hand() {
        let p = Point::new;
        assert!(close(vector_angle(p(0., 0.), p(1., 0.), p(0., 0.), p(0., 1.)), 90.0));
        assert!(close(vector_angle(p(0., 0.), p(1., 0.), p(5., 5.), p(6., 5.)), 0.0));
        assert!(close(vector_angle(p(0., 0.), p(1., 1.), p(0., 0.), p(-1., -1.)), 180.0));
        assert!(close(vector_angle(p(0., 0.), p(2., 0.), p(0., 0.), p(1., 3f32.sqrt())), 60.0));
        assert_eq!(vector_angle(p(1., 1.), p(1., 1.), p(0., 0.), p(1., 0.)), None);
    }

    #[test]
    fn a_squatting_skier_reads_as_a_coach_would() {
        // Side view facing right: trunk leaning forward 45 degrees, thigh horizontal, shank
        // vertical, foot flat (heel -> toe to the right). Both sides alike, legs together.
        let s2 = std::f32::consts::FRAC_1_SQRT_2;
        let mut points = Vec::new();
        for side in ["left", "right"] {
            points.push((["", side, "_shoulder"].concat(), 100.0 * s2, 100.0 - 100.0 * s2));
            points.push(([side, "_hip"].concat(), 0.0, 100.0));
            points.push(([side, "_knee"].concat(), 100.0, 100.0));
            points.push(([side, "_ankle"].concat(), 100.0, 200.0));
            points.push(([side, "_heel"].concat(), 90.0, 210.0));
            points.push(([side, "_foot_index"].concat(), 130.0, 210.0));
        }
        let named: Vec<(&str, f32, f32)> = points.iter().map(|(n, x, y)| (n.as_str(), *x, *y)).collect();
        let f = skeleton(&named).features();
        // Trunk direction (shoulder -> hip) points down-left, thigh points right: 135 degrees.
        assert!(close(f.get("hip_left"), 135.0), "{:?}", f.get("hip_left"));
        assert!(close(f.get("knee_right"), 90.0));
        assert!(close(f.get("ankle_left"), 90.0));
        assert!(close(f.get("ski_angle"), 0.0));
        assert!(close(f.get("leg_angle"), 0.0));
        assert!(close(f.get("hip_flexion"), 135.0));
        assert!(close(f.get("knee_flexion"), 90.0));
        assert!(close(f.get("trunk_lean"), 45.0));
        assert!(close(f.get("ski_crossing"), 0.0));
    }

    #[test]
    fn skis_converging_into_an_x_cross_and_a_v_does_not() {
        // Seen from behind: heels apart, tips together (X), then tips apart (V), 30 degrees each.
        let t = 30f32.to_radians() / 2.0;
        let (dx, dy) = (100.0 * t.sin(), -100.0 * t.cos());
        let x = skeleton(&[
            ("left_heel", 0.0, 0.0),
            ("left_foot_index", dx, dy),
            ("right_heel", 100.0, 0.0),
            ("right_foot_index", 100.0 - dx, dy),
        ]);
        let f = x.features();
        assert!((f.get("ski_angle").unwrap() - 30.0).abs() < 1e-3);
        assert!((f.get("ski_crossing").unwrap() - 30.0).abs() < 1e-3);
        let v = skeleton(&[
            ("left_heel", 0.0, 0.0),
            ("left_foot_index", -dx, dy),
            ("right_heel", 100.0, 0.0),
            ("right_foot_index", 100.0 + dx, dy),
        ]);
        assert_eq!(v.features().get("ski_crossing"), Some(0.0));
    }

    #[test]
    fn missing_or_unsure_keypoints_give_no_value() {
        let mut joints = vec![None; KEYPOINT_NAMES.len()];
        for (i, name) in KEYPOINT_NAMES.iter().enumerate() {
            if name.contains("left") {
                joints[i] = Some(Joint { x: i as f32, y: (i * i) as f32, confidence: 0.9 });
            }
        }
        // The left knee is unsure.
        joints[25].as_mut().unwrap().confidence = 0.2;
        let f = Skeleton::new(&joints, 0.5).features();
        assert_eq!(f.get("knee_left"), None);
        assert_eq!(f.get("knee_right"), None);
        assert_eq!(f.get("knee_flexion"), None);
        assert!(f.get("ankle_left").is_none(), "needs the knee");
        assert!(f.get("ski_angle").is_none(), "needs the right foot");
    }
}
