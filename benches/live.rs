// SPDX-License-Identifier: MPL-2.0
//! A broadcaster's live graph, measured: a video sent as H.264 over RTP on loopback, received
//! (`udpsrc ! rtpjitterbuffer ! rtph264depay ! h264parse ! avdec_h264 ! videoconvert ! queue`),
//! through the five elements into a sink that drops what is more than 20 ms late, as a
//! display does. Prints the CPU, frames in, frames rendered on time, frames dropped, the share
//! of frames with a fresh (not carried) pose, and the latency the pipeline reports.
//!
//!   live-bench VIDEO [--width W --height H --fps N] [--frames N] [--model lite|full] [--bare]
//!
//! `--bare` leaves the five elements out: what receiving and decoding alone keep up with on
//! this machine, the baseline for the chain's figures.
//!
//! The video is first re-encoded at the size and rate asked (default 1920x1080 at 50 fps, 300
//! frames) into a temporary file, so any input gives the same kind of stream. Not a test: run
//! it on a quiet machine. The last line printed is one JSON object.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gst::prelude::*;

struct Options {
    video: String,
    width: u32,
    height: u32,
    fps: u32,
    frames: u32,
    model: String,
    /// The receiver without the five elements: what decoding alone keeps up with here.
    bare: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        video: String::new(),
        width: 1920,
        height: 1080,
        fps: 50,
        frames: 300,
        model: "lite".into(),
        bare: false,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let number = |name: &str, v: String| v.parse::<u32>().map_err(|e| format!("{name}: {e}"));
        match arg.as_str() {
            "--width" => o.width = number("--width", value("--width")?)?,
            "--height" => o.height = number("--height", value("--height")?)?,
            "--fps" => o.fps = number("--fps", value("--fps")?)?,
            "--frames" => o.frames = number("--frames", value("--frames")?)?,
            "--model" => o.model = value("--model")?,
            "--bare" => o.bare = true,
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => o.video = arg,
        }
    }
    if o.video.is_empty() {
        return Err(
            "usage: live-bench VIDEO [--width W --height H --fps N] [--frames N] [--model lite|full] [--bare]".into()
        );
    }
    Ok(o)
}

