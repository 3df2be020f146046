// SPDX-License-Identifier: MPL-2.0
//! A coaching session along a video: judges every frame, splits the video into attempts
//! (an attempt ends when the athlete has been absent for longer than a gap, or another
//! athlete is tracked), suggests exemplars for the bad-pose segments, and writes the report.

use std::path::Path;

use aicoach_vision::pose::Joint;

use crate::attempt::{Attempt, AttemptSummary};
use crate::coach::{Coach, FrameVerdict};
use crate::exemplar::{Library, Suggestion};
use crate::profile::Profile;
use crate::report::{self, AthleteBox, FrameLine, ReportWriter};

/// What one frame came to.
#[derive(Debug, Clone)]
pub struct FrameOutcome {
    pub verdict: Option<FrameVerdict>,
    pub attempt: u32,
    /// The attempt's form score so far.
    pub form_score: Option<f64>,
    /// An attempt that ended before this frame.
    pub ended: Option<AttemptSummary>,
}

pub struct Session {
    coach: Coach,
    library: Option<Library>,
    report: Option<ReportWriter>,
    attempt: Attempt,
    attempts: Vec<AttemptSummary>,
    frames: u64,
    /// Time and track of the last frame with a pose.
    last_pose: Option<(f64, u64)>,
    attempt_gap: f64,
}

impl Session {
    /// Starts a session; with `report`, creates the file and writes its header line.
    pub fn new(
        profile: Profile,
        library: Option<Library>,
        report: Option<&Path>,
        attempt_gap: f64,
    ) -> std::io::Result<Self> {
        let mut writer = report.map(ReportWriter::create).transpose()?;
        if let Some(w) = &mut writer {
            w.write(&report::header_json(&profile))?;
        }
        let errors = profile.errors.len();
        Ok(Self {
            coach: Coach::new(profile),
            library,
            report: writer,
            attempt: Attempt::new(1, errors),
            attempts: Vec::new(),
            frames: 0,
            last_pose: None,
            attempt_gap,
        })
    }

    pub fn profile(&self) -> &Profile {
        &self.coach.profile
    }

    /// Ends the current attempt (if it has frames): its summary line, with suggestions.
    pub fn end_attempt(&mut self) -> std::io::Result<Option<AttemptSummary>> {
        if self.attempt.is_empty() {
            return Ok(None);
        }
        let profile = &self.coach.profile;
        let summary = self.attempt.summary(profile);
        let suggestions: Vec<Option<Suggestion>> = summary
            .segments
            .iter()
            .map(|s| {
                let library = self.library.as_ref()?;
                let query: Vec<Vec<Option<f64>>> = self
                    .attempt
                    .frames
                    .iter()
                    .filter(|f| f.time >= s.start && f.time <= s.end)
                    .filter_map(|f| f.verdict.as_ref().map(|v| v.features.values.to_vec()))
                    .collect();
                library.suggest(&profile.errors[s.error].name, &query)
            })
            .collect();
        if let Some(w) = &mut self.report {
            w.write(&report::attempt_json(profile, &summary, &suggestions))?;
        }
        let next = self.attempt.index + 1;
        self.attempt = Attempt::new(next, profile.errors.len());
        self.coach.reset();
        self.attempts.push(summary.clone());
        Ok(Some(summary))
    }

    /// Judges one frame: `keypoints` in BlazePose order (`None`: no pose on the frame).
    pub fn push(
        &mut self,
        time: f64,
        pts: Option<u64>,
        athlete: Option<&AthleteBox>,
        keypoints: Option<&[Option<Joint>]>,
    ) -> std::io::Result<FrameOutcome> {
        self.frames += 1;
        let track = athlete.map_or(0, |a| a.tracking_id);
        let gap_passed = self.last_pose.is_some_and(|(t, _)| time - t > self.attempt_gap);
        let other_athlete = keypoints.is_some() && self.last_pose.is_some_and(|(_, id)| id != track);
        let ended = if gap_passed || other_athlete {
            self.last_pose = None;
            self.end_attempt()?
        } else {
            None
        };
        let verdict = keypoints.map(|k| self.coach.judge(k));
        if verdict.is_some() {
            self.last_pose = Some((time, track));
        }
        // Frames before the first pose of an attempt belong to no attempt.
        let in_attempt = verdict.is_some() || !self.attempt.is_empty();
        if in_attempt {
            self.attempt.push(time, verdict.clone());
        }
        let attempt = if in_attempt { self.attempt.index } else { 0 };
        if let Some(w) = &mut self.report {
            let line = FrameLine { time, pts, attempt, athlete, keypoints, verdict: verdict.as_ref() };
            w.write(&report::frame_json(&self.coach.profile, &line))?;
        }
        Ok(FrameOutcome { verdict, attempt, form_score: self.attempt.form_score(), ended })
    }

