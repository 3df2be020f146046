// SPDX-License-Identifier: MPL-2.0
//! aicoachdetect on a real photo (Debian's opencv-doc `messi5.jpg`), through a Harness and
//! through real pipelines in every supported format.

use aicoach_vision::tracking::TrackState;
use gst::prelude::*;
use gstaicoach::meta;

mod common;
use common::{HIPS, PHOTO, init, photo_sample};

fn harness(props: &str) -> gst_check::Harness {
    let mut h = gst_check::Harness::new_parse(&format!("aicoachdetect engine=cpu {props}"));
    h.play();
    h
}

/// A harness with `props` set up for the opencv-doc photo, and the photo's buffer.
fn photo_harness(props: &str) -> (gst_check::Harness, gst::Buffer) {
    init();
    let sample = photo_sample("RGB");
    let mut h = harness(props);
    h.set_src_caps(sample.caps().unwrap().to_owned());
    (h, sample.buffer().unwrap().to_owned())
}

#[test]
fn finds_the_person_in_a_real_photo_with_every_model() {
    init();
    let sample = photo_sample("RGB");
    for model in ["ssdlite", "blazepose-detector", "nanodet"] {
        let mut h = harness(&format!("model={model}"));
        h.set_src_caps(sample.caps().unwrap().to_owned());
        let out = h.push_and_pull(sample.buffer().unwrap().to_owned()).unwrap();
        let people = meta::persons(&out);
        assert!(!people.is_empty(), "{model}: no person");
        let (rect, score) = (people[0].bbox, people[0].score);
        assert!(score > 0.5, "{model}: score {score}");
        assert!(rect.contains(aicoach_vision::Point::new(HIPS.0, HIPS.1)), "{model}: {rect:?} misses the hips");
        let roi = out.meta::<gst_video::VideoRegionOfInterestMeta>().unwrap();
        assert_eq!(roi.roi_type(), "person");
        assert_eq!(roi.param(meta::OD_PARAMS).unwrap().get::<&str>("obj_type").unwrap(), "person");
    }
}

#[test]
fn runs_on_the_first_frame_then_only_when_asked() {
    let (mut h, buffer) = photo_harness("interval=0");
    let has_people = |b: &gst::Buffer| !meta::persons(b).is_empty();
    assert!(has_people(&h.push_and_pull(buffer.clone()).unwrap()), "first frame");
    assert!(!has_people(&h.push_and_pull(buffer.clone()).unwrap()), "second frame: not asked");
    // A tracker downstream asks for re-detection.
    assert!(h.push_upstream_event(meta::redetect_event("lost", None, None)));
    assert!(has_people(&h.push_and_pull(buffer.clone()).unwrap()), "frame after the request");
    assert!(!has_people(&h.push_and_pull(buffer).unwrap()), "and only that one");
}

#[test]
fn a_delayed_request_runs_on_the_frame_it_names_however_far_ahead_the_detector_is() {
    init();
    let sample = photo_sample("RGB");
    let frame = |i: u64| {
        let mut b = sample.buffer().unwrap().copy();
        b.get_mut().unwrap().set_pts(gst::ClockTime::from_mseconds(40 * i));
        b
    };
    // A tracker two frames behind the detector (a queue between them) asks on frame 1; with a
    // delay of 3 the detector runs on frame 4, as it would with the tracker right behind it.
    for ahead in [0u64, 2] {
        let mut h = harness("interval=0 request-delay=3");
        h.set_src_caps(sample.caps().unwrap().to_owned());
        let mut ran = Vec::new();
        for i in 0..=1 + ahead {
            ran.push(!meta::persons(&h.push_and_pull(frame(i)).unwrap()).is_empty());
        }
        assert!(h.push_upstream_event(meta::redetect_event(
            "verifying",
            Some(gst::ClockTime::from_mseconds(40)),
            None
        )));
        for i in 2 + ahead..7 {
            ran.push(!meta::persons(&h.push_and_pull(frame(i)).unwrap()).is_empty());
        }
        assert_eq!(ran, [true, false, false, false, true, false, false], "detector {ahead} frames ahead");
    }
}

/// While the athlete is looked for (the first frame, a tracker searching or lost), a person
/// under the threshold but above 0.6 of it is reported, alone; on other runs nobody under it.
#[test]
fn a_search_that_finds_nobody_sure_reports_the_surest_candidate_alone() {
    // Messi scores about 0.8: under this threshold, above 0.6 of it.
    let (mut h, buffer) = photo_harness("threshold=0.99 interval=1 search-model=none");
    let people = |h: &mut gst_check::Harness| meta::persons(&h.push_and_pull(buffer.clone()).unwrap());
    let first = people(&mut h);
    assert_eq!(first.len(), 1, "first frame: {first:?}");
    assert!(first[0].score < 0.99, "{first:?}");
    assert!(first[0].bbox.contains(aicoach_vision::Point::new(HIPS.0, HIPS.1)), "{first:?}");
    assert!(people(&mut h).is_empty(), "a run while nobody is looked for keeps the threshold");
    assert!(h.push_upstream_event(meta::redetect_event("verifying", None, None)));
    assert!(people(&mut h).is_empty(), "checking the athlete followed is no search");
    assert!(h.push_upstream_event(meta::redetect_event("lost", None, None)));
    assert_eq!(people(&mut h).len(), 1, "a tracker that lost the athlete searches");
}

