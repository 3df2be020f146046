// SPDX-License-Identifier: MPL-2.0
//! Spatial refinement: a joint the model is unsure of is corrected by the joints it is linked
//! to. Two relations between joints of the same athlete carry the information:
//! - over a short window a bone's length in the image is nearly constant, so an unsure joint
//!   that makes its bone much longer or shorter than the window's median is moved along the
//!   bone back into range;
//! - a bone moves mostly rigidly from one frame to the next, so each confident neighbour
//!   predicts where the unsure joint is (the neighbour now, plus last frame's bone vector),
//!   and the measurement is pulled toward those predictions in proportion to its doubt.
//!
//! Confident joints are never moved: foreshortening really does change a bone's length when
//! the athlete turns, and the model sees that better than any prior.

use std::collections::VecDeque;

use super::Joint;
use super::skeleton::{BONES, JOINT_COUNT, bones_of};

/// A joint at or above this confidence is trusted as measured.
pub const CONFIDENT: f32 = 0.5;
/// How far (as a fraction) a bone may stray from its window median before an unsure end is
/// moved back.
pub const LENGTH_TOLERANCE: f32 = 0.2;
/// Bone lengths needed in the window before the length constraint applies.
const MIN_LENGTH_SAMPLES: usize = 3;

#[derive(Debug, Clone)]
pub struct SpatialRefiner {
    window: usize,
    /// Per bone, its length on the last `window` frames where both ends were confident.
    lengths: Vec<VecDeque<f32>>,
    /// Last frame's refined joints.
    previous: Option<Vec<Joint>>,
}

impl SpatialRefiner {
    pub fn new(window: usize) -> Self {
        Self { window: window.max(1), lengths: vec![VecDeque::new(); BONES.len()], previous: None }
    }

    pub fn reset(&mut self) {
        self.lengths.iter_mut().for_each(VecDeque::clear);
        self.previous = None;
    }

    /// The median length of `bone` over the window, once enough frames have measured it.
    pub fn reference_length(&self, bone: usize) -> Option<f32> {
        let samples = &self.lengths[bone];
        if samples.len() < MIN_LENGTH_SAMPLES {
            return None;
        }
        let mut sorted: Vec<f32> = samples.iter().copied().collect();
        sorted.sort_by(f32::total_cmp);
        Some(sorted[sorted.len() / 2])
    }

    /// Corrects the unsure joints of the next frame in place. Skeletons other than BlazePose's
    /// 33 points pass through.
    pub fn refine(&mut self, joints: &mut [Joint]) {
        if joints.len() != JOINT_COUNT {
            return;
        }
        let measured: Vec<Joint> = joints.to_vec();
        if let Some(previous) = &self.previous {
            pull_toward_neighbours(joints, &measured, previous);
        }
        self.constrain_lengths(joints);
        self.record_lengths(&measured);
        self.previous = Some(joints.to_vec());
    }

    fn constrain_lengths(&self, joints: &mut [Joint]) {
        for (bone, &(a, b)) in BONES.iter().enumerate() {
            let Some(reference) = self.reference_length(bone) else { continue };
            // The less confident end moves; the other end is the anchor.
            let (anchor, unsure) = if joints[a].confidence >= joints[b].confidence { (a, b) } else { (b, a) };
            let doubt = 1.0 - joints[unsure].confidence / CONFIDENT;
            if doubt <= 0.0 {
                continue;
            }
            let (p, q) = (joints[anchor].point(), joints[unsure].point());
            let length = p.distance(q);
            let target = length.clamp(reference * (1.0 - LENGTH_TOLERANCE), reference * (1.0 + LENGTH_TOLERANCE));
            if length < 1e-3 || target == length {
                continue;
            }
            let corrected = length + (target - length) * doubt;
            let k = corrected / length;
            joints[unsure].x = p.x + (q.x - p.x) * k;
            joints[unsure].y = p.y + (q.y - p.y) * k;
        }
    }

    fn record_lengths(&mut self, measured: &[Joint]) {
        for (bone, &(a, b)) in BONES.iter().enumerate() {
            if measured[a].confidence >= CONFIDENT && measured[b].confidence >= CONFIDENT {
                let samples = &mut self.lengths[bone];
                samples.push_back(measured[a].point().distance(measured[b].point()));
                while samples.len() > self.window {
                    samples.pop_front();
                }
            }
        }
    }
}

