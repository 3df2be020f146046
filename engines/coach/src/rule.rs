// SPDX-License-Identifier: MPL-2.0
//! Geometric rules: an error is flagged when a feature crosses a threshold, with hysteresis
//! (a second threshold to clear it) and a minimum number of frames, so a joint wobbling
//! around the threshold does not make the verdict flicker.

use serde::{Deserialize, Serialize};

use crate::features::feature_index;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The feature it reads (see `features::FEATURE_NAMES`).
    pub feature: String,
    /// The error starts when the feature passes `on`...
    pub on: f64,
    /// ...and ends when it comes back past `off`. `on > off` flags large values, `on < off`
    /// small ones.
    pub off: f64,
    /// Consecutive frames past `on` before the error starts.
    #[serde(default = "one")]
    pub min_frames: u32,
}

fn one() -> u32 {
    1
}

impl Rule {
    pub fn validate(&self) -> Result<usize, String> {
        let index = feature_index(&self.feature).ok_or_else(|| format!("unknown feature '{}'", self.feature))?;
        if !(self.on.is_finite() && self.off.is_finite()) || self.on == self.off {
            return Err(format!(
                "rule on '{}': 'on' ({}) and 'off' ({}) must be different numbers",
                self.feature, self.on, self.off
            ));
        }
        if self.min_frames == 0 {
            return Err(format!("rule on '{}': min_frames must be at least 1", self.feature));
        }
        Ok(index)
    }

    fn past_on(&self, v: f64) -> bool {
        if self.on > self.off { v > self.on } else { v < self.on }
    }

    fn past_off(&self, v: f64) -> bool {
        if self.on > self.off { v < self.off } else { v > self.off }
    }
}

/// A rule's state along a video.
#[derive(Debug, Clone, Default)]
pub struct RuleState {
    active: bool,
    pending: u32,
}

impl RuleState {
    /// The verdict for the next frame's value: `None` when the feature could not be measured
    /// (the state is kept: a frame with a hidden knee neither starts nor ends an error).
    pub fn update(&mut self, rule: &Rule, value: Option<f64>) -> Option<bool> {
        let v = value?;
        if self.active {
            if rule.past_off(v) {
                self.active = false;
            }
        } else if rule.past_on(v) {
            self.pending += 1;
            if self.pending >= rule.min_frames {
                self.active = true;
                self.pending = 0;
            }
        } else {
            self.pending = 0;
        }
        Some(self.active)
    }

    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rule: &Rule, values: &[Option<f64>]) -> Vec<Option<bool>> {
        let mut state = RuleState::default();
        values.iter().map(|v| state.update(rule, *v)).collect()
    }

    #[test]
    fn hysteresis_keeps_the_error_until_the_off_threshold() {
        let rule = Rule { feature: "knee_flexion".into(), on: 30.0, off: 20.0, min_frames: 1 };
        let v = [10.0, 31.0, 25.0, 21.0, 19.0, 25.0, 29.0, 35.0].map(Some);
        let got: Vec<bool> = run(&rule, &v).into_iter().map(Option::unwrap).collect();
        assert_eq!(got, [false, true, true, true, false, false, false, true]);
    }

    #[test]
    fn a_below_rule_flags_small_values() {
        // e.g. skis closing their V: flag under 20 degrees, clear over 25.
        let rule = Rule { feature: "ski_angle".into(), on: 20.0, off: 25.0, min_frames: 1 };
        let got = run(&rule, &[Some(30.0), Some(19.0), Some(22.0), Some(26.0)]);
        assert_eq!(got, [Some(false), Some(true), Some(true), Some(false)]);
    }

    #[test]
    fn min_frames_ignores_a_single_spike_and_unmeasured_frames_keep_the_state() {
        let rule = Rule { feature: "hip_flexion".into(), on: 30.0, off: 20.0, min_frames: 3 };
        let v = [Some(40.0), Some(10.0), Some(40.0), Some(40.0), None, Some(40.0), Some(25.0)];
        assert_eq!(run(&rule, &v), [Some(false), Some(false), Some(false), Some(false), None, Some(true), Some(true)]);
    }

    #[test]
    fn bad_rules_are_explained() {
        let mut rule = Rule { feature: "elbow".into(), on: 1.0, off: 0.0, min_frames: 1 };
        assert!(rule.validate().unwrap_err().contains("unknown feature 'elbow'"));
        rule.feature = "knee_flexion".into();
        rule.off = 1.0;
        assert!(rule.validate().unwrap_err().contains("must be different"));
    }
}
