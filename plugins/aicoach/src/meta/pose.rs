// SPDX-License-Identifier: MPL-2.0
//! The athlete's keypoints as a `GstStructure` named `aicoach/pose`, stored in the buffer's
//! `AICoachMeta` under the field `pose`. One field per keypoint, named as BlazePose names them
//! (COCO-17's names plus BlazePose's extras such as `left_heel`), holding the array
//! `<x, y, confidence>` in frame pixels; keypoints below the element's `min-confidence` are
//! left out. Besides: `tracking_id` (0 without a tracker), `score` (the model's person score),
//! `model`, `refine`, `roi_source` (`keypoints` or `box`), `carried` (true where the frame
//! came too late to analyse and the last pose was moved along with the athlete's box: shown,
//! never judged).

use aicoach_vision::keypoints::KEYPOINT_NAMES;
use aicoach_vision::pose::{Joint, PoseFrame};

use super::with_custom_structure;

pub const POSE_PARAMS: &str = "aicoach/pose";
/// The `AICoachMeta` field holding the pose structure.
pub const POSE_FIELD: &str = "pose";

/// How a pose was made, for the structure's descriptive fields.
#[derive(Debug, Clone, Copy)]
pub struct PoseSource<'a> {
    pub tracking_id: u64,
    pub model: &'a str,
    pub refine: &'a str,
    pub roi_source: &'a str,
    pub carried: bool,
}

pub fn pose_structure(pose: &PoseFrame, source: &PoseSource, min_confidence: f32) -> gst::Structure {
    let mut s = gst::Structure::builder(POSE_PARAMS)
        .field("tracking_id", source.tracking_id)
        .field("score", pose.score as f64)
        .field("model", source.model)
        .field("refine", source.refine)
        .field("roi_source", source.roi_source)
        .field("carried", source.carried)
        .build();
    for (joint, name) in pose.joints.iter().zip(KEYPOINT_NAMES) {
        if joint.confidence >= min_confidence {
            s.set(name, gst::Array::new([joint.x as f64, joint.y as f64, joint.confidence as f64]));
        }
    }
    s
}

pub fn set_pose(buffer: &mut gst::BufferRef, pose: gst::Structure) {
    with_custom_structure(buffer, |s| s.set(POSE_FIELD, pose));
}

/// A pose read back from a buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct PoseReading {
    pub tracking_id: u64,
    pub score: f32,
    /// Not estimated on this frame: the last pose, moved with the athlete.
    pub carried: bool,
    /// The models that found it (`movenet-lightning+lite`).
    pub model: String,
    /// In [`KEYPOINT_NAMES`] order; `None` where the keypoint was left out.
    pub joints: Vec<Option<Joint>>,
}

impl PoseReading {
    /// As a pose at `time` seconds; left-out keypoints become unseen joints at the origin.
    pub fn into_frame(self, time: f64) -> PoseFrame {
        PoseFrame { time, score: self.score, joints: self.joints.into_iter().map(Option::unwrap_or_default).collect() }
    }
}

fn joint_from(value: &gst::Array) -> Option<Joint> {
    match value.as_slice() {
        [x, y, c] => Some(Joint {
            x: x.get::<f64>().ok()? as f32,
            y: y.get::<f64>().ok()? as f32,
            confidence: c.get::<f64>().ok()? as f32,
        }),
        _ => None,
    }
}

/// The pose an upstream `aicoachpose` attached to this buffer, if any.
pub fn read_pose(buffer: &gst::BufferRef) -> Option<PoseReading> {
    let s = super::custom_field::<gst::Structure>(buffer, POSE_FIELD)?;
    Some(PoseReading {
        tracking_id: s.get::<u64>("tracking_id").unwrap_or(0),
        score: s.get::<f64>("score").unwrap_or(0.0) as f32,
        carried: s.get::<bool>("carried").unwrap_or(false),
        model: s.get::<String>("model").unwrap_or_default(),
        joints: KEYPOINT_NAMES.iter().map(|n| s.get::<gst::Array>(*n).ok().and_then(|a| joint_from(&a))).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pose_round_trips_and_unsure_joints_are_left_out() {
        gst::init().unwrap();
        super::super::register_custom_meta();
        let joints: Vec<Joint> = (0..33)
            .map(|i| Joint { x: i as f32, y: 2.0 * i as f32, confidence: if i == 5 { 0.2 } else { 0.9 } })
            .collect();
        let pose = PoseFrame { time: 0.0, score: 0.97, joints: joints.clone() };
        let source = PoseSource { tracking_id: 3, model: "lite", refine: "none", roi_source: "box", carried: true };
        let s = pose_structure(&pose, &source, 0.5);
        assert_eq!(s.name(), "aicoach/pose");
        assert!(s.has_field("left_foot_index") && !s.has_field("right_eye"));
        let mut buffer = gst::Buffer::new();
        set_pose(buffer.get_mut().unwrap(), s);
        let back = read_pose(&buffer).unwrap();
        assert_eq!((back.tracking_id, back.carried), (3, true));
        assert!((back.score - 0.97).abs() < 1e-6);
        assert_eq!(back.joints[5], None);
        assert_eq!(back.joints[11], Some(joints[11]));
    }
}
