// SPDX-License-Identifier: MPL-2.0
//! aicoachoverlay on every supported format: limb pixels red on a flagged frame and green
//! otherwise, and nothing changed on a frame without metadata.

use aicoach_vision::keypoints::KEYPOINT_NAMES;
use aicoach_vision::pose::{Joint, PoseFrame};
use gst_video::prelude::*;
use gstaicoach::meta;

mod common;
use common::init;

const W: u32 = 320;
const H: u32 = 240;

/// A standing figure; the left shank runs from (120, 150) to (120, 210).
fn figure() -> PoseFrame {
    let mut joints = vec![Joint::default(); KEYPOINT_NAMES.len()];
    let mut put = |name: &str, x: f32, y: f32| {
        let i = KEYPOINT_NAMES.iter().position(|n| *n == name).unwrap();
        joints[i] = Joint { x, y, confidence: 0.9 };
    };
    put("nose", 130.0, 30.0);
    put("left_shoulder", 115.0, 50.0);
    put("right_shoulder", 145.0, 50.0);
    put("left_hip", 120.0, 100.0);
    put("right_hip", 140.0, 100.0);
    put("left_knee", 120.0, 150.0);
    put("right_knee", 140.0, 150.0);
    put("left_ankle", 120.0, 210.0);
    put("right_ankle", 140.0, 210.0);
    PoseFrame { time: 0.0, score: 1.0, joints }
}

/// A grey frame of `format` with the figure's pose and a verdict flagging `errors`.
fn frame(format: gst_video::VideoFormat, with_meta: bool, flagged: bool) -> (gst::Buffer, gst_video::VideoInfo) {
    let info = gst_video::VideoInfo::builder(format, W, H).fps(gst::Fraction::new(25, 1)).build().unwrap();
    let mut buffer = gst::Buffer::with_size(info.size()).unwrap();
    {
        let b = buffer.get_mut().unwrap();
        let mut f = gst_video::VideoFrameRef::from_buffer_ref_writable(b, &info).unwrap();
        for plane in 0..f.n_planes() {
            let value = if info.is_yuv() && plane > 0 { 128 } else { 100 };
            f.plane_data_mut(plane).unwrap().fill(value);
        }
    }
    if with_meta {
        let b = buffer.get_mut().unwrap();
        let source =
            meta::PoseSource { tracking_id: 1, model: "test", refine: "none", roi_source: "box", carried: false };
        meta::set_pose(b, meta::pose_structure(&figure(), &source, 0.5));
        let verdict = meta::Verdict {
            sport: "test".into(),
            attempt: 1,
            errors: if flagged { vec!["bent_knees".into()] } else { vec![] },
            labels: if flagged { vec!["Bent knees".into()] } else { vec![] },
            bad_joints: if flagged {
                ["left_hip", "left_knee", "left_ankle"].map(String::from).to_vec()
            } else {
                vec![]
            },
            angles: vec![("knee_flexion".into(), 12.0)],
            phases: vec![],
            form_score: Some(50.0),
        };
        meta::set_verdict(b, &verdict);
    }
    (buffer, info)
}

fn rgb_at(buffer: &gst::Buffer, info: &gst_video::VideoInfo, x: u32, y: u32) -> [u8; 3] {
    // Convert through GStreamer's own converter to RGB, so the check does not trust our maths.
    let mut converted = gst::Buffer::with_size((W * H * 3) as usize).unwrap();
    let out_info = gst_video::VideoInfo::builder(gst_video::VideoFormat::Rgb, W, H).fps(info.fps()).build().unwrap();
    {
        let src = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer.as_ref(), info).unwrap();
        let mut dst =
            gst_video::VideoFrameRef::from_buffer_ref_writable(converted.get_mut().unwrap(), &out_info).unwrap();
        let converter = gst_video::VideoConverter::new(info, &out_info, None).unwrap();
        converter.frame_ref(&src, &mut dst);
    }
    let map = converted.map_readable().unwrap();
    let stride = out_info.stride()[0] as usize;
    let at = y as usize * stride + x as usize * 3;
    [map[at], map[at + 1], map[at + 2]]
}

const FORMATS: [gst_video::VideoFormat; 6] = [
    gst_video::VideoFormat::Rgba,
    gst_video::VideoFormat::Bgrx,
    gst_video::VideoFormat::Rgb,
    gst_video::VideoFormat::Xbgr,
    gst_video::VideoFormat::I420,
    gst_video::VideoFormat::Nv12,
];

fn overlay(buffer: gst::Buffer, info: &gst_video::VideoInfo) -> gst::Buffer {
    let mut h = gst_check::Harness::new("aicoachoverlay");
    h.set_src_caps(info.to_caps().unwrap());
    h.play();
    h.push_and_pull(buffer).unwrap()
}

#[test]
fn a_flagged_limb_is_red_and_a_good_one_green_in_every_format() {
    init();
    for format in FORMATS {
        // The left shank's middle, and the right one's (never flagged).
        let (left, right) = ((120, 180), (140, 180));
        let (buffer, info) = frame(format, true, true);
        let out = overlay(buffer, &info);
        let [r, g, b] = rgb_at(&out, &info, left.0, left.1);
        assert!(r > 170 && g < 110 && b < 110, "{format:?}: flagged shank is {:?}", [r, g, b]);
        let [r, g, b] = rgb_at(&out, &info, right.0, right.1);
        assert!(g > 150 && r < 120 && b < 150, "{format:?}: good shank is {:?}", [r, g, b]);

        let (buffer, info) = frame(format, true, false);
        let out = overlay(buffer, &info);
        let [r, g, _] = rgb_at(&out, &info, left.0, left.1);
        assert!(g > 150 && r < 120, "{format:?}: unflagged shank is {:?}", [r, g]);
        // The label and score boxes darken the top corners; the middle bottom stays grey.
        let grey = rgb_at(&frame(format, false, false).0, &info, 300, 230);
        assert_eq!(rgb_at(&out, &info, 300, 230), grey, "{format:?}");
    }
}

#[test]
fn a_frame_without_metadata_passes_unchanged() {
    init();
    for format in FORMATS {
        let (buffer, info) = frame(format, false, false);
        let before = buffer.map_readable().unwrap().to_vec();
        let out = overlay(buffer, &info);
        assert_eq!(out.map_readable().unwrap().as_slice(), before.as_slice(), "{format:?}");
    }
}

#[test]
fn layers_can_be_switched_off() {
    init();
    let (buffer, info) = frame(gst_video::VideoFormat::Rgba, true, true);
    let mut h = gst_check::Harness::new_parse("aicoachoverlay draw-skeleton=false");
    h.set_src_caps(info.to_caps().unwrap());
    h.play();
    let out = h.push_and_pull(buffer).unwrap();
    assert_eq!(rgb_at(&out, &info, 120, 180), [100, 100, 100]);
}
