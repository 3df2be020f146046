// SPDX-License-Identifier: MPL-2.0
//! How results travel between elements and to applications: standard GStreamer metadata that
//! any application reads without our code.
//!
//! - Boxes: `GstVideoRegionOfInterestMeta`, roi type `person` (detector) or `athlete` (tracker),
//!   with a parameter structure `aicoach/od` mirroring GStreamer 1.24's analytics
//!   object-detection fields (`x`, `y`, `w`, `h` as doubles, `loc_conf_lvl`, `obj_type`), and for
//!   the athlete a second one, `aicoach/tracking` (`tracking_id`, `tracking_first_seen`,
//!   `tracking_last_seen`, `tracking_lost`, `state`).
//! - Keypoints and verdicts: a custom meta `AICoachMeta` carrying a `GstStructure` (keypoints:
//!   see `pose.rs`; the classifier's verdict: `verdict.rs`).
//! - Upstream feedback (`events.rs`): the tracker's re-detection requests (`aicoach/redetect`)
//!   and the pose estimator's report of where it saw the athlete (`aicoach/pose-seen`).

use std::ops::ControlFlow;
use std::sync::Once;

use gst::buffer::BufferMetaForeachAction;

use aicoach_vision::tracking::TrackState;
use aicoach_vision::{Detection, Rect};

mod events;
mod pose;
mod verdict;

pub use events::{
    PoseSeen, is_redetect_event, pose_seen_event, read_pose_seen, redetect_athlete, redetect_event, redetect_pts,
    redetect_to_search,
};
pub use pose::{POSE_FIELD, POSE_PARAMS, PoseReading, PoseSource, pose_structure, read_pose, set_pose};
pub use verdict::{VERDICT_FIELD, VERDICT_PARAMS, Verdict, read_verdict, set_verdict, verdict_structure};

pub const ROI_PERSON: &str = "person";
pub const ROI_ATHLETE: &str = "athlete";
pub const OD_PARAMS: &str = "aicoach/od";
pub const TRACKING_PARAMS: &str = "aicoach/tracking";
pub const CUSTOM_META: &str = "AICoachMeta";

/// Registers the custom meta once per process; buffer copies carry it along.
pub fn register_custom_meta() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        gst::meta::CustomMeta::register_with_transform(CUSTOM_META, &[], |dest, meta, _src, transform| {
            // Only plain copies: a scaled or cropped frame would make the coordinates wrong.
            if transform.as_str() != "gst-copy" {
                return false;
            }
            match gst::meta::CustomMeta::add(dest, CUSTOM_META) {
                Ok(mut copy) => {
                    let target = copy.mut_structure();
                    for (field, value) in meta.structure().iter() {
                        target.set_value(field, value.clone());
                    }
                    true
                }
                Err(_) => false,
            }
        });
    });
}

/// Edits the buffer's `AICoachMeta` structure, adding the meta if the buffer has none yet.
pub fn with_custom_structure<R>(buffer: &mut gst::BufferRef, f: impl FnOnce(&mut gst::StructureRef) -> R) -> R {
    if gst::meta::CustomMeta::from_buffer(buffer, CUSTOM_META).is_err() {
        gst::meta::CustomMeta::add(buffer, CUSTOM_META).expect("registered in plugin_init");
    }
    let mut meta = gst::meta::CustomMeta::from_mut_buffer(buffer, CUSTOM_META).expect("just added");
    f(meta.mut_structure())
}

/// Field of `AICoachMeta` set on frames the detector ran on, so a tracker can tell "found
/// nobody" from "did not look".
pub const DETECTOR_RAN: &str = "detector_ran";

pub fn mark_detector_ran(buffer: &mut gst::BufferRef) {
    with_custom_structure(buffer, |s| s.set(DETECTOR_RAN, true));
}

pub fn detector_ran(buffer: &gst::BufferRef) -> bool {
    custom_field::<bool>(buffer, DETECTOR_RAN).unwrap_or(false)
}

/// A field of the buffer's `AICoachMeta` structure, if the buffer has the meta and the field.
pub fn custom_field<T: for<'a> gst::glib::value::FromValue<'a> + 'static>(
    buffer: &gst::BufferRef,
    field: &str,
) -> Option<T> {
    let meta = gst::meta::CustomMeta::from_buffer(buffer, CUSTOM_META).ok()?;
    meta.structure().get::<T>(field).ok()
}

/// The box in whole pixels, clipped to the frame (the ROI meta stores unsigned integers).
pub fn clip_rect(r: &Rect, width: u32, height: u32) -> (u32, u32, u32, u32) {
    let x0 = r.x.max(0.0).min(width as f32);
    let y0 = r.y.max(0.0).min(height as f32);
    let x1 = (r.x + r.w).max(0.0).min(width as f32);
    let y1 = (r.y + r.h).max(0.0).min(height as f32);
    (x0.round() as u32, y0.round() as u32, (x1 - x0).round() as u32, (y1 - y0).round() as u32)
}

