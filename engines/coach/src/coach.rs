// SPDX-License-Identifier: MPL-2.0
//! Judging frames against a sport profile: features, phases, and which errors are on.

use aicoach_vision::pose::Joint;

use crate::features::{Features, Skeleton, feature_index};
use crate::profile::{Judge, Profile};
use crate::rule::RuleState;
use crate::svm::SvmModel;

/// One frame's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameVerdict {
    pub features: Features,
    /// Per profile phase: on, off, or unknown (a feature it needs is missing).
    pub phases: Vec<(String, Option<bool>)>,
    /// Per profile error: flagged, clear, or not judged (missing features, or outside its phase).
    pub errors: Vec<Option<bool>>,
}

impl FrameVerdict {
    /// Names of the errors flagged on this frame.
    pub fn flagged<'a>(&self, profile: &'a Profile) -> Vec<&'a str> {
        profile
            .errors
            .iter()
            .zip(&self.errors)
            .filter(|(_, on)| **on == Some(true))
            .map(|(e, _)| e.name.as_str())
            .collect()
    }
}

fn svm_input(svm: &SvmModel, features: &Features) -> Option<Vec<f64>> {
    svm.features.iter().map(|name| features.values[feature_index(name)?]).collect()
}

pub struct Coach {
    pub profile: Profile,
    states: Vec<RuleState>,
}

impl Coach {
    pub fn new(profile: Profile) -> Self {
        let states = vec![RuleState::default(); profile.errors.len()];
        Self { profile, states }
    }

    /// Forgets the hysteresis state (a new attempt or athlete).
    pub fn reset(&mut self) {
        self.states.iter_mut().for_each(RuleState::reset);
    }

    /// Judges one frame's keypoints (BlazePose order; `None` where left out).
    pub fn judge(&mut self, joints: &[Option<Joint>]) -> FrameVerdict {
        let features = Skeleton::new(joints, self.profile.min_confidence).features();
        let phases: Vec<(String, Option<bool>)> = self
            .profile
            .phases
            .iter()
            .map(|p| (p.name.clone(), svm_input(&p.svm, &features).map(|x| p.svm.predict(&x))))
            .collect();
        let errors = self
            .profile
            .errors
            .iter()
            .zip(&mut self.states)
            .map(|(error, state)| {
                if let Some(phase) = error.during
                    && phases[phase].1 != Some(true)
                {
                    return None;
                }
                match &error.judge {
                    Judge::Rule(rule) => state.update(rule, features.values[feature_index(&rule.feature)?]),
                    Judge::Svm(svm) => svm_input(svm, &features).map(|x| svm.predict(&x)),
                }
            })
            .collect();
        FrameVerdict { features, phases, errors }
    }
}
