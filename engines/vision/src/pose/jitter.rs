// SPDX-License-Identifier: MPL-2.0
//! Jitter of keypoints on video where there is no ground truth: the mean frame-to-frame
//! acceleration of each joint, |p(t+1) - 2 p(t) + p(t-1)|, divided by the body's size on
//! frame t so close-ups and distant athletes compare. Real motion accelerates too, so jitter
//! is only compared between refinements of the same keypoints, never as an absolute error.

use super::PoseFrame;
#[cfg(doc)]
use super::SEEN_CONFIDENCE;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Jitter {
    /// Mean acceleration in body sizes per frame squared.
    pub mean: f64,
    /// Joint-frame triples it was measured on.
    pub samples: usize,
}

/// Jitter of `joints` over consecutive frames that all have a pose and see the joint with at
/// least `min_confidence` (as judged on `confidence_source`, the unrefined poses, so every
/// refinement of the same video is measured on the same samples). [`SEEN_CONFIDENCE`] measures
/// the joints the model sees; 0 measures every joint, the unsure ones too.
pub fn jitter(
    frames: &[Option<PoseFrame>],
    confidence_source: &[Option<PoseFrame>],
    joints: &[usize],
    min_confidence: f32,
) -> Jitter {
    let mut sum = 0.0f64;
    let mut samples = 0usize;
    for t in 1..frames.len().saturating_sub(1) {
        let (Some(a), Some(b), Some(c)) = (&frames[t - 1], &frames[t], &frames[t + 1]) else { continue };
        let (Some(ca), Some(cb), Some(cc)) =
            (&confidence_source[t - 1], &confidence_source[t], &confidence_source[t + 1])
        else {
            continue;
        };
        let scale = cb.scale();
        if scale <= 0.0 {
            continue;
        }
        for &j in joints {
            if [ca, cb, cc].iter().any(|f| f.joints.get(j).is_none_or(|k| k.confidence < min_confidence)) {
                continue;
            }
            let ax = a.joints[j].x - 2.0 * b.joints[j].x + c.joints[j].x;
            let ay = a.joints[j].y - 2.0 * b.joints[j].y + c.joints[j].y;
            sum += (ax.hypot(ay) / scale) as f64;
            samples += 1;
        }
    }
    Jitter { mean: if samples == 0 { 0.0 } else { sum / samples as f64 }, samples }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::Joint;

    fn frame(x: f32) -> Option<PoseFrame> {
        Some(PoseFrame {
            time: 0.0,
            score: 1.0,
            joints: vec![Joint { x, y: 0.0, confidence: 0.9 }, Joint { x: 0.0, y: 100.0, confidence: 0.9 }],
        })
    }

    #[test]
    fn steady_motion_has_no_jitter_and_shaking_has_some() {
        let steady: Vec<_> = (0..10).map(|i| frame(i as f32 * 5.0)).collect();
        let j = jitter(&steady, &steady, &[0], 0.5);
        assert_eq!((j.mean, j.samples), (0.0, 8));
        // Alternating +-1 px: acceleration 4 px on a 100 px body.
        let shaking: Vec<_> = (0..10).map(|i| frame(if i % 2 == 0 { 1.0 } else { -1.0 })).collect();
        let j = jitter(&shaking, &shaking, &[0], 0.5);
        assert!((j.mean - 0.04).abs() < 1e-6, "{j:?}");
    }

    #[test]
    fn frames_without_a_pose_break_the_triples() {
        let mut frames: Vec<_> = (0..5).map(|i| frame(i as f32)).collect();
        frames[2] = None;
        assert_eq!(jitter(&frames, &frames, &[0], 0.5).samples, 0);
    }
}
