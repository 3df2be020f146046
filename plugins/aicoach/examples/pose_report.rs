// SPDX-License-Identifier: MPL-2.0
//! Keypoint jitter and pose time on real videos without ground truth: runs
//! `aicoachdetect model=nanodet ! aicoachtrack ! aicoachpose` over each video once per model
//! and refinement, and prints, per video, the frames with a pose, the jitter (mean
//! frame-to-frame acceleration of the body joints in body sizes, measured on the same joint
//! samples for every refinement: the joints the model sees, then all of them, the unsure ones
//! that the spatial refinement corrects included) and the pose element's milliseconds per
//! frame with a pose.
//!
//! `cargo run --release -p gst-plugin-aicoach --example pose_report -- [--engine E] [--json OUT] VIDEO...`

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aicoach_vision::pose::jitter::jitter;
use aicoach_vision::pose::{PoseFrame, SEEN_CONFIDENCE};
use gst::prelude::*;
use gstaicoach::meta;

const MODELS: [&str; 2] = ["lite", "full"];
const VARIANTS: [(&str, &str); 4] = [
    ("none", "refine=none"),
    ("temporal", "refine=temporal"),
    ("spatiotemporal", "refine=spatiotemporal"),
    ("spatiotemporal lookahead=4", "refine=spatiotemporal lookahead=4"),
];

struct Run {
    poses: Vec<Option<PoseFrame>>,
    /// Milliseconds in the pose element per frame with a pose (sink to src pad; lookahead 0
    /// only).
    pose_ms: Vec<f64>,
}

fn run(video: &str, engine: &str, model: &str, variant: &str) -> Result<Run, String> {
    let launch = format!(
        "filesrc location=\"{video}\" ! decodebin ! videoconvert ! aicoachdetect model=nanodet engine={engine} ! \
         aicoachtrack ! aicoachpose name=pose model={model} engine={engine} {variant} min-confidence=0 ! \
         appsink name=sink sync=false"
    );
    let pipeline = gst::parse::launch(&launch).map_err(|e| e.to_string())?.downcast::<gst::Pipeline>().unwrap();
    let pose = pipeline.by_name("pose").unwrap();
    let started: Arc<Mutex<BTreeMap<u64, Instant>>> = Arc::default();
    let spent: Arc<Mutex<Vec<f64>>> = Arc::default();
    let s = started.clone();
    pose.static_pad("sink").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(b) = info.buffer() {
            s.lock().unwrap().insert(b.pts().map_or(0, |p| p.nseconds()), Instant::now());
        }
        gst::PadProbeReturn::Ok
    });
    let (s, d) = (started.clone(), spent.clone());
    pose.static_pad("src").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(b) = info.buffer()
            && let Some(t) = s.lock().unwrap().remove(&b.pts().map_or(0, |p| p.nseconds()))
            && meta::read_pose(b).is_some()
        {
            d.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
        }
        gst::PadProbeReturn::Ok
    });
    let sink = pipeline.by_name("sink").unwrap().downcast::<gst_app::AppSink>().unwrap();
    pipeline.set_state(gst::State::Playing).map_err(|e| e.to_string())?;
    let mut poses = Vec::new();
    while let Ok(sample) = sink.pull_sample() {
        let buffer = sample.buffer().unwrap();
        let time = buffer.pts().map_or(0.0, |t| t.nseconds() as f64 / 1e9);
        poses.push(meta::read_pose(buffer).map(|p| p.into_frame(time)));
    }
    let error = pipeline.bus().unwrap().pop_filtered(&[gst::MessageType::Error]);
    pipeline.set_state(gst::State::Null).unwrap();
    if let Some(msg) = error
        && let gst::MessageView::Error(e) = msg.view()
    {
        return Err(format!("{video}: {}", e.error()));
    }
    let pose_ms = if variant.contains("lookahead") { Vec::new() } else { spent.lock().unwrap().clone() };
    Ok(Run { poses, pose_ms })
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), String> {
    gst::init().map_err(|e| e.to_string())?;
    gstaicoach::plugin_register_static().map_err(|e| e.to_string())?;
    let mut args = std::env::args().skip(1);
    let (mut engine, mut json, mut videos) = ("auto".to_string(), None, Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--engine" => engine = args.next().ok_or("--engine needs a value")?,
            "--json" => json = Some(args.next().ok_or("--json needs a value")?),
            _ => videos.push(a),
        }
    }
    let body: Vec<usize> = (11..33).collect();
    let mut results = Vec::new();
    for video in &videos {
        for model in MODELS {
            let runs: Vec<(&str, Run)> = VARIANTS
                .iter()
                .map(|(label, props)| run(video, &engine, model, props).map(|r| (*label, r)))
                .collect::<Result<_, _>>()?;
            let raw = &runs[0].1.poses;
            let with_pose = raw.iter().filter(|p| p.is_some()).count();
            println!("{video} model {model}: {with_pose}/{} frames with a pose", raw.len());
            for (label, r) in &runs {
                let j = jitter(&r.poses, raw, &body, SEEN_CONFIDENCE);
                let all = jitter(&r.poses, raw, &body, 0.0);
                let ms = median(&r.pose_ms);
                println!(
                    "  {label:<28} jitter seen {:.5} ({} samples), all {:.5} ({} samples)  pose {ms:.1} ms/frame median",
                    j.mean, j.samples, all.mean, all.samples
                );
                results.push(serde_json::json!({
                    "video": video, "model": model, "refinement": label, "frames": raw.len(),
                    "frames_with_pose": with_pose, "jitter": j.mean, "jitter_samples": j.samples,
                    "jitter_all_joints": all.mean, "jitter_all_samples": all.samples,
                    "pose_ms_median": if ms.is_nan() { None } else { Some(ms) },
                }));
            }
        }
    }
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_string_pretty(&results).unwrap() + "\n").map_err(|e| e.to_string())?;
        println!("wrote {path}");
    }
    Ok(())
}
