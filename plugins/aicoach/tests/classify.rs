// SPDX-License-Identifier: MPL-2.0
//! aicoachclassify: verdicts on hand-made keypoints through a Harness, bad settings, and the
//! report from a real video through the whole chain, ended by EOS or stopped before it.

use aicoach_coach::exemplar::Library;
use aicoach_coach::report;
use aicoach_vision::keypoints::KEYPOINT_NAMES;
use aicoach_vision::pose::{Joint, PoseFrame};
use gst::prelude::*;
use gstaicoach::meta;
use serde_json::Value;

mod common;
use common::{VIDEO, first_error, init, temp_dir};

/// A side-on skier: trunk upright, knees bent by `knee` degrees, skis level.
fn skier(knee: f32) -> PoseFrame {
    let mut joints = vec![Joint::default(); KEYPOINT_NAMES.len()];
    let a = knee.to_radians();
    for side in ["left", "right"] {
        let mut put = |name: &str, x: f32, y: f32| {
            let i = KEYPOINT_NAMES.iter().position(|n| *n == format!("{side}_{name}")).unwrap();
            joints[i] = Joint { x, y, confidence: 0.95 };
        };
        put("shoulder", 100.0, 0.0);
        put("hip", 100.0, 100.0);
        put("knee", 100.0, 200.0);
        put("ankle", 100.0 - 100.0 * a.sin(), 200.0 + 100.0 * a.cos());
        put("heel", 90.0 - 100.0 * a.sin(), 310.0);
        put("foot_index", 150.0 - 100.0 * a.sin(), 310.0);
    }
    PoseFrame { time: 0.0, score: 0.99, joints }
}

fn with_pose(pose: &PoseFrame, i: u64) -> gst::Buffer {
    let mut buffer = gst::Buffer::with_size(64 * 48 * 4).unwrap();
    {
        let b = buffer.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(40 * i));
        let source =
            meta::PoseSource { tracking_id: 1, model: "test", refine: "none", roi_source: "box", carried: false };
        meta::set_pose(b, meta::pose_structure(pose, &source, 0.0));
    }
    buffer
}

#[test]
fn bent_knees_are_flagged_with_hysteresis_and_their_joints_named() {
    init();
    let mut h = gst_check::Harness::new_parse("aicoachclassify profile=freestyle-aerials");
    h.set_src_caps_str("video/x-raw,format=RGBA,width=64,height=48,framerate=25/1");
    h.play();
    // Straight, bent (on at 25 after 2 frames), half bent (stays on until under 15), straight.
    let knees = [5.0, 40.0, 40.0, 20.0, 10.0];
    let mut flagged = Vec::new();
    for (i, k) in knees.iter().enumerate() {
        let out = h.push_and_pull(with_pose(&skier(*k), i as u64)).unwrap();
        let v = meta::read_verdict(&out).expect("a verdict on every frame");
        assert_eq!(v.sport, "freestyle-aerials");
        assert_eq!(v.attempt, 1);
        flagged.push(v.errors.contains(&"bent_knees".to_string()));
        if i == 2 {
            assert_eq!(v.labels, ["Bent knees"]);
            assert!(
                v.bad_joints.contains(&"left_knee".to_string()) && !v.bad_joints.contains(&"left_shoulder".to_string())
            );
            let knee = v.angles.iter().find(|(n, _)| n == "knee_flexion").unwrap().1;
            assert!((knee - 40.0).abs() < 0.1, "{knee}");
        }
    }
    assert_eq!(flagged, [false, false, true, true, false]);
    // Without a pose: a verdict with nothing flagged.
    let empty = gst::Buffer::with_size(64 * 48 * 4).unwrap();
    let v = meta::read_verdict(&h.push_and_pull(empty).unwrap()).unwrap();
    assert!(v.errors.is_empty());
}

#[test]
fn bad_settings_are_rejected_with_a_clear_message() {
    init();
    let run = |props: &str| first_error(&format!("videotestsrc num-buffers=2 ! aicoachclassify {props} ! fakesink"));
    let e = run("profile=curling");
    assert!(e.contains("curling") && e.contains("ski-jumping"), "{e}");
    let e = run("profile=/nonexistent/profile.json");
    assert!(e.contains("/nonexistent/profile.json"), "{e}");
    let e = run("report-location=/nonexistent/dir/report.jsonl");
    assert!(e.contains("Cannot write the report"), "{e}");
    let e = run("exemplars=/nonexistent/library");
    assert!(e.contains("library.json"), "{e}");
}

