// SPDX-License-Identifier: MPL-2.0
//! The athlete's pose from the landmark models: where each frame's model region comes from
//! ([`roi`]), MoveNet's body joined with BlazePose's extra points ([`fusion`]), when a larger body model
//! looks again ([`recheck`], within a [`budget`]), how MoveNet's square turns with an athlete
//! who is not upright ([`turn`]), and the
//! per-frame estimator that runs them ([`estimator`]). The pose itself, its skeleton and its
//! refinement over time are model-independent and live in `aicoach_vision::pose`.

pub mod budget;
pub mod estimator;
pub mod fusion;
pub mod recheck;
pub mod roi;
pub mod turn;

pub use estimator::{Estimate, PoseEstimator};
