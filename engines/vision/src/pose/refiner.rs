// SPDX-License-Identifier: MPL-2.0
//! The spatial-temporal refinement of one athlete's keypoints over a window of T frames.
//!
//! Each frame's joints are first corrected by their neighbours ([`super::spatial`], with bone
//! lengths over the window), then filtered over time per coordinate by a confidence-weighted
//! [1€ filter](super::one_euro), whose cutoff rises with the joint's speed in body sizes per
//! second so fast limbs are not dragged behind.
//!
//! Causal by default. With `lookahead` L > 0 the output for a frame waits for L later frames:
//! a second 1€ filter runs backwards from the newest frame, and the frame's estimate is the
//! mean of the forward and backward ones, whose lags cancel. The caller then holds frames L
//! frames longer (an element must report that in the latency query).

use std::collections::VecDeque;
use std::str::FromStr;

use super::PoseFrame;
use super::one_euro::OneEuroParams;
use super::spatial::SpatialRefiner;
use super::temporal::PoseFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefineMode {
    /// The model's keypoints as they are.
    None,
    /// Per-joint adaptive filtering over time.
    Temporal,
    /// Spatial correction between joints, then temporal filtering.
    #[default]
    Spatiotemporal,
}

impl RefineMode {
    pub fn name(self) -> &'static str {
        match self {
            RefineMode::None => "none",
            RefineMode::Temporal => "temporal",
            RefineMode::Spatiotemporal => "spatiotemporal",
        }
    }
}

impl FromStr for RefineMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(RefineMode::None),
            "temporal" => Ok(RefineMode::Temporal),
            "spatiotemporal" => Ok(RefineMode::Spatiotemporal),
            _ => Err(format!("unknown refinement '{s}' (expected none, temporal or spatiotemporal)")),
        }
    }
}

/// Tuned on the development videos (see the README's numbers): at rest a joint is smoothed
/// with a ~1 Hz cutoff; at one body size per second the cutoff is already ~9 Hz.
pub const DEFAULT_ONE_EURO: OneEuroParams = OneEuroParams { min_cutoff: 1.0, beta: 8.0, derivative_cutoff: 1.0 };
/// A longer pause than this between two poses starts the filters afresh.
pub const MAX_GAP_SECONDS: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefinerConfig {
    pub mode: RefineMode,
    /// T: frames the bone-length statistics span, the lookahead included.
    pub window: usize,
    /// Future frames each output waits for (0: causal).
    pub lookahead: usize,
    pub filter: OneEuroParams,
}

impl RefinerConfig {
    pub fn new(mode: RefineMode, window: usize, lookahead: usize) -> Result<Self, String> {
        if window == 0 {
            return Err("the window must hold at least one frame".into());
        }
        if lookahead >= window {
            return Err(format!("lookahead ({lookahead}) must be smaller than the window ({window})"));
        }
        Ok(Self { mode, window, lookahead, filter: DEFAULT_ONE_EURO })
    }
}

struct Pending {
    /// The frame after spatial correction: what the temporal filters see.
    measured: Option<PoseFrame>,
    /// The forward filter's estimate of it.
    forward: Option<PoseFrame>,
    /// Frames of one segment are continuous; filters never run across segments.
    segment: u64,
}

pub struct Refiner {
    config: RefinerConfig,
    spatial: SpatialRefiner,
    forward: PoseFilter,
    last_time: Option<f64>,
    segment: u64,
    pending: VecDeque<Pending>,
}

