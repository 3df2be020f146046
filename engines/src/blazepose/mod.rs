// SPDX-License-Identifier: MPL-2.0
//! BlazePose (MediaPipe Pose): the person detector, the landmark model and the keypoint names.

pub mod anchors;
pub mod detector;
pub mod landmarks;

/// Body keypoints of the landmark model, in its output order.
pub const KEYPOINT_NAMES: [&str; 33] = [
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
];

/// COCO's 17 body keypoints, in COCO order.
pub const COCO17_NAMES: [&str; 17] = [
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
];

/// For each COCO-17 keypoint (COCO order), its index among [`KEYPOINT_NAMES`].
pub const COCO17_FROM_BLAZEPOSE: [usize; 17] = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28];

/// MediaPipe scales the alignment square by this much so the whole body fits the crop.
pub const ROI_SCALE: f32 = 1.25;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coco_mapping_follows_names() {
        for (name, &i) in COCO17_NAMES.iter().zip(&COCO17_FROM_BLAZEPOSE) {
            assert_eq!(KEYPOINT_NAMES[i], *name);
        }
    }
}
