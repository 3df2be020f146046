// SPDX-License-Identifier: MPL-2.0
//! `aicoach-eval`: PCK@0.2 of the BlazePose detector + landmark models on the ground-truth
//! keypoint sets in the development data, and with `--motion` the keypoint refinement on
//! moving-camera clips made from them (PCK, error and jitter per refinement). The protocols
//! live in `aicoach_tools::eval`; this binary only reads the command line, loads the models
//! and prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aicoach_inference::pose::PoseEstimator;
use aicoach_inference::{EngineKind, EngineOptions, ModelFile, ModelId, PersonDetector, PoseLandmarker};
use aicoach_tools::eval::{self, DATASETS, Dataset, DatasetScore, Pipeline, motion};
use aicoach_vision::pose::one_euro::OneEuroParams;
use aicoach_vision::pose::refiner::DEFAULT_ONE_EURO;
use aicoach_vision::pose::{RefineMode, RefinerConfig};

const USAGE: &str = "usage: aicoach-eval [--data DIR] [--model lite|full|both] \
[--engine auto|cpu|onnxruntime|tensorrt] [--threads N] [--motion [--one-euro MIN_CUTOFF,BETA,DERIVATIVE_CUTOFF]] [--json OUT]";

/// Where the development data sits next to a checkout (the repository's `../shared`).
const DEFAULT_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mmpose");

struct Args {
    data: PathBuf,
    models: Vec<ModelId>,
    engine: EngineKind,
    threads: usize,
    motion: bool,
    filter: OneEuroParams,
    json: Option<PathBuf>,
}

fn parse_models(value: &str) -> Result<Vec<ModelId>, String> {
    match value {
        "lite" => Ok(vec![ModelId::PoseLandmarkLite]),
        "full" => Ok(vec![ModelId::PoseLandmarkFull]),
        "both" => Ok(vec![ModelId::PoseLandmarkLite, ModelId::PoseLandmarkFull]),
        _ => Err(format!("unknown model '{value}' (expected lite, full or both)")),
    }
}

fn parse_filter(value: &str) -> Result<OneEuroParams, String> {
    let v: Vec<f32> = value
        .split(',')
        .map(|x| x.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bad --one-euro '{value}': {e}"))?;
    match v[..] {
        [min_cutoff, beta, derivative_cutoff] => Ok(OneEuroParams { min_cutoff, beta, derivative_cutoff }),
        _ => Err(format!("--one-euro takes three numbers, got '{value}'")),
    }
}

/// Accepts `--flag value` and `--flag=value`; `None` when help was asked for.
fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args {
        data: PathBuf::from(DEFAULT_DATA),
        models: parse_models("both")?,
        engine: EngineKind::Tract,
        threads: 1,
        motion: false,
        filter: DEFAULT_ONE_EURO,
        json: None,
    };
    while let Some(arg) = argv.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        if flag == "--motion" {
            args.motion = true;
            continue;
        }
        let value = inline.or_else(|| argv.next()).ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--data" => args.data = PathBuf::from(value),
            "--model" => args.models = parse_models(&value)?,
            "--engine" => args.engine = value.parse()?,
            "--threads" => {
                args.threads = value.parse().ok().filter(|&n| n > 0).ok_or(format!("bad --threads '{value}'"))?
            }
            "--json" => args.json = Some(PathBuf::from(value)),
            "--one-euro" => args.filter = parse_filter(&value)?,
            _ => return Err(format!("unknown argument '{flag}'")),
        }
    }
    Ok(Some(args))
}

/// Loads every dataset; a missing file is skipped with a note (the data folder is optional
/// development material), a broken one is an error.
fn load_datasets(args: &Args) -> Result<Vec<Dataset>, eval::EvalError> {
    let mut datasets = Vec::new();
    for spec in &DATASETS {
        if !args.data.join(spec.file).is_file() {
            eprintln!("note: {} not found, skipping {}", args.data.join(spec.file).display(), spec.name);
            continue;
        }
        let dataset = eval::load_dataset(&args.data, spec)?;
        for image in &dataset.missing {
            eprintln!(
                "note: {}: image {} is missing, {} person(s) skipped",
                spec.name,
                image.path.display(),
                image.persons.len()
            );
        }
        datasets.push(dataset);
    }
    Ok(datasets)
}

