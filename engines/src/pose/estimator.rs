// SPDX-License-Identifier: MPL-2.0
//! Per-frame pose of one athlete: picks the landmark model's region (previous keypoints or
//! the athlete's box), runs the model, and decides whether a person is there at all.

use super::PoseFrame;
use super::roi::{self, RoiSource};
use crate::PoseLandmarker;
use crate::error::Result;
use crate::geometry::{Rect, RotatedRect};
use crate::image::RgbSource;

/// The landmark model's person score below which the crop is taken to hold nobody (MediaPipe's
/// default).
pub const MIN_POSE_SCORE: f32 = 0.5;

/// One frame's result.
#[derive(Debug, Clone)]
pub struct Estimate {
    pub pose: PoseFrame,
    /// The region the model looked at, and where it came from.
    pub roi: RotatedRect,
    pub source: RoiSource,
}

pub struct PoseEstimator {
    landmarker: PoseLandmarker,
    /// The region the last pose predicts for the next frame.
    next_roi: Option<RotatedRect>,
}

impl PoseEstimator {
    pub fn new(landmarker: PoseLandmarker) -> Self {
        Self { landmarker, next_roi: None }
    }

    pub fn landmarker(&self) -> &PoseLandmarker {
        &self.landmarker
    }

    pub fn into_landmarker(self) -> PoseLandmarker {
        self.landmarker
    }

    /// Forgets the previous frame (new athlete, seek, new stream).
    pub fn reset(&mut self) {
        self.next_roi = None;
    }

    /// The athlete's pose at `time` seconds on `frame`, given their box when a tracker or
    /// detector knows it. Without a box the model follows its own previous keypoints; with
    /// neither there is nothing to look at.
    pub fn estimate<S: RgbSource + ?Sized>(
        &mut self,
        frame: &S,
        athlete: Option<&Rect>,
        time: f64,
    ) -> Result<Option<Estimate>> {
        let Some((roi, source)) = roi::choose(self.next_roi.as_ref(), athlete) else {
            return Ok(None);
        };
        let mut landmarks = self.landmarker.estimate(frame, &roi)?;
        let (mut roi, mut source) = (roi, source);
        // The previous keypoints' region lost the person: look once more where the box is.
        if landmarks.pose_score < MIN_POSE_SCORE
            && source == RoiSource::Keypoints
            && let Some(b) = athlete
        {
            roi = roi::from_box(b);
            source = RoiSource::Box;
            landmarks = self.landmarker.estimate(frame, &roi)?;
        }
        if landmarks.pose_score < MIN_POSE_SCORE {
            self.next_roi = None;
            return Ok(None);
        }
        self.next_roi = landmarks.next_roi();
        Ok(Some(Estimate { pose: PoseFrame::from_landmarks(&landmarks, time), roi, source }))
    }
}
