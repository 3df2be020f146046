// SPDX-License-Identifier: MPL-2.0
//! Constant-velocity prediction of the box centre (an alpha-beta filter), so the tracker looks
//! where a fast skier will be rather than where they were.

use crate::Point;

/// The share of its speed an unseen athlete keeps from one frame to the next.
const COAST_DAMPING: f32 = 0.8;

#[derive(Debug, Clone, Copy)]
pub struct MotionModel {
    pub position: Point,
    /// Pixels per frame.
    pub velocity: Point,
    alpha: f32,
    beta: f32,
}

impl MotionModel {
    pub fn new(position: Point) -> Self {
        Self { position, velocity: Point::default(), alpha: 0.85, beta: 0.3 }
    }

    /// Where the centre should be `frames` frames after the last measurement.
    pub fn predict(&self, frames: u32) -> Point {
        let n = frames as f32;
        Point::new(self.position.x + self.velocity.x * n, self.position.y + self.velocity.y * n)
    }

    /// One frame on without a measurement: the centre is put `at` (the prediction, or where
    /// the tracker keeps it, inside the picture) and the speed fades, since an athlete nobody
    /// sees is as likely to have stopped, turned or landed as to fly on (a flip's speed kept
    /// for 17 frames carried the box out of the picture).
    pub fn coast(&mut self, at: Point) {
        self.position = at;
        self.velocity = Point::new(self.velocity.x * COAST_DAMPING, self.velocity.y * COAST_DAMPING);
    }

    /// Folds in a measurement made `frames` frames after the previous one.
    pub fn update(&mut self, measured: Point, frames: u32) {
        let n = frames.max(1) as f32;
        let predicted = self.predict(frames);
        let (rx, ry) = (measured.x - predicted.x, measured.y - predicted.y);
        self.position = Point::new(predicted.x + self.alpha * rx, predicted.y + self.alpha * ry);
        self.velocity = Point::new(self.velocity.x + self.beta * rx / n, self.velocity.y + self.beta * ry / n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_constant_velocity() {
        let mut m = MotionModel::new(Point::new(0.0, 0.0));
        for i in 1..40 {
            m.update(Point::new(10.0 * i as f32, 0.0), 1);
        }
        assert!((m.velocity.x - 10.0).abs() < 0.5, "{:?}", m.velocity);
        let p = m.predict(2);
        assert!((p.x - 410.0).abs() < 2.0, "{p:?}");
    }

    #[test]
    fn an_unseen_athlete_coasts_a_short_way_on() {
        let mut m = MotionModel::new(Point::new(0.0, 0.0));
        for i in 1..40 {
            m.update(Point::new(10.0 * i as f32, 0.0), 1);
        }
        let last = m.position.x;
        for _ in 0..20 {
            m.coast(m.predict(1));
        }
        // Five frames' worth of the last speed at most, not twenty.
        assert!(m.position.x - last > 10.0 && m.position.x - last < 55.0, "{:?}", m.position);
        assert!(m.velocity.x.abs() < 0.2, "{:?}", m.velocity);
    }
}
