// SPDX-License-Identifier: MPL-2.0
//! The report as the page needs it: typed rows read back from the JSON Lines, and the frame
//! that shows each bad-pose segment best.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use aicoach_coach::exemplar::Suggestion;
use aicoach_coach::report::ReportError;
use aicoach_coach::rule::Rule;

#[derive(Debug, Clone, Default)]
pub struct FrameRow {
    /// Seconds from the first frame of the video.
    pub time: f64,
    pub attempt: u32,
    /// The tracker's state (`tracking`, `verifying`, `lost`), or None without a tracker.
    pub athlete_state: Option<String>,
    pub has_pose: bool,
    pub angles: BTreeMap<String, f64>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SegmentRow {
    pub error: String,
    pub label: String,
    /// Seconds from the first frame, like [`FrameRow::time`].
    pub start: f64,
    pub end: f64,
    pub frames: u32,
    pub suggestion: Option<Suggestion>,
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub index: u32,
    pub start: f64,
    pub end: f64,
    pub frames_with_pose: u64,
    pub form_score: Option<f64>,
    pub score: Option<(f64, f64)>,
    pub segments: Vec<SegmentRow>,
}

#[derive(Debug, Default)]
pub struct ReportView {
    pub sport: String,
    pub profile_path: String,
    /// Error name -> label, in the profile's order.
    pub errors: Vec<(String, String)>,
    pub frames: Vec<FrameRow>,
    pub attempts: Vec<AttemptRow>,
    /// None when the report has no summary (the pipeline was killed).
    pub end_of_stream: Option<bool>,
    /// The stream time of the first frame, subtracted from every time above so that times are
    /// positions in the video file.
    pub time_origin: f64,
}

impl ReportView {
    /// Reads a report; a last line cut short by a killed pipeline ends the reading quietly.
    pub fn read(path: &Path) -> Result<Self, ReportError> {
        let err = |line: usize, reason: String| ReportError { path: path.display().to_string(), line, reason };
        let file = std::fs::File::open(path).map_err(|e| err(0, format!("cannot open it: {e}")))?;
        let mut lines = Vec::new();
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| err(n + 1, e.to_string()))?;
            match serde_json::from_str::<Value>(&line) {
                Ok(v) => lines.push(v),
                Err(_) => break,
            }
        }
        let view = Self::from_lines(&lines);
        if view.sport.is_empty() {
            return Err(err(1, "no header line: is this an aicoachclassify report?".into()));
        }
        Ok(view)
    }

    pub fn from_lines(lines: &[Value]) -> Self {
        let mut view = ReportView::default();
        let origin = lines.iter().find(|v| v["type"] == "frame").and_then(|v| v["time"].as_f64()).unwrap_or(0.0);
        view.time_origin = origin;
        let time = |v: &Value| v.as_f64().map(|t| t - origin).unwrap_or(0.0);
        for v in lines {
            match v["type"].as_str() {
                Some("header") => {
                    view.sport = v["sport"].as_str().unwrap_or_default().to_string();
                    view.profile_path = v["profile"].as_str().unwrap_or_default().to_string();
                    if let Some(errors) = v["errors"].as_object() {
                        view.errors =
                            errors.iter().map(|(k, l)| (k.clone(), l.as_str().unwrap_or(k).to_string())).collect();
                    }
                }
                Some("frame") => view.frames.push(FrameRow {
                    time: time(&v["time"]),
                    attempt: v["attempt"].as_u64().unwrap_or(0) as u32,
                    athlete_state: v["athlete"]["state"].as_str().map(str::to_string),
                    has_pose: v["keypoints"].is_object(),
                    angles: v["angles"]
                        .as_object()
                        .map(|m| m.iter().filter_map(|(k, a)| Some((k.clone(), a.as_f64()?))).collect())
                        .unwrap_or_default(),
                    errors: v["errors"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                }),
                Some("attempt") => view.attempts.push(AttemptRow {
                    index: v["attempt"].as_u64().unwrap_or(0) as u32,
                    start: time(&v["start"]),
                    end: time(&v["end"]),
                    frames_with_pose: v["frames_with_pose"].as_u64().unwrap_or(0),
                    form_score: v["form_score"].as_f64(),
                    score: v["score"]["value"].as_f64().zip(v["score"]["scale"].as_f64()),
                    segments: v["segments"]
                        .as_array()
                        .map(|segments| {
                            segments
                                .iter()
                                .map(|s| SegmentRow {
                                    error: s["error"].as_str().unwrap_or_default().to_string(),
                                    label: s["label"].as_str().unwrap_or_default().to_string(),
                                    start: time(&s["start"]),
                                    end: time(&s["end"]),
                                    frames: s["frames"].as_u64().unwrap_or(0) as u32,
                                    suggestion: suggestion(&s["suggestion"]),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }),
                Some("summary") => view.end_of_stream = Some(v["end_of_stream"].as_bool().unwrap_or(true)),
                _ => {}
            }
        }
        view
    }

    pub fn duration(&self) -> f64 {
        let last = self.frames.last().map(|f| f.time).unwrap_or(0.0);
        last + self.frame_interval()
    }

    /// The median spacing of frames (1/30 s when there are too few to tell).
    pub fn frame_interval(&self) -> f64 {
        let mut steps: Vec<f64> = self.frames.windows(2).map(|w| w[1].time - w[0].time).filter(|d| *d > 0.0).collect();
        if steps.is_empty() {
            return 1.0 / 30.0;
        }
        steps.sort_by(f64::total_cmp);
        steps[steps.len() / 2]
    }

    pub fn frames_with_pose(&self) -> usize {
        self.frames.iter().filter(|f| f.has_pose).count()
    }

    pub fn label(&self, error: &str) -> String {
        self.errors.iter().find(|(n, _)| n == error).map(|(_, l)| l.clone()).unwrap_or_else(|| error.to_string())
    }

    /// The index of the frame that shows `segment` best: with a rule, the flagged frame
    /// furthest past its threshold; otherwise the flagged frame in the middle.
    pub fn worst_frame(&self, segment: &SegmentRow, rule: Option<&Rule>) -> Option<usize> {
        let half = self.frame_interval() / 2.0;
        let flagged: Vec<usize> = (0..self.frames.len())
            .filter(|&i| {
                let f = &self.frames[i];
                f.time >= segment.start - half && f.time <= segment.end + half && f.errors.contains(&segment.error)
            })
            .collect();
        let past = |i: usize| -> Option<f64> {
            let rule = rule?;
            let v = *self.frames[i].angles.get(&rule.feature)?;
            Some(if rule.on > rule.off { v - rule.on } else { rule.on - v })
        };
        let by_rule = flagged.iter().filter_map(|&i| Some((i, past(i)?))).max_by(|a, b| a.1.total_cmp(&b.1));
        by_rule.map(|(i, _)| i).or_else(|| flagged.get(flagged.len() / 2).copied())
    }
}

fn suggestion(v: &Value) -> Option<Suggestion> {
    Some(Suggestion {
        clip: v["clip"].as_str()?.to_string(),
        video: v["video"].as_str()?.to_string(),
        start: v["start"].as_f64()?,
        end: v["end"].as_f64()?,
        distance: v["distance"].as_f64().unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines() -> Vec<Value> {
        let mut lines = vec![json!({"type": "header", "sport": "s", "profile": "p.json",
                                     "errors": {"bent_knees": "Bent knees"}, "features": []})];
        for i in 0..10 {
            let knee = [10.0, 20.0, 30.0, 45.0, 35.0, 28.0, 10.0, 10.0, 10.0, 10.0][i];
            let errors = if (2..6).contains(&i) { vec!["bent_knees"] } else { vec![] };
            lines.push(json!({"type": "frame", "time": 5.0 + i as f64 * 0.1, "attempt": 0,
                              "athlete": {"state": "tracking"}, "keypoints": {},
                              "angles": {"knee_flexion": knee}, "errors": errors}));
        }
        lines.push(json!({"type": "attempt", "attempt": 0, "start": 5.0, "end": 5.9, "frames_with_pose": 10,
                          "form_score": 60.0, "score": null,
                          "segments": [{"error": "bent_knees", "label": "Bent knees", "start": 5.2, "end": 5.5,
                                        "frames": 4, "suggestion": {"clip": "c", "video": "v.mp4", "start": 1.0,
                                        "end": 1.4, "distance": 3.0}}]}));
        lines
    }

    #[test]
    fn times_start_at_the_first_frame_and_rows_are_typed() {
        let view = ReportView::from_lines(&lines());
        assert_eq!(view.frames.len(), 10);
        assert!(view.frames[0].time.abs() < 1e-9);
        assert!((view.attempts[0].segments[0].start - 0.2).abs() < 1e-9);
        assert!((view.duration() - 1.0).abs() < 1e-9);
        assert_eq!(view.end_of_stream, None, "no summary line");
        assert_eq!(view.attempts[0].segments[0].suggestion.as_ref().unwrap().video, "v.mp4");
        assert_eq!(view.label("bent_knees"), "Bent knees");
    }

    #[test]
    fn the_worst_frame_is_furthest_past_the_rule_or_the_middle_one() {
        let view = ReportView::from_lines(&lines());
        let segment = &view.attempts[0].segments[0];
        let rule = Rule { feature: "knee_flexion".into(), on: 25.0, off: 15.0, min_frames: 1 };
        assert_eq!(view.worst_frame(segment, Some(&rule)), Some(3));
        assert_eq!(view.worst_frame(segment, None), Some(4), "flagged frames 2..=5, middle");
    }
}
