// SPDX-License-Identifier: MPL-2.0
//! An attempt's estimated score: a ridge regression from attempt features (the median of a
//! frame feature over the frames of a phase, e.g. `flight:knee_flexion`) to a judged score,
//! trained by `aicoach-train` and validated leave-one-out, with the rank correlation a coach
//! cares about (does it order attempts as the judges do?).

use serde::{Deserialize, Serialize};

use crate::features::{Features, feature_index};

pub const SCORE_FORMAT: &str = "aicoach-score-1";

#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("{0}")]
    Data(String),
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
}

/// `phase:feature` (median over the frames where the phase is on) or `all:feature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptFeature {
    pub phase: Option<String>,
    pub feature: usize,
}

impl AttemptFeature {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (phase, feature) = s.split_once(':').ok_or_else(|| format!("'{s}' is not 'phase:feature'"))?;
        let feature = feature_index(feature).ok_or_else(|| format!("'{s}': unknown feature '{feature}'"))?;
        Ok(Self { phase: (phase != "all").then(|| phase.to_string()), feature })
    }
}

/// One frame as an attempt feature sees it: its features and its phases by name.
pub struct FrameView<'a> {
    pub features: &'a Features,
    pub phases: &'a [(String, Option<bool>)],
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) })
}

/// The value of `f` over an attempt's frames, `None` when no frame qualifies.
pub fn attempt_value(f: &AttemptFeature, frames: &[FrameView]) -> Option<f64> {
    let values = frames
        .iter()
        .filter(|fr| match &f.phase {
            None => true,
            Some(p) => fr.phases.iter().any(|(name, on)| name == p && *on == Some(true)),
        })
        .filter_map(|fr| fr.features.values[f.feature])
        .collect();
    median(values)
}

/// The values of `inputs` (`phase:feature`) over one attempt's frames.
pub fn attempt_inputs(inputs: &[String], frames: &[FrameView]) -> Vec<Option<f64>> {
    inputs.iter().map(|i| AttemptFeature::parse(i).ok().and_then(|f| attempt_value(&f, frames))).collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreModel {
    pub format: String,
    /// What the number means (e.g. "mean of the five judges' style marks, out of 20").
    pub scale: String,
    pub inputs: Vec<String>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub weights: Vec<f64>,
    pub bias: f64,
    pub lambda: f64,
    pub min: f64,
    pub max: f64,
    #[serde(default)]
    pub trained_on: String,
}

/// Solves `a x = b` for a small symmetric positive-definite `a` (Gaussian elimination).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap();
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in rest.iter_mut().enumerate() {
            let k = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= k * p;
            }
            b[col + 1 + offset] -= k * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x
}

impl ScoreModel {
    /// Ridge regression of `y` on rows `x` (one value per input; `None` is replaced by the
    /// input's mean, i.e. contributes nothing).
    pub fn fit(
        inputs: &[String],
        x: &[Vec<Option<f64>>],
        y: &[f64],
        lambda: f64,
        scale: &str,
    ) -> Result<Self, ScoreError> {
        for i in inputs {
            AttemptFeature::parse(i).map_err(ScoreError::Data)?;
        }
        if x.len() != y.len() || x.len() < 3 {
            return Err(ScoreError::Data(format!(
                "need at least 3 attempts with scores, got {} rows and {} scores",
                x.len(),
                y.len()
            )));
        }
        if y.iter().any(|v| !v.is_finite()) {
            return Err(ScoreError::Data("a score is not a number".into()));
        }
        let d = inputs.len();
        let n = x.len();
        let mut mean = vec![0.0; d];
        let mut std = vec![1.0; d];
        for j in 0..d {
            let col: Vec<f64> = x.iter().filter_map(|r| r[j]).collect();
            if col.is_empty() {
                return Err(ScoreError::Data(format!("input '{}' has no value in any attempt", inputs[j])));
            }
            mean[j] = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|v| (v - mean[j]).powi(2)).sum::<f64>() / col.len() as f64;
            std[j] = if var > 1e-12 { var.sqrt() } else { 1.0 };
        }
        let z: Vec<Vec<f64>> =
            x.iter().map(|r| (0..d).map(|j| r[j].map_or(0.0, |v| (v - mean[j]) / std[j])).collect()).collect();
        let y_mean = y.iter().sum::<f64>() / n as f64;
        let mut a = vec![vec![0.0; d]; d];
        let mut b = vec![0.0; d];
        for (row, &target) in z.iter().zip(y) {
            for i in 0..d {
                b[i] += row[i] * (target - y_mean);
                for j in 0..d {
                    a[i][j] += row[i] * row[j];
                }
            }
        }
        for (i, row) in a.iter_mut().enumerate() {
            row[i] += lambda;
        }
        let weights = solve(a, b);
        let (min, max) = y.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        Ok(Self {
            format: SCORE_FORMAT.into(),
            scale: scale.into(),
            inputs: inputs.to_vec(),
            mean,
            std,
            weights,
            bias: y_mean,
            lambda,
            min,
            max,
            trained_on: String::new(),
        })
    }

    /// The score for one attempt's input values, kept within the range seen in training.
    pub fn predict(&self, x: &[Option<f64>]) -> f64 {
        let s: f64 = (0..self.weights.len())
            .map(|j| x.get(j).copied().flatten().map_or(0.0, |v| (v - self.mean[j]) / self.std[j]) * self.weights[j])
            .sum();
        (self.bias + s).clamp(self.min, self.max)
    }

    /// The inputs of one attempt.
    pub fn attempt_inputs(&self, frames: &[FrameView]) -> Vec<Option<f64>> {
        attempt_inputs(&self.inputs, frames)
    }

    pub fn check_phases(&self, phases: &[&str]) -> Result<(), String> {
        for i in &self.inputs {
            let f = AttemptFeature::parse(i)?;
            if let Some(p) = f.phase
                && !phases.contains(&p.as_str())
            {
                return Err(format!("input '{i}' needs phase '{p}', which the profile does not recognise"));
            }
        }
        Ok(())
    }

    pub fn save(&self, path: &std::path::Path) -> Result<(), ScoreError> {
        let err = |e: String| ScoreError::File { path: path.display().to_string(), reason: e };
        std::fs::write(path, serde_json::to_string_pretty(self).map_err(|e| err(e.to_string()))? + "\n")
            .map_err(|e| err(e.to_string()))
    }

    pub fn load(path: &std::path::Path) -> Result<Self, ScoreError> {
        let err = |e: String| ScoreError::File { path: path.display().to_string(), reason: e };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
        let m: ScoreModel = serde_json::from_str(&text).map_err(|e| err(format!("not a score model: {e}")))?;
        let d = m.inputs.len();
        if m.format != SCORE_FORMAT || m.mean.len() != d || m.std.len() != d || m.weights.len() != d {
            return Err(err("not a score model of this version (format or lengths differ)".into()));
        }
        for i in &m.inputs {
            AttemptFeature::parse(i).map_err(err)?;
        }
        Ok(m)
    }
}

