// SPDX-License-Identifier: MPL-2.0
//! Good-form suggestions. An exemplar library is a folder with `library.json`: clips of one
//! sport, each with its per-frame angle features and the errors flagged on it (built by
//! `aicoach-train exemplars` from the reports `aicoachclassify` writes for the clips). For a
//! bad-pose segment, the suggestion is the window of an exemplar clip, free of that error,
//! whose sequence of the paper's eight angles is nearest by dynamic time warping.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::features::{FEATURE_COUNT, TABLE1_COUNT};

pub const LIBRARY_FILE: &str = "library.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExemplarFrame {
    pub time: f64,
    /// The feature values in `features::FEATURE_NAMES` order; `None` where not measurable.
    pub features: Vec<Option<f64>>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExemplarClip {
    pub name: String,
    /// The video, as given when the library was built.
    pub video: String,
    pub frames: Vec<ExemplarFrame>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Library {
    pub sport: String,
    pub clips: Vec<ExemplarClip>,
}

#[derive(Debug, thiserror::Error)]
#[error("exemplar library {path}: {reason}")]
pub struct LibraryError {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub clip: String,
    pub video: String,
    pub start: f64,
    pub end: f64,
    /// Mean angle difference along the warping path, degrees.
    pub distance: f64,
}

impl Library {
    pub fn load(dir: &Path) -> Result<Self, LibraryError> {
        let path = dir.join(LIBRARY_FILE);
        let err = |reason: String| LibraryError { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(&path).map_err(|e| err(format!("cannot read it: {e}")))?;
        let library: Library = serde_json::from_str(&text).map_err(|e| err(format!("not a library: {e}")))?;
        for clip in &library.clips {
            if let Some(f) = clip.frames.iter().find(|f| f.features.len() != FEATURE_COUNT) {
                return Err(err(format!(
                    "clip '{}' at {} s has {} features, not {FEATURE_COUNT}",
                    clip.name,
                    f.time,
                    f.features.len()
                )));
            }
        }
        Ok(library)
    }

    pub fn save(&self, dir: &Path) -> Result<(), LibraryError> {
        let path = dir.join(LIBRARY_FILE);
        let err = |reason: String| LibraryError { path: path.display().to_string(), reason };
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        std::fs::write(&path, serde_json::to_string(self).map_err(|e| err(e.to_string()))? + "\n")
            .map_err(|e| err(e.to_string()))
    }

    /// The nearest error-free window for a segment whose frames had `query` features (the
    /// paper's eight angles are compared). `None` when no clip has a long enough clean window.
    pub fn suggest(&self, error: &str, query: &[Vec<Option<f64>>]) -> Option<Suggestion> {
        if query.is_empty() {
            return None;
        }
        let n = query.len();
        let step = (n / 4).max(1);
        let mut best: Option<Suggestion> = None;
        for clip in &self.clips {
            let mut start = 0;
            while start + n <= clip.frames.len() {
                let window = &clip.frames[start..start + n];
                if window.iter().all(|f| !f.errors.iter().any(|e| e == error)) {
                    let seq: Vec<&[Option<f64>]> = window.iter().map(|f| f.features.as_slice()).collect();
                    let q: Vec<&[Option<f64>]> = query.iter().map(Vec::as_slice).collect();
                    if let Some(d) = dtw(&q, &seq)
                        && best.as_ref().is_none_or(|b| d < b.distance)
                    {
                        best = Some(Suggestion {
                            clip: clip.name.clone(),
                            video: clip.video.clone(),
                            start: window[0].time,
                            end: window[n - 1].time,
                            distance: d,
                        });
                    }
                }
                start += step;
            }
        }
        best
    }
}

/// Mean absolute difference of the Table-1 angles both frames have; `None` if they share none.
fn frame_distance(a: &[Option<f64>], b: &[Option<f64>]) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0);
    for i in 0..TABLE1_COUNT {
        if let (Some(x), Some(y)) = (a.get(i).copied().flatten(), b.get(i).copied().flatten()) {
            sum += (x - y).abs();
            n += 1;
        }
    }
    (n > 0).then(|| sum / n as f64)
}

