// SPDX-License-Identifier: MPL-2.0
//! `aicoach-train`: builds what sport profiles reference.
//!
//! - `svm --input FILE --label NAME --features a,b,... --out MODEL [--c 2] [--folds 5]`: trains one
//!   binary SVM (RBF, C = 2 by default) on a labelled keypoint file (CSV or COCO-style JSON,
//!   see `aicoach_tools::dataset`), prints grouped k-fold precision, recall and F1, saves the
//!   model trained on everything.
//! - `skijump-labels --data DIR --out FILE.csv`: the SkiProject ski-jump annotations as a
//!   labelled CSV (labels `flight`, `telemark`), with the left/right check.
//! - `skijump-score --data DIR --profile PROFILE --inputs phase:feature,... --out MODEL
//!   [--lambda 1]`: the score model on the 17 judged jumps, with leave-one-out error and rank
//!   correlation against the judges.
//! - `exemplars --out DIR REPORT.jsonl[=VIDEO]...`: an exemplar library from the reports
//!   `aicoachclassify` wrote for good-form clips (all of one sport).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use aicoach_coach::coach::Coach;
use aicoach_coach::exemplar::{self, ExemplarClip, Library};
use aicoach_coach::features::{Skeleton, feature_index};
use aicoach_coach::profile::Profile;
use aicoach_coach::report;
use aicoach_coach::score::{self, FrameView, ScoreModel};
use aicoach_coach::svm::{self, SvmModel};
use aicoach_tools::dataset::{self, LabelledFrame};
use aicoach_tools::skijump;

const USAGE: &str = "usage:
  aicoach-train svm --input FILE --label NAME --features a,b,... --out MODEL [--c 2] [--balanced true] [--folds 5] [--min-confidence 0.5]
  aicoach-train skijump-labels --data DIR --out FILE.csv
  aicoach-train skijump-score --data DIR --profile PROFILE --inputs phase:feature,... --out MODEL [--lambda 1]
  aicoach-train exemplars --out DIR REPORT.jsonl[=VIDEO]...";

type Failure = Box<dyn std::error::Error>;

/// `--flag value` pairs after the command, and the other arguments in order.
fn flags(args: &[String]) -> Result<(BTreeMap<String, String>, Vec<String>), String> {
    let (mut map, mut rest) = (BTreeMap::new(), Vec::new());
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.strip_prefix("--") {
            Some(name) => {
                let value = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
                map.insert(name.to_string(), value.clone());
            }
            None => rest.push(arg.clone()),
        }
    }
    Ok((map, rest))
}

fn required<'a>(flags: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, String> {
    flags.get(name).map(String::as_str).ok_or_else(|| format!("--{name} is required"))
}

fn number<T: std::str::FromStr>(flags: &BTreeMap<String, String>, name: &str, default: T) -> Result<T, String> {
    match flags.get(name) {
        Some(v) => v.parse().map_err(|_| format!("--{name}: '{v}' is not a valid number")),
        None => Ok(default),
    }
}

/// The frames labelled for one label whose features are all measurable.
struct TrainingRows {
    x: Vec<Vec<f64>>,
    y: Vec<bool>,
    groups: Vec<String>,
    /// Labelled frames left out for a missing keypoint.
    skipped: usize,
}

fn training_rows(
    frames: &[LabelledFrame],
    label: &str,
    features: &[String],
    min_confidence: f32,
) -> Result<TrainingRows, String> {
    if !frames.iter().any(|f| f.labels.contains_key(label)) {
        let known: Vec<&String> = frames.first().map(|f| f.labels.keys().collect()).unwrap_or_default();
        return Err(format!("no column or label '{label}' in the input (labels there: {known:?})"));
    }
    let indices: Vec<usize> = features
        .iter()
        .map(|f| feature_index(f).ok_or_else(|| format!("unknown feature '{f}'")))
        .collect::<Result<_, _>>()?;
    let (mut x, mut y, mut groups, mut skipped) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for f in frames {
        let Some(Some(l)) = f.labels.get(label) else { continue };
        let values = Skeleton::new(&f.joints, min_confidence).features();
        match indices.iter().map(|&i| values.values[i]).collect::<Option<Vec<f64>>>() {
            Some(row) => {
                x.push(row);
                y.push(*l);
                groups.push(f.group.clone());
            }
            None => skipped += 1,
        }
    }
    Ok(TrainingRows { x, y, groups, skipped })
}

