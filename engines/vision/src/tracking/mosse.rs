// SPDX-License-Identifier: MPL-2.0
//! MOSSE correlation filter (Bolme et al., CVPR 2010): learns, in the Fourier domain, a filter
//! whose correlation with the target's grey patch is a sharp peak, and finds the target in the
//! next frame at the peak of the response. Its peak-to-sidelobe ratio (PSR) says how sure it
//! is: the signal the tracker uses to ask for verification.

use rustfft::num_complex::Complex32;

use super::fft::{Fft2d, hann_window};

/// Patch side in samples (a power of two keeps the FFTs cheap).
pub const SIZE: usize = 64;
/// Width of the desired Gaussian response, in samples.
const SIGMA: f32 = 2.0;
/// Regularisation: keeps the filter finite where the patch has no energy.
const LAMBDA: f32 = 1e-2;
/// Half-size of the window around the peak left out of the sidelobe statistics.
const PEAK_EXCLUSION: i32 = 5;

/// The patch normalised as MOSSE prescribes: log to tame lighting, zero mean, unit energy,
/// and a Hann window so the patch edges do not dominate the correlation.
fn preprocess(patch: &[f32], window: &[f32]) -> Vec<Complex32> {
    let logs: Vec<f32> = patch.iter().map(|v| (v + 1.0).ln()).collect();
    let mean = logs.iter().sum::<f32>() / logs.len() as f32;
    let var = logs.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / logs.len() as f32;
    let std = var.sqrt().max(1e-5);
    logs.iter().zip(window).map(|(v, w)| Complex32::new((v - mean) / std * w, 0.0)).collect()
}

pub struct Mosse {
    fft: Fft2d,
    window: Vec<f32>,
    /// Fourier transform of the desired response (a Gaussian peak at the centre).
    target: Vec<Complex32>,
    numerator: Vec<Complex32>,
    denominator: Vec<f32>,
}

/// Where the filter found the target: displacement from the patch centre in samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Response {
    pub dx: f32,
    pub dy: f32,
    pub psr: f32,
}

impl Mosse {
    /// A filter trained on `patch` (SIZE x SIZE grey values, target at the centre).
    pub fn new(patch: &[f32]) -> Self {
        let window = hann_window(SIZE);
        let fft = Fft2d::new(SIZE);
        let c = SIZE as f32 / 2.0;
        let mut target: Vec<Complex32> = (0..SIZE * SIZE)
            .map(|i| {
                let (x, y) = ((i % SIZE) as f32 - c, (i / SIZE) as f32 - c);
                Complex32::new((-(x * x + y * y) / (2.0 * SIGMA * SIGMA)).exp(), 0.0)
            })
            .collect();
        fft.transform(&mut target, false);
        let mut filter = Self { fft, window, target, numerator: vec![], denominator: vec![] };
        let f = filter.spectrum(patch);
        filter.numerator = filter.target.iter().zip(&f).map(|(g, f)| g * f.conj()).collect();
        filter.denominator = f.iter().map(|f| f.norm_sqr()).collect();
        filter
    }

    fn spectrum(&self, patch: &[f32]) -> Vec<Complex32> {
        let mut f = preprocess(patch, &self.window);
        self.fft.transform(&mut f, false);
        f
    }

    /// Correlates the filter with `patch` and returns the peak's offset and sharpness.
    pub fn locate(&self, patch: &[f32]) -> Response {
        let f = self.spectrum(patch);
        let response: Vec<Complex32> =
            f.iter().zip(&self.numerator).zip(&self.denominator).map(|((f, a), b)| f * a / (b + LAMBDA)).collect();
        let (values, peak_index, peak) = self.fft.response(response);
        let (px, py) = ((peak_index % SIZE) as i32, (peak_index / SIZE) as i32);
        let (mut sum, mut sum_sq, mut n) = (0.0f32, 0.0f32, 0.0f32);
        for (i, &v) in values.iter().enumerate() {
            let (x, y) = ((i % SIZE) as i32, (i / SIZE) as i32);
            if (x - px).abs() <= PEAK_EXCLUSION && (y - py).abs() <= PEAK_EXCLUSION {
                continue;
            }
            sum += v;
            sum_sq += v * v;
            n += 1.0;
        }
        let mean = sum / n;
        let std = (sum_sq / n - mean * mean).max(0.0).sqrt().max(1e-6);
        let psr = if peak.is_finite() { (peak - mean) / std } else { 0.0 };
        let c = (SIZE / 2) as f32;
        Response { dx: px as f32 - c, dy: py as f32 - c, psr }
    }

    /// Adapts the filter to the target's current look (`patch` centred on the target).
    pub fn update(&mut self, patch: &[f32], rate: f32) {
        let f = self.spectrum(patch);
        for (i, f) in f.iter().enumerate() {
            self.numerator[i] = self.numerator[i] * (1.0 - rate) + self.target[i] * f.conj() * rate;
            self.denominator[i] = self.denominator[i] * (1.0 - rate) + f.norm_sqr() * rate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A textured scene with a bright blob, sampled around (cx, cy).
    fn scene(cx: f32, cy: f32) -> Vec<f32> {
        (0..SIZE * SIZE)
            .map(|i| {
                let (x, y) = ((i % SIZE) as f32 + cx - 32.0, (i / SIZE) as f32 + cy - 32.0);
                let blob = (-((x - 40.0).powi(2) + (y - 40.0).powi(2)) / 30.0).exp() * 200.0;
                let texture = ((x * 0.7).sin() * (y * 0.4).cos() + 1.0) * 20.0;
                blob + texture
            })
            .collect()
    }

    #[test]
    fn finds_a_shifted_target_with_a_sharp_peak() {
        let filter = Mosse::new(&scene(40.0, 40.0));
        // The camera window stays; the target moved 5 right and 3 down.
        let r = filter.locate(&scene(35.0, 37.0));
        assert_eq!((r.dx, r.dy), (5.0, 3.0), "{r:?}");
        assert!(r.psr > 10.0, "{r:?}");
    }

    #[test]
    fn psr_collapses_when_the_target_is_gone() {
        let filter = Mosse::new(&scene(40.0, 40.0));
        let flat: Vec<f32> = (0..SIZE * SIZE).map(|i| ((i * 7919) % 251) as f32).collect();
        let r = filter.locate(&flat);
        let sure = filter.locate(&scene(40.0, 40.0));
        assert!(r.psr < sure.psr / 2.0, "noise {r:?} vs target {sure:?}");
    }
}
