// SPDX-License-Identifier: MPL-2.0
//! Where the landmark model looks on each frame: MediaPipe's way, the region its own keypoints
//! predicted on the previous frame (it follows rotation and pose), unless that region has
//! drifted off the tracked athlete, in which case a fresh upright square around the track box.

use crate::blazepose::ROI_SCALE;
use aicoach_vision::geometry::{Rect, RotatedRect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoiSource {
    /// The previous frame's keypoints.
    Keypoints,
    /// The athlete's (or a detected person's) box.
    Box,
    /// The body MoveNet found in the athlete's box (hips, shoulders and extent).
    Body,
}

impl RoiSource {
    pub fn name(self) -> &'static str {
        match self {
            RoiSource::Keypoints => "keypoints",
            RoiSource::Box => "box",
            RoiSource::Body => "body",
        }
    }
}

/// An upright square around a body box, as large as the landmark model wants its person.
pub fn from_box(b: &Rect) -> RotatedRect {
    let side = b.w.max(b.h) * ROI_SCALE;
    let c = b.center();
    RotatedRect { center: c, width: side, height: side, rotation: 0.0 }
}

/// The previous frame's region agrees with the box when its centre lies in the box and its
/// size is within this factor of the box's region.
const SIZE_AGREEMENT: f32 = 2.0;

fn agrees(roi: &RotatedRect, b: &Rect) -> bool {
    let expected = b.w.max(b.h) * ROI_SCALE;
    let ratio = roi.width / expected.max(1.0);
    b.contains(roi.center) && (1.0 / SIZE_AGREEMENT..=SIZE_AGREEMENT).contains(&ratio)
}

/// The region for this frame, from the previous frame's keypoints (`previous`) and the
/// athlete's box (`tracked`), whichever is trustworthy; `None` when there is neither.
pub fn choose(previous: Option<&RotatedRect>, tracked: Option<&Rect>) -> Option<(RotatedRect, RoiSource)> {
    match (previous, tracked) {
        (Some(p), Some(b)) if agrees(p, b) => Some((*p, RoiSource::Keypoints)),
        (_, Some(b)) => Some((from_box(b), RoiSource::Box)),
        (Some(p), None) => Some((*p, RoiSource::Keypoints)),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aicoach_vision::geometry::Point;

    #[test]
    fn a_box_becomes_an_upright_square_around_it() {
        let roi = from_box(&Rect { x: 100.0, y: 50.0, w: 80.0, h: 200.0 });
        assert_eq!(roi.center, Point::new(140.0, 150.0));
        assert_eq!((roi.width, roi.height, roi.rotation), (250.0, 250.0, 0.0));
    }

    #[test]
    fn the_keypoints_region_is_kept_while_it_stays_on_the_athlete() {
        let b = Rect { x: 100.0, y: 50.0, w: 80.0, h: 200.0 };
        let on = RotatedRect { center: Point::new(150.0, 160.0), width: 240.0, height: 240.0, rotation: 0.3 };
        assert_eq!(choose(Some(&on), Some(&b)), Some((on, RoiSource::Keypoints)));
        let drifted = RotatedRect { center: Point::new(400.0, 160.0), ..on };
        assert_eq!(choose(Some(&drifted), Some(&b)).unwrap().1, RoiSource::Box);
        let shrunk = RotatedRect { width: 60.0, height: 60.0, ..on };
        assert_eq!(choose(Some(&shrunk), Some(&b)).unwrap().1, RoiSource::Box);
        assert_eq!(choose(Some(&drifted), None), Some((drifted, RoiSource::Keypoints)));
        assert_eq!(choose(None, None), None);
    }
}