fn train_svm(flags: &BTreeMap<String, String>) -> Result<(), Failure> {
    let input = PathBuf::from(required(flags, "input")?);
    let label = required(flags, "label")?;
    let features: Vec<String> = required(flags, "features")?.split(',').map(|s| s.trim().to_string()).collect();
    let out = PathBuf::from(required(flags, "out")?);
    let c = number(flags, "c", svm::DEFAULT_C)?;
    let folds = number(flags, "folds", 5usize)?;
    let balanced = number(flags, "balanced", false)?;
    let min_confidence = number(flags, "min-confidence", 0.5f32)?;
    let frames = dataset::read(&input)?;
    let TrainingRows { x, y, groups, skipped } = training_rows(&frames, label, &features, min_confidence)?;
    let positives = y.iter().filter(|&&v| v).count();
    println!(
        "{}: {} frames labelled '{label}' with all features ({positives} positive, {} negative), {skipped} skipped for missing keypoints",
        input.display(),
        y.len(),
        y.len() - positives
    );
    let m = svm::cross_validate(&features, &x, &y, &groups, folds, c, balanced)?;
    println!(
        "cross-validation ({folds} folds by group, C = {c}, balanced {balanced}): precision {:.3}, recall {:.3}, F1 {:.3} (tp {}, fp {}, fn {}, tn {})",
        m.precision(),
        m.recall(),
        m.f1(),
        m.true_positives,
        m.false_positives,
        m.false_negatives,
        m.true_negatives
    );
    let model = SvmModel::train(label, &features, &x, &y, c, balanced, &input.display().to_string())?;
    model.save(&out)?;
    println!("wrote {} ({} support vectors)", out.display(), model.support_vectors());
    Ok(())
}

fn skijump_labels(flags: &BTreeMap<String, String>) -> Result<(), Failure> {
    let data = skijump::load(&PathBuf::from(required(flags, "data")?))?;
    let out = PathBuf::from(required(flags, "out")?);
    let s = data.sides;
    println!(
        "{} frames; left/right check: skis given back to their leg on {}, bindings turned along the ski on {}, \
         left shoulder and hip on opposite sides on {}",
        s.frames, s.skis_swapped, s.bindings_turned, s.torso_inconsistent
    );
    for label in ["flight", "telemark"] {
        let on = data.frames.iter().filter(|f| f.labels[label] == Some(true)).count();
        let off = data.frames.iter().filter(|f| f.labels[label] == Some(false)).count();
        println!("label {label}: {on} positive, {off} negative, {} unlabelled", data.frames.len() - on - off);
    }
    dataset::write_csv(&out, &data.frames)?;
    println!("wrote {}", out.display());
    Ok(())
}

