// SPDX-License-Identifier: MPL-2.0
//! Video as phones, web downloads and broadcast feeds deliver it, made here with GStreamer
//! itself from the opencv-doc photo, through `pipelines/analyse.sh`: variable frame rates and
//! caps that lie about the rate (time comes from timestamps), a rotation tag (turned upright),
//! interlaced video (deinterlaced). The annotated video must show a picture, the skeleton must
//! be on the player, and the report's times must be the source's timestamps.

use std::path::Path;
use std::process::Command;

use gst::prelude::*;

mod common;
use common::{HIPS, PHOTO, decode_grey, first_sample, hips, init, plugin_dir, report_lines, script, temp_dir};

const MS: u64 = 1_000_000;

/// What one frame of a made clip shows.
#[derive(Clone, Copy)]
enum Shows {
    /// The player, shifted right by this many pixels.
    Player(usize),
    /// An empty grey scene.
    Nobody,
}

/// The photo as packed RGB rows (width, height, pixels), cropped to `width`x`height`.
fn photo_rgb(width: usize, height: usize) -> Vec<u8> {
    let sample = first_sample(&format!(
        "filesrc location={PHOTO} ! jpegdec ! videoconvert ! video/x-raw,format=RGB ! appsink name=sink"
    ));
    let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
    let map = sample.buffer().unwrap().map_readable().unwrap();
    let stride = info.stride()[0] as usize;
    (0..height).flat_map(|y| map[y * stride..y * stride + width * 3].iter().copied()).collect()
}

