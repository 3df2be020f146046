// SPDX-License-Identifier: MPL-2.0
//! BlazePose (MediaPipe Pose): the person detector and the landmark model. Its 33 keypoint
//! names are the body schema of the whole product (`aicoach_vision::keypoints`).

pub mod anchors;
pub mod detector;
pub mod landmarks;

/// MediaPipe scales the alignment square by this much so the whole body fits the crop.
pub const ROI_SCALE: f32 = 1.25;
