// SPDX-License-Identifier: MPL-2.0
//! The session report: JSON Lines, one object per line, written as frames arrive and flushed
//! line by line, so that a pipeline that errors or is killed leaves a file valid up to its
//! last whole line.
//!
//! Lines, by `"type"`:
//! - `header`: `sport`, `profile`, `errors` (name -> label), `features` (names, in order);
//! - `frame`: `time` (s), `pts` (ns or null), `attempt`, `athlete` (`x`, `y`, `w`, `h`: the
//!   box within the picture, `state`, `tracking_id`, or null), `keypoints` (name ->
//!   `[x, y, confidence]`, or null), `angles` (feature -> degrees, measurable ones), `phases`
//!   (name -> bool), `errors` (names);
//! - `attempt`, when an attempt ends: `attempt`, `start`, `end` (s), `frames`,
//!   `frames_with_pose`, `judged_frames`, `form_score` (% of judged frames without an error),
//!   `score` (`value`, `scale`, or null), `segments` (`error`, `label`, `start`, `end`,
//!   `frames`, `suggestion`: `clip`, `video`, `start`, `end`, `distance`, or null);
//! - `summary`, last: `attempts`, `frames`, `segments` per error, `end_of_stream` (false when
//!   the pipeline was stopped before the stream ended).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use aicoach_vision::keypoints::KEYPOINT_NAMES;
use aicoach_vision::pose::Joint;
use serde_json::{Map, Value, json};

use crate::attempt::AttemptSummary;
use crate::coach::FrameVerdict;
use crate::exemplar::{ExemplarFrame, Suggestion};
use crate::features::{FEATURE_COUNT, FEATURE_NAMES};
use crate::profile::Profile;

pub struct ReportWriter {
    file: File,
}

impl ReportWriter {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self { file: File::create(path)? })
    }

    /// Writes one object as one line, in one write, and flushes it.
    pub fn write(&mut self, value: &Value) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.flush()
    }
}

fn round(v: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    (v * k).round() / k
}

pub fn header_json(profile: &Profile) -> Value {
    let errors: Map<String, Value> = profile.errors.iter().map(|e| (e.name.clone(), json!(e.label))).collect();
    json!({
        "type": "header",
        "sport": profile.sport,
        "profile": profile.path.display().to_string(),
        "errors": errors,
        "features": FEATURE_NAMES,
    })
}

/// The tracker's box as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AthleteBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub state: String,
    pub tracking_id: u64,
}

pub struct FrameLine<'a> {
    pub time: f64,
    pub pts: Option<u64>,
    pub attempt: u32,
    pub athlete: Option<&'a AthleteBox>,
    pub keypoints: Option<&'a [Option<Joint>]>,
    pub verdict: Option<&'a FrameVerdict>,
}

pub fn frame_json(profile: &Profile, f: &FrameLine) -> Value {
    let athlete = f.athlete.map(|a| {
        json!({"x": round(a.x, 1), "y": round(a.y, 1), "w": round(a.w, 1), "h": round(a.h, 1),
               "state": a.state, "tracking_id": a.tracking_id})
    });
    let keypoints = f.keypoints.map(|joints| {
        let m: Map<String, Value> = joints
            .iter()
            .zip(KEYPOINT_NAMES)
            .filter_map(|(j, name)| {
                let j = (*j)?;
                Some((
                    name.to_string(),
                    json!([round(j.x as f64, 1), round(j.y as f64, 1), round(j.confidence as f64, 3)]),
                ))
            })
            .collect();
        Value::Object(m)
    });
    let (angles, phases, errors) = match f.verdict {
        Some(v) => {
            let angles: Map<String, Value> = FEATURE_NAMES
                .iter()
                .zip(&v.features.values)
                .filter_map(|(n, a)| Some((n.to_string(), json!(round((*a)?, 1)))))
                .collect();
            let phases: Map<String, Value> =
                v.phases.iter().filter_map(|(n, on)| Some((n.clone(), json!((*on)?)))).collect();
            (Value::Object(angles), Value::Object(phases), json!(v.flagged(profile)))
        }
        None => (json!({}), json!({}), json!([])),
    };
    json!({
        "type": "frame",
        "time": round(f.time, 4),
        "pts": f.pts,
        "attempt": f.attempt,
        "athlete": athlete,
        "keypoints": keypoints,
        "angles": angles,
        "phases": phases,
        "errors": errors,
    })
}

pub fn suggestion_json(s: &Suggestion) -> Value {
    json!({"clip": s.clip, "video": s.video, "start": round(s.start, 3), "end": round(s.end, 3), "distance": round(s.distance, 2)})
}

pub fn attempt_json(profile: &Profile, a: &AttemptSummary, suggestions: &[Option<Suggestion>]) -> Value {
    let segments: Vec<Value> = a
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let e = &profile.errors[s.error];
            json!({
                "error": e.name,
                "label": e.label,
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "frames": s.frames,
                "suggestion": suggestions.get(i).and_then(Option::as_ref).map(suggestion_json),
            })
        })
        .collect();
    json!({
        "type": "attempt",
        "attempt": a.index,
        "start": round(a.start, 3),
        "end": round(a.end, 3),
        "frames": a.frames,
        "frames_with_pose": a.frames_with_pose,
        "judged_frames": a.judged_frames,
        "form_score": a.form_score.map(|v| round(v, 1)),
        "score": a.score.as_ref().map(|(v, scale)| json!({"value": round(*v, 2), "scale": scale})),
        "segments": segments,
    })
}

pub fn summary_json(profile: &Profile, attempts: &[AttemptSummary], frames: u64) -> Value {
    let mut per_error: BTreeMap<&str, usize> = profile.errors.iter().map(|e| (e.name.as_str(), 0)).collect();
    for s in attempts.iter().flat_map(|a| &a.segments) {
        *per_error.entry(profile.errors[s.error].name.as_str()).or_default() += 1;
    }
    json!({
        "type": "summary",
        "sport": profile.sport,
        "attempts": attempts.len(),
        "frames": frames,
        "segments": per_error,
    })
}

#[derive(Debug, thiserror::Error)]
#[error("report {path}, line {line}: {reason}")]
pub struct ReportError {
    pub path: String,
    pub line: usize,
    pub reason: String,
}

/// The frames of a report as exemplar frames (for building a library), and its sport. Stops
/// at the first line that is not whole JSON (a report cut short by a killed pipeline).
pub fn read_frames(path: &Path) -> Result<(String, Vec<ExemplarFrame>), ReportError> {
    let err = |line: usize, reason: String| ReportError { path: path.display().to_string(), line, reason };
    let file = File::open(path).map_err(|e| err(0, format!("cannot open it: {e}")))?;
    let (mut sport, mut frames) = (None, Vec::new());
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| err(n + 1, e.to_string()))?;
        let Ok(v) = serde_json::from_str::<Value>(&line) else { break };
        match v["type"].as_str() {
            Some("header") => sport = v["sport"].as_str().map(str::to_string),
            Some("frame") => {
                let angles = &v["angles"];
                let features: Vec<Option<f64>> = FEATURE_NAMES.iter().map(|n| angles[*n].as_f64()).collect();
                debug_assert_eq!(features.len(), FEATURE_COUNT);
                let errors = v["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.as_str().map(str::to_string))
                    .collect();
                frames.push(ExemplarFrame { time: v["time"].as_f64().unwrap_or(0.0), features, errors });
            }
            _ => {}
        }
    }
    let sport = sport.ok_or_else(|| err(1, "no header line: not an aicoachclassify report".into()))?;
    Ok((sport, frames))
}