/// Writes an H.264 MP4 of `frames` (each at its PTS) whose raw caps claim `rate`, with
/// `middle` (elements between the source and the encoder) and `encoder` options.
fn write_clip(path: &Path, size: (usize, usize), frames: &[(u64, Shows)], rate: &str, middle: &str, encoder: &str) {
    let (w, h) = size;
    let photo = photo_rgb(w, h);
    let pipeline = gst::parse::launch(&format!(
        "appsrc name=src format=time caps=video/x-raw,format=RGB,width={w},height={h},framerate={rate} ! \
         videoconvert ! {middle} ! x264enc pass=qual tune=zerolatency {encoder} ! h264parse ! mp4mux ! \
         filesink location={}",
        path.display()
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let src = pipeline.by_name("src").unwrap().downcast::<gst_app::AppSrc>().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    for (i, &(pts, shows)) in frames.iter().enumerate() {
        let mut pixels = vec![128u8; w * h * 3];
        if let Shows::Player(dx) = shows {
            for y in 0..h {
                let row = y * w * 3;
                pixels[row + dx * 3..row + w * 3].copy_from_slice(&photo[row..row + (w - dx) * 3]);
            }
        }
        let mut buffer = gst::Buffer::from_mut_slice(pixels);
        {
            let b = buffer.get_mut().unwrap();
            b.set_pts(gst::ClockTime::from_nseconds(pts));
            if let Some(&(next, _)) = frames.get(i + 1) {
                b.set_duration(gst::ClockTime::from_nseconds(next - pts));
            }
        }
        src.push_buffer(buffer).unwrap();
    }
    src.end_of_stream().unwrap();
    let bus = pipeline.bus().unwrap();
    let msg =
        bus.timed_pop_filtered(gst::ClockTime::from_seconds(120), &[gst::MessageType::Eos, gst::MessageType::Error]);
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(matches!(msg.as_ref().map(|m| m.view()), Some(gst::MessageView::Eos(_))), "writing the clip: {msg:?}");
}

/// `pipelines/analyse.sh` on `clip`: the annotated video and the report's lines.
fn analyse(clip: &Path, dir: &Path) -> (common::Decoded, Vec<serde_json::Value>) {
    let out = Command::new("bash")
        .arg(script("analyse.sh"))
        .arg(clip)
        .arg(dir)
        .env("AICOACH_PLUGIN_DIR", plugin_dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let name = clip.file_stem().unwrap().to_string_lossy().to_string();
    let video = decode_grey(&dir.join(format!("{name}.annotated.mp4")));
    let lines = report_lines(&dir.join(format!("{name}.jsonl")));
    let frames = lines.into_iter().filter(|l| l["type"] == "frame").collect();
    (video, frames)
}

/// The spread of a grey frame's pixels: a uniform picture (a starved encoder's grey) has none.
fn spread(pixels: &[u8]) -> f64 {
    let mean = pixels.iter().map(|&p| p as f64).sum::<f64>() / pixels.len() as f64;
    (pixels.iter().map(|&p| (p as f64 - mean).powi(2)).sum::<f64>() / pixels.len() as f64).sqrt()
}

fn assert_pictures(video: &common::Decoded, expected_frames: usize, what: &str) {
    assert_eq!(video.frames.len(), expected_frames, "{what}: frames in the annotated video");
    for (i, (_, _, _, pixels)) in video.frames.iter().enumerate() {
        assert!(spread(pixels) > 10.0, "{what}: annotated frame {i} is flat ({:.1})", spread(pixels));
    }
}

/// The annotated video is the source with drawings on it: frame by frame, close to the source's
/// picture (a starved encoder's grey is not), and never flat where the source is not.
fn assert_like_source(video: &common::Decoded, source: &common::Decoded, what: &str) {
    assert_eq!(video.frames.len(), source.frames.len(), "{what}: frames in the annotated video");
    for (i, ((_, _, _, drawn), (_, _, _, seen))) in video.frames.iter().zip(&source.frames).enumerate() {
        let difference =
            drawn.iter().zip(seen).map(|(&a, &b)| (a as f64 - b as f64).abs()).sum::<f64>() / seen.len() as f64;
        assert!(difference < 12.0, "{what}: annotated frame {i} differs from the source by {difference:.1} a pixel");
        if spread(seen) > 10.0 {
            assert!(spread(drawn) > 10.0, "{what}: annotated frame {i} is flat ({:.1})", spread(drawn));
        }
    }
}

/// The report's frame times are the decoded source's timestamps.
fn assert_times_follow_timestamps(source: &common::Decoded, report: &[serde_json::Value], what: &str) {
    assert_eq!(report.len(), source.frames.len(), "{what}: report frames");
    for (line, (pts, ..)) in report.iter().zip(&source.frames) {
        let pts = pts.expect("the source's frames have timestamps") as f64 / 1e9;
        let time = line["time"].as_f64().unwrap();
        assert!((time - pts).abs() < 0.001, "{what}: report time {time} for a frame at {pts}");
    }
}

/// The player's hips where the photo has them, shifted by `dx`, within a tenth of the height.
fn assert_on_player(frame: &serde_json::Value, dx: f64, what: &str) {
    let (x, y) = hips(frame).unwrap_or_else(|| panic!("{what}: no hips in {frame}"));
    let off = (x - HIPS.0 as f64 - dx).hypot(y - HIPS.1 as f64);
    assert!(off < 34.0, "{what}: hips at ({x:.0}, {y:.0}), the player's are at ({}, {})", HIPS.0 as f64 + dx, HIPS.1);
}

#[test]
fn time_comes_from_timestamps_whatever_the_caps_say_the_rate_is() {
    init();
    let dir = temp_dir("rates");
    // The player for half a second, nobody for 4 s (the tracker loses them and, after its
    // `forget-after` of 3 s, forgets them), the player again: a new athlete, id 2.
    let shows = |t_ms: u64| if (500..4500).contains(&t_ms) { Shows::Nobody } else { Shows::Player(0) };
    let steady: Vec<u64> = (0..150).map(|i| i * 1000 / 30).collect();
    // A phone's variable rate: frames 20 ms and 47 ms apart in turn.
    let variable: Vec<u64> = (0..150).map(|i| (i / 2) * 67 + (i % 2) * 20).collect();
    let mut sequences = Vec::new();
    for (name, rate, times) in
        [("steady", "30/1", &steady), ("labelled-90000", "90000/1", &steady), ("variable", "0/1", &variable)]
    {
        let clip = dir.join(format!("{name}.mp4"));
        let frames: Vec<(u64, Shows)> = times.iter().map(|&ms| (ms * MS, shows(ms))).collect();
        write_clip(&clip, (548, 342), &frames, rate, "identity", "");
        let source = decode_grey(&clip);
        let (video, report) = analyse(&clip, &dir);
        assert_like_source(&video, &source, name);
        assert_times_follow_timestamps(&source, &report, name);
        assert_on_player(&report[5], 0.0, name);
        assert_on_player(report.last().unwrap(), 0.0, name);
        let ids: Vec<u64> = report.iter().filter_map(|l| l["athlete"]["tracking_id"].as_u64()).collect();
        assert_eq!((ids.first(), ids.last()), (Some(&1), Some(&2)), "{name}: the athlete away 4 s is forgotten");
        // The tracker's states over time, sampled every 100 ms, are the same at every rate.
        let state_at = |t: f64| {
            let line = report.iter().rev().find(|l| l["time"].as_f64().unwrap() <= t + 1e-6).unwrap();
            (line["athlete"]["state"].as_str().unwrap_or("none").to_string(), line["athlete"]["tracking_id"].clone())
        };
        sequences.push((name, (0..48).map(|i| state_at(i as f64 * 0.1)).collect::<Vec<_>>()));
    }
    for (name, states) in &sequences[1..] {
        let differ = states.iter().zip(&sequences[0].1).filter(|(a, b)| a != b).count();
        // A frame or two of slack where a 47 ms gap moves a change across a sample time.
        assert!(
            differ <= 3,
            "{name}: {differ} of 48 states differ from steady video: {states:?} vs {:?}",
            sequences[0].1
        );
    }
}

#[test]
fn a_phone_video_tagged_as_rotated_is_analysed_upright() {
    init();
    let dir = temp_dir("rotated");
    let clip = dir.join("portrait.mp4");
    // Stored sideways (turned a quarter counter-clockwise), as a phone held upright stores it...
    let frames: Vec<(u64, Shows)> = (0..20).map(|i| (i * 1000 / 30 * MS, Shows::Player(0))).collect();
    write_clip(&clip, (548, 342), &frames, "30/1", "videoflip video-direction=90l", "");
    // ...with the track's matrix saying "turn a quarter clockwise to show": qtdemux reads it as
    // the `image-orientation` tag rotate-90. GStreamer 1.22's mp4mux writes no matrix.
    let mut bytes = std::fs::read(&clip).unwrap();
    let tkhd = bytes.windows(4).position(|w| w == b"tkhd").expect("a track header") + 4;
    assert_eq!(bytes[tkhd], 0, "a version 0 track header");
    let matrix: Vec<u8> =
        [0u32, 0x0001_0000, 0, 0xFFFF_0000, 0, 0, 0, 0, 0x4000_0000].iter().flat_map(|v| v.to_be_bytes()).collect();
    bytes[tkhd + 40..tkhd + 76].copy_from_slice(&matrix);
    std::fs::write(&clip, bytes).unwrap();

    let (video, report) = analyse(&clip, &dir);
    assert_pictures(&video, 20, "rotated");
    let (_, w, h, _) = &video.frames[0];
    assert_eq!((*w, *h), (548, 342), "the annotated video is upright");
    for frame in report.iter().skip(2) {
        assert_on_player(frame, 0.0, "rotated");
    }

    // A launch line of the user's own without anything to turn the frames gets one warning,
    // from the first AI Coach element; with `videoflip video-direction=auto`, none.
    let unturned = warnings(&clip, "identity");
    assert_eq!(unturned.len(), 1, "{unturned:?}");
    assert!(unturned[0].starts_with("aicoachdetect") && unturned[0].contains("rotate-90"), "{unturned:?}");
    assert_eq!(warnings(&clip, "videoflip video-direction=auto"), Vec::<String>::new());
}

/// The warnings a launch line of a user's own posts on `clip`, with `prepare` after the decoder:
/// "element: message" each.
fn warnings(clip: &Path, prepare: &str) -> Vec<String> {
    common::warnings_until_eos(&format!(
        "filesrc location={} ! decodebin ! {prepare} ! videoconvert ! aicoachdetect ! aicoachtrack ! aicoachpose ! fakesink",
        clip.display()
    ))
}

/// How combed a frame is: the mean difference between each row and the average of its
/// neighbours. A moving edge in woven fields alternates row by row.
fn combing(width: usize, height: usize, pixels: &[u8]) -> f64 {
    let mut sum = 0.0;
    for y in 1..height - 1 {
        for x in 0..width {
            let p = |y: usize| pixels[y * width + x] as f64;
            sum += (2.0 * p(y) - p(y - 1) - p(y + 1)).abs();
        }
    }
    sum / ((height - 2) * width) as f64
}

#[test]
fn interlaced_video_is_deinterlaced_before_analysis() {
    init();
    let dir = temp_dir("interlaced");
    let clip = dir.join("broadcast.mp4");
    // The player moving 3 px a field at 50 fields a second, woven into 25 interlaced frames.
    let fields: Vec<(u64, Shows)> = (0..50).map(|i| (i * 20 * MS, Shows::Player(3 * i as usize))).collect();
    write_clip(&clip, (544, 340), &fields, "50/1", "interlace field-pattern=1:1", "interlaced=true");
    let source = decode_grey(&clip);
    assert_eq!(source.interlace_mode, "Interleaved", "the clip is interlaced");
    let (video, report) = analyse(&clip, &dir);
    assert_eq!(video.interlace_mode, "Progressive");
    // One frame per field.
    assert_pictures(&video, 2 * source.frames.len(), "interlaced");
    let mean_combing = |d: &common::Decoded| {
        d.frames.iter().map(|(_, w, h, p)| combing(*w, *h, p)).sum::<f64>() / d.frames.len() as f64
    };
    let (before, after) = (mean_combing(&source), mean_combing(&video));
    assert!(after < 0.6 * before, "combing {before:.2} in the source, {after:.2} in the annotated video");
    // A launch line of the user's own without a deinterlacer gets one warning; with one, none.
    let combed = warnings(&clip, "identity");
    assert_eq!(combed.len(), 1, "{combed:?}");
    assert!(combed[0].starts_with("aicoachdetect") && combed[0].contains("interlaced"), "{combed:?}");
    assert_eq!(warnings(&clip, "deinterlace"), Vec::<String>::new());
    for (i, frame) in report.iter().enumerate().skip(4) {
        let t = frame["time"].as_f64().unwrap();
        assert!((t - i as f64 * 0.020).abs() < 0.001, "field {i} at {t}");
        assert_on_player(frame, 3.0 * i as f64, "interlaced");
    }
}
