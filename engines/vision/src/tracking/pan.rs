// SPDX-License-Identifier: MPL-2.0
//! Whom the camera follows. A camera that pans or tilts keeps its athlete in the picture while
//! the spectators and the background slide through it; whatever keeps its place in the world
//! while the camera moves is not the athlete. Two uses: a track that has moved with the
//! background for a second is dropped (the tracker sat on a spectator, or on the background
//! itself), and while searching, a person who slid with the background since the last
//! detector run is not chosen.

use std::collections::VecDeque;

use crate::{Detection, Point, Rect};

/// The span, in seconds, over which the athlete's motion is compared with the camera's.
const WINDOW: f64 = 1.0;
/// The comparison needs frames covering at least this share of the window.
const MIN_COVERAGE: f64 = 0.8;
/// The camera must have moved at least this many of the person's box sizes (the longer side)...
const MIN_PAN: f32 = 0.75;
/// ...and the person moved in the world (their motion in the frame less the camera's) by at
/// most this share of the camera's motion.
const MAX_WORLD_SHARE: f32 = 0.25;
/// The camera's motion must be known on at least this share of the window's frames.
const MIN_KNOWN: f32 = 0.75;
/// Two detector runs see the same person at a similar size.
const SIZE_RATIO: f32 = 1.5;

struct Step {
    time: f64,
    /// The camera's motion since the frame before (see `CameraMotion::observe`).
    shift: Option<Point>,
    /// Where the athlete was (their box's centre), while tracked.
    athlete: Option<Point>,
}

#[derive(Default)]
pub(super) struct PanHistory {
    steps: VecDeque<Step>,
    /// The camera's motion since the last detector run; `None` when some frame's is unknown.
    since_run: Option<Point>,
    /// The people the last detector run found.
    last_run: Vec<Rect>,
}

impl PanHistory {
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Records a frame at `time`: the camera's `shift` since the frame before and where the
    /// athlete is now (`None` while nobody is tracked).
    pub(super) fn record(&mut self, time: f64, shift: Option<Point>, athlete: Option<Point>) {
        self.since_run = match (self.since_run, shift) {
            (Some(a), Some(b)) => Some(Point::new(a.x + b.x, a.y + b.y)),
            _ => None,
        };
        // A frame without the athlete breaks their record: it starts again from here.
        if athlete.is_none() {
            self.steps.clear();
        }
        self.steps.push_back(Step { time, shift, athlete });
        while self.steps.len() > 2 && self.steps[1].time <= time - WINDOW {
            self.steps.pop_front();
        }
    }

    /// Whether the athlete (a box of longer side `size`) kept their place in the world over
    /// the last second while the camera moved: then the camera follows someone else.
    pub(super) fn athlete_left_behind(&self, size: f32) -> bool {
        let (Some(first), Some(last)) = (self.steps.front(), self.steps.back()) else {
            return false;
        };
        if last.time - first.time < WINDOW * MIN_COVERAGE {
            return false;
        }
        let (Some(from), Some(to)) = (first.athlete, last.athlete) else {
            return false;
        };
        // Frames whose camera motion is unknown (a rejected measurement) moved as the known
        // ones did on average, while they are few.
        let steps = self.steps.len() - 1;
        let known: Vec<Point> = self.steps.iter().skip(1).filter_map(|s| s.shift).collect();
        if (known.len() as f32) < MIN_KNOWN * steps as f32 || known.is_empty() {
            return false;
        }
        let sum = known.iter().fold(Point::default(), |a, s| Point::new(a.x + s.x, a.y + s.y));
        let scale = steps as f32 / known.len() as f32;
        let camera = Point::new(sum.x * scale, sum.y * scale);
        moved_with_camera(Point::new(to.x - from.x, to.y - from.y), camera, size)
    }

    /// Whether `r`, found by this detector run, is a person the last run saw elsewhere who
    /// slid with the background since.
    pub(super) fn slid_with_background(&self, r: &Rect) -> bool {
        let Some(camera) = self.since_run else { return false };
        let size = r.w.max(r.h);
        self.last_run.iter().any(|p| {
            let ratio = size / p.w.max(p.h).max(1.0);
            let moved = Point::new(r.center().x - p.center().x, r.center().y - p.center().y);
            (1.0 / SIZE_RATIO..=SIZE_RATIO).contains(&ratio) && moved_with_camera(moved, camera, size)
        })
    }

