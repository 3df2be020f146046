// SPDX-License-Identifier: MPL-2.0
//! How often the larger body model may look again. MoveNet Thunder finds the body where
//! Lightning and the landmark model disagree far better (a back view whose sides the two read
//! differently, tangled people, an acrobat), but takes four times as long (29 against 7.6 ms on
//! one EPYC core): run on every such frame it cost sports2d 40 % of its frame rate, where one
//! frame in four is one. So its runs come from a budget that refills with stream time
//! ([`RECHECKS_PER_SECOND`]) and holds a few ([`RECHECK_BURST`]): a photo, or the first
//! frames of a stream, get it on every frame; a long disagreement, once in two seconds.
//! openpose/video.avi, five interleaved runs on a 2-core EPYC: 54.6 fps without it, 51.7 with
//! this budget, 49.0 at two runs a second (MediaPipe lite 50.6).

/// Runs the budget gains per second of stream time.
pub const RECHECKS_PER_SECOND: f64 = 0.5;
/// Runs the budget holds at most (and starts with).
pub const RECHECK_BURST: f64 = 3.0;

#[derive(Debug)]
pub struct RecheckBudget {
    runs: f64,
    /// The stream time it was last asked at.
    last: Option<f64>,
}

impl Default for RecheckBudget {
    fn default() -> Self {
        Self { runs: RECHECK_BURST, last: None }
    }
}

impl RecheckBudget {
    /// Whether the larger model may run on the frame at `time` (seconds); takes the run if so.
    pub fn take(&mut self, time: f64) -> bool {
        // Time going backwards (a seek the estimator was not reset for) adds nothing.
        let elapsed = self.last.map_or(0.0, |last| (time - last).max(0.0));
        self.last = Some(time);
        self.runs = (self.runs + elapsed * RECHECKS_PER_SECOND).min(RECHECK_BURST);
        if self.runs >= 1.0 {
            self.runs -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate_then_full_again_after_a_pause_or_a_reset() {
        let mut budget = RecheckBudget::default();
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