/// The object-detection parameter structure of one box (unclipped, in frame pixels).
pub fn od_structure(obj_type: &str, rect: &Rect, confidence: f32) -> gst::Structure {
    gst::Structure::builder(OD_PARAMS)
        .field("obj_type", obj_type)
        .field("x", rect.x as f64)
        .field("y", rect.y as f64)
        .field("w", rect.w as f64)
        .field("h", rect.h as f64)
        .field("loc_conf_lvl", confidence)
        .build()
}

/// Attaches a `person` ROI meta for a detection.
pub fn add_person(buffer: &mut gst::BufferRef, d: &Detection, width: u32, height: u32) {
    let mut meta = gst_video::VideoRegionOfInterestMeta::add(buffer, ROI_PERSON, clip_rect(&d.bbox, width, height));
    meta.add_param(od_structure(ROI_PERSON, &d.bbox, d.score));
}

/// The tracker's view of the athlete on one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct AthleteInfo {
    pub rect: Rect,
    pub confidence: f32,
    pub tracking_id: u64,
    pub first_seen: Option<gst::ClockTime>,
    pub last_seen: Option<gst::ClockTime>,
    pub state: TrackState,
}

pub fn tracking_structure(a: &AthleteInfo) -> gst::Structure {
    gst::Structure::builder(TRACKING_PARAMS)
        .field("tracking_id", a.tracking_id)
        .field("tracking_first_seen", a.first_seen.map_or(u64::MAX, |t| t.nseconds()))
        .field("tracking_last_seen", a.last_seen.map_or(u64::MAX, |t| t.nseconds()))
        .field("tracking_lost", a.state == TrackState::Lost)
        .field("state", a.state.name())
        .build()
}

/// Attaches the `athlete` ROI meta with its detection and tracking parameters.
pub fn add_athlete(buffer: &mut gst::BufferRef, a: &AthleteInfo, width: u32, height: u32) {
    let mut meta = gst_video::VideoRegionOfInterestMeta::add(buffer, ROI_ATHLETE, clip_rect(&a.rect, width, height));
    meta.add_param(od_structure(ROI_ATHLETE, &a.rect, a.confidence));
    meta.add_param(tracking_structure(a));
}

/// Moves the athlete's box to `rect`, keeping the rest of what the tracker said; false when the
/// buffer has no athlete. The ROI meta has no way to replace its parameters, so the meta is
/// attached anew.
pub fn set_athlete_rect(buffer: &mut gst::BufferRef, rect: Rect, width: u32, height: u32) -> bool {
    let Some(mut a) = athlete(buffer) else { return false };
    buffer.foreach_meta_mut(|mut m| {
        let is_athlete =
            m.downcast_ref::<gst_video::VideoRegionOfInterestMeta>().is_some_and(|r| r.roi_type() == ROI_ATHLETE);
        ControlFlow::Continue(if is_athlete { BufferMetaForeachAction::Remove } else { BufferMetaForeachAction::Keep })
    });
    a.rect = rect;
    add_athlete(buffer, &a, width, height);
    true
}

/// The `athlete` ROI meta on this buffer, if a tracker upstream attached one.
fn athlete_roi(buffer: &gst::BufferRef) -> Option<gst::MetaRef<'_, gst_video::VideoRegionOfInterestMeta>> {
    buffer.iter_meta::<gst_video::VideoRegionOfInterestMeta>().find(|m| m.roi_type() == ROI_ATHLETE)
}

/// An ROI meta's own rectangle: clipped to the frame, in whole pixels.
fn in_frame(meta: &gst_video::VideoRegionOfInterestMeta) -> Rect {
    let (x, y, w, h) = meta.rect();
    Rect { x: x as f32, y: y as f32, w: w as f32, h: h as f32 }
}

/// The tracker's view of the athlete on this buffer, if a tracker upstream attached it.
pub fn athlete(buffer: &gst::BufferRef) -> Option<AthleteInfo> {
    let meta = athlete_roi(buffer)?;
    let (rect, confidence) = roi_rect(&meta);
    let tracking = meta.param(TRACKING_PARAMS)?;
    let time =
        |field: &str| tracking.get::<u64>(field).ok().filter(|&t| t != u64::MAX).map(gst::ClockTime::from_nseconds);
    Some(AthleteInfo {
        rect,
        confidence,
        tracking_id: tracking.get::<u64>("tracking_id").ok()?,
        first_seen: time("tracking_first_seen"),
        last_seen: time("tracking_last_seen"),
        state: tracking.get::<&str>("state").ok()?.parse().ok()?,
    })
}

/// The athlete's box within the picture (the ROI meta's own rectangle: clipped to the frame,
/// in whole pixels), where a tracker upstream attached one. The parameters' box
/// ([`athlete`]) may reach past the frame's edges, for a body partly out of view whose scale
/// the pose estimator keeps; what the picture shows of the athlete ends at its edges.
pub fn athlete_in_picture(buffer: &gst::BufferRef) -> Option<Rect> {
    athlete_roi(buffer).map(|meta| in_frame(&meta))
}

