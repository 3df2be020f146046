// SPDX-License-Identifier: MPL-2.0
//! AI Coach vision layer: the algorithms that need neither a model nor GStreamer. Frames and
//! the geometry on them, the body schema (the 33 keypoint names), a pose over time with its
//! skeleton and its spatial-temporal refinement, and the single-athlete tracker.
//!
//! It imports nothing else of AI Coach; every other layer imports it.

pub mod detection;
pub mod error;
pub mod geometry;
pub mod image;
pub mod keypoints;
pub mod masked;
pub mod pose;
pub mod tracking;

pub use detection::Detection;
pub use error::ImageError;
pub use geometry::{Point, Rect, RotatedRect};
