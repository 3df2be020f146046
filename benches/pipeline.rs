// SPDX-License-Identifier: MPL-2.0
//! The whole analysis on a real video, as `gst-launch-1.0` would run it, measured from inside:
//! end-to-end frames per second, each element's time per frame (mean and p95), CPU use, peak
//! and sampled memory. `benches/perf.sh` runs it for each model and output; run it alone as
//!
//!   pipeline-bench VIDEO [--model lite|full] [--engine E] [--encode] [--split]
//!                  [--loops N] [--report FILE] [--label TEXT] [--pose "PROPERTY=VALUE ..."]
//!
//! `--encode` ends in x264 and MP4 instead of fakesink; `--split` puts queues after the decoder,
//! the detector and the pose estimator (as `pipelines/analyse.sh`), so decoding, detection, pose
//! estimation and the rest share the two cores; `--loops` plays the video N times (segment
//! seeks, as a soak does); `--pose` adds properties to `aicoachpose`. The last line printed is
//! one JSON object.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gst::prelude::*;

/// The elements timed, in pipeline order.
const TIMED: [&str; 5] = ["aicoachdetect", "aicoachtrack", "aicoachpose", "aicoachclassify", "aicoachoverlay"];

struct Options {
    video: String,
    model: String,
    engine: String,
    encode: bool,
    split: bool,
    loops: u32,
    report: Option<String>,
    label: String,
    /// Properties added to `aicoachpose` (`--pose "recheck-model=none"`).
    pose: String,
}

fn parse_args() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        video: String::new(),
        model: "lite".into(),
        engine: "auto".into(),
        encode: false,
        split: false,
        loops: 1,
        report: None,
        label: String::new(),
        pose: String::new(),
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--model" => options.model = value("--model")?,
            "--engine" => options.engine = value("--engine")?,
            "--encode" => options.encode = true,
            "--split" => options.split = true,
            "--loops" => {
                options.loops = value("--loops")?.parse().map_err(|e| format!("--loops: {e}"))?;
                if options.loops == 0 {
                    return Err("--loops must be at least 1".into());
                }
            }
            "--report" => options.report = Some(value("--report")?),
            "--label" => options.label = value("--label")?,
            "--pose" => options.pose = format!(" {}", value("--pose")?),
            // For scripts: the CPU line every figure is printed with, alone.
            "--cpu" => {
                println!("{}", aicoach_benches::cpu_description());
                std::process::exit(0)
            }
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => options.video = arg,
        }
    }
    if options.video.is_empty() {
        return Err("usage: pipeline-bench VIDEO [--model lite|full] [--engine E] [--encode] [--split] \
                    [--loops N] [--report FILE] [--label TEXT] | pipeline-bench --cpu"
            .into());
    }
    Ok(options)
}

fn launch_line(o: &Options, encoded: &std::path::Path) -> String {
    // Split: decoding, detection, pose estimation and the rest each get a streaming thread, so
    // the detector's occasional long frames overlap with pose estimation on the frames before
    // them, and the report, drawing and encoding with it on the frames after.
    let queue = if o.split { "queue max-size-buffers=4 max-size-bytes=0 max-size-time=0 ! " } else { "" };
    // Two frames: the detector runs at most three frames ahead of the tracker (a queue of four
    // cost more frames without a pose on openpose/video.avi; one, speed). The same after the
    // pose estimator.
    let short_queue = if o.split { "queue max-size-buffers=2 max-size-bytes=0 max-size-time=0 ! " } else { "" };
    // As pipelines/env.sh: requested detections on a fixed frame behind that queue.
    let delay = if o.split { " request-delay=4" } else { "" };
    let report = o.report.as_ref().map(|r| format!(" report-location=\"{r}\"")).unwrap_or_default();
    let sink = if o.encode {
        format!(
            "videoconvert ! x264enc tune=zerolatency speed-preset=veryfast ! h264parse ! mp4mux ! filesink location=\"{}\"",
            encoded.display()
        )
    } else {
        "fakesink sync=false".to_string()
    };
    format!(
        "filesrc location=\"{video}\" ! decodebin ! videoconvert ! {queue}\
         aicoachdetect name=aicoachdetect model=nanodet search-model=ssdlite engine={engine}{delay} ! {short_queue}aicoachtrack name=aicoachtrack ! \
         aicoachpose name=aicoachpose model={model} engine={engine}{pose} ! {short_queue}\
         aicoachclassify name=aicoachclassify{report} ! aicoachoverlay name=aicoachoverlay ! {sink}",
        video = o.video,
        pose = o.pose,
        engine = o.engine,
        model = o.model,
    )
}

/// Time from a buffer entering an element's sink pad to the element pushing it out of its source
/// pad. The elements work in the streaming thread that calls them, so that span is their own
/// work and excludes everything downstream.
#[derive(Default)]
struct ElementClock {
    entered: Option<Instant>,
    spans: SpanHistogram,
}

/// Spans in logarithmic bins 1 % wide, from 1 µs up: fixed memory however long the run, so a
/// soak measures the pipeline's memory and not the benchmark's own.
struct SpanHistogram {
    bins: Vec<u64>,
    count: u64,
    total_ms: f64,
}