    /// The people the last detector run found: they are left out of the camera's motion.
    pub(super) fn people(&self) -> &[Rect] {
        &self.last_run
    }

    /// Notes a detector run: later ones are compared with it.
    pub(super) fn detector_ran(&mut self, detections: &[Detection]) {
        self.last_run = detections.iter().map(|d| d.bbox).collect();
        self.since_run = Some(Point::default());
    }
}

/// Whether something of size `size` whose picture `moved` while the camera's picture moved by
/// `camera` stood still in the world during a real pan.
fn moved_with_camera(moved: Point, camera: Point, size: f32) -> bool {
    let pan = camera.x.hypot(camera.y);
    let world = (moved.x - camera.x).hypot(moved.y - camera.y);
    pan >= MIN_PAN * size && world <= MAX_WORLD_SHARE * pan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pan_for(history: &mut PanHistory, frames: u32, per_frame: Point, athlete_speed: Point) -> Point {
        let mut athlete = Point::new(100.0, 100.0);
        history.record(0.0, None, Some(athlete));
        for i in 1..=frames {
            athlete = Point::new(athlete.x + athlete_speed.x, athlete.y + athlete_speed.y);
            history.record(i as f64 / 25.0, Some(per_frame), Some(athlete));
        }
        athlete
    }

    #[test]
    fn a_track_that_slides_with_the_background_is_left_behind() {
        // The camera tilts down 4 px a frame for a second: the picture moves up 4 px a frame.
        let up = Point::new(0.0, -4.0);
        let mut spectator = PanHistory::default();
        pan_for(&mut spectator, 25, up, up);
        assert!(spectator.athlete_left_behind(60.0));
        // The athlete the camera follows stays where they are in the picture.
        let mut athlete = PanHistory::default();
        pan_for(&mut athlete, 25, up, Point::default());
        assert!(!athlete.athlete_left_behind(60.0));
        // A camera that barely moves (half a box in a second) says nothing.
        let mut still = PanHistory::default();
        pan_for(&mut still, 25, Point::new(0.0, -1.2), Point::new(0.0, -1.2));
        assert!(!still.athlete_left_behind(60.0));
        // Nor does less than most of a second.
        let mut short = PanHistory::default();
        pan_for(&mut short, 10, up, up);
        assert!(!short.athlete_left_behind(60.0));
        // A few frames whose camera motion is unknown moved like the rest; many say nothing.
        let mut position = Point::new(100.0, 100.0 - 4.0 * 25.0);
        for i in 26..=30 {
            position.y -= 4.0;
            spectator.record(i as f64 / 25.0, None, Some(position));
        }
        assert!(spectator.athlete_left_behind(60.0));
        for i in 31..=35 {
            position.y -= 4.0;
            spectator.record(i as f64 / 25.0, None, Some(position));
        }
        assert!(!spectator.athlete_left_behind(60.0));
    }

    #[test]
    fn a_frame_without_the_athlete_starts_their_record_again() {
        let up = Point::new(0.0, -4.0);
        let mut history = PanHistory::default();
        pan_for(&mut history, 25, up, up);
        history.record(1.1, Some(up), None);
        history.record(1.14, Some(up), Some(Point::new(100.0, 0.0)));
        assert!(!history.athlete_left_behind(60.0));
    }

    #[test]
    fn a_person_who_slid_with_the_pan_since_the_last_run_is_told_apart() {
        let person = |x: f32, y: f32| Detection::boxed(Rect::from_center(x, y, 30.0, 60.0), 0.9);
        let mut history = PanHistory::default();
        history.record(0.0, None, None);
        history.detector_ran(&[person(100.0, 200.0), person(160.0, 120.0)]);
        for i in 1..=5 {
            history.record(i as f64 / 25.0, Some(Point::new(0.0, -12.0)), None);
        }
        // The spectator at (100, 200) is now 60 px higher, with the picture; the diver stayed.
        assert!(history.slid_with_background(&person(100.0, 140.0).bbox));
        assert!(!history.slid_with_background(&person(160.0, 120.0).bbox));
        // Unknown camera motion on one frame: nobody is ruled out.
        history.record(0.24, None, None);
        assert!(!history.slid_with_background(&person(100.0, 140.0).bbox));
    }
}