#[test]
fn interval_runs_every_nth_frame() {
    let (mut h, buffer) = photo_harness("interval=3");
    let ran: Vec<bool> = (0..7).map(|_| !meta::persons(&h.push_and_pull(buffer.clone()).unwrap()).is_empty()).collect();
    assert_eq!(ran, [true, false, false, true, false, false, true]);
}

#[test]
fn every_supported_format_gives_the_same_person() {
    init();
    let mut boxes = Vec::new();
    for format in ["RGBA", "BGRx", "xRGB", "RGB", "BGR", "I420", "NV12"] {
        let sample = photo_sample(format);
        let mut h = harness("");
        h.set_src_caps(sample.caps().unwrap().to_owned());
        let out = h.push_and_pull(sample.buffer().unwrap().to_owned()).unwrap();
        let people = meta::persons(&out);
        assert!(!people.is_empty(), "{format}: no person");
        boxes.push((format, people[0].bbox));
    }
    let (_, reference) = boxes[0];
    for (format, b) in &boxes {
        // YUV formats lose some colour resolution; the box moves by a few pixels at most.
        let d = (b.center().x - reference.center().x).hypot(b.center().y - reference.center().y);
        assert!(d < 8.0 && (b.w - reference.w).abs() < 16.0, "{format}: {b:?} vs RGBA {reference:?}");
    }
}