const BIN_GROWTH: f64 = 1.01;
const FIRST_BIN_MS: f64 = 0.001;
const BINS: usize = 2400; // up to about 24 s

impl Default for SpanHistogram {
    fn default() -> Self {
        Self { bins: vec![0; BINS], count: 0, total_ms: 0.0 }
    }
}

impl SpanHistogram {
    fn push(&mut self, span: Duration) {
        let ms = span.as_secs_f64() * 1e3;
        let bin = ((ms / FIRST_BIN_MS).max(1.0).ln() / BIN_GROWTH.ln()) as usize;
        self.bins[bin.min(BINS - 1)] += 1;
        self.count += 1;
        self.total_ms += ms;
    }

    /// Mean (exact) and 95th percentile (to the bin's 1 %), in ms.
    fn mean_and_p95_ms(&self) -> (f64, f64) {
        if self.count == 0 {
            return (0.0, 0.0);
        }
        let rank = (self.count as f64 * 0.95).ceil() as u64;
        let mut seen = 0;
        let bin = self.bins.iter().position(|&n| {
            seen += n;
            seen >= rank
        });
        let p95 = FIRST_BIN_MS * BIN_GROWTH.powf(bin.unwrap_or(BINS - 1) as f64 + 0.5);
        (self.total_ms / self.count as f64, p95)
    }
}

fn time_element(element: &gst::Element) -> Arc<Mutex<ElementClock>> {
    let clock = Arc::new(Mutex::new(ElementClock::default()));
    let sink = element.static_pad("sink").expect("sink pad");
    let src = element.static_pad("src").expect("src pad");
    let entering = clock.clone();
    sink.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        entering.lock().unwrap().entered = Some(Instant::now());
        gst::PadProbeReturn::Ok
    });
    let leaving = clock.clone();
    src.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        let mut clock = leaving.lock().unwrap();
        // A lookahead release pushes several buffers from one input: count the call once.
        if let Some(entered) = clock.entered.take() {
            clock.spans.push(entered.elapsed());
        }
        gst::PadProbeReturn::Ok
    });
    clock
}

/// User plus system CPU seconds of this process, and its peak resident memory in MiB.
fn cpu_seconds_and_peak_mib() -> (f64, f64) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    (seconds(usage.ru_utime) + seconds(usage.ru_stime), usage.ru_maxrss as f64 / 1024.0)
}

/// Resident memory now, in MiB.
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as f64;
    pages * page_size / (1024.0 * 1024.0)
}

/// Least-squares slope of memory (MiB) against time (s), over the second half of the samples
/// so that warm-up (models, caches, queues filling) does not count as growth.
fn memory_slope_mib_per_min(samples: &[(f64, f64)]) -> f64 {
    let tail = &samples[samples.len() / 2..];
    if tail.len() < 3 {
        return 0.0;
    }
    let n = tail.len() as f64;
    let (mt, mm) = (tail.iter().map(|s| s.0).sum::<f64>() / n, tail.iter().map(|s| s.1).sum::<f64>() / n);
    let cov: f64 = tail.iter().map(|s| (s.0 - mt) * (s.1 - mm)).sum();
    let var: f64 = tail.iter().map(|s| (s.0 - mt).powi(2)).sum();
    if var == 0.0 { 0.0 } else { cov / var * 60.0 }
}

