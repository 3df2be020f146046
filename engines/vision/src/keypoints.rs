// SPDX-License-Identifier: MPL-2.0
//! The body schema every layer speaks: BlazePose's 33 keypoints (the order of every pose's
//! joints, whichever model found them) and COCO's 17 (the order of MoveNet and of most
//! ground truth).

/// The body keypoints, in BlazePose's landmark order: the index of a joint in every pose.
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