#[test]
fn posts_messages_when_asked() {
    init();
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={PHOTO} ! jpegdec ! videoconvert ! aicoachdetect engine=cpu post-messages=true ! fakesink"
    ))
    .unwrap();
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut found = None;
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(60)) {
        match msg.view() {
            gst::MessageView::Element(e) if e.structure().is_some_and(|s| s.name() == "aicoachdetect") => {
                found = Some(e.structure().unwrap().to_owned());
            }
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => panic!("{}", e.error()),
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let s = found.expect("no aicoachdetect message");
    let list = s.get::<gst::List>("detections").unwrap();
    assert!(!list.is_empty());
    let first = list.as_slice()[0].get::<gst::Structure>().unwrap();
    assert!(first.get::<f32>("loc_conf_lvl").unwrap() > 0.5);
}

#[test]
fn bad_properties_fail_at_start_with_a_message_naming_them() {
    init();
    for (props, expected) in [
        ("model=huge", "unknown detector model 'huge'"),
        ("engine=gpu9", "gpu9"),
        ("model=lite", "pose model, not a person detector"),
        ("model=/nonexistent/det.onnx", "/nonexistent/det.onnx"),
        ("search-model=huge", "search-model: unknown detector model 'huge'"),
        ("search-model=full", "search-model: 'full' is a pose model"),
    ] {
        let error = common::first_error(&format!("videotestsrc num-buffers=2 ! aicoachdetect {props} ! fakesink"));
        assert!(error.contains(expected), "{props}: {error}");
    }
}

/// Clips whose athlete is large and clear from the first frame: the default chain must give
/// them a box on frame one. Real footage from `../shared/data` (a missing file fails the test
/// with its path) and a real photo from opencv-doc (any machine).
#[test]
fn a_large_clear_athlete_has_a_box_on_the_first_frame() {
    init();
    let mut sources: Vec<String> =
        ["tune_a_video/man-skiing.mp4", "tune_a_video/man-surfing.mp4", "openpose/video.avi", "sports2d/demo.mp4"]
            .iter()
            .map(|clip| format!("filesrc location={} ! decodebin ! videoconvert", common::shared_video(clip).display()))
            .collect();
    sources.push(format!("filesrc location={} ! decodebin ! videoconvert ! imagefreeze num-buffers=1", common::PHOTO));
    for source in sources {
        let sample = common::first_sample(&format!("{source} ! aicoachdetect ! aicoachtrack ! appsink name=sink"));
        let athlete = meta::athlete(sample.buffer().unwrap());
        println!("{source}: {athlete:?}");
        let meta::AthleteInfo { rect, state, .. } =
            athlete.unwrap_or_else(|| panic!("{source}: no athlete box on the first frame"));
        assert_eq!(state, TrackState::Tracking, "{source}");
        assert!(rect.h > 100.0, "{source}: {rect:?}");
    }
}

/// On the first frame of sports2d's demo the pedestrian SSD finds nobody: the athlete is
/// backlit, arms and legs spread in a jumping jack. NanoDet finds him, as the search detector
/// joining the SSD while the athlete is looked for and as the default detector; with the SSD's
/// whole-frame look alone the tracker has no one to follow.
#[test]
fn the_search_detector_finds_the_athlete_the_first_one_misses() {
    init();
    let clip = common::shared_video("sports2d/demo.mp4");
    let first_athlete = |props: &str| {
        let sample = common::first_sample(&format!(
            "filesrc location={} ! decodebin ! videoconvert ! aicoachdetect {props} ! aicoachtrack ! appsink name=sink",
            clip.display()
        ));
        meta::athlete(sample.buffer().unwrap())
    };
    // Its whole-frame look (its tiles, `search-tiles`, find him at twice the size).
    assert_eq!(
        first_athlete("model=ssdlite search-model=none search-tiles=false"),
        None,
        "the pedestrian SSD alone finds him now"
    );
    for props in ["model=ssdlite search-model=nanodet", ""] {
        let athlete = first_athlete(props).unwrap_or_else(|| panic!("{props}: no athlete on the first frame"));
        // The athlete (about 135 x 390 px on the roof, left of centre), not someone in the
        // background.
        assert!(athlete.rect.h > 300.0 && athlete.rect.x < 800.0, "{props}: {athlete:?}");
    }
}

/// sports2d's demo (1768 x 994) as a wide shot: every frame shrunk to `share` of its width and
/// height in the middle of a black frame of its own size, as `aicoach-product-eval --inset`
/// films it. At a third the athlete, about 130 px tall, is 30 px tall to the detector's
/// whole-frame look; at a quarter, 97 px and 23 px.
struct WideShot {
    inner: (u32, u32),
    left: u32,
    top: u32,
}

impl WideShot {
    const FRAME: (u32, u32) = (1768, 994);

    fn new(share: f32) -> Self {
        let (w, h) = Self::FRAME;
        let inner = ((w as f32 * share) as u32 & !1, (h as f32 * share) as u32 & !1);
        Self { inner, left: (w - inner.0) / 2, top: (h - inner.1) / 2 }
    }

    fn launch(&self, tail: &str) -> String {
        let (right, bottom) = (Self::FRAME.0 - self.inner.0 - self.left, Self::FRAME.1 - self.inner.1 - self.top);
        format!(
            "filesrc location={} ! decodebin ! videoconvert ! videoscale ! \
             video/x-raw,width={},height={},pixel-aspect-ratio=1/1 ! \
             videobox fill=black left=-{} right=-{right} top=-{} bottom=-{bottom} ! videoconvert ! {tail}",
            common::shared_video("sports2d/demo.mp4").display(),
            self.inner.0,
            self.inner.1,
            self.left,
            self.top
        )
    }

    /// The athlete's hand-checked box on `frame` (tests/fixtures), in the wide shot.
    fn athlete(&self, frame: usize) -> aicoach_vision::Rect {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/athlete_boxes/sports2d-demo.json");
        let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let b: Vec<f32> =
            fixture["boxes"][frame].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let (sx, sy) = (self.inner.0 as f32 / Self::FRAME.0 as f32, self.inner.1 as f32 / Self::FRAME.1 as f32);
        let (left, top) = (self.left as f32, self.top as f32);
        aicoach_vision::Rect { x: b[0] * sx + left, y: b[1] * sy + top, w: b[2] * sx, h: b[3] * sy }
    }
}

/// An athlete small in a large frame (a wide shot) has a box on the first frame: the detector
/// looks again in tiles of the frame when its whole-frame look finds nobody sure, halves of the
/// frame (enough at a third), then thirds (needed at a quarter). Without the tiles nobody had a
/// box on the first 156 frames at a third, on any frame at a quarter.
#[test]
fn a_small_athlete_in_a_wide_shot_has_a_box_on_the_first_frame() {
    init();
    for share in [0.33, 0.25] {
        let shot = WideShot::new(share);
        let truth = shot.athlete(0);
        let athlete = |props: &str| {
            let sample = common::first_sample(
                &shot.launch(&format!("aicoachdetect {props} ! aicoachtrack ! appsink name=sink")),
            );
            meta::athlete(sample.buffer().unwrap()).map(|a| a.rect)
        };
        let found =
            athlete("").unwrap_or_else(|| panic!("{share}: no athlete box on the first frame; he is at {truth:?}"));
        assert!(found.iou(&truth) >= 0.5, "{share}: {found:?}, he is at {truth:?}");
        let whole_frame_only = athlete("search-tiles=false");
        assert!(
            whole_frame_only.is_none_or(|r| r.iou(&truth) < 0.5),
            "{share}: the whole-frame look finds him now: {whole_frame_only:?}"
        );
    }
}

/// A small athlete stays followed past the 3 s a track may go on the pose estimator's word
/// alone: the detector's checks look at a window around them, where they are large enough to
/// be found (without it the track was lost on frame 104).
#[test]
fn a_small_athlete_in_a_wide_shot_stays_followed() {
    init();
    let shot = WideShot::new(0.33);
    let (pipeline, sink) =
        common::playing(&shot.launch("aicoachdetect ! aicoachtrack ! aicoachpose ! appsink name=sink sync=false"));
    let mut ious = Vec::new();
    for frame in 0..=112 {
        let sample = sink.pull_sample().unwrap_or_else(|_| panic!("no frame {frame}"));
        let athlete = meta::athlete(sample.buffer().unwrap());
        if frame >= 105 {
            let iou = athlete.filter(|a| a.state != TrackState::Lost).map_or(0.0, |a| a.rect.iou(&shot.athlete(frame)));
            ious.push(iou);
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let mean = ious.iter().sum::<f32>() / ious.len() as f32;
    assert!(mean >= 0.6, "frames 105-112: IoU with the athlete {ious:?}");
}

/// An athlete upside down (a handstand, a flip, legs in the air after a fall) is found on the
/// first frame: the large woman of an AIC photo, in a square around her as the development
/// evaluation cuts it, turned half round by `videoflip`. With `search-upside-down=false`
/// (upright looks alone) the one box found scored 0.44, on her neighbour's legs.
#[test]
fn an_athlete_upside_down_has_a_box_on_the_first_frame() {
    init();
    let photo = common::shared_video("mmpose/aic/ff945ae2e729f24eea992814639d59b3bdec8bd8.jpg");
    // test_aic.json: her box (33, 73, 493 x 566) in the 950 x 641 photo; the square of 1.5 x
    // 566 = 849 px around its centre starts at (-145, -68), black past the photo's edges.
    let cut = common::SquareCut { photo_w: 950, photo_h: 641, left: -145, top: -68, side: 849 };
    let upright = cut.in_square(aicoach_vision::Rect { x: 33.0, y: 73.0, w: 493.0, h: 566.0 });
    let side = cut.side as f32;
    let turned = aicoach_vision::Rect { x: side - upright.x - upright.w, y: side - upright.y - upright.h, ..upright };
    let athlete = |props: &str| {
        let sample = common::first_sample(&format!(
            "filesrc location={} ! decodebin ! videoconvert ! {} ! videoflip video-direction=180 ! \
             imagefreeze num-buffers=1 ! aicoachdetect {props} ! aicoachtrack ! appsink name=sink",
            photo.display(),
            cut.videobox()
        ));
        meta::athlete(sample.buffer().unwrap()).map(|a| a.rect)
    };
    let found = athlete("").unwrap_or_else(|| panic!("no athlete box"));
    assert!(found.iou(&turned) >= 0.7, "{found:?}, she is at {turned:?}");
    let upright_only = athlete("search-upside-down=false");
    assert!(upright_only.is_none_or(|r| r.iou(&turned) < 0.5), "upright looks alone find her now: {upright_only:?}");
}

#[test]
fn without_onnx_runtime_auto_warns_that_the_models_run_on_tract() {
    // In a child process: ONNX Runtime, once loaded, stays loaded for the whole process.
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", "tract_fallback_child", "--nocapture", "--include-ignored"])
        .env("AICOACH_ORT_LIB", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    for element in ["aicoachdetect0", "aicoachpose0"] {
        let line =
            text.lines().find(|l| l.starts_with(&format!("WARNING {element}:"))).unwrap_or_else(|| panic!("{text}"));
        assert!(line.contains("tract") && line.contains("/nonexistent/libonnxruntime.so"), "{line}");
    }
    assert!(text.contains("ENGINE=cpu warnings: 0"), "{text}");
}

#[test]
#[ignore = "run by without_onnx_runtime_auto_warns_that_the_models_run_on_tract in a child process"]
fn tract_fallback_child() {
    init();
    // The models run; the pipeline ends in EOS, with one warning per model-running element for
    // `auto`, none for an engine chosen knowingly.
    for engine in ["auto", "cpu"] {
        let warnings = common::warnings_until_eos(&format!(
            "videotestsrc num-buffers=2 ! video/x-raw,width=320,height=240 ! aicoachdetect engine={engine} ! \
             aicoachpose engine={engine} body-model=none ! fakesink"
        ));
        for w in &warnings {
            println!("WARNING {w}");
        }
        println!("ENGINE={engine} warnings: {}", warnings.len());
    }
}