/// Runs the whole chain on the first `frames` frames of the opencv-doc video.
fn analyse(frames: u32, props: &str) -> Vec<Value> {
    let dir = temp_dir(&format!("analyse-{frames}-{}", props.len()));
    let path = dir.join("report.jsonl");
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={VIDEO} ! avidemux ! identity eos-after={frames} ! decodebin ! videoconvert ! \
         aicoachdetect model=nanodet ! aicoachtrack ! aicoachpose ! \
         aicoachclassify report-location={} {props} ! fakesink",
        path.display()
    ))
    .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let msg =
        bus.timed_pop_filtered(gst::ClockTime::from_seconds(120), &[gst::MessageType::Eos, gst::MessageType::Error]);
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(msg.unwrap().type_(), gst::MessageType::Eos);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines().map(|l| serde_json::from_str(l).expect("every line is JSON")).collect()
}

#[test]
fn a_real_video_gets_a_report_that_parses_back_and_suggestions_from_a_library() {
    init();
    let lines = analyse(60, "profile=freestyle-aerials");
    assert_eq!(lines[0]["type"], "header");
    let frames: Vec<&Value> = lines.iter().filter(|l| l["type"] == "frame").collect();
    // `identity eos-after=60` lets 59 or 60 frames through, depending on timing.
    assert!((59..=60).contains(&frames.len()), "{} frames", frames.len());
    let with_pose = frames.iter().filter(|f| f["keypoints"].is_object()).count();
    assert!(with_pose >= 50, "{with_pose} frames with keypoints");
    let first = frames.iter().find(|f| f["keypoints"].is_object()).unwrap();
    assert!(first["athlete"]["w"].as_f64().unwrap() > 10.0);
    assert!(first["angles"]["knee_flexion"].is_number(), "{}", first["angles"]);
    assert!(lines.iter().any(|l| l["type"] == "attempt"));
    let summary = lines.last().unwrap();
    assert_eq!((summary["type"].as_str(), summary["end_of_stream"].as_bool()), (Some("summary"), Some(true)));
    assert_eq!(summary["frames"], frames.len());

    // That report as an exemplar library: every bad segment of a second run gets a clip.
    let dir = temp_dir("library");
    let report_path = dir.join("walk.jsonl");
    std::fs::write(&report_path, lines.iter().map(|l| l.to_string() + "\n").collect::<String>()).unwrap();
    let (sport, frames) = report::read_frames(&report_path).unwrap();
    let clips = vec![aicoach_coach::exemplar::ExemplarClip { name: "walk".into(), video: VIDEO.into(), frames }];
    Library { sport, clips }.save(&dir).unwrap();
    let lines = analyse(60, &format!("profile=freestyle-aerials exemplars={}", dir.display()));
    let segments: Vec<&Value> =
        lines.iter().filter(|l| l["type"] == "attempt").flat_map(|a| a["segments"].as_array().unwrap()).collect();
    assert!(!segments.is_empty(), "a walk has bent knees by the aerials profile");
    let suggested = segments.iter().filter(|s| s["suggestion"]["clip"] == "walk").count();
    assert!(suggested > 0, "{segments:?}");
}

#[test]
fn a_pipeline_stopped_before_the_end_leaves_a_valid_report() {
    init();
    let dir = temp_dir("stopped");
    let path = dir.join("report.jsonl");
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={VIDEO} ! decodebin ! videoconvert ! aicoachdetect model=nanodet ! aicoachtrack ! \
         aicoachpose ! aicoachclassify report-location={} ! fakesink sync=true",
        path.display()
    ))
    .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // Stopped mid-stream, no EOS.
    pipeline.set_state(gst::State::Null).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("whole lines only")).collect();
    let frames = lines.iter().filter(|l| l["type"] == "frame").count();
    assert!(frames > 5 && frames < 795, "{frames} frames before the stop");
    let summary = lines.last().unwrap();
    assert_eq!((summary["type"].as_str(), summary["end_of_stream"].as_bool()), (Some("summary"), Some(false)));
}
