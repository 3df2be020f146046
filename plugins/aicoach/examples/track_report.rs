// SPDX-License-Identifier: MPL-2.0
//! Runs `aicoachdetect ! aicoachtrack` over a video and reports what happened: frames per
//! state, re-detections, track ids, time per element per frame, and (optionally) PNG snapshots
//! with the athlete's box drawn, to look at. The pose estimator runs after the tracker, as in
//! the product's pipelines (it tells the tracker where it sees the body); `none` leaves it out.
//! `TRACK_REPORT_VERBOSE=1` prints every frame's box and detections.
//!
//! `cargo run --release -p gst-plugin-aicoach --example track_report -- VIDEO [detector-model] [engine] [SNAPSHOT_DIR] [EVERY] [pose-model|none]`

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aicoach_vision::tracking::TrackState;
use gst::prelude::*;
use gstaicoach::meta;

#[derive(Default)]
struct Timing {
    started: BTreeMap<(String, u64), Instant>,
    spent: BTreeMap<String, Vec<f64>>,
}

/// Times each buffer between an element's sink and src pads (no queues: same thread).
fn time_element(element: &gst::Element, timing: &Arc<Mutex<Timing>>) {
    let name = element.name().to_string();
    let t = timing.clone();
    let n = name.clone();
    element.static_pad("sink").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(b) = info.buffer() {
            t.lock().unwrap().started.insert((n.clone(), b.pts().map_or(0, |p| p.nseconds())), Instant::now());
        }
        gst::PadProbeReturn::Ok
    });
    let t = timing.clone();
    element.static_pad("src").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(b) = info.buffer() {
            let mut t = t.lock().unwrap();
            if let Some(start) = t.started.remove(&(name.clone(), b.pts().map_or(0, |p| p.nseconds()))) {
                t.spent.entry(name.clone()).or_default().push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        gst::PadProbeReturn::Ok
    });
}