fn skijump_score(flags: &BTreeMap<String, String>) -> Result<(), Failure> {
    let data = skijump::load(&PathBuf::from(required(flags, "data")?))?;
    let profile = Profile::load(&PathBuf::from(required(flags, "profile")?))?;
    let inputs: Vec<String> = required(flags, "inputs")?.split(',').map(|s| s.trim().to_string()).collect();
    let out = PathBuf::from(required(flags, "out")?);
    let lambda = number(flags, "lambda", 1.0f64)?;
    let sport = profile.sport.clone();
    let mut coach = Coach::new(profile);
    // Per jump: every frame judged as the element would (phases from the profile's SVMs).
    let mut jumps: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for f in &data.frames {
        jumps.entry(f.group.clone()).or_default().push(coach.judge(&f.joints));
    }
    let (mut names, mut x, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for (jump, verdicts) in &jumps {
        let Some(&score) = data.scores.get(jump) else { continue };
        let views: Vec<FrameView> =
            verdicts.iter().map(|v| FrameView { features: &v.features, phases: &v.phases }).collect();
        names.push(jump.clone());
        x.push(score::attempt_inputs(&inputs, &views));
        y.push(score);
    }
    let loo = score::leave_one_out(&inputs, &x, &y, lambda)?;
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let mae = loo.iter().zip(&y).map(|(p, t)| (p - t).abs()).sum::<f64>() / y.len() as f64;
    let rmse = (loo.iter().zip(&y).map(|(p, t)| (p - t).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
    // The baseline: predicting each jump by the mean of the others.
    let base: Vec<f64> = (0..y.len()).map(|i| (mean * y.len() as f64 - y[i]) / (y.len() - 1) as f64).collect();
    let base_mae = base.iter().zip(&y).map(|(p, t)| (p - t).abs()).sum::<f64>() / y.len() as f64;
    println!("{} jumps with judges' marks (style points: sum of the middle three of five, out of 60)", y.len());
    for ((name, inputs), (p, t)) in names.iter().zip(&x).zip(loo.iter().zip(&y)) {
        let shown: Vec<String> = inputs.iter().map(|v| v.map_or("-".into(), |v| format!("{v:.1}"))).collect();
        println!("  {name}: judges {t:.1}, leave-one-out {p:.2}  inputs [{}]", shown.join(", "));
    }
    println!(
        "leave-one-out: MAE {mae:.2}, RMSE {rmse:.2} points (predicting the mean of the others: MAE {base_mae:.2}); \
         Spearman rank correlation {:.3}",
        score::spearman(&loo, &y)
    );
    let mut model = ScoreModel::fit(
        &inputs,
        &x,
        &y,
        lambda,
        "ski-jumping style points (sum of the middle three of five judges, out of 60)",
    )?;
    model.trained_on = format!("{} jumps of the SkiProject ski-jumping annotations, profile {sport}", y.len());
    model.save(&out)?;
    println!("wrote {}", out.display());
    Ok(())
}

fn exemplars(flags: &BTreeMap<String, String>, reports: &[String]) -> Result<(), Failure> {
    let out = PathBuf::from(required(flags, "out")?);
    if reports.is_empty() {
        return Err("give at least one report (REPORT.jsonl or REPORT.jsonl=VIDEO)".into());
    }
    let mut library: Option<Library> = None;
    for arg in reports {
        let (report, video) = arg.split_once('=').unwrap_or((arg.as_str(), arg.as_str()));
        let (sport, frames) = report::read_frames(&PathBuf::from(report))?;
        let library = library.get_or_insert_with(|| Library { sport: sport.clone(), clips: Vec::new() });
        if library.sport != sport {
            return Err(format!("{report} is a {sport} report, the library is {}", library.sport).into());
        }
        let name = PathBuf::from(video).file_stem().and_then(|s| s.to_str()).unwrap_or(report).to_string();
        let flagged = frames.iter().filter(|f| !f.errors.is_empty()).count();
        println!("{name}: {} frames, {flagged} with an error", frames.len());
        library.clips.push(ExemplarClip { name, video: video.to_string(), frames });
    }
    let library = library.expect("at least one report");
    library.save(&out)?;
    println!("wrote {} ({} clips, {})", out.join(exemplar::LIBRARY_FILE).display(), library.clips.len(), library.sport);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let (parsed, rest) = match flags(&args[1..]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_str() {
        _ if !rest.is_empty() && command != "exemplars" => {
            eprintln!("error: unexpected argument '{}'\n{USAGE}", rest[0]);
            return ExitCode::from(2);
        }
        "svm" => train_svm(&parsed),
        "skijump-labels" => skijump_labels(&parsed),
        "skijump-score" => skijump_score(&parsed),
        "exemplars" => exemplars(&parsed, &rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("error: unknown command '{other}'\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