impl Refiner {
    pub fn new(config: RefinerConfig) -> Self {
        Self {
            config,
            spatial: SpatialRefiner::new(config.window),
            forward: PoseFilter::default(),
            last_time: None,
            segment: 0,
            pending: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &RefinerConfig {
        &self.config
    }

    /// Frames held back, waiting for their lookahead.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Forgets everything, the frames held back included.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.break_sequence();
    }

    /// Starts a new sequence (another athlete, a seek) without dropping the frames held back.
    pub fn break_sequence(&mut self) {
        self.spatial.reset();
        self.forward = PoseFilter::default();
        self.last_time = None;
        self.segment += 1;
    }

    /// Takes the next frame's pose (`None`: no athlete on it, which ends the sequence) and
    /// returns the refined pose of the frame `lookahead` frames back, once there is one:
    /// `Some(None)` for a frame without a pose.
    pub fn push(&mut self, frame: Option<PoseFrame>) -> Option<Option<PoseFrame>> {
        let entry = match frame {
            None => {
                self.break_sequence();
                Pending { measured: None, forward: None, segment: self.segment }
            }
            Some(frame) => self.measure(frame),
        };
        self.pending.push_back(entry);
        (self.pending.len() > self.config.lookahead).then(|| self.emit())
    }

    /// Everything still held back, refined with the future there is (on end of stream).
    pub fn drain(&mut self) -> Vec<Option<PoseFrame>> {
        let mut out = Vec::with_capacity(self.pending.len());
        while !self.pending.is_empty() {
            out.push(self.emit());
        }
        out
    }

    fn measure(&mut self, mut frame: PoseFrame) -> Pending {
        let dt = self.last_time.map(|t| frame.time - t);
        if dt.is_some_and(|dt| !(dt > 0.0 && dt <= MAX_GAP_SECONDS)) {
            self.break_sequence();
        }
        let dt = self.last_time.map_or(0.0, |t| frame.time - t) as f32;
        self.last_time = Some(frame.time);
        if self.config.mode == RefineMode::None {
            return Pending { measured: Some(frame.clone()), forward: Some(frame), segment: self.segment };
        }
        if self.config.mode == RefineMode::Spatiotemporal {
            self.spatial.refine(&mut frame.joints);
        }
        let forward = self.forward.filter(&frame, dt, &self.config.filter);
        Pending { measured: Some(frame), forward: Some(forward), segment: self.segment }
    }

    /// Pops the oldest pending frame with its final estimate.
    fn emit(&mut self) -> Option<PoseFrame> {
        let oldest = self.pending.pop_front()?;
        let mut estimate = oldest.forward?;
        if self.config.mode == RefineMode::None || self.config.lookahead == 0 {
            return Some(estimate);
        }
        // The later frames of the same segment, in time order; the backward filter runs from
        // the newest down to the frame itself.
        let later: Vec<&Pending> = self
            .pending
            .iter()
            .take_while(|p| p.segment == oldest.segment)
            .take_while(|p| p.measured.is_some())
            .collect();
        let Some(newest) = later.last() else { return Some(estimate) };
        let measured = oldest.measured.as_ref().expect("set with forward");
        // Seeded with the forward estimate of the newest frame, so that the backward pass
        // starts smooth rather than from one noisy measurement.
        let mut backward = PoseFilter::default();
        let seed = newest.forward.as_ref().expect("set with measured");
        backward.filter(seed, 0.0, &self.config.filter);
        let mut previous_time = seed.time;
        let mut behind = None;
        let earlier = later[..later.len() - 1].iter().rev().map(|p| p.measured.as_ref().expect("taken while set"));
        for frame in earlier.chain(std::iter::once(measured)) {
            behind = Some(backward.filter(frame, (previous_time - frame.time) as f32, &self.config.filter));
            previous_time = frame.time;
        }
        let behind = behind.expect("at least the frame itself");
        for (joint, b) in estimate.joints.iter_mut().zip(&behind.joints) {
            joint.x = 0.5 * (joint.x + b.x);
            joint.y = 0.5 * (joint.y + b.y);
        }
        Some(estimate)
    }
}

/// Refines a whole recorded sequence offline: one output per input, in order, the last ones
/// with what future there is. The same as an element's output for the same raw poses.
pub fn refine_sequence(
    config: RefinerConfig,
    frames: impl IntoIterator<Item = Option<PoseFrame>>,
) -> Vec<Option<PoseFrame>> {
    let mut refiner = Refiner::new(config);
    let mut out: Vec<_> = frames.into_iter().filter_map(|f| refiner.push(f)).collect();
    out.extend(refiner.drain());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::Joint;

    /// A 33-joint pose whose joints all sit at `(x + i, y)` with one confidence, body 100 px.
    fn pose(time: f64, x: f32, confidence: f32) -> PoseFrame {
        let mut joints: Vec<Joint> = (0..33).map(|i| Joint { x: x + i as f32, y: 0.0, confidence }).collect();
        joints[32].y = 100.0;
        PoseFrame { time, score: 1.0, joints }
    }

    #[test]
    fn bad_windows_are_rejected() {
        assert!(RefinerConfig::new(RefineMode::Temporal, 0, 0).is_err());
        let e = RefinerConfig::new(RefineMode::Temporal, 5, 5).unwrap_err();
        assert!(e.contains("lookahead"), "{e}");
        assert!("sideways".parse::<RefineMode>().unwrap_err().contains("spatiotemporal"));
    }

    #[test]
    fn one_output_per_input_in_order_whatever_the_lookahead() {
        for lookahead in [0, 1, 4] {
            let config = RefinerConfig::new(RefineMode::Spatiotemporal, 8, lookahead).unwrap();
            let frames: Vec<_> = (0..20).map(|i| (i % 7 != 3).then(|| pose(i as f64 / 30.0, i as f32, 0.9))).collect();
            let out = refine_sequence(config, frames.clone());
            assert_eq!(out.len(), frames.len());
            for (a, b) in out.iter().zip(&frames) {
                assert_eq!(a.as_ref().map(|p| p.time), b.as_ref().map(|p| p.time));
            }
        }
    }

    #[test]
    fn none_passes_poses_through_unchanged() {
        let frames: Vec<_> = (0..10).map(|i| Some(pose(i as f64 / 30.0, (i * i) as f32, 0.3))).collect();
        assert_eq!(refine_sequence(RefinerConfig::new(RefineMode::None, 5, 2).unwrap(), frames.clone()), frames);
    }

    /// Jitter of joint 0's x: mean absolute second difference.
    fn jitter(frames: &[Option<PoseFrame>]) -> f32 {
        let xs: Vec<f32> = frames.iter().map(|f| f.as_ref().unwrap().joints[0].x).collect();
        xs.windows(3).map(|w| (w[2] - 2.0 * w[1] + w[0]).abs()).sum::<f32>() / (xs.len() - 2) as f32
    }

    #[test]
    fn temporal_refinement_removes_jitter_at_rest() {
        // Model noise: each joint shakes by 2 px on its own (neighbours in opposite phase), so
        // the body as a whole stays put.
        let frames: Vec<_> = (0..60)
            .map(|i| {
                let mut p = pose(i as f64 / 30.0, 0.0, 0.9);
                for (j, joint) in p.joints.iter_mut().enumerate() {
                    joint.x += if (i + j) % 2 == 0 { 2.0 } else { -2.0 };
                }
                Some(p)
            })
            .collect();
        let raw = jitter(&frames);
        for lookahead in [0, 3] {
            let out = refine_sequence(RefinerConfig::new(RefineMode::Temporal, 8, lookahead).unwrap(), frames.clone());
            assert!(jitter(&out[10..]) < raw / 4.0, "lookahead {lookahead}: {} vs {raw}", jitter(&out[10..]));
        }
    }

    #[test]
    fn fast_motion_is_followed_and_lookahead_removes_the_lag() {
        // Three body sizes per second to the right, 10 px per frame.
        let frames: Vec<_> = (0..40).map(|i| Some(pose(i as f64 / 30.0, 10.0 * i as f32, 0.9))).collect();
        let lag = |out: &[Option<PoseFrame>]| 10.0 * 30.0 - out[30].as_ref().unwrap().joints[0].x;
        let causal = lag(&refine_sequence(RefinerConfig::new(RefineMode::Temporal, 8, 0).unwrap(), frames.clone()));
        let ahead = lag(&refine_sequence(RefinerConfig::new(RefineMode::Temporal, 8, 4).unwrap(), frames.clone()));
        assert!(causal < 10.0, "causal lag under one frame's motion: {causal} px");
        assert!(ahead.abs() < causal / 2.0, "lookahead {ahead} px vs causal {causal} px");
    }

    #[test]
    fn a_gap_restarts_the_filters() {
        let mut frames: Vec<_> = (0..10).map(|i| Some(pose(i as f64 / 30.0, 0.0, 0.9))).collect();
        frames.push(None);
        frames.push(Some(pose(11.0 / 30.0, 500.0, 0.9)));
        let out = refine_sequence(RefinerConfig::new(RefineMode::Temporal, 8, 0).unwrap(), frames);
        assert_eq!(out[11].as_ref().unwrap().joints[0].x, 500.0, "not dragged from before the gap");
    }
}
