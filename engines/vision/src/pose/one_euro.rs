// SPDX-License-Identifier: MPL-2.0
//! The 1€ filter (Casiez, Roussel and Vogel, CHI 2012): a low-pass filter whose cutoff rises
//! with speed, so a still joint is smoothed hard and a fast one (a skier's knee in the air)
//! follows without lag. MediaPipe smooths its landmarks the same way.

use std::f32::consts::PI;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneEuroParams {
    /// Cutoff in Hz at rest: lower is smoother.
    pub min_cutoff: f32,
    /// How much the cutoff rises per unit of speed: higher follows fast motion more closely.
    pub beta: f32,
    /// Cutoff for the speed estimate itself.
    pub derivative_cutoff: f32,
}

fn smoothing(cutoff: f32, dt: f32) -> f32 {
    let tau = 1.0 / (2.0 * PI * cutoff);
    1.0 / (1.0 + tau / dt)
}

/// One filtered coordinate.
#[derive(Debug, Clone, Copy, Default)]
pub struct OneEuro {
    value: Option<f32>,
    speed: f32,
}

impl OneEuro {
    /// Filters `x` arriving `dt` seconds after the previous sample. `weight` (0..1) is how
    /// much the sample is trusted: a low-confidence measurement moves the estimate, and the
    /// speed that opens the filter, less. `unit` is the length speeds are measured in (the
    /// body's size), so one set of parameters fits a close-up and a distant skier.
    pub fn filter(&mut self, x: f32, dt: f32, weight: f32, unit: f32, p: &OneEuroParams) -> f32 {
        let Some(previous) = self.value else {
            self.value = Some(x);
            self.speed = 0.0;
            return x;
        };
        let dt = dt.max(1e-4);
        let weight = weight.clamp(0.0, 1.0);
        let unit = unit.max(1e-6);
        let raw_speed = (x - previous) / dt / unit;
        self.speed += smoothing(p.derivative_cutoff, dt) * weight * (raw_speed - self.speed);
        let cutoff = p.min_cutoff + p.beta * self.speed.abs();
        let alpha = smoothing(cutoff, dt) * weight;
        let value = previous + alpha * (x - previous);
        self.value = Some(value);
        value
    }

    pub fn value(&self) -> Option<f32> {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: OneEuroParams = OneEuroParams { min_cutoff: 1.0, beta: 1.0, derivative_cutoff: 1.0 };

    #[test]
    fn first_sample_passes_through() {
        let mut f = OneEuro::default();
        assert_eq!(f.filter(3.0, 1.0 / 30.0, 1.0, 1.0, &P), 3.0);
    }

    #[test]
    fn noise_at_rest_is_damped() {
        let mut f = OneEuro::default();
        let mut worst: f32 = 0.0;
        for i in 0..200 {
            let noisy = if i % 2 == 0 { 0.01 } else { -0.01 };
            let out = f.filter(noisy, 1.0 / 30.0, 1.0, 1.0, &P);
            if i > 20 {
                worst = worst.max(out.abs());
            }
        }
        assert!(worst < 0.005, "{worst}");
    }

    #[test]
    fn fast_motion_lags_less_than_slow_motion_in_proportion() {
        // A ramp at 10 units/s and one at 0.1 units/s: the adaptive cutoff makes the fast
        // one's lag a much smaller fraction of its step.
        let lag = |speed: f32| {
            let mut f = OneEuro::default();
            let mut out = 0.0;
            let mut x = 0.0;
            for _ in 0..60 {
                x += speed / 30.0;
                out = f.filter(x, 1.0 / 30.0, 1.0, 1.0, &P);
            }
            (x - out) / (speed / 30.0)
        };
        let (slow, fast) = (lag(0.1), lag(10.0));
        assert!(fast < slow / 3.0, "lag in frames: slow {slow}, fast {fast}");
    }

    #[test]
    fn a_zero_weight_sample_does_not_move_the_estimate() {
        let mut f = OneEuro::default();
        f.filter(1.0, 0.03, 1.0, 1.0, &P);
        assert_eq!(f.filter(50.0, 0.03, 0.0, 1.0, &P), 1.0);
    }
}
