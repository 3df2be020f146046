// SPDX-License-Identifier: MPL-2.0
//! Custom upstream events: how a downstream element tells an upstream one what it learnt.
//!
//! - `aicoach/redetect` (`reason`: the tracker's state; `pts`, when the frame has one: the frame
//!   the tracker asked on; `x`, `y`, `w`, `h`, when it has one: the athlete's box, or where they
//!   were last seen): the tracker needs the detector to run on a coming frame (which one:
//!   `aicoachdetect`'s `request-delay`), and to look closer there when the athlete is small.
//! - `aicoach/pose-seen` (`pts`, `tracking_id`, `x`, `y`, `w`, `h`, `score`): the pose estimator
//!   found the athlete's body in this box on the frame at `pts`, with the landmark model's
//!   person score. The tracker uses it to verify its track when its own filter is unsure.

use aicoach_vision::Rect;
use aicoach_vision::tracking::TrackState;

pub const REDETECT_EVENT: &str = "aicoach/redetect";
pub const POSE_SEEN_EVENT: &str = "aicoach/pose-seen";

/// The event a tracker sends upstream, while handling the frame at `pts`, when it needs the
/// detector to run on a coming frame; `athlete`: where it has (or last had) the athlete.
pub fn redetect_event(reason: &str, pts: Option<gst::ClockTime>, athlete: Option<&Rect>) -> gst::Event {
    let s = gst::Structure::builder(REDETECT_EVENT).field("reason", reason).field_if_some("pts", pts);
    let s = match athlete {
        Some(r) => with_rect(s, r),
        None => s,
    };
    gst::event::CustomUpstream::new(s.build())
}

/// Where the tracker had the athlete when it asked, when it says.
pub fn redetect_athlete(event: &gst::EventRef) -> Option<Rect> {
    read_rect(named(event, REDETECT_EVENT)?)
}

fn with_rect(s: gst::structure::Builder, r: &Rect) -> gst::structure::Builder {
    s.field("x", r.x as f64).field("y", r.y as f64).field("w", r.w as f64).field("h", r.h as f64)
}

fn read_rect(s: &gst::StructureRef) -> Option<Rect> {
    let f = |name: &str| s.get::<f64>(name).ok().map(|v| v as f32);
    Some(Rect { x: f("x")?, y: f("y")?, w: f("w")?, h: f("h")? })
}

/// The frame a re-detection request was made on, when it says.
pub fn redetect_pts(event: &gst::EventRef) -> Option<gst::ClockTime> {
    named(event, REDETECT_EVENT)?.get::<gst::ClockTime>("pts").ok()
}

pub fn is_redetect_event(event: &gst::EventRef) -> bool {
    named(event, REDETECT_EVENT).is_some()
}

/// Whether a re-detection request comes from a tracker looking for the athlete (searching or
/// lost) rather than checking one it follows.
pub fn redetect_to_search(event: &gst::EventRef) -> bool {
    named(event, REDETECT_EVENT)
        .and_then(|s| s.get::<&str>("reason").ok())
        .is_some_and(|reason| reason == TrackState::Searching.name() || reason == TrackState::Lost.name())
}

/// Where the pose estimator saw the athlete's body on one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct PoseSeen {
    pub pts: gst::ClockTime,
    pub tracking_id: u64,
    /// The box the body fills (`PoseFrame::body_extent`), in frame pixels: drawn as a detector
    /// draws a person, so its centre is comparable with the tracker's box.
    pub rect: Rect,
    pub score: f32,
}

pub fn pose_seen_event(seen: &PoseSeen) -> gst::Event {
    let s = gst::Structure::builder(POSE_SEEN_EVENT).field("pts", seen.pts).field("tracking_id", seen.tracking_id);
    gst::event::CustomUpstream::new(with_rect(s, &seen.rect).field("score", seen.score as f64).build())
}

/// The report in a `aicoach/pose-seen` event; `None` for any other event or a malformed one.
pub fn read_pose_seen(event: &gst::EventRef) -> Option<PoseSeen> {
    let s = named(event, POSE_SEEN_EVENT)?;
    Some(PoseSeen {
        pts: s.get("pts").ok()?,
        tracking_id: s.get("tracking_id").ok()?,
        rect: read_rect(s)?,
        score: s.get::<f64>("score").ok()? as f32,
    })
}

fn named<'a>(event: &'a gst::EventRef, name: &str) -> Option<&'a gst::StructureRef> {
    (event.type_() == gst::EventType::CustomUpstream).then(|| event.structure()).flatten().filter(|s| s.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redetect_event_is_recognised() {
        gst::init().unwrap();
        assert!(is_redetect_event(&redetect_event("lost", None, None)));
        assert!(
            redetect_to_search(&redetect_event("lost", None, None))
                && redetect_to_search(&redetect_event("searching", None, None))
        );
        assert!(!redetect_to_search(&redetect_event("verifying", None, None)));
        let at = gst::ClockTime::from_mseconds(40);
        assert_eq!(redetect_pts(&redetect_event("verifying", Some(at), None)), Some(at));
        assert_eq!(redetect_pts(&redetect_event("verifying", None, None)), None);
        let athlete = Rect { x: 800.5, y: 380.0, w: 40.0, h: 100.0 };
        assert_eq!(redetect_athlete(&redetect_event("verifying", Some(at), Some(&athlete))), Some(athlete));
        assert_eq!(redetect_athlete(&redetect_event("searching", None, None)), None);
        let other = gst::event::CustomUpstream::new(gst::Structure::new_empty("something/else"));
        assert!(!is_redetect_event(&other));
        assert_eq!(read_pose_seen(&other), None);
    }

    #[test]
    fn pose_seen_round_trips() {
        gst::init().unwrap();
        let seen = PoseSeen {
            pts: gst::ClockTime::from_mseconds(400),
            tracking_id: 3,
            rect: Rect { x: 10.5, y: 20.0, w: 30.0, h: 80.0 },
            score: 0.875,
        };
        let event = pose_seen_event(&seen);
        assert_eq!(read_pose_seen(&event), Some(seen));
        assert!(!is_redetect_event(&event));
    }
}