/// Moves each unsure joint toward where its more confident neighbours put it, carrying last
/// frame's bone vectors along with them.
fn pull_toward_neighbours(joints: &mut [Joint], measured: &[Joint], previous: &[Joint]) {
    for j in 0..JOINT_COUNT {
        let own = measured[j].confidence;
        if own >= CONFIDENT {
            continue;
        }
        let (mut sx, mut sy, mut sw, mut n) = (0.0, 0.0, 0.0, 0);
        for (_, other) in bones_of(j) {
            let c = measured[other].confidence;
            if c <= own {
                continue;
            }
            sx += c * (measured[other].x + previous[j].x - previous[other].x);
            sy += c * (measured[other].y + previous[j].y - previous[other].y);
            sw += c;
            n += 1;
        }
        if n == 0 {
            continue;
        }
        let (px, py) = (sx / sw, sy / sw);
        let prior = (1.0 - own) * sw / n as f32;
        let total = own + prior;
        joints[j].x = (own * measured[j].x + prior * px) / total;
        joints[j].y = (own * measured[j].y + prior * py) / total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A standing figure: every joint confident, shins 100 px long.
    fn figure(dx: f32) -> Vec<Joint> {
        let mut joints = vec![Joint { x: 0.0, y: 0.0, confidence: 0.9 }; JOINT_COUNT];
        let mut put = |i: usize, x: f32, y: f32| joints[i] = Joint { x: x + dx, y, confidence: 0.9 };
        put(11, 80.0, 100.0);
        put(12, 120.0, 100.0);
        put(13, 70.0, 150.0);
        put(14, 130.0, 150.0);
        put(15, 65.0, 200.0);
        put(16, 135.0, 200.0);
        put(23, 90.0, 200.0);
        put(24, 110.0, 200.0);
        put(25, 90.0, 300.0);
        put(26, 110.0, 300.0);
        put(27, 90.0, 400.0);
        put(28, 110.0, 400.0);
        for (i, (x, y)) in [(29, (85.0, 410.0)), (30, (115.0, 410.0)), (31, (100.0, 415.0)), (32, (120.0, 415.0))] {
            put(i, x, y);
        }
        for (i, (x, y)) in [(17, (60.0, 215.0)), (18, (140.0, 215.0)), (19, (62.0, 220.0)), (20, (138.0, 220.0))] {
            put(i, x, y);
        }
        put(21, 68.0, 210.0);
        put(22, 132.0, 210.0);
        joints
    }

    #[test]
    fn confident_joints_are_never_moved() {
        let mut refiner = SpatialRefiner::new(10);
        for _ in 0..5 {
            refiner.refine(&mut figure(0.0));
        }
        // The knee really moves far (foreshortening); it is confident so it stays.
        let mut joints = figure(0.0);
        joints[25].y = 250.0;
        let before = joints.clone();
        refiner.refine(&mut joints);
        assert_eq!(joints, before);
    }

    #[test]
    fn an_unsure_ankle_is_brought_back_to_its_shin_length() {
        let mut refiner = SpatialRefiner::new(10);
        for _ in 0..5 {
            refiner.refine(&mut figure(0.0));
        }
        assert_eq!(refiner.reference_length(10), Some(100.0));
        // The ankle is measured 200 px below the knee with no confidence.
        let mut joints = figure(0.0);
        joints[27] = Joint { x: 90.0, y: 500.0, confidence: 0.0 };
        // Its foot points are as unsure and follow it.
        for i in [29, 31] {
            joints[i].confidence = 0.0;
        }
        refiner.refine(&mut joints);
        let shin = joints[25].point().distance(joints[27].point());
        assert!(shin <= 100.0 * (1.0 + LENGTH_TOLERANCE) + 1e-3, "shin {shin}");
        assert!(joints[27].y > 300.0, "the ankle stays below the knee: {:?}", joints[27]);
    }

    #[test]
    fn an_unsure_wrist_follows_its_elbow() {
        let mut refiner = SpatialRefiner::new(10);
        refiner.refine(&mut figure(0.0));
        // Everything moves 30 px right, but the wrist is measured where it was, unsure.
        let mut joints = figure(30.0);
        joints[15] = Joint { x: 65.0, y: 200.0, confidence: 0.1 };
        refiner.refine(&mut joints);
        assert!(joints[15].x > 65.0 + 20.0, "pulled most of the way: {:?}", joints[15]);
    }
}