fn draw_box(rgb: &mut [u8], width: usize, height: usize, r: &aicoach_vision::Rect, colour: [u8; 3]) {
    let (x0, y0) = (r.x.max(0.0) as usize, r.y.max(0.0) as usize);
    let x1 = ((r.x + r.w) as usize).min(width.saturating_sub(1));
    let y1 = ((r.y + r.h) as usize).min(height.saturating_sub(1));
    for t in 0..3 {
        for x in x0..=x1 {
            for y in [y0 + t, y1.saturating_sub(t)] {
                if y < height {
                    rgb[(y * width + x) * 3..(y * width + x) * 3 + 3].copy_from_slice(&colour);
                }
            }
        }
        for y in y0..=y1 {
            for x in [x0 + t, x1.saturating_sub(t)] {
                if x < width {
                    rgb[(y * width + x) * 3..(y * width + x) * 3 + 3].copy_from_slice(&colour);
                }
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let video = args.get(1).expect("usage: track_report VIDEO [model] [engine] [SNAPSHOT_DIR] [EVERY]");
    let model = args.get(2).map_or("nanodet", |s| s.as_str());
    let engine = args.get(3).map_or("auto", |s| s.as_str());
    let snapshots = args.get(4).filter(|d| !d.is_empty()).cloned();
    let every: u64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(25);
    // Every frame's box and detections, for reading a track closely.
    let verbose = std::env::var_os("TRACK_REPORT_VERBOSE").is_some();
    let pose = args.get(6).map_or("lite", |s| s.as_str());
    let pose_element =
        if pose == "none" { String::new() } else { format!("aicoachpose name=pose model={pose} engine={engine} ! ") };
    gst::init().unwrap();
    gstaicoach::plugin_register_static().unwrap();
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={video} ! decodebin ! videoconvert ! video/x-raw,format=RGB ! \
         aicoachdetect name=detect model={model} engine={engine} ! aicoachtrack name=track ! {pose_element}appsink name=sink sync=false"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let timing = Arc::new(Mutex::new(Timing::default()));
    for name in ["detect", "track", "pose"] {
        if let Some(element) = pipeline.by_name(name) {
            time_element(&element, &timing);
        }
    }
    let sink = pipeline.by_name("sink").unwrap().downcast::<gst_app::AppSink>().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut states: BTreeMap<String, u32> = BTreeMap::new();
    let (mut frames, mut detections, mut ids, mut jumps) = (0u64, 0u32, Vec::<u64>::new(), 0u32);
    let mut last_centre: Option<aicoach_vision::Point> = None;
    let mut last_state = String::new();
    let started = Instant::now();
    while let Ok(sample) = sink.pull_sample() {
        let buffer = sample.buffer().unwrap();
        if meta::detector_ran(buffer) {
            detections += 1;
        }
        let athlete = meta::athlete(buffer);
        let state = athlete.as_ref().map_or("searching", |a| a.state.name()).to_string();
        let lost = athlete.as_ref().is_some_and(|a| a.state == TrackState::Lost);
        *states.entry(state.clone()).or_default() += 1;
        if verbose {
            let boxes: Vec<String> =
                meta::persons(buffer).iter().map(|d| format!("{:.0?} {:.2}", d.bbox, d.score)).collect();
            println!("frame {frames}: {state} {:.0?} detections {boxes:?}", athlete.as_ref().map(|a| a.rect));
        }
        if state != last_state {
            println!("frame {frames}: {state} (id {})", athlete.as_ref().map_or(0, |a| a.tracking_id));
            last_state = state.clone();
        }
        if let Some(meta::AthleteInfo { rect, tracking_id: id, .. }) = &athlete {
            if ids.last() != Some(id) {
                ids.push(*id);
            }
            let c = rect.center();
            if let Some(prev) = last_centre {
                // A jump of more than half the box in one frame: a likely identity swap to look at.
                if !lost && c.distance(prev) > 0.5 * rect.h.max(rect.w) {
                    jumps += 1;
                    println!("frame {frames}: box jumped {:.0} px", c.distance(prev));
                }
            }
            last_centre = (!lost).then_some(c);
        }
        if let (Some(dir), true) = (&snapshots, frames % every == 0) {
            let caps = sample.caps().unwrap();
            let info = gst_video::VideoInfo::from_caps(caps).unwrap();
            let (w, h) = (info.width() as usize, info.height() as usize);
            let map = buffer.map_readable().unwrap();
            let stride = info.stride()[0] as usize;
            let mut rgb = Vec::with_capacity(w * h * 3);
            for y in 0..h {
                rgb.extend_from_slice(&map[y * stride..y * stride + w * 3]);
            }
            for d in meta::persons(buffer) {
                draw_box(&mut rgb, w, h, &d.bbox, [255, 255, 0]);
            }
            if let Some(a) = &athlete {
                draw_box(&mut rgb, w, h, &a.rect, if lost { [255, 0, 0] } else { [0, 255, 0] });
            }
            let path = format!("{dir}/frame{frames:05}_{state}.png");
            image::save_buffer(&path, &rgb, w as u32, h as u32, image::ColorType::Rgb8).unwrap();
        }
        frames += 1;
    }
    let wall = started.elapsed().as_secs_f64();
    pipeline.set_state(gst::State::Null).unwrap();
    println!("video {video}, detector {model}, engine {engine}, pose {pose}");
    println!("frames {frames}, states {states:?}, detector runs {detections}, track ids {ids:?}, large jumps {jumps}");
    for (name, v) in &timing.lock().unwrap().spent {
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        let mean = s.iter().sum::<f64>() / s.len() as f64;
        println!(
            "{name}: mean {mean:.2} ms, median {:.2} ms, p95 {:.2} ms per frame",
            s[s.len() / 2],
            s[s.len() * 95 / 100]
        );
    }
    println!("wall {wall:.1} s, {:.1} fps", frames as f64 / wall);
}
