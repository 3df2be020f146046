// SPDX-License-Identifier: MPL-2.0
//! Following one athlete through a video, with no GStreamer types: a correlation-filter
//! tracker for frame-to-frame motion, a colour model for identity, a motion model for speed,
//! and the state machine that decides when to verify, when the athlete is lost and when a
//! detection is the same athlete again.

pub mod appearance;
pub mod athlete;
pub mod bystanders;
pub mod camera;
mod fft;
pub mod mosse;
pub mod motion;
mod pan;
pub mod patch;
#[cfg(test)]
mod test_world;

pub use athlete::{AthleteTracker, PoseCue, SelectRule, TrackOutput, TrackState, TrackerConfig};
