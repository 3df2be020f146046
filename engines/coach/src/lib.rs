// SPDX-License-Identifier: MPL-2.0
//! Coaching from keypoints, independent of GStreamer: joint-angle features, sport profiles
//! with geometric rules and SVMs for bad poses, attempts and their scores, exemplar
//! suggestions, and the JSON Lines report.

pub mod attempt;
pub mod coach;
pub mod dataset;
pub mod exemplar;
pub mod features;
pub mod page;
pub mod profile;
pub mod report;
pub mod rule;
pub mod score;
pub mod session;
pub mod skijump;
pub mod svm;