/// Spearman's rank correlation (ties get their mean rank).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            for k in i..=j {
                r[idx[k]] = (i + j) as f64 / 2.0 + 1.0;
            }
            i = j + 1;
        }
        r
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    if va == 0.0 || vb == 0.0 { 0.0 } else { cov / (va * vb).sqrt() }
}

/// Leave-one-out predictions: each attempt scored by a model fit on all the others.
pub fn leave_one_out(
    inputs: &[String],
    x: &[Vec<Option<f64>>],
    y: &[f64],
    lambda: f64,
) -> Result<Vec<f64>, ScoreError> {
    (0..x.len())
        .map(|i| {
            let tx: Vec<_> = x.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, r)| r.clone()).collect();
            let ty: Vec<_> = y.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, v)| *v).collect();
            Ok(ScoreModel::fit(inputs, &tx, &ty, lambda, "")?.predict(&x[i]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ridge_recovers_a_linear_score() {
        let inputs = vec!["flight:knee_flexion".to_string(), "all:trunk_lean".to_string()];
        let x: Vec<Vec<Option<f64>>> = (0..20).map(|i| vec![Some(i as f64), Some(((i * 7) % 5) as f64)]).collect();
        let y: Vec<f64> = x.iter().map(|r| 20.0 - 0.1 * r[0].unwrap()).collect();
        let m = ScoreModel::fit(&inputs, &x, &y, 1e-6, "points").unwrap();
        assert!((m.predict(&[Some(10.0), Some(3.0)]) - 19.0).abs() < 1e-3);
        // Out of range inputs stay within the scores seen.
        assert_eq!(m.predict(&[Some(-100.0), None]), 20.0);
        let loo = leave_one_out(&inputs, &x, &y, 1e-6).unwrap();
        assert!((spearman(&loo, &y) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn spearman_by_hand() {
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // Ties share a rank: ranks (1.5, 1.5, 3) against (1, 2, 3).
        let r = spearman(&[1.0, 1.0, 2.0], &[1.0, 2.0, 3.0]);
        assert!((r - 0.866_025_403_784).abs() < 1e-9, "{r}");
    }

    #[test]
    fn attempt_values_are_medians_over_the_phase() {
        let f = |knee: f64| {
            let mut features = Features::default();
            features.values[feature_index("knee_flexion").unwrap()] = Some(knee);
            features
        };
        let frames = [f(10.0), f(20.0), f(90.0), f(30.0)];
        let phases: Vec<Vec<(String, Option<bool>)>> =
            [true, true, false, true].iter().map(|&on| vec![("flight".to_string(), Some(on))]).collect();
        let views: Vec<FrameView> =
            frames.iter().zip(&phases).map(|(features, phases)| FrameView { features, phases }).collect();
        assert_eq!(attempt_value(&AttemptFeature::parse("flight:knee_flexion").unwrap(), &views), Some(20.0));
        assert_eq!(attempt_value(&AttemptFeature::parse("all:knee_flexion").unwrap(), &views), Some(25.0));
        assert!(AttemptFeature::parse("flight:elbow").is_err());
    }
}
