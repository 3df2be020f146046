// SPDX-License-Identifier: MPL-2.0
//! Temporal filtering of a whole pose. Each frame's pose is split into its root (the torso's
//! centre) and each joint's offset from it, and both are filtered with confidence-weighted
//! 1€ filters. Moving the athlete or the camera moves the root, whose filter opens up with
//! speed; the offsets change only as the body articulates, so they are smoothed hard without
//! dragging a fast-moving athlete's joints behind.

use super::one_euro::{OneEuro, OneEuroParams};
use super::spatial::CONFIDENT;
use super::{Joint, PoseFrame};

/// Shoulders and hips: the points whose mean is the root.
const TORSO: [usize; 4] = [11, 12, 23, 24];

/// The root follows speed this much more eagerly than the offsets: it carries all of a pan's
/// or a run's motion, where lag costs accuracy, and averages four joints, so it is less noisy.
/// (On the motion clips: 5 kept PCK level with the raw keypoints, 1 lost 0.6 points.)
const ROOT_BETA_FACTOR: f32 = 5.0;

/// How much a measurement of this confidence is trusted.
pub fn trust(confidence: f32) -> f32 {
    (confidence / CONFIDENT).clamp(0.05, 1.0)
}

/// The torso's centre: the mean of its confident points, else of all confident points, else
/// of all points.
pub fn root(joints: &[Joint]) -> (f32, f32) {
    let mean = |it: &mut dyn Iterator<Item = &Joint>| {
        let (mut sx, mut sy, mut n) = (0.0, 0.0, 0usize);
        for j in it {
            sx += j.x;
            sy += j.y;
            n += 1;
        }
        (n > 0).then(|| (sx / n as f32, sy / n as f32))
    };
    let confident = |j: &&Joint| j.confidence >= CONFIDENT;
    mean(&mut TORSO.iter().filter_map(|&i| joints.get(i)).filter(confident))
        .or_else(|| mean(&mut joints.iter().filter(confident)))
        .or_else(|| mean(&mut joints.iter()))
        .unwrap_or((0.0, 0.0))
}

/// The filters of one pose sequence, run in one direction of time.
#[derive(Debug, Clone, Default)]
pub struct PoseFilter {
    root: [OneEuro; 2],
    offsets: Vec<[OneEuro; 2]>,
}

impl PoseFilter {
    /// Filters the next frame, `dt` seconds from the previous one (negative when running
    /// backwards: only its size matters).
    pub fn filter(&mut self, frame: &PoseFrame, dt: f32, params: &OneEuroParams) -> PoseFrame {
        let dt = dt.abs();
        if self.offsets.len() != frame.joints.len() {
            *self = Self { offsets: vec![Default::default(); frame.joints.len()], ..Self::default() };
        }
        let unit = frame.scale();
        let (rx, ry) = root(&frame.joints);
        let root_params = OneEuroParams { beta: params.beta * ROOT_BETA_FACTOR, ..*params };
        let fx = self.root[0].filter(rx, dt, 1.0, unit, &root_params);
        let fy = self.root[1].filter(ry, dt, 1.0, unit, &root_params);
        let mut out = frame.clone();
        for (joint, filters) in out.joints.iter_mut().zip(&mut self.offsets) {
            let w = trust(joint.confidence);
            joint.x = fx + filters[0].filter(joint.x - rx, dt, w, unit, params);
            joint.y = fy + filters[1].filter(joint.y - ry, dt, w, unit, params);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_the_torso_centre_when_seen() {
        let mut joints = vec![Joint { x: 1000.0, y: 1000.0, confidence: 0.9 }; 33];
        for (i, (x, y)) in [(11, (0.0, 0.0)), (12, (10.0, 0.0)), (23, (0.0, 20.0)), (24, (10.0, 20.0))] {
            joints[i] = Joint { x, y, confidence: 0.9 };
        }
        assert_eq!(root(&joints), (5.0, 10.0));
        for i in TORSO {
            joints[i].confidence = 0.1;
        }
        assert_eq!(root(&joints).0, 1000.0);
    }

    #[test]
    fn a_body_moving_as_a_whole_is_not_dragged_behind() {
        // 60 px per frame, a fast pan: the rigid body's joints stay on it.
        let params = OneEuroParams { min_cutoff: 1.0, beta: 8.0, derivative_cutoff: 1.0 };
        let mut filter = PoseFilter::default();
        let mut last = None;
        for i in 0..30 {
            let joints =
                (0..33).map(|j| Joint { x: 60.0 * i as f32 + j as f32, y: 3.0 * j as f32, confidence: 0.9 }).collect();
            last = Some(filter.filter(&PoseFrame { time: 0.0, score: 1.0, joints }, 1.0 / 30.0, &params));
        }
        let last = last.unwrap();
        let shape = last.joints[32].x - last.joints[0].x;
        assert!((shape - 32.0).abs() < 0.5, "the body keeps its shape: {shape}");
    }
}