    /// Ends the session: the last attempt's line and the summary line, which says whether
    /// the stream really ended or was stopped before its end.
    pub fn finish(&mut self, end_of_stream: bool) -> std::io::Result<Vec<AttemptSummary>> {
        self.end_attempt()?;
        if let Some(w) = &mut self.report {
            let mut summary = report::summary_json(&self.coach.profile, &self.attempts, self.frames);
            summary["end_of_stream"] = end_of_stream.into();
            w.write(&summary)?;
        }
        self.last_pose = None;
        Ok(self.attempts.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aicoach_vision::keypoints::KEYPOINT_NAMES;
    use serde_json::Value;

    fn profile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("aicoach-session-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("profile.json"),
            r#"{"sport": "test", "errors": [
                {"name": "bent_knees", "rule": {"feature": "knee_flexion", "on": 30, "off": 20}}]}"#,
        )
        .unwrap();
        dir
    }

    /// A standing leg bent by `knee` degrees at the knee (left side only).
    fn leg(knee: f64) -> Vec<Option<Joint>> {
        let mut joints = vec![None; KEYPOINT_NAMES.len()];
        let at = |name: &str| KEYPOINT_NAMES.iter().position(|n| *n == name).unwrap();
        let j = |x: f64, y: f64| Some(Joint { x: x as f32, y: y as f32, confidence: 0.9 });
        joints[at("left_hip")] = j(0.0, 0.0);
        joints[at("left_knee")] = j(0.0, 100.0);
        let a = knee.to_radians();
        joints[at("left_ankle")] = j(100.0 * a.sin(), 100.0 + 100.0 * a.cos());
        joints
    }

    #[test]
    fn the_report_has_a_header_frames_attempts_and_a_summary_that_parse_back() {
        let dir = profile_dir();
        let profile = Profile::load(&dir.join("profile.json")).unwrap();
        let path = dir.join("report.jsonl");
        let mut session = Session::new(profile, None, Some(&path), 1.0).unwrap();
        let athlete = AthleteBox { x: 0.0, y: 0.0, w: 10.0, h: 10.0, state: "tracking".into(), tracking_id: 1 };
        // Attempt 1: straight, bent (0.2-0.3 s), straight. Then 2 s without anyone. Attempt 2.
        let knees = [5.0, 5.0, 40.0, 25.0, 10.0];
        for (i, k) in knees.iter().enumerate() {
            session.push(i as f64 * 0.1, Some(i as u64), Some(&athlete), Some(&leg(*k))).unwrap();
        }
        for i in 0..20 {
            let o = session.push(0.5 + i as f64 * 0.1, None, None, None).unwrap();
            assert_eq!(o.ended.is_some(), i == 10, "the attempt ends once the gap has passed");
        }
        session.push(2.5, None, Some(&athlete), Some(&leg(50.0))).unwrap();
        let attempts = session.finish(true).unwrap();
        assert_eq!(attempts.len(), 2);

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["type"], "header");
        assert_eq!(lines[0]["errors"]["bent_knees"], "bent knees");
        let frames: Vec<&Value> = lines.iter().filter(|l| l["type"] == "frame").collect();
        assert_eq!(frames.len(), 26);
        assert_eq!(frames[2]["errors"][0], "bent_knees");
        assert!((frames[2]["angles"]["knee_left"].as_f64().unwrap() - 40.0).abs() < 0.1);
        assert_eq!(frames[2]["keypoints"]["left_knee"][1], 100.0);
        assert_eq!(frames[6]["keypoints"], Value::Null);
        let attempt_lines: Vec<&Value> = lines.iter().filter(|l| l["type"] == "attempt").collect();
        assert_eq!(attempt_lines.len(), 2);
        let seg = &attempt_lines[0]["segments"][0];
        assert_eq!(
            (seg["error"].as_str(), seg["start"].as_f64(), seg["end"].as_f64()),
            (Some("bent_knees"), Some(0.2), Some(0.3))
        );
        assert_eq!(attempt_lines[0]["form_score"], 60.0);
        assert_eq!(attempt_lines[1]["attempt"], 2);
        assert_eq!(lines.last().unwrap()["type"], "summary");
        assert_eq!(lines.last().unwrap()["segments"]["bent_knees"], 2);
        assert_eq!(lines.last().unwrap()["end_of_stream"], true);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
