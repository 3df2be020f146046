// SPDX-License-Identifier: MPL-2.0
//! How often an extra model run may happen on a stream: a budget that refills with stream time
//! and holds a few runs, so a photo, or the first frames of a stream, get the run on every frame
//! and a long stretch that keeps asking for it gets it at a fixed rate.

#[derive(Debug)]
pub struct RunBudget {
    runs: f64,
    /// The stream time it was last asked at.
    last: Option<f64>,
    /// Runs gained per second of stream time.
    per_second: f64,
    /// Runs held at most (and at the start).
    burst: f64,
}

impl RunBudget {
    pub const fn new(per_second: f64, burst: f64) -> Self {
        Self { runs: burst, last: None, per_second, burst }
    }

    /// Whether the extra run may happen on the frame at `time` (seconds); takes the run if so.
    pub fn take(&mut self, time: f64) -> bool {
        // Time going backwards (a seek the estimator was not reset for) adds nothing.
        let elapsed = self.last.map_or(0.0, |last| (time - last).max(0.0));
        self.last = Some(time);
        self.runs = (self.runs + elapsed * self.per_second).min(self.burst);
        if self.runs >= 1.0 {
            self.runs -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn reset(&mut self) {
        *self = Self::new(self.per_second, self.burst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate_then_full_again_after_a_pause_or_a_reset() {
        let mut budget = RunBudget::new(0.5, 3.0);
        // A photo repeated three times, or a stream's first frames: every one.
        assert!((0..3).all(|i| budget.take(i as f64 / 30.0)));
        // Then at 30 fps, one run in two seconds.
        let runs = (3..123).filter(|&i| budget.take(i as f64 / 30.0)).count();
        assert_eq!(runs, 2, "{runs} runs in the next four seconds");
        // A pause refills it to the burst, no more.
        assert!((0..3).all(|i| budget.take(100.0 + i as f64 / 1000.0)));
        assert!(!budget.take(100.004));
        // Backwards adds nothing; a reset refills.
        assert!(!budget.take(50.0));
        budget.reset();
        assert!(budget.take(50.0));
    }
}
