// SPDX-License-Identifier: MPL-2.0
//! Binary SVMs on joint-angle features (linfa, RBF kernel, C = 2 by default as in the paper):
//! training with standardised features, cross-validation, and the model file a profile
//! references.

use linfa::prelude::*;
use linfa_svm::Svm;
use ndarray::{Array1, Array2, ArrayView1};
use serde::{Deserialize, Serialize};

use crate::features::feature_index;

pub const DEFAULT_C: f64 = 2.0;
pub const MODEL_FORMAT: &str = "aicoach-svm-1";

#[derive(Debug, thiserror::Error)]
pub enum SvmError {
    #[error("bad training data: {0}")]
    Data(String),
    #[error("training failed: {0}")]
    Training(String),
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
}

/// A trained classifier and what it needs to read a frame.
#[derive(Debug, Serialize, Deserialize)]
pub struct SvmModel {
    pub format: String,
    /// What a positive answer means (`flight`, `bent_knees`, ...).
    pub label: String,
    /// The features it reads, in order.
    pub features: Vec<String>,
    /// Standardisation: (x - mean) / scale per feature.
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    pub c: f64,
    /// Whether C was scaled per class by its frequency.
    #[serde(default)]
    pub balanced: bool,
    /// The RBF kernel's width: exp(-|x - x'|^2 / kernel_eps) on standardised features.
    pub kernel_eps: f64,
    /// Where the training data came from, for provenance.
    #[serde(default)]
    pub trained_on: String,
    svm: Svm<f64, bool>,
}

/// Precision, recall and F1 of the positive class.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metrics {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub true_negatives: usize,
}

impl Metrics {
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.true_positives += 1,
            (true, false) => self.false_positives += 1,
            (false, true) => self.false_negatives += 1,
            (false, false) => self.true_negatives += 1,
        }
    }

    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Checks rows for shape, NaN and both classes; returns the feature count.
fn check(x: &[Vec<f64>], y: &[bool], features: &[String]) -> Result<usize, SvmError> {
    if x.len() != y.len() {
        return Err(SvmError::Data(format!("{} feature rows but {} labels", x.len(), y.len())));
    }
    if features.is_empty() {
        return Err(SvmError::Data("no features chosen".into()));
    }
    for name in features {
        feature_index(name).ok_or_else(|| SvmError::Data(format!("unknown feature '{name}'")))?;
    }
    for (i, row) in x.iter().enumerate() {
        if row.len() != features.len() {
            return Err(SvmError::Data(format!("row {i} has {} values, expected {}", row.len(), features.len())));
        }
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(SvmError::Data(format!("row {i}: feature '{}' is not a number", features[j])));
        }
    }
    let positives = y.iter().filter(|&&v| v).count();
    if positives == 0 || positives == y.len() {
        return Err(SvmError::Data(format!(
            "only one class: {positives} positive and {} negative examples (both are needed)",
            y.len() - positives
        )));
    }
    Ok(features.len())
}

impl SvmModel {
    /// Trains on rows `x` (one value per feature, in `features` order) with labels `y`.
    pub fn train(
        label: &str,
        features: &[String],
        x: &[Vec<f64>],
        y: &[bool],
        c: f64,
        balanced: bool,
        trained_on: &str,
    ) -> Result<Self, SvmError> {
        let d = check(x, y, features)?;
        if !(c.is_finite() && c > 0.0) {
            return Err(SvmError::Data(format!("C must be a positive number, got {c}")));
        }
        let n = x.len();
        let mut mean = vec![0.0; d];
        let mut scale = vec![0.0; d];
        for row in x {
            for j in 0..d {
                mean[j] += row[j] / n as f64;
            }
        }
        for row in x {
            for j in 0..d {
                scale[j] += (row[j] - mean[j]).powi(2) / n as f64;
            }
        }
        // A constant feature keeps scale 1 rather than dividing by zero.
        scale.iter_mut().for_each(|s| *s = if *s > 1e-12 { s.sqrt() } else { 1.0 });
        let records = Array2::from_shape_fn((n, d), |(i, j)| (x[i][j] - mean[j]) / scale[j]);
        let targets = Array1::from_iter(y.iter().copied());
        let dataset = Dataset::new(records, targets);
        let kernel_eps = d as f64;
        // Balanced: each class weighs as much as the other in total, so a rare error (a few
        // frames in hundreds) is not simply outvoted.
        let positives = y.iter().filter(|&&v| v).count() as f64;
        let (c_pos, c_neg) = if balanced {
            (c * n as f64 / (2.0 * positives), c * n as f64 / (2.0 * (n as f64 - positives)))
        } else {
            (c, c)
        };
        let svm = Svm::<f64, bool>::params()
            .pos_neg_weights(c_pos, c_neg)
            .gaussian_kernel(kernel_eps)
            .fit(&dataset)
            .map_err(|e| SvmError::Training(e.to_string()))?;
        Ok(Self {
            format: MODEL_FORMAT.into(),
            label: label.into(),
            features: features.to_vec(),
            mean,
            scale,
            c,
            balanced,
            kernel_eps,
            trained_on: trained_on.into(),
            svm,
        })
    }

    /// The signed distance from the boundary (positive: the label applies).
    pub fn decision(&self, x: &[f64]) -> f64 {
        let z: Array1<f64> = x.iter().zip(&self.mean).zip(&self.scale).map(|((v, m), s)| (v - m) / s).collect();
        self.svm.weighted_sum(&ArrayView1::from(z.as_slice().unwrap())) - self.svm.rho
    }

    pub fn predict(&self, x: &[f64]) -> bool {
        self.decision(x) > 0.0
    }

    pub fn support_vectors(&self) -> usize {
        self.svm.nsupport()
    }

