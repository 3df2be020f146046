// SPDX-License-Identifier: MPL-2.0
//! Shared by the element tests: plugin registration and the real media from Debian's
//! opencv-doc (installed by the setup and CI; a missing file fails the test, never skips it).

#![allow(dead_code)]

use gst::prelude::*;

pub const DATA: &str = "/usr/share/doc/opencv-doc/examples/data";
pub const PHOTO: &str = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";
pub const VIDEO: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
/// Where the player's hips are in the photo (onnxruntime reference, tests/fixtures).
pub const HIPS: (f32, f32) = (265.0, 225.0);

/// Plays the launch line `description` to EOS and returns the warnings it posted on the way,
/// "element: message" each. An error fails the test, and so does no EOS within two minutes
/// (a hang).
pub fn warnings_until_eos(description: &str) -> Vec<String> {
    let pipeline = gst::parse::launch(description).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let mut warnings = Vec::new();
    let kinds = [gst::MessageType::Eos, gst::MessageType::Error, gst::MessageType::Warning];
    loop {
        let msg = bus
            .timed_pop_filtered(gst::ClockTime::from_seconds(120), &kinds)
            .unwrap_or_else(|| panic!("no EOS within two minutes: {description}"));
        match msg.view() {
            gst::MessageView::Warning(w) => warnings.push(format!("{}: {}", msg.src().unwrap().name(), w.error())),
            gst::MessageView::Error(e) => panic!("{}", e.error()),
            _ => break,
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    warnings
}

pub fn init() {
    use std::sync::Once;
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().unwrap();
        gstaicoach::plugin_register_static().unwrap();
    });
    for f in [PHOTO, VIDEO] {
        assert!(std::path::Path::new(f).is_file(), "{f} is missing: install Debian's opencv-doc (the setup does)");
    }
}

/// The photo decoded to `format` by a real decoder and converter, as one buffer with caps.
pub fn photo_sample(format: &str) -> gst::Sample {
    image_sample(PHOTO, format)
}

/// Any image file decoded to `format`, as one buffer with caps.
pub fn image_sample(path: &str, format: &str) -> gst::Sample {
    first_sample(&format!(
        "filesrc location={path} ! decodebin ! videoconvert ! video/x-raw,format={format} ! appsink name=sink"
    ))
}

/// `launch` playing, and its appsink named `sink`.
pub fn playing(launch: &str) -> (gst::Pipeline, gst_app::AppSink) {
    let pipeline = gst::parse::launch(launch).unwrap().downcast::<gst::Pipeline>().unwrap();
    let sink = pipeline.by_name("sink").unwrap().downcast::<gst_app::AppSink>().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    (pipeline, sink)
}

/// The first sample that reaches the appsink named `sink` in `launch`.
pub fn first_sample(launch: &str) -> gst::Sample {
    let (pipeline, sink) = playing(launch);
    let sample = sink.pull_sample().unwrap_or_else(|_| panic!("no sample from {launch}"));
    pipeline.set_state(gst::State::Null).unwrap();
    sample
}

/// Starts `launch` and returns the text of the first error it posts; or the parser's, where a
/// property value is refused before anything starts (a value not among an enum's).
pub fn first_error(launch: &str) -> String {
    let pipeline = match gst::parse::launch(launch) {
        Ok(pipeline) => pipeline,
        Err(e) => return e.to_string(),
    };
    let bus = pipeline.bus().unwrap();
    let _ = pipeline.set_state(gst::State::Playing);
    let msg = bus.timed_pop_filtered(gst::ClockTime::from_seconds(30), &[gst::MessageType::Error]).expect("an error");
    pipeline.set_state(gst::State::Null).unwrap();
    match msg.view() {
        gst::MessageView::Error(err) => err.error().to_string(),
        _ => unreachable!(),
    }
}

/// A square cut from a photo as the development evaluation cuts one around a person: `side`
/// pixels from (`left`, `top`) of the `photo_w` x `photo_h` photo, black past its edges.
pub struct SquareCut {
    pub photo_w: i32,
    pub photo_h: i32,
    pub left: i32,
    pub top: i32,
    pub side: i32,
}