/// Dynamic time warping: the mean frame distance along the cheapest monotone alignment.
/// Frames with no shared angle cost a flat 90 degrees.
pub fn dtw(a: &[&[Option<f64>]], b: &[&[Option<f64>]]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (n, m) = (a.len(), b.len());
    // (cost, path length) per cell.
    let mut d = vec![vec![(f64::INFINITY, 0usize); m + 1]; n + 1];
    d[0][0] = (0.0, 0);
    for i in 1..=n {
        for j in 1..=m {
            let c = frame_distance(a[i - 1], b[j - 1]).unwrap_or(90.0);
            let prev =
                [d[i - 1][j - 1], d[i - 1][j], d[i][j - 1]].into_iter().min_by(|x, y| x.0.total_cmp(&y.0)).unwrap();
            d[i][j] = (prev.0 + c, prev.1 + 1);
        }
    }
    let (cost, len) = d[n][m];
    Some(cost / len as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(t: f64, knee: f64, errors: &[&str]) -> ExemplarFrame {
        let mut features = vec![Some(10.0); FEATURE_COUNT];
        features[2] = Some(knee);
        features[3] = Some(knee);
        ExemplarFrame { time: t, features, errors: errors.iter().map(|e| e.to_string()).collect() }
    }

    #[test]
    fn dtw_aligns_a_slower_copy_at_no_cost() {
        let a: Vec<Vec<Option<f64>>> = [0.0, 10.0, 20.0].iter().map(|&v| vec![Some(v); 8]).collect();
        let b: Vec<Vec<Option<f64>>> = [0.0, 0.0, 10.0, 10.0, 20.0].iter().map(|&v| vec![Some(v); 8]).collect();
        let ar: Vec<&[Option<f64>]> = a.iter().map(Vec::as_slice).collect();
        let br: Vec<&[Option<f64>]> = b.iter().map(Vec::as_slice).collect();
        assert_eq!(dtw(&ar, &br), Some(0.0));
        let c: Vec<Vec<Option<f64>>> = [5.0, 15.0, 25.0].iter().map(|&v| vec![Some(v); 8]).collect();
        let cr: Vec<&[Option<f64>]> = c.iter().map(Vec::as_slice).collect();
        assert_eq!(dtw(&ar, &cr), Some(5.0));
    }

    #[test]
    fn the_suggestion_is_the_nearest_window_free_of_the_error() {
        let clean: Vec<ExemplarFrame> = (0..20).map(|i| frame(i as f64 * 0.1, 5.0 + i as f64, &[])).collect();
        let mut flawed: Vec<ExemplarFrame> = (0..20).map(|i| frame(i as f64 * 0.1, 30.0, &["bent_knees"])).collect();
        flawed[0].errors.clear();
        let library = Library {
            sport: "test".into(),
            clips: vec![
                ExemplarClip { name: "flawed".into(), video: "f.mp4".into(), frames: flawed },
                ExemplarClip { name: "clean".into(), video: "c.mp4".into(), frames: clean },
            ],
        };
        // A bent-knee segment around 30 degrees: the flawed clip matches best but has the error.
        let query: Vec<Vec<Option<f64>>> = (0..4).map(|_| frame(0.0, 30.0, &[]).features).collect();
        let s = library.suggest("bent_knees", &query).unwrap();
        assert_eq!(s.clip, "clean");
        // The clean clip's window nearest 30 degrees: its knee reaches 24 at the end.
        assert!((s.end - 1.9).abs() < 1e-9, "{s:?}");
        // Another error can use the flawed clip.
        assert_eq!(library.suggest("crossed_skis", &query).unwrap().clip, "flawed");
    }
}