    pub fn save(&self, path: &std::path::Path) -> Result<(), SvmError> {
        let text = serde_json::to_string(self)
            .map_err(|e| SvmError::File { path: path.display().to_string(), reason: e.to_string() })?;
        std::fs::write(path, text + "\n")
            .map_err(|e| SvmError::File { path: path.display().to_string(), reason: e.to_string() })
    }

    pub fn load(path: &std::path::Path) -> Result<Self, SvmError> {
        let err = |reason: String| SvmError::File { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
        let model: SvmModel = serde_json::from_str(&text).map_err(|e| err(format!("not an SVM model file: {e}")))?;
        if model.format != MODEL_FORMAT {
            return Err(err(format!("format '{}', expected '{MODEL_FORMAT}'", model.format)));
        }
        let d = model.features.len();
        if model.mean.len() != d || model.scale.len() != d {
            return Err(err("feature, mean and scale lengths differ".into()));
        }
        for name in &model.features {
            feature_index(name).ok_or_else(|| err(format!("unknown feature '{name}'")))?;
        }
        Ok(model)
    }
}

/// k-fold cross-validation, folds by group (e.g. the clip a frame comes from, so frames of one
/// clip never sit on both sides), groups dealt to folds in turn. Returns the pooled metrics
/// over all held-out rows.
pub fn cross_validate(
    features: &[String],
    x: &[Vec<f64>],
    y: &[bool],
    groups: &[String],
    folds: usize,
    c: f64,
    balanced: bool,
) -> Result<Metrics, SvmError> {
    check(x, y, features)?;
    let mut names: Vec<&String> = groups.iter().collect();
    names.sort();
    names.dedup();
    let folds = folds.min(names.len());
    if folds < 2 {
        return Err(SvmError::Data(format!("cross-validation needs at least 2 groups, got {}", names.len())));
    }
    let fold_of = |g: &String| names.iter().position(|n| *n == g).unwrap() % folds;
    let mut metrics = Metrics::default();
    for k in 0..folds {
        let (mut tx, mut ty, mut vx, mut vy) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((row, &label), group) in x.iter().zip(y).zip(groups) {
            if fold_of(group) == k {
                vx.push(row.clone());
                vy.push(label);
            } else {
                tx.push(row.clone());
                ty.push(label);
            }
        }
        let model = SvmModel::train("cv", features, &tx, &ty, c, balanced, "")?;
        for (row, &label) in vx.iter().zip(&vy) {
            metrics.add(model.predict(row), label);
        }
    }
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Knee flexion separates bent (> 40) from straight (< 20) legs, with some noise in a
    /// second, useless feature.
    fn knees() -> (Vec<String>, Vec<Vec<f64>>, Vec<bool>, Vec<String>) {
        let features = vec!["knee_flexion".to_string(), "trunk_lean".to_string()];
        let (mut x, mut y, mut g) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..80 {
            let bent = i % 2 == 0;
            let knee = if bent { 45.0 + (i % 7) as f64 * 3.0 } else { 5.0 + (i % 5) as f64 * 3.0 };
            x.push(vec![knee, ((i * 37) % 50) as f64]);
            y.push(bent);
            g.push(format!("clip{}", i % 8));
        }
        (features, x, y, g)
    }

    #[test]
    fn learns_a_separable_error_and_survives_a_save_and_load() {
        let (features, x, y, _) = knees();
        let model = SvmModel::train("bent_knees", &features, &x, &y, DEFAULT_C, false, "test").unwrap();
        assert!(model.predict(&[60.0, 10.0]));
        assert!(!model.predict(&[8.0, 10.0]));
        let path = std::env::temp_dir().join(format!("aicoach-svm-{}.json", std::process::id()));
        model.save(&path).unwrap();
        let loaded = SvmModel::load(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        for row in &x {
            assert!((loaded.decision(row) - model.decision(row)).abs() < 1e-9);
        }
        assert_eq!(loaded.label, "bent_knees");
    }

    #[test]
    fn cross_validation_scores_held_out_groups() {
        let (features, x, y, g) = knees();
        let m = cross_validate(&features, &x, &y, &g, 4, DEFAULT_C, false).unwrap();
        assert_eq!(m.true_positives + m.false_positives + m.false_negatives + m.true_negatives, 80);
        assert!(m.f1() > 0.95, "{m:?}");
        // Labels that carry no signal cannot be learnt: F1 drops.
        let shuffled: Vec<bool> = (0..80).map(|i| (i * 7 / 3) % 2 == 0).collect();
        let m = cross_validate(&features, &x, &shuffled, &g, 4, DEFAULT_C, false).unwrap();
        assert!(m.f1() < 0.8, "{m:?}");
    }

    #[test]
    fn bad_training_data_is_a_clear_error() {
        let (features, mut x, y, _) = knees();
        let one_class = vec![true; y.len()];
        let e = SvmModel::train("e", &features, &x, &one_class, 2.0, false, "").unwrap_err().to_string();
        assert!(e.contains("only one class"), "{e}");
        x[3][1] = f64::NAN;
        let e = SvmModel::train("e", &features, &x, &y, 2.0, false, "").unwrap_err().to_string();
        assert!(e.contains("row 3") && e.contains("trunk_lean"), "{e}");
        let e = SvmModel::train("e", &["elbow".into()], &[vec![1.0]], &[true], 2.0, false, "").unwrap_err().to_string();
        assert!(e.contains("unknown feature 'elbow'"), "{e}");
    }

    #[test]
    fn a_broken_model_file_is_refused() {
        let path = std::env::temp_dir().join(format!("aicoach-svm-bad-{}.json", std::process::id()));
        std::fs::write(&path, "{\"format\": \"something\"}").unwrap();
        let e = SvmModel::load(&path).unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(e.contains("not an SVM model file"), "{e}");
    }
}
