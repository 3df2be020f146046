// SPDX-License-Identifier: MPL-2.0
//! The athlete tracker with the real person detector, on real pictures seen through a moving
//! camera: a window that pans across a frame of opencv-doc's `vtest.avi` (a plaza with
//! walkers, who stand still in the world like spectators), and an athlete cut from
//! `basketball1.png` whom the camera follows (they stay where they are in the window).

use std::process::Command;
use std::sync::OnceLock;

use aicoach_inference::backend::EngineKind;
use aicoach_inference::{EngineOptions, ModelFile, ModelId, PersonDetector};
use aicoach_tests::{Photo, opencv_sample};
use aicoach_vision::image::PackedView;
use aicoach_vision::tracking::camera::CameraMotion;
use aicoach_vision::tracking::{AthleteTracker, TrackOutput, TrackerConfig};
use aicoach_vision::{Point, Rect};

/// The camera's window on the plaza.
const W: u32 = 384;
const H: u32 = 288;

/// The first frame of `vtest.avi`, decoded by GStreamer (the image crate reads no AVI), once
/// for all the tests.
fn plaza() -> &'static Photo {
    static PLAZA: OnceLock<Photo> = OnceLock::new();
    PLAZA.get_or_init(|| {
        let png = std::env::temp_dir().join(format!("aicoach-vtest-{}.png", std::process::id()));
        let status = Command::new("gst-launch-1.0")
            .args(["-q", "filesrc"])
            .arg(format!("location={}", opencv_sample("vtest.avi").display()))
            .args(["!", "decodebin", "!", "videoconvert", "!", "pngenc", "snapshot=true", "!", "filesink"])
            .arg(format!("location={}", png.display()))
            .status()
            .expect("gst-launch-1.0 runs");
        assert!(status.success(), "decoding vtest.avi failed");
        let photo = Photo::open(&png);
        let _ = std::fs::remove_file(&png);
        photo
    })
}

/// The player on the left of `basketball1.png`, scaled to `height` pixels.
fn athlete(height: u32) -> image::RgbImage {
    let photo = image::open(opencv_sample("basketball1.png")).unwrap().into_rgb8();
    let cut = image::imageops::crop_imm(&photo, 30, 75, 150, 400).to_image();
    let width = 150 * height / 400;
    image::imageops::resize(&cut, width, height, image::imageops::FilterType::Triangle)
}

/// The window with its top-left corner at (`x`, `y`) on the plaza, with `athlete` pasted
/// centred on `at` (frame pixels).
fn window(plaza: &Photo, x: u32, y: u32, athlete: Option<(&image::RgbImage, Point)>) -> Vec<u8> {
    let mut out = Vec::with_capacity((W * H * 3) as usize);
    for v in 0..H {
        let row = ((y + v) * plaza.width + x) as usize * 3;
        out.extend_from_slice(&plaza.rgb[row..row + W as usize * 3]);
    }
    if let Some((img, at)) = athlete {
        let (x0, y0) = ((at.x - img.width() as f32 / 2.0) as u32, (at.y - img.height() as f32 / 2.0) as u32);
        for (px, py, p) in img.enumerate_pixels() {
            let i = (((y0 + py) * W + x0 + px) * 3) as usize;
            out[i..i + 3].copy_from_slice(&p.0);
        }
    }
    out
}

/// Runs the tracker over `frames` frames, the camera's window at `camera(i)`, the athlete
/// pasted at `at` from frame `appears` on; the detector runs on the first frame and whenever
/// the tracker asks. Returns every frame's output and the athlete's box.
fn follow(camera: impl Fn(u32) -> (u32, u32), frames: u32, appears: u32) -> (Vec<TrackOutput>, Rect) {
    let plaza = plaza();
    let athlete = athlete(220);
    let at = Point::new(215.0, 150.0);
    let athlete_box = Rect::from_center(at.x, at.y, athlete.width() as f32, athlete.height() as f32);
    let options = EngineOptions::new(EngineKind::Tract, 1);
    let mut detector = PersonDetector::load(ModelFile::bundled(ModelId::PedestrianSsd), &options).unwrap();
    let mut tracker = AthleteTracker::new(TrackerConfig::default());
    let mut outputs: Vec<TrackOutput> = Vec::new();
    for i in 0..frames {
        let (x, y) = camera(i);
        let data = window(plaza, x, y, (i >= appears).then_some((&athlete, at)));
        let view = PackedView::rgb(&data, W, H).unwrap();
        let asked = outputs.last().is_none_or(|o| o.request_redetect);
        let found = asked.then(|| detector.detect(&view).unwrap());
        outputs.push(tracker.update(&view, i as f64 / 30.0, found.as_deref(), None));
    }
    (outputs, athlete_box)
}

/// The walker on the left of the plaza, in the window at (`x`, `y`).
fn walker(x: u32, y: u32) -> Rect {
    Rect { x: 252.0 - x as f32, y: 218.0 - y as f32, w: 36.0, h: 90.0 }
}

#[test]
fn a_walker_taken_for_the_athlete_is_dropped_once_the_camera_follows_someone_else() {
    // The camera pans right 4 px a frame; the athlete steps into the picture on frame 10 and
    // the camera keeps them where they are.
    let (outputs, athlete) = follow(|i| (130 + 4 * i, 100), 75, 10);
    let first = outputs[0].bbox.expect("someone is chosen on the first frame");
    assert!(first.iou(&walker(130, 100)) > 0.3, "the walker is chosen first: {first:?}");
    let dropped: Vec<usize> = outputs.iter().enumerate().filter(|(_, o)| o.left_behind).map(|(i, _)| i).collect();
    assert!(
        matches!(dropped.as_slice(), [i] if (24..=45).contains(i)),
        "the walker is dropped once, about a second in: {dropped:?}"
    );
    let last = outputs.last().unwrap();
    let seen = last.bbox.expect("an athlete at the end");
    assert!(
        last.track_id > 1 && seen.iou(&athlete) > 0.4,
        "the athlete is followed at the end: {last:?} vs {athlete:?}"
    );
}

#[test]
fn with_a_still_camera_the_walker_stays_the_athlete() {
    // The same scene without the pan: nothing says the walker is not the one to follow.
    let (outputs, _) = follow(|_| (130, 100), 75, 10);
    assert!(!outputs.iter().any(|o| o.left_behind));
    let last = outputs.last().unwrap();
    assert_eq!(last.track_id, 1, "{last:?}");
    assert!(last.bbox.unwrap().iou(&walker(130, 100)) > 0.3, "{last:?}");
}

#[test]
fn a_pan_over_a_real_picture_is_measured() {
    let plaza = plaza();
    let mut camera = CameraMotion::default();
    let mut moved = Point::default();
    // Right 5 px and down 2 px a frame for 40 frames: the picture moves 200 px left, 80 up.
    for i in 0..=40 {
        let data = window(plaza, 100 + 5 * i, 50 + 2 * i, None);
        if let Some(step) = camera.observe(&PackedView::rgb(&data, W, H).unwrap(), &[]) {
            moved = Point::new(moved.x + step.x, moved.y + step.y);
        } else {
            assert_eq!(i, 0, "every frame after the first is measured");
        }
    }
    assert!((moved.x + 200.0).abs() < 10.0 && (moved.y + 80.0).abs() < 10.0, "{moved:?}");
}