/// Reads a box back from an ROI meta: the unclipped one from its parameters where present.
pub fn roi_rect(meta: &gst_video::VideoRegionOfInterestMeta) -> (Rect, f32) {
    let fallback = in_frame(meta);
    match meta.param(OD_PARAMS) {
        Some(s) => {
            let get = |f: &str| s.get::<f64>(f).ok().map(|v| v as f32);
            let rect = match (get("x"), get("y"), get("w"), get("h")) {
                (Some(x), Some(y), Some(w), Some(h)) => Rect { x, y, w, h },
                _ => fallback,
            };
            (rect, s.get::<f32>("loc_conf_lvl").unwrap_or(1.0))
        }
        None => (fallback, 1.0),
    }
}

/// People found on this buffer by a detector upstream (their boxes and scores).
pub fn persons(buffer: &gst::BufferRef) -> Vec<Detection> {
    buffer
        .iter_meta::<gst_video::VideoRegionOfInterestMeta>()
        .filter(|m| m.roi_type() == ROI_PERSON)
        .map(|m| {
            let (rect, score) = roi_rect(&m);
            Detection::boxed(rect, score)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_round_trip_through_roi_meta() {
        gst::init().unwrap();
        let mut buffer = gst::Buffer::new();
        let d = Detection::boxed(Rect { x: -10.5, y: 20.0, w: 100.0, h: 300.0 }, 0.75);
        add_person(buffer.get_mut().unwrap(), &d, 640, 240);
        let meta = buffer.meta::<gst_video::VideoRegionOfInterestMeta>().unwrap();
        assert_eq!(meta.roi_type(), "person");
        // Clipped to the frame in the integer rectangle...
        assert_eq!(meta.rect(), (0, 20, 90, 220));
        // ...unclipped in the parameters.
        assert_eq!(persons(&buffer), vec![d]);
    }

    #[test]
    fn the_athlete_round_trips_through_roi_meta() {
        gst::init().unwrap();
        let mut buffer = gst::Buffer::new();
        let a = AthleteInfo {
            rect: Rect { x: 10.0, y: 20.0, w: 30.5, h: 80.0 },
            confidence: 0.5,
            tracking_id: 3,
            first_seen: Some(gst::ClockTime::from_mseconds(40)),
            last_seen: None,
            state: TrackState::Verifying,
        };
        add_athlete(buffer.get_mut().unwrap(), &a, 640, 480);
        assert_eq!(athlete(&buffer), Some(a));
    }

    #[test]
    fn the_athlete_in_the_picture_ends_at_its_edges() {
        gst::init().unwrap();
        let mut buffer = gst::Buffer::new();
        // A body whose head is out of view at the top, reaching past the right edge.
        let a = AthleteInfo {
            rect: Rect { x: 600.0, y: -30.0, w: 60.0, h: 200.0 },
            confidence: 0.5,
            tracking_id: 1,
            first_seen: None,
            last_seen: None,
            state: TrackState::Tracking,
        };
        add_athlete(buffer.get_mut().unwrap(), &a, 640, 480);
        assert_eq!(athlete(&buffer).map(|a| a.rect), Some(a.rect));
        assert_eq!(athlete_in_picture(&buffer), Some(Rect { x: 600.0, y: 0.0, w: 40.0, h: 170.0 }));
    }

    #[test]
    fn moving_the_athletes_box_keeps_one_athlete_and_the_people() {
        gst::init().unwrap();
        let mut buffer = gst::Buffer::new();
        let b = buffer.get_mut().unwrap();
        let person = Detection::boxed(Rect { x: 300.0, y: 20.0, w: 50.0, h: 100.0 }, 0.9);
        add_person(b, &person, 640, 480);
        let a = AthleteInfo {
            rect: Rect { x: 10.0, y: 20.0, w: 30.0, h: 80.0 },
            confidence: 0.7,
            tracking_id: 2,
            first_seen: None,
            last_seen: None,
            state: TrackState::Tracking,
        };
        add_athlete(b, &a, 640, 480);
        let fitted = Rect { x: 8.0, y: 12.0, w: 36.0, h: 92.0 };
        assert!(set_athlete_rect(b, fitted, 640, 480));
        assert_eq!(athlete(&buffer), Some(AthleteInfo { rect: fitted, ..a }));
        let athletes =
            buffer.iter_meta::<gst_video::VideoRegionOfInterestMeta>().filter(|m| m.roi_type() == ROI_ATHLETE);
        assert_eq!(athletes.count(), 1);
        assert_eq!(persons(&buffer), vec![person]);
        assert!(!set_athlete_rect(gst::Buffer::new().get_mut().unwrap(), fitted, 640, 480));
    }

    #[test]
    fn custom_meta_survives_a_buffer_copy() {
        gst::init().unwrap();
        register_custom_meta();
        let mut buffer = gst::Buffer::with_size(4).unwrap();
        {
            let b = buffer.get_mut().unwrap();
            let mut meta = gst::meta::CustomMeta::add(b, CUSTOM_META).unwrap();
            meta.mut_structure().set("score", 7.5f64);
        }
        let copy = buffer.copy();
        let meta = gst::meta::CustomMeta::from_buffer(&copy, CUSTOM_META).unwrap();
        assert_eq!(meta.structure().get::<f64>("score").unwrap(), 7.5);
    }
}