impl SquareCut {
    /// The `videobox` element that cuts it (it pads where its values are negative and crops
    /// where they are positive).
    pub fn videobox(&self) -> String {
        let (right, bottom) = (self.photo_w - (self.left + self.side), self.photo_h - (self.top + self.side));
        format!("videobox left={} right={right} top={} bottom={bottom} fill=black", self.left, self.top)
    }

    /// A box of the photo in the square's pixels.
    pub fn in_square(&self, r: aicoach_vision::Rect) -> aicoach_vision::Rect {
        aicoach_vision::Rect { x: r.x - self.left as f32, y: r.y - self.top as f32, ..r }
    }
}

/// A fresh, empty folder for one test's files.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("aicoach-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The folder holding the plugin this test was built with (target/<profile>), for tests that
/// run `gst-launch-1.0` or the pipeline scripts.
pub fn plugin_dir() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(std::path::Path::parent).unwrap().to_path_buf();
    assert!(
        dir.join("libgstaicoach.so").is_file(),
        "no libgstaicoach.so in {}: `cargo test` does not build the plugin's shared library; \
         run `cargo build -p gst-plugin-aicoach` first (pipelines/setup.sh --test does)",
        dir.display()
    );
    dir
}

/// The development videos beside the checkout (`../shared/data`), which CI has too: a missing
/// one fails the test with the path it wanted, never skips it.
pub fn shared_video(relative: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(relative);
    assert!(path.is_file(), "{} is missing: this check needs the shared development data", path.display());
    path
}

/// A script users run, from `pipelines/`.
pub fn script(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines").join(name)
}

/// A video file decoded to grey frames: (PTS in ns, width, height, pixels), plus the caps'
/// `interlace-mode` of the decoded video. An unplayable file fails the test.
pub struct Decoded {
    pub frames: Vec<(Option<u64>, usize, usize, Vec<u8>)>,
    pub interlace_mode: String,
}

pub fn decode_grey(path: &std::path::Path) -> Decoded {
    let (pipeline, sink) = playing(&format!(
        "filesrc location={} ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=sink sync=false",
        path.display()
    ));
    let mut frames = Vec::new();
    let mut interlace_mode = String::new();
    let bus = pipeline.bus().unwrap();
    // pull_sample() waits for ever when the pipeline fails (an unplayable file): watch the bus.
    loop {
        let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(200)) else {
            if sink.is_eos() {
                break;
            }
            if let Some(error) = bus.pop_filtered(&[gst::MessageType::Error]) {
                pipeline.set_state(gst::State::Null).unwrap();
                panic!("{}: {error:?}", path.display());
            }
            continue;
        };
        let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
        interlace_mode = format!("{:?}", info.interlace_mode());
        let buffer = sample.buffer().unwrap();
        let map = buffer.map_readable().unwrap();
        let (w, h, stride) = (info.width() as usize, info.height() as usize, info.stride()[0] as usize);
        let pixels = (0..h).flat_map(|y| map[y * stride..y * stride + w].iter().copied()).collect();
        frames.push((buffer.pts().map(|t| t.nseconds()), w, h, pixels));
    }
    let error = bus.pop_filtered(&[gst::MessageType::Error]);
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(error.is_none(), "{}: {error:?}", path.display());
    Decoded { frames, interlace_mode }
}

/// Every line of a JSON Lines report.
pub fn report_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(|l| serde_json::from_str(l).expect("every line is JSON")).collect()
}

/// The mean of the two hips in a report frame's keypoints.
pub fn hips(frame: &serde_json::Value) -> Option<(f64, f64)> {
    let k = frame["keypoints"].as_object()?;
    let (l, r) = (k.get("left_hip")?, k.get("right_hip")?);
    Some(((l[0].as_f64()? + r[0].as_f64()?) / 2.0, (l[1].as_f64()? + r[1].as_f64()?) / 2.0))
}
