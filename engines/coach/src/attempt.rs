// SPDX-License-Identifier: MPL-2.0
//! One attempt (a jump, a run) seen frame by frame: the bad-pose segments with their start
//! and end times, the form score, and the estimated score when the profile has a model.

use crate::coach::FrameVerdict;
use crate::profile::Profile;
use crate::score::FrameView;

/// A stretch of frames showing one error.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Index into the profile's errors.
    pub error: usize,
    /// Seconds, of the first and the last frame flagged.
    pub start: f64,
    pub end: f64,
    pub frames: u32,
}

#[derive(Debug, Clone)]
pub struct FrameRecord {
    pub time: f64,
    /// `None`: no pose on this frame.
    pub verdict: Option<FrameVerdict>,
}

#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub index: u32,
    pub frames: Vec<FrameRecord>,
    pub segments: Vec<Segment>,
    /// Per error, the segment being extended, as an index into `segments`.
    open: Vec<Option<usize>>,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptSummary {
    pub index: u32,
    pub start: f64,
    pub end: f64,
    pub frames: usize,
    pub frames_with_pose: usize,
    /// Frames on which at least one error could be judged.
    pub judged_frames: usize,
    /// Judged frames without any error, in percent; `None` when nothing was judged.
    pub form_score: Option<f64>,
    /// The profile's score model's estimate, with its scale.
    pub score: Option<(f64, String)>,
    pub segments: Vec<Segment>,
}

impl Attempt {
    pub fn new(index: u32, errors: usize) -> Self {
        Self { index, open: vec![None; errors], ..Self::default() }
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub fn push(&mut self, time: f64, verdict: Option<FrameVerdict>) {
        if let Some(v) = &verdict {
            for (e, on) in v.errors.iter().enumerate() {
                match (on, self.open[e]) {
                    (Some(true), Some(s)) => {
                        self.segments[s].end = time;
                        self.segments[s].frames += 1;
                    }
                    (Some(true), None) => {
                        self.open[e] = Some(self.segments.len());
                        self.segments.push(Segment { error: e, start: time, end: time, frames: 1 });
                    }
                    (Some(false), _) => self.open[e] = None,
                    // Not judged: the segment stays open, neither extended nor closed.
                    (None, _) => {}
                }
            }
        }
        self.frames.push(FrameRecord { time, verdict });
    }

    /// The form score so far: judged frames without an error, in percent.
    pub fn form_score(&self) -> Option<f64> {
        let judged: Vec<&FrameVerdict> = self
            .frames
            .iter()
            .filter_map(|f| f.verdict.as_ref())
            .filter(|v| v.errors.iter().any(Option::is_some))
            .collect();
        if judged.is_empty() {
            return None;
        }
        let clean = judged.iter().filter(|v| !v.errors.contains(&Some(true))).count();
        Some(100.0 * clean as f64 / judged.len() as f64)
    }

    pub fn summary(&self, profile: &Profile) -> AttemptSummary {
        let with_pose: Vec<&FrameVerdict> = self.frames.iter().filter_map(|f| f.verdict.as_ref()).collect();
        let score = profile.score.as_ref().map(|model| {
            let views: Vec<FrameView> =
                with_pose.iter().map(|v| FrameView { features: &v.features, phases: &v.phases }).collect();
            (model.predict(&model.attempt_inputs(&views)), model.scale.clone())
        });
        AttemptSummary {
            index: self.index,
            start: self.frames.first().map_or(0.0, |f| f.time),
            end: self.frames.last().map_or(0.0, |f| f.time),
            frames: self.frames.len(),
            frames_with_pose: with_pose.len(),
            judged_frames: with_pose.iter().filter(|v| v.errors.iter().any(Option::is_some)).count(),
            form_score: self.form_score(),
            score,
            segments: self.segments.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::Features;

    fn verdict(errors: &[Option<bool>]) -> Option<FrameVerdict> {
        Some(FrameVerdict { features: Features::default(), phases: vec![], errors: errors.to_vec() })
    }

    #[test]
    fn segments_start_and_end_where_the_error_does() {
        let mut a = Attempt::new(1, 2);
        let frames = [
            verdict(&[Some(false), Some(false)]),
            verdict(&[Some(true), Some(false)]),
            verdict(&[Some(true), None]),
            None,
            verdict(&[None, Some(true)]),
            verdict(&[Some(true), Some(true)]),
            verdict(&[Some(false), Some(false)]),
            verdict(&[Some(true), Some(false)]),
        ];
        for (i, v) in frames.into_iter().enumerate() {
            a.push(i as f64 * 0.1, v);
        }
        let s: Vec<(usize, f64, f64, u32)> =
            a.segments.iter().map(|s| (s.error, (s.start * 10.0).round(), (s.end * 10.0).round(), s.frames)).collect();
        // Error 0: frames 1-5 (unjudged frames 3 and 4 keep it open), then frame 7.
        // Error 1: frames 4-5.
        assert_eq!(s, vec![(0, 1.0, 5.0, 3), (1, 4.0, 5.0, 2), (0, 7.0, 7.0, 1)]);
        // Judged frames: all but the one without a pose; clean: frames 0 and 6.
        assert!((a.form_score().unwrap() - 100.0 * 2.0 / 7.0).abs() < 1e-9);
    }
}