fn run(o: &Options) -> Result<serde_json::Value, String> {
    gst::init().map_err(|e| e.to_string())?;
    gstaicoach::plugin_register_static().map_err(|e| e.to_string())?;
    let encoded = std::env::temp_dir().join(format!("aicoach-bench-{}.mp4", std::process::id()));
    let pipeline = gst::parse::launch(&launch_line(o, &encoded))
        .map_err(|e| e.to_string())?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "not a pipeline".to_string())?;
    let clocks: Vec<_> =
        TIMED.iter().map(|name| time_element(&pipeline.by_name(name).expect("named element"))).collect();
    let frames = Arc::new(Mutex::new(0u64));
    let counted = frames.clone();
    let overlay_src = pipeline.by_name("aicoachoverlay").unwrap().static_pad("src").unwrap();
    overlay_src.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        *counted.lock().unwrap() += 1;
        gst::PadProbeReturn::Ok
    });

    // Models load and the first frame goes through while the pipeline prerolls; the clock
    // starts after that, as a player's would (and as the peer's loop does).
    let bus = pipeline.bus().unwrap();
    let prerolled = |pipeline: &gst::Pipeline| -> Result<(), String> {
        match bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(120),
            &[gst::MessageType::AsyncDone, gst::MessageType::Error],
        ) {
            Some(msg) => match msg.view() {
                gst::MessageView::Error(err) => Err(format!("{}: {}", err.error(), err.debug().unwrap_or_default())),
                _ => Ok(()),
            },
            None => {
                let _ = pipeline.set_state(gst::State::Null);
                Err("no preroll within 120 s".into())
            }
        }
    };
    pipeline.set_state(gst::State::Paused).map_err(|e| format!("cannot start: {e}"))?;
    prerolled(&pipeline)?;
    let mut loops_left = o.loops;
    let mut outcome = Ok(());
    // Looping by segment seeks: the first seek makes the end of the file a SegmentDone instead
    // of EOS, and each later one rewinds without a flush, so the elements see one long stream.
    if o.loops > 1 {
        pipeline
            .seek_simple(gst::SeekFlags::FLUSH | gst::SeekFlags::SEGMENT, gst::ClockTime::ZERO)
            .map_err(|e| format!("seek: {e}"))?;
        prerolled(&pipeline)?;
    }
    let frames_before = *frames.lock().unwrap();
    let (cpu_before, _) = cpu_seconds_and_peak_mib();
    let start = Instant::now();
    let sampling = Arc::new(Mutex::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while *sampling.lock().unwrap() {
                samples.push((start.elapsed().as_secs_f64(), rss_mib()));
                std::thread::sleep(Duration::from_millis(250));
            }
            samples
        })
    };
    pipeline.set_state(gst::State::Playing).map_err(|e| format!("cannot play: {e}"))?;
    for msg in bus.iter_timed(gst::ClockTime::NONE) {
        match msg.view() {
            gst::MessageView::Eos(..) => break,
            gst::MessageView::SegmentDone(..) => {
                loops_left -= 1;
                let flags = if loops_left > 1 { gst::SeekFlags::SEGMENT } else { gst::SeekFlags::empty() };
                if pipeline.seek_simple(flags, gst::ClockTime::ZERO).is_err() {
                    outcome = Err("the rewind seek failed".to_string());
                    break;
                }
            }
            gst::MessageView::Error(err) => {
                outcome = Err(format!("{}: {}", err.error(), err.debug().unwrap_or_default()));
                break;
            }
            _ => {}
        }
    }
    let wall = start.elapsed().as_secs_f64();
    pipeline.set_state(gst::State::Null).map_err(|e| e.to_string())?;
    *sampling.lock().unwrap() = false;
    let samples = sampler.join().unwrap();
    let _ = std::fs::remove_file(&encoded);
    outcome?;

    let (cpu_after, peak_mib) = cpu_seconds_and_peak_mib();
    let frames = *frames.lock().unwrap() - frames_before;
    let mut elements = BTreeMap::new();
    let mut element_ms_total = 0.0;
    for (name, clock) in TIMED.iter().zip(&clocks) {
        let (mean, p95) = clock.lock().unwrap().spans.mean_and_p95_ms();
        element_ms_total += mean;
        elements.insert(name.to_string(), serde_json::json!({ "mean_ms": round2(mean), "p95_ms": round2(p95) }));
    }
    let fps = frames as f64 / wall;
    let last_rss = samples.last().map(|s| s.1).unwrap_or(0.0);
    Ok(serde_json::json!({
        "cpu": aicoach_benches::cpu_description(),
        "label": o.label,
        "video": o.video,
        "model": o.model,
        "engine": o.engine,
        "output": if o.encode { "x264" } else { "fakesink" },
        "split": o.split,
        "loops": o.loops,
        "frames": frames,
        "seconds": round2(wall),
        "fps": round2(fps),
        "elements": elements,
        "elements_ms": round2(element_ms_total),
        "other_ms": round2(1e3 / fps - element_ms_total),
        "cpu_percent": round2((cpu_after - cpu_before) / wall * 100.0),
        "peak_rss_mib": round2(peak_mib),
        "final_rss_mib": round2(last_rss),
        "rss_slope_mib_per_min": round2(memory_slope_mib_per_min(&samples)),
        "rss_timeline_mib": timeline(&samples, 20),
    }))
}

/// At most `points` of the (seconds, MiB) samples, evenly spread, for the eye.
fn timeline(samples: &[(f64, f64)], points: usize) -> Vec<[f64; 2]> {
    let step = samples.len().div_ceil(points).max(1);
    samples.iter().step_by(step).chain(samples.last()).map(|&(t, m)| [t.round(), round2(m)]).collect()
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn main() {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    match run(&options) {
        Ok(result) => {
            let e = &result["elements"];
            eprintln!(
                "[{}] {} {} {} {}: {} frames in {} s = {} fps; detect {} / track {} / pose {} / classify {} / overlay {} ms mean; \
                 cpu {} %, peak {} MiB, rss slope {} MiB/min",
                result["cpu"].as_str().unwrap_or_default(),
                result["video"],
                result["model"],
                result["output"],
                if options.split { "split" } else { "one thread" },
                result["frames"],
                result["seconds"],
                result["fps"],
                e["aicoachdetect"]["mean_ms"],
                e["aicoachtrack"]["mean_ms"],
                e["aicoachpose"]["mean_ms"],
                e["aicoachclassify"]["mean_ms"],
                e["aicoachoverlay"]["mean_ms"],
                result["cpu_percent"],
                result["peak_rss_mib"],
                result["rss_slope_mib_per_min"]
            );
            println!("{result}");
        }
        Err(e) => {
            eprintln!("pipeline-bench: {e}");
            std::process::exit(1);
        }
    }
}
