// SPDX-License-Identifier: MPL-2.0
//! The scripts users run (`pipelines/`), run for real on the opencv-doc video with this
//! build's plugin: the file analysis gives an annotated MP4 with every frame and a report, and
//! the session recorder stopped with Ctrl-C leaves playable recordings and a finished report.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::{VIDEO, decode_grey, init, plugin_dir, report_lines, script, temp_dir};

/// Frames decoded back from a video file (an unplayable file fails the test).
fn decoded_frames(path: &Path) -> usize {
    decode_grey(path).frames.len()
}

#[test]
fn analysing_a_file_gives_an_annotated_mp4_with_every_frame_and_a_report() {
    init();
    // The first 120 frames of the video, as a file of its own, through the real script.
    let dir = temp_dir("analyse");
    let clip = dir.join("walk.mp4");
    let status = Command::new("gst-launch-1.0")
        .args(["-q", "filesrc", &format!("location={VIDEO}"), "!", "decodebin", "!", "videoconvert", "!"])
        // No B-frames: x264enc's default stream cut by `eos-after` sometimes gets an edit
        // list qtdemux calls corrupted, and decodes with timestamps out of order.
        .args([
            "identity",
            "eos-after=120",
            "!",
            "x264enc",
            "tune=zerolatency",
            "!",
            "h264parse",
            "!",
            "mp4mux",
            "!",
            "filesink",
        ])
        .arg(format!("location={}", clip.display()))
        .status()
        .unwrap();
    assert!(status.success());
    let input_frames = decoded_frames(&clip);
    assert!(input_frames >= 110, "{input_frames} frames in the clip");
    let out = Command::new("bash")
        .arg(script("analyse.sh"))
        .arg(&clip)
        .arg(&dir)
        .env("AICOACH_PLUGIN_DIR", plugin_dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(decoded_frames(&dir.join("walk.annotated.mp4")), input_frames);
    let lines = report_lines(&dir.join("walk.jsonl"));
    assert_eq!(lines.iter().filter(|l| l["type"] == "frame").count(), input_frames);
    assert_eq!(lines.last().unwrap()["end_of_stream"], true);
}

#[test]
fn the_recorder_stopped_with_ctrl_c_leaves_playable_files_and_a_finished_report() {
    init();
    let dir = temp_dir("record");
    // The video stands in for the camera, played in real time like one.
    let mut child = Command::new("bash")
        .arg(script("record.sh"))
        .arg(&dir)
        .env("AICOACH_PLUGIN_DIR", plugin_dir())
        .env("SOURCE", format!("filesrc location={VIDEO} ! decodebin ! clocksync"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(6));
    // Ctrl-C: SIGINT to gst-launch-1.0 (the script execs it).
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let mut waited = 0;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(waited < 60, "the recorder did not stop after Ctrl-C");
        std::thread::sleep(Duration::from_millis(500));
        waited += 1;
    };
    assert!(status.success(), "recorder exited with {status}");
    let file = |suffix: &str| {
        std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap_or_else(|| panic!("no *{suffix}"))
    };
    let camera = decoded_frames(&file(".camera.mp4"));
    let annotated = decoded_frames(&file(".annotated.mp4"));
    // About 6 s at 10 fps, stopped well before the video's 795 frames.
    assert!(camera > 20 && camera < 795, "{camera} camera frames");
    assert!(annotated > 10 && annotated <= camera, "{annotated} annotated frames of {camera}");
    let lines = report_lines(&file(".jsonl"));
    let summary = lines.last().unwrap();
    assert_eq!((summary["type"].as_str(), summary["end_of_stream"].as_bool()), (Some("summary"), Some(true)));
}

#[test]
fn the_broadcaster_graph_runs_to_the_end_of_the_programme() {
    init();
    let dir = temp_dir("broadcast");
    // A 60-frame programme; the screen replaced by a sink that runs as fast as it can.
    let clip = dir.join("programme.mp4");
    let status = Command::new("gst-launch-1.0")
        .args(["-q", "filesrc", &format!("location={VIDEO}"), "!", "decodebin", "!", "videoconvert", "!"])
        .args(["identity", "eos-after=60", "!", "x264enc", "tune=zerolatency", "!", "h264parse", "!", "mp4mux", "!"])
        .args(["filesink", &format!("location={}", clip.display())])
        .status()
        .unwrap();
    assert!(status.success());
    let out = Command::new("bash")
        .arg(script("broadcast.sh"))
        .arg(&clip)
        .env("AICOACH_PLUGIN_DIR", plugin_dir())
        .env("SINK", "fakesink sync=false")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("Got EOS"), "{log}");
}
