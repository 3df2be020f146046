// SPDX-License-Identifier: MPL-2.0
//! Sport profiles: which errors a sport has, how each is judged (a geometric rule or a trained
//! SVM, optionally only during a phase that an SVM recognises), which angles to show, and how
//! an attempt is scored. A profile is a JSON file; model files it names are relative to it.
//!
//! ```json
//! {
//!   "sport": "ski-jumping",
//!   "description": "...",
//!   "min_confidence": 0.5,
//!   "display_angles": ["knee_flexion", "hip_flexion", "ski_angle"],
//!   "phases": [{ "name": "flight", "svm": "flight.svm.json" }],
//!   "errors": [
//!     { "name": "bent_knees", "label": "Bent knees", "during": "flight",
//!       "rule": { "feature": "knee_flexion", "on": 35, "off": 25, "min_frames": 3 } }
//!   ],
//!   "score": { "model": "score.json" }
//! }
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::features::{FEATURE_NAMES, feature_index, feature_joints};
use crate::rule::Rule;
use crate::score::ScoreModel;
use crate::svm::SvmModel;

#[derive(Debug, thiserror::Error)]
#[error("profile {path}: {reason}")]
pub struct ProfileError {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhaseFile {
    name: String,
    svm: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorFile {
    name: String,
    label: Option<String>,
    #[serde(default)]
    description: String,
    during: Option<String>,
    rule: Option<Rule>,
    svm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreFile {
    model: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    sport: String,
    #[serde(default)]
    description: String,
    min_confidence: Option<f32>,
    #[serde(default)]
    display_angles: Vec<String>,
    #[serde(default)]
    phases: Vec<PhaseFile>,
    errors: Vec<ErrorFile>,
    score: Option<ScoreFile>,
}

/// How one error is judged on a frame.
#[derive(Debug)]
pub enum Judge {
    Rule(Rule),
    Svm(Box<SvmModel>),
}

#[derive(Debug)]
pub struct ErrorSpec {
    pub name: String,
    pub label: String,
    pub description: String,
    /// Index into [`Profile::phases`]: the error is judged only while that phase is on.
    pub during: Option<usize>,
    pub judge: Judge,
    /// The keypoints its features are computed from (for drawing the limbs red).
    pub joints: Vec<&'static str>,
}

#[derive(Debug)]
pub struct Phase {
    pub name: String,
    pub svm: SvmModel,
}

/// Environment variable naming a folder of profiles (one sub-folder per sport, each with a
/// `profile.json`), instead of the bundled `engines/coach/profiles`.
pub const PROFILE_DIR_ENV: &str = "AICOACH_PROFILE_DIR";

pub fn profile_dir() -> PathBuf {
    match std::env::var_os(PROFILE_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles")),
    }
}

/// The sports with a bundled profile.
pub fn bundled_sports() -> Vec<String> {
    let mut sports: Vec<String> = std::fs::read_dir(profile_dir())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("profile.json").is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    sports.sort();
    sports
}

/// A profile's file: a bundled sport's name (`ski-jumping`) or a path to a `.json` file.
pub fn resolve(name_or_path: &str) -> Result<PathBuf, ProfileError> {
    if name_or_path.ends_with(".json") || name_or_path.contains('/') {
        return Ok(PathBuf::from(name_or_path));
    }
    let path = profile_dir().join(name_or_path).join("profile.json");
    if path.is_file() {
        Ok(path)
    } else {
        Err(ProfileError {
            path: name_or_path.to_string(),
            reason: format!(
                "no such sport (bundled: {}; or give the path of a profile .json)",
                bundled_sports().join(", ")
            ),
        })
    }
}

/// Keypoints under this confidence are not used unless the profile says otherwise.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.5;

#[derive(Debug)]
pub struct Profile {
    pub sport: String,
    pub description: String,
    pub path: PathBuf,
    pub min_confidence: f32,
    pub display_angles: Vec<String>,
    pub phases: Vec<Phase>,
    pub errors: Vec<ErrorSpec>,
    pub score: Option<ScoreModel>,
}

fn joints_of(features: &[String]) -> Vec<&'static str> {
    let mut joints: Vec<&'static str> =
        features.iter().filter_map(|f| feature_index(f)).flat_map(|i| feature_joints(i).iter().copied()).collect();
    joints.sort();
    joints.dedup();
    joints
}

impl Profile {
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let err = |reason: String| ProfileError { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
        let file: ProfileFile = serde_json::from_str(&text).map_err(|e| err(format!("not a valid profile: {e}")))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let min_confidence = file.min_confidence.unwrap_or(DEFAULT_MIN_CONFIDENCE);
        if !(0.0..=1.0).contains(&min_confidence) {
            return Err(err(format!("min_confidence {min_confidence} is outside 0..1")));
        }
        for a in &file.display_angles {
            feature_index(a).ok_or_else(|| {
                err(format!("display angle '{a}' is not a feature (features: {})", FEATURE_NAMES.join(", ")))
            })?;
        }
        let mut phases = Vec::new();
        for p in file.phases {
            let svm = SvmModel::load(&dir.join(&p.svm)).map_err(|e| err(format!("phase '{}': {e}", p.name)))?;
            phases.push(Phase { name: p.name, svm });
        }
        if file.errors.is_empty() {
            return Err(err("it lists no errors".into()));
        }
        let mut errors = Vec::new();
        for e in file.errors {
            let during = match &e.during {
                Some(name) => Some(
                    phases
                        .iter()
                        .position(|p| &p.name == name)
                        .ok_or_else(|| err(format!("error '{}' is judged during unknown phase '{name}'", e.name)))?,
                ),
                None => None,
            };
            let (judge, features) = match (e.rule, e.svm) {
                (Some(rule), None) => {
                    rule.validate().map_err(|r| err(format!("error '{}': {r}", e.name)))?;
                    let features = vec![rule.feature.clone()];
                    (Judge::Rule(rule), features)
                }
                (None, Some(file)) => {
                    let svm = SvmModel::load(&dir.join(&file)).map_err(|r| err(format!("error '{}': {r}", e.name)))?;
                    let features = svm.features.clone();
                    (Judge::Svm(Box::new(svm)), features)
                }
                _ => return Err(err(format!("error '{}' needs exactly one of 'rule' and 'svm'", e.name))),
            };
            errors.push(ErrorSpec {
                label: e.label.unwrap_or_else(|| e.name.replace('_', " ")),
                name: e.name,
                description: e.description,
                during,
                judge,
                joints: joints_of(&features),
            });
        }
        let score = match file.score {
            Some(s) => Some(ScoreModel::load(&dir.join(&s.model)).map_err(|e| err(format!("score: {e}")))?),
            None => None,
        };
        if let Some(s) = &score {
            s.check_phases(&phases.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
                .map_err(|e| err(format!("score: {e}")))?;
        }
        Ok(Profile {
            sport: file.sport,
            description: file.description,
            path: path.to_path_buf(),
            min_confidence,
            display_angles: file.display_angles,
            phases,
            errors,
            score,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_profiles_load() {
        assert_eq!(bundled_sports(), vec!["freestyle-aerials", "ski-jumping"]);
        let aerials = Profile::load(&resolve("freestyle-aerials").unwrap()).unwrap();
        let names: Vec<&str> = aerials.errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["bent_hips", "bent_knees", "crossed_skis"]);
        assert!(aerials.errors[1].joints.contains(&"left_knee"));
        let jumping = Profile::load(&resolve("ski-jumping").unwrap()).unwrap();
        assert_eq!(jumping.phases[0].name, "flight");
        assert!(jumping.errors.iter().all(|e| e.during == Some(0)));
        assert!(jumping.score.is_some());
    }

    fn write(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("aicoach-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn bad_profiles_say_what_is_wrong() {
        let cases = [
            (r#"{"sport": "x", "errors": []}"#, "lists no errors"),
            (
                r#"{"sport": "x", "errors": [{"name": "e", "rule": {"feature": "elbow", "on": 1, "off": 0}}]}"#,
                "unknown feature 'elbow'",
            ),
            (r#"{"sport": "x", "errors": [{"name": "e", "svm": "missing.json"}]}"#, "missing.json"),
            (
                r#"{"sport": "x", "errors": [{"name": "e", "during": "flight", "rule": {"feature": "knee_flexion", "on": 1, "off": 0}}]}"#,
                "unknown phase 'flight'",
            ),
            (r#"{"sport": "x", "errors": [{"name": "e"}]}"#, "exactly one of 'rule' and 'svm'"),
            (r#"{"sport": "x", "colour": "red", "errors": []}"#, "unknown field `colour`"),
            ("not json", "not a valid profile"),
        ];
        for (i, (text, expected)) in cases.iter().enumerate() {
            let e = Profile::load(&write(&format!("p{i}.json"), text)).unwrap_err().to_string();
            assert!(e.contains(expected), "{text}: {e}");
        }
        let e = resolve("curling").unwrap_err().to_string();
        assert!(e.contains("freestyle-aerials") && e.contains("ski-jumping"), "{e}");
    }
}
