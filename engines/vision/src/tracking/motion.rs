// SPDX-License-Identifier: MPL-2.0
//! Constant-velocity prediction of the box centre (an alpha-beta filter), so the tracker looks
//! where a fast skier will be rather than where they were.

use crate::Point;

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
}
