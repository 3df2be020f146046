// SPDX-License-Identifier: MPL-2.0
//! The two ways of merging overlapping person detections, shared by the detectors.

use aicoach_vision::Detection;
use aicoach_vision::geometry::{Point, Rect};

/// Classic non-maximum suppression: keep the best, drop what overlaps it by more than
/// `iou_threshold`, repeat. Returns at most `max` detections, best first.
pub fn hard_nms(mut candidates: Vec<Detection>, iou_threshold: f32, max: usize) -> Vec<Detection> {
    sort_by_score(&mut candidates);
    let mut kept: Vec<Detection> = Vec::new();
    for c in candidates {
        if kept.len() >= max {
            break;
        }
        if kept.iter().all(|k| k.bbox.iou(&c.bbox) <= iou_threshold) {
            kept.push(c);
        }
    }
    kept
}

/// MediaPipe's weighted suppression: each cluster of detections overlapping the best one by
/// more than `iou_threshold` becomes one detection whose box and keypoints are the
/// score-weighted mean of the cluster, keeping the best score. Steadier than hard NMS on
/// SSD outputs, where many anchors fire on one person.
pub fn weighted_nms(mut candidates: Vec<Detection>, iou_threshold: f32, max: usize) -> Vec<Detection> {
    sort_by_score(&mut candidates);
    let mut out = Vec::new();
    while !candidates.is_empty() && out.len() < max {
        let best = candidates[0].bbox;
        let (cluster, rest): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|c| c.bbox.iou(&best) > iou_threshold);
        candidates = rest;
        // The best detection overlaps itself fully, so the cluster is never empty unless the
        // box is degenerate (zero area); keep such a detection as it is.
        let Some(first) = cluster.first() else {
            let d = candidates.remove(0);
            out.push(d);
            continue;
        };
        let total: f32 = cluster.iter().map(|c| c.score).sum();
        let mut merged = Detection {
            score: first.score,
            bbox: Rect::default(),
            face: None,
            keypoints: vec![Point::default(); first.keypoints.len()],
        };
        for c in &cluster {
            let w = c.score / total;
            merged.bbox.x += c.bbox.x * w;
            merged.bbox.y += c.bbox.y * w;
            merged.bbox.w += c.bbox.w * w;
            merged.bbox.h += c.bbox.h * w;
            for (m, k) in merged.keypoints.iter_mut().zip(&c.keypoints) {
                m.x += k.x * w;
                m.y += k.y * w;
            }
        }
        out.push(merged);
    }
    out
}

fn sort_by_score(d: &mut [Detection]) {
    d.sort_by(|a, b| b.score.total_cmp(&a.score));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(score: f32, x: f32) -> Detection {
        Detection { score, bbox: Rect { x, y: 0.0, w: 10.0, h: 10.0 }, face: None, keypoints: vec![Point::new(x, 0.0)] }
    }

    #[test]
    fn hard_nms_keeps_separate_people() {
        let out = hard_nms(vec![det(0.6, 1.0), det(0.9, 0.0), det(0.8, 50.0)], 0.5, 10);
        assert_eq!(out.iter().map(|d| d.score).collect::<Vec<_>>(), [0.9, 0.8]);
        assert_eq!(hard_nms(vec![det(0.9, 0.0), det(0.8, 50.0)], 0.5, 1).len(), 1);
    }

    #[test]
    fn weighted_nms_averages_a_cluster() {
        let out = weighted_nms(vec![det(0.75, 0.0), det(0.25, 2.0), det(0.5, 100.0)], 0.3, 10);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.75);
        assert!((out[0].bbox.x - 0.5).abs() < 1e-5, "{:?}", out[0].bbox);
        assert!((out[0].keypoints[0].x - 0.5).abs() < 1e-5);
        assert_eq!(out[1].bbox.x, 100.0);
    }

    #[test]
    fn nms_never_panics_on_degenerate_boxes() {
        let flat = Detection::boxed(Rect { x: 0.0, y: 0.0, w: 0.0, h: 0.0 }, f32::NAN);
        assert_eq!(weighted_nms(vec![flat.clone(), det(0.5, 0.0)], 0.3, 10).len(), 2);
        assert_eq!(hard_nms(vec![flat], 0.3, 10).len(), 1);
    }
}
