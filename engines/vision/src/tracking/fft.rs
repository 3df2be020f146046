// SPDX-License-Identifier: MPL-2.0
//! Square 2D Fourier transforms and their windows (Hann, Tukey), for the correlation filter
//! and the camera-motion estimate.

use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

pub(super) struct Fft2d {
    size: usize,
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
}

impl Fft2d {
    pub(super) fn new(size: usize) -> Self {
        let mut planner = FftPlanner::new();
        Self { size, forward: planner.plan_fft_forward(size), inverse: planner.plan_fft_inverse(size) }
    }

    /// Transforms `size` x `size` values in place (row-major); the inverse is scaled, so a
    /// round trip returns the input.
    pub(super) fn transform(&self, data: &mut [Complex32], inverse: bool) {
        let fft = if inverse { &self.inverse } else { &self.forward };
        // Rows, then columns through a transpose.
        fft.process(data);
        self.transpose(data);
        fft.process(data);
        self.transpose(data);
        if inverse {
            let scale = 1.0 / (self.size * self.size) as f32;
            data.iter_mut().for_each(|c| *c *= scale);
        }
    }

    /// The inverse transform's real part (a correlation's response) and where it peaks: the
    /// index and the value.
    pub(super) fn response(&self, mut spectrum: Vec<Complex32>) -> (Vec<f32>, usize, f32) {
        self.transform(&mut spectrum, true);
        let values: Vec<f32> = spectrum.iter().map(|c| c.re).collect();
        let (index, peak) = values
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |b, (i, v)| if v > b.1 { (i, v) } else { b });
        (values, index, peak)
    }

    fn transpose(&self, data: &mut [Complex32]) {
        let n = self.size;
        for y in 0..n {
            for x in y + 1..n {
                data.swap(y * n + x, x * n + y);
            }
        }
    }
}

/// The 2D Hann window over `size` x `size` samples (row-major): it keeps a patch's edges from
/// dominating a correlation.
pub(super) fn hann_window(size: usize) -> Vec<f32> {
    tukey_window(size, 1.0)
}

/// The 2D Tukey window: flat in the middle, a Hann taper over `taper` (0..1) of each axis.
/// With `taper` 1 it is the Hann window; less weighs the middle no more than the rest.
pub(super) fn tukey_window(size: usize, taper: f32) -> Vec<f32> {
    let n = (size - 1) as f32;
    let edge = taper * n / 2.0;
    let weight = |k: usize| {
        let d = (k as f32).min(n - k as f32);
        if d >= edge { 1.0 } else { 0.5 - 0.5 * (std::f32::consts::PI * d / edge).cos() }
    };
    (0..size * size).map(|i| weight(i % size) * weight(i / size)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tukey_window_with_a_full_taper_is_the_hann_window() {
        let hann = |k: usize| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * k as f32 / 15.0).cos();
        let window = hann_window(16);
        for (i, w) in window.iter().enumerate() {
            assert!((w - hann(i % 16) * hann(i / 16)).abs() < 1e-5, "{i}: {w}");
        }
        let flat = tukey_window(16, 0.5);
        assert_eq!(flat[8 * 16 + 8], 1.0);
        assert_eq!(flat[0], 0.0);
    }

    #[test]
    fn a_round_trip_returns_the_input() {
        let fft = Fft2d::new(8);
        let input: Vec<Complex32> = (0..64).map(|i| Complex32::new((i * 37 % 11) as f32, 0.0)).collect();
        let mut data = input.clone();
        fft.transform(&mut data, false);
        fft.transform(&mut data, true);
        for (a, b) in input.iter().zip(&data) {
            assert!((a - b).norm() < 1e-4, "{a} vs {b}");
        }
    }
}