/// Runs `pipeline` to EOS or error, at most `limit`.
fn run_to_end(pipeline: &gst::Element, limit: Duration) -> Result<(), String> {
    pipeline.set_state(gst::State::Playing).map_err(|e| e.to_string())?;
    let bus = pipeline.bus().unwrap();
    let msg = bus.timed_pop_filtered(
        gst::ClockTime::from_nseconds(limit.as_nanos() as u64),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    pipeline.set_state(gst::State::Null).map_err(|e| e.to_string())?;
    match msg.as_ref().map(|m| m.view()) {
        Some(gst::MessageView::Eos(_)) => Ok(()),
        Some(gst::MessageView::Error(e)) => Err(format!("{}: {:?}", e.error(), e.debug())),
        _ => Err(format!("no end within {limit:?}")),
    }
}

fn main() {
    let o = parse_args().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    gst::init().unwrap();
    gstaicoach::plugin_register_static().unwrap();
    println!("cpu: {}", aicoach_benches::cpu_description());

    // The stream to send: the video at the size and rate asked, as H.264 in MP4.
    let clip = std::env::temp_dir().join(format!("aicoach-live-{}.mp4", std::process::id()));
    let make = gst::parse::launch(&format!(
        "filesrc location=\"{}\" ! decodebin ! videoconvert ! videoscale ! videorate ! \
         video/x-raw,format=I420,width={},height={},framerate={}/1,pixel-aspect-ratio=1/1 ! \
         identity name=cut eos-after={} ! x264enc pass=qual speed-preset=veryfast tune=zerolatency key-int-max={} ! \
         h264parse ! mp4mux ! filesink location={}",
        o.video,
        o.width,
        o.height,
        o.fps,
        o.frames,
        o.fps,
        clip.display()
    ))
    .unwrap();
    // The frames the clip really has: a video shorter than asked gives fewer.
    let made = Arc::new(AtomicU64::new(0));
    let counted = made.clone();
    let cut = make.downcast_ref::<gst::Bin>().unwrap().by_name("cut").unwrap();
    cut.static_pad("src").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        counted.fetch_add(1, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
    run_to_end(&make, Duration::from_secs(600)).unwrap_or_else(|e| panic!("making the stream: {e}"));
    let frames_sent = made.load(Ordering::Relaxed);

    let port = 50_000 + (std::process::id() % 10_000) as u16;
    let chain = if o.bare {
        "identity".to_string()
    } else {
        format!(
            "aicoachdetect name=first ! aicoachtrack ! aicoachpose model={} ! aicoachclassify ! aicoachoverlay name=last",
            o.model
        )
    };
    let receiver = gst::parse::launch(&format!(
        "udpsrc port={port} caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" ! \
         rtpjitterbuffer ! rtph264depay ! h264parse ! avdec_h264 ! videoconvert ! queue name=in ! \
         {chain} ! queue ! fakesink name=sink sync=true qos=true max-lateness=20000000"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sender = gst::parse::launch(&format!(
        "filesrc location={} ! qtdemux ! h264parse config-interval=-1 ! rtph264pay pt=96 ! \
         udpsink host=127.0.0.1 port={port} sync=true",
        clip.display()
    ))
    .unwrap();

    let frames_in = Arc::new(AtomicU64::new(0));
    let fresh = Arc::new(AtomicU64::new(0));
    let carried = Arc::new(AtomicU64::new(0));
    let tracked = Arc::new(AtomicU64::new(0));
    let counted = frames_in.clone();
    receiver.by_name("in").unwrap().static_pad("src").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        counted.fetch_add(1, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
    let reached = Arc::new(AtomicU64::new(0));
    let (seen, arrived) = (fresh.clone(), reached.clone());
    let (seen_carried, seen_tracked) = (carried.clone(), tracked.clone());
    let sink = receiver.by_name("sink").unwrap();
    sink.static_pad("sink").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        arrived.fetch_add(1, Ordering::Relaxed);
        let Some(buffer) = info.buffer() else { return gst::PadProbeReturn::Ok };
        match gstaicoach::meta::read_pose(buffer) {
            Some(p) if p.carried => seen_carried.fetch_add(1, Ordering::Relaxed),
            Some(_) => seen.fetch_add(1, Ordering::Relaxed),
            None => 0,
        };
        if gstaicoach::meta::athlete(buffer).is_some_and(|a| a.state != aicoach_vision::tracking::TrackState::Lost) {
            seen_tracked.fetch_add(1, Ordering::Relaxed);
        }
        gst::PadProbeReturn::Ok
    });

    // As gst-launch-1.0 and players do: when an element says its latency grew, the pipeline
    // asks everyone again and the sink waits the new amount.
    let weak = receiver.downgrade();
    receiver.bus().unwrap().set_sync_handler(move |_, msg| {
        if let (gst::MessageView::Latency(_), Some(pipeline)) = (msg.view(), weak.upgrade()) {
            pipeline.call_async(|p| {
                let _ = p.recalculate_latency();
            });
        }
        gst::BusSyncReply::Pass
    });
    receiver.set_state(gst::State::Playing).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let sent = run_to_end(&sender, Duration::from_secs(600));
    // The last packets reach the receiver, then it is done: EOS does not travel over UDP.
    std::thread::sleep(Duration::from_secs(1));
    // What the sink waits for: the latency query's answer (the `latency` property stays unset).
    let mut query = gst::query::Latency::new();
    let latency = receiver.query(&mut query).then(|| query.result().1);
    // The five elements' own share: the latency at the last one's output minus what reaches the
    // first (the jitter buffer's and the decoder's).
    let latency_at = |pad: gst::Pad, across: bool| {
        let mut q = gst::query::Latency::new();
        let answered = if across { pad.peer_query(&mut q) } else { pad.query(&mut q) };
        answered.then(|| q.result().1)
    };
    let elements_latency = (|| {
        let before = latency_at(receiver.by_name("first")?.static_pad("sink")?, true)?;
        let after = latency_at(receiver.by_name("last")?.static_pad("src")?, false)?;
        Some(after.saturating_sub(before).mseconds())
    })();
    receiver.send_event(gst::event::Eos::new());
    let _ = receiver.bus().unwrap().timed_pop_filtered(gst::ClockTime::from_seconds(30), &[gst::MessageType::Eos]);
    let stats = sink.property::<gst::Structure>("stats");
    receiver.set_state(gst::State::Null).unwrap();
    let _ = std::fs::remove_file(&clip);
    sent.unwrap_or_else(|e| panic!("sending: {e}"));

    let rendered = stats.get::<u64>("rendered").unwrap_or(0);
    let dropped = stats.get::<u64>("dropped").unwrap_or(0);
    let frames_in = frames_in.load(Ordering::Relaxed);
    let fresh = fresh.load(Ordering::Relaxed);
    let carried = carried.load(Ordering::Relaxed);
    let tracked = tracked.load(Ordering::Relaxed);
    let reached = reached.load(Ordering::Relaxed);
    let latency_ms = latency.map(|l| l.mseconds());
    println!(
        "{}x{} at {} fps, {frames_sent} frames sent: in {frames_in}, reached the sink {reached}, rendered on time {rendered}, dropped {dropped}, \
         fresh poses {fresh} ({:.0} %), carried {carried}, athlete tracked on {tracked}, \
         reported latency {latency_ms:?} ms (the five elements' {elements_latency:?})",
        o.width,
        o.height,
        o.fps,
        100.0 * fresh as f64 / frames_in.max(1) as f64
    );
    println!(
        "{}",
        serde_json::json!({
            "cpu": aicoach_benches::cpu_description(), "width": o.width, "height": o.height, "fps": o.fps,

            "frames_sent": frames_sent, "frames_in": frames_in, "reached_sink": reached, "rendered": rendered, "dropped": dropped,
            "fresh_poses": fresh, "carried_poses": carried, "tracked": tracked,
            "latency_ms": latency_ms, "elements_latency_ms": elements_latency, "model": o.model, "bare": o.bare,
        })
    );
}
