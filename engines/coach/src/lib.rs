// SPDX-License-Identifier: MPL-2.0
//! Coaching from keypoints, independent of GStreamer: joint-angle features, sport profiles
//! with geometric rules and SVMs for bad poses, attempts and their scores, exemplar
//! suggestions, and the JSON Lines report. What runs in a pipeline only: training and the
//! report page are in `aicoach-tools`.
//!
//! It imports `aicoach-vision` (joints, points, the keypoint names) and nothing else of AI Coach.

pub mod attempt;
pub mod coach;
pub mod exemplar;
pub mod features;
pub mod profile;
pub mod report;
pub mod rule;
pub mod score;
pub mod session;
pub mod svm;