fn load_pipeline(args: &Args) -> Result<Pipeline, aicoach_inference::EngineError> {
    let options = EngineOptions { kind: args.engine, threads: args.threads, ..Default::default() };
    let detector = PersonDetector::load(ModelFile::bundled(ModelId::PoseDetector), &options)?;
    let mut landmarkers = Vec::new();
    for &id in &args.models {
        landmarkers.push((id.spec().name.to_string(), PoseLandmarker::load(ModelFile::bundled(id), &options)?));
    }
    Ok(Pipeline { detector, landmarkers })
}

/// Rows per model, in the pipeline's landmarker order.
fn run(datasets: &[Dataset], pipeline: &mut Pipeline) -> Result<Vec<Vec<DatasetScore>>, eval::EvalError> {
    let mut rows = vec![Vec::new(); pipeline.landmarkers.len()];
    for dataset in datasets {
        for (model_rows, score) in rows.iter_mut().zip(eval::evaluate(dataset, pipeline)?) {
            model_rows.push(score);
        }
    }
    Ok(rows)
}

fn write_json(
    path: &Path,
    args: &Args,
    engine: &str,
    models: &[String],
    rows: &[Vec<DatasetScore>],
) -> std::io::Result<()> {
    let results: Vec<_> = models
        .iter()
        .zip(rows)
        .map(|(model, rows)| {
            serde_json::json!({
                "model": model,
                "datasets": rows.iter().map(eval::score_json).collect::<Vec<_>>(),
                "overall": eval::score_json(&eval::overall(rows)),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "data": args.data,
        "engine": engine,
        "pck_alpha": eval::rounded(eval::PCK_ALPHA),
        "results": results,
    });
    std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")
}

fn main() -> ExitCode {
    let mut args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !args.data.is_dir() {
        eprintln!("error: data folder {} not found (pass --data DIR)", args.data.display());
        return ExitCode::from(2);
    }
    // Shorter paths in messages than the default's `engines/tools/../../../shared`.
    if let Ok(data) = args.data.canonicalize() {
        args.data = data;
    }
    match evaluate_and_print(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The refinements compared on the motion clips: the element's default window (9 frames),
/// causal, and with a lookahead of 4 frames.
fn motion_variants(filter: OneEuroParams) -> Vec<motion::Variant> {
    let config = |mode, lookahead| RefinerConfig { filter, ..RefinerConfig::new(mode, 9, lookahead).expect("valid") };
    vec![
        motion::Variant { label: "none", config: config(RefineMode::None, 0) },
        motion::Variant { label: "temporal", config: config(RefineMode::Temporal, 0) },
        motion::Variant { label: "spatiotemporal", config: config(RefineMode::Spatiotemporal, 0) },
        motion::Variant { label: "spatiotemporal lookahead=4", config: config(RefineMode::Spatiotemporal, 4) },
    ]
}

fn evaluate_motion_and_print(args: &Args, datasets: &[Dataset]) -> Result<(), Box<dyn std::error::Error>> {
    let options = EngineOptions { kind: args.engine, threads: args.threads, ..Default::default() };
    let variants = motion_variants(args.filter);
    let mut results = Vec::new();
    for &id in &args.models {
        let mut estimator = PoseEstimator::new(PoseLandmarker::load(ModelFile::bundled(id), &options)?);
        let report = motion::evaluate_motion(datasets, &mut estimator, &variants)?;
        println!("{}", motion::format_motion(id.spec().name, &report));
        results.push(motion::motion_json(id.spec().name, &report));
    }
    if let Some(path) = &args.json {
        let doc = serde_json::json!({ "data": args.data, "motion": results });
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn evaluate_and_print(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let datasets = load_datasets(args)?;
    if args.motion {
        return evaluate_motion_and_print(args, &datasets);
    }
    let mut pipeline = load_pipeline(args)?;
    let engine = pipeline.detector.engine().kind().to_string();
    let rows = run(&datasets, &mut pipeline)?;
    let models: Vec<String> = pipeline.landmarkers.iter().map(|(name, _)| name.clone()).collect();
    // The file first, so that a closed stdout (`| head`) cannot lose it.
    if let Some(path) = &args.json {
        write_json(path, args, &engine, &models, &rows)?;
    }
    for (model, rows) in models.iter().zip(&rows) {
        println!("PCK@{} (% of labelled joints), model {model}, engine {engine}", eval::PCK_ALPHA);
        println!("{}", eval::format_table(rows));
    }
    if let Some(path) = &args.json {
        println!("wrote {}", path.display());
    }
    Ok(())
}
