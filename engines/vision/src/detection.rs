// SPDX-License-Identifier: MPL-2.0
//! A person a detector found: what the detectors produce, the metadata carries and the tracker
//! chooses the athlete from.

use crate::geometry::{Point, Rect};

/// A person found in a frame, in frame pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub score: f32,
    /// The person's box. BlazePose's is the body circle its keypoints describe (its raw box is
    /// only the face, kept in `face`).
    pub bbox: Rect,
    /// BlazePose only: the face box the detector regresses.
    pub face: Option<Rect>,
    /// Detector-specific keypoints (BlazePose: mid-hip, body-radius point, mid-shoulder,
    /// upper-body radius point); empty for NanoDet and the
    /// pedestrian SSD.
    pub keypoints: Vec<Point>,
}

impl Detection {
    /// A detection that is only a box (a detector without keypoints, or one read back from
    /// metadata).
    pub fn boxed(bbox: Rect, score: f32) -> Self {
        Self { score, bbox, face: None, keypoints: Vec::new() }
    }

    /// A box-only detection between two opposite corners, as a decoder computes them (top-left
    /// `p0`, bottom-right `p1`; the other way round from a region turned half a turn); `None`
    /// for a corner that is not finite or a box that is empty (a model's nonsense output, never
    /// a person).
    pub fn from_corners(score: f32, p0: Point, p1: Point) -> Option<Self> {
        let finite = [p0.x, p0.y, p1.x, p1.y].iter().all(|v| v.is_finite());
        let (x0, x1, y0, y1) = (p0.x.min(p1.x), p0.x.max(p1.x), p0.y.min(p1.y), p0.y.max(p1.y));
        (finite && x1 > x0 && y1 > y0).then(|| Self::boxed(Rect::from_corners(x0, y0, x1, y1), score))
    }
}

/// Whether anyone in `found` is at or above `threshold`.
pub fn any_sure(found: &[Detection], threshold: f32) -> bool {
    found.iter().any(|d| d.score >= threshold)
}

/// The people at or above `threshold`; where none is, the surest of the others alone (a
/// detector run with a lower bar while the athlete is looked for: one candidate, whom a
/// tracker can verify, rather than every doubtful box).
pub fn sure_or_surest(mut found: Vec<Detection>, threshold: f32) -> Vec<Detection> {
    if any_sure(&found, threshold) {
        found.retain(|d| d.score >= threshold);
    } else if let Some(best) = found.iter().max_by(|a, b| a.score.total_cmp(&b.score)) {
        found = vec![best.clone()];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(scores: &[f32]) -> Vec<Detection> {
        scores
            .iter()
            .enumerate()
            .map(|(i, &s)| Detection::boxed(Rect { x: i as f32, y: 0.0, w: 1.0, h: 2.0 }, s))
            .collect()
    }

    #[test]
    fn the_sure_people_stand_and_without_them_only_the_surest_of_the_rest() {
        let scores = |d: Vec<Detection>| d.iter().map(|d| d.score).collect::<Vec<_>>();
        assert_eq!(scores(sure_or_surest(people(&[0.35, 0.9, 0.45, 0.6]), 0.5)), [0.9, 0.6]);
        assert_eq!(scores(sure_or_surest(people(&[0.35, 0.47, 0.31]), 0.5)), [0.47]);
        assert!(sure_or_surest(Vec::new(), 0.5).is_empty());
    }

    #[test]
    fn corners_make_a_box_and_nonsense_makes_none() {
        let d = Detection::from_corners(0.7, Point::new(1.0, 2.0), Point::new(11.0, 22.0)).unwrap();
        assert_eq!((d.score, d.bbox), (0.7, Rect { x: 1.0, y: 2.0, w: 10.0, h: 20.0 }));
        assert!(d.face.is_none() && d.keypoints.is_empty());
        assert!(Detection::from_corners(0.7, Point::new(f32::NAN, 2.0), Point::new(11.0, 22.0)).is_none());
        let turned = Detection::from_corners(0.7, Point::new(11.0, 22.0), Point::new(1.0, 2.0)).unwrap();
        assert_eq!(turned.bbox, d.bbox);
        assert!(Detection::from_corners(0.7, Point::new(1.0, 2.0), Point::new(1.0, 22.0)).is_none());
    }
}
