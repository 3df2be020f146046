// SPDX-License-Identifier: MPL-2.0
//! aicoachtrack: a thin adapter between buffers and `tracking::AthleteTracker`.

use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use crate::input_check::InputCheck;
use crate::realtime::{self, Realtime};
use crate::timing::FrameClock;
use crate::{frame, meta};
use aicoach_vision::tracking::{AthleteTracker, PoseCue, SelectRule, TrackState, TrackerConfig};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new("aicoachtrack", gst::DebugColorFlags::empty(), Some("AI Coach athlete tracker"))
});

/// A pose sighting older than this many frames says nothing about where the athlete is now.
const MAX_POSE_AGE: usize = 4;

/// The `select` property's values (`gst-inspect-1.0` lists them).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAiCoachSelect")]
pub enum Select {
    #[enum_value(
        name = "Highest score nearest the centre, larger people preferred a little (a filmed athlete)",
        nick = "center"
    )]
    Center,
    #[enum_value(name = "Highest detection score", nick = "score")]
    Score,
    #[enum_value(name = "Largest box (the person nearest the camera)", nick = "largest")]
    Largest,
}

impl From<Select> for SelectRule {
    fn from(s: Select) -> Self {
        match s {
            Select::Center => SelectRule::Center,
            Select::Score => SelectRule::Score,
            Select::Largest => SelectRule::Largest,
        }
    }
}

impl From<SelectRule> for Select {
    fn from(s: SelectRule) -> Self {
        match s {
            SelectRule::Center => Select::Center,
            SelectRule::Score => Select::Score,
            SelectRule::Largest => Select::Largest,
        }
    }
}

/// The tracker's own configuration is the settings: its defaults are the properties' defaults.
#[derive(Debug, Clone, Default)]
struct Settings {
    tracker: TrackerConfig,
    post_messages: bool,
}

struct State {
    tracker: AthleteTracker,
    info: Option<gst_video::VideoInfo>,
    /// PTS when the current track id was first and last seen.
    first_seen: Option<gst::ClockTime>,
    last_seen: Option<gst::ClockTime>,
    track_id: u64,
    /// The pose estimator's latest report (an upstream event from downstream).
    pose_seen: Option<meta::PoseSeen>,
    /// The frames' times for the tracker's timers.
    clock: FrameClock,
    /// The timestamps of the last frames tracked, newest last: a pose sighting's age is
    /// counted in them.
    recent_pts: VecDeque<gst::ClockTime>,
}

impl State {
    /// The pose estimator's latest sighting as a cue for the frame at `pts`: only for the
    /// current athlete, and only while recent.
    fn pose_cue(&self, pts: Option<gst::ClockTime>) -> Option<PoseCue> {
        // Kept, not taken: with a queue between us and the pose estimator its reports come in
        // bursts, and one stays good for a few frames.
        let seen = self.pose_seen.as_ref()?;
        let pts = pts?;
        if seen.tracking_id != self.track_id || seen.pts >= pts {
            return None;
        }
        // Frames, counted on their timestamps: a caps' frame rate may be a mere label.
        let frames_ago = 1 + self.recent_pts.iter().filter(|&&p| p > seen.pts).count();
        let sighted = self.recent_pts.contains(&seen.pts);
        (sighted && frames_ago <= MAX_POSE_AGE).then_some(PoseCue { bbox: seen.rect, frames_ago: frames_ago as u32 })
    }

    fn remember_pts(&mut self, pts: Option<gst::ClockTime>) {
        if let Some(pts) = pts {
            if self.recent_pts.len() == MAX_POSE_AGE {
                self.recent_pts.pop_front();
            }
            self.recent_pts.push_back(pts);
        }
    }
}

#[derive(Default)]
pub struct AiCoachTrack {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    input_check: InputCheck,
    realtime: Realtime,
}

#[glib::object_subclass]
impl ObjectSubclass for AiCoachTrack {
    const NAME: &'static str = "GstAiCoachTrack";
    type Type = super::AiCoachTrack;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for AiCoachTrack {
    fn constructed(&self) {
        self.parent_constructed();
        realtime::keep_late_frames(self.obj().upcast_ref());
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let defaults = TrackerConfig::default();
            vec![
                glib::ParamSpecEnum::builder_with_default("select", Select::from(defaults.select))
                    .nick("Select")
                    .blurb("How the athlete is chosen among the people detected")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("verify-threshold")
                    .nick("Verify threshold")
                    .blurb("Tracker confidence (peak-to-sidelobe ratio) below which a detection is asked to verify the track")
                    .minimum(0.0)
                    .maximum(100.0)
                    .default_value(defaults.verify_psr as f64)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("lost-after")
                    .nick("Lost after")
                    .blurb("Frames of failed verification before the athlete is declared lost")
                    .minimum(1)
                    .maximum(10_000)
                    .default_value(defaults.lost_after)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("redetect-interval")
                    .nick("Re-detect interval")
                    .blurb("Frames between re-detection requests while searching, verifying or lost")
                    .minimum(1)
                    .maximum(10_000)
                    .default_value(defaults.redetect_interval)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("min-similarity")
                    .nick("Min similarity")
                    .blurb("Least colour similarity (0..1) for a detection to be taken as the athlete")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(defaults.min_similarity as f64)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("verify-interval")
                    .nick("Verify interval")
                    .blurb("Frames between detections that confirm a confident track (0: only when unsure)")
                    .default_value(defaults.verify_interval)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("forget-after")
                    .nick("Forget after")
                    .blurb("Seconds lost after which the athlete is forgotten and the next one chosen gets a new id (0: never)")
                    .minimum(0.0)
                    .maximum(3600.0)
                    .default_value(defaults.forget_after as f64)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("camera-follows")
                    .nick("Camera follows")
                    .blurb("The camera follows the athlete: a track that keeps its place in the world while the camera pans is someone else, and is dropped (off for a camera that pans over a still athlete)")
                    .default_value(defaults.camera_follows)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("post-messages")
                    .nick("Post messages")
                    .blurb("Post an element message with the athlete's box and state for every frame")
                    .default_value(false)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings.lock().unwrap();
        match pspec.name() {
            "select" => settings.tracker.select = value.get::<Select>().unwrap().into(),
            "verify-threshold" => settings.tracker.verify_psr = value.get::<f64>().unwrap() as f32,
            "lost-after" => settings.tracker.lost_after = value.get().unwrap(),
            "redetect-interval" => settings.tracker.redetect_interval = value.get().unwrap(),
            "min-similarity" => settings.tracker.min_similarity = value.get::<f64>().unwrap() as f32,
            "verify-interval" => settings.tracker.verify_interval = value.get().unwrap(),
            "forget-after" => settings.tracker.forget_after = value.get::<f64>().unwrap() as f32,
            "camera-follows" => settings.tracker.camera_follows = value.get().unwrap(),
            "post-messages" => settings.post_messages = value.get().unwrap(),
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings.lock().unwrap();
        match pspec.name() {
            "select" => Select::from(settings.tracker.select).to_value(),
            "verify-threshold" => (settings.tracker.verify_psr as f64).to_value(),
            "lost-after" => settings.tracker.lost_after.to_value(),
            "redetect-interval" => settings.tracker.redetect_interval.to_value(),
            "min-similarity" => (settings.tracker.min_similarity as f64).to_value(),
            "verify-interval" => settings.tracker.verify_interval.to_value(),
            "forget-after" => (settings.tracker.forget_after as f64).to_value(),
            "camera-follows" => settings.tracker.camera_follows.to_value(),
            "post-messages" => settings.post_messages.to_value(),
            _ => unimplemented!(),
        }
    }
}

impl GstObjectImpl for AiCoachTrack {}

impl ElementImpl for AiCoachTrack {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "AI Coach athlete tracker",
                "Filter/Analyzer/Video",
                "Follows one athlete, asks upstream for re-detection when unsure, says when they are lost",
                "AI Coach developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(frame::pad_templates);
        PAD_TEMPLATES.as_ref()
    }
}

impl AiCoachTrack {
    fn reset(&self, why: &str) {
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            gst::debug!(CAT, imp = self, "forgetting the athlete: {why}");
            state.tracker.reset();
            state.first_seen = None;
            state.last_seen = None;
            state.track_id = 0;
            state.pose_seen = None;
            state.clock.reset();
            state.recent_pts.clear();
        }
    }
}

impl BaseTransformImpl for AiCoachTrack {
    const MODE: gst_base::subclass::BaseTransformMode = gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let config = self.settings.lock().unwrap().tracker.clone();
        *self.state.lock().unwrap() = Some(State {
            tracker: AthleteTracker::new(config),
            info: None,
            first_seen: None,
            last_seen: None,
            track_id: 0,
            pose_seen: None,
            clock: FrameClock::default(),
            recent_pts: VecDeque::with_capacity(MAX_POSE_AGE),
        });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().unwrap() = None;
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        self.input_check.on_sink_event(self.obj().upcast_ref(), self.obj().sink_pad(), &event);
        match event.view() {
            gst::EventView::FlushStop(_) => self.reset("flush"),
            gst::EventView::StreamStart(_) => self.reset("new stream"),
            _ => {}
        }
        self.parent_sink_event(event)
    }

    fn src_event(&self, event: gst::Event) -> bool {
        // The pose estimator's sightings are for us; nothing upstream wants them.
        if let Some(seen) = meta::read_pose_seen(&event) {
            gst::trace!(CAT, imp = self, "pose seen at {} on {:?}", seen.pts, seen.rect);
            if let Some(state) = self.state.lock().unwrap().as_mut() {
                state.pose_seen = Some(seen);
            }
            return true;
        }
        self.parent_src_event(event)
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        let obj = self.obj();
        self.realtime
            .answer_query(obj.sink_pad(), direction, query, || gst::ClockTime::ZERO)
            .unwrap_or_else(|| BaseTransformImplExt::parent_query(self, direction, query))
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let obj = self.obj();
        let _timer = self.realtime.measure(obj.upcast_ref());
        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        let info = frame::negotiated(self, state.info.as_ref())?;
        let post_messages = {
            let settings = self.settings.lock().unwrap();
            // `select` may only change in READY; the rest while playing, read on every frame.
            *state.tracker.config_mut() = settings.tracker.clone();
            settings.post_messages
        };
        let persons = meta::detector_ran(buf).then(|| meta::persons(buf));
        let pose = state.pose_cue(buf.pts());
        let time = state.clock.time(buf.pts().map(|t| t.nseconds()));
        state.remember_pts(buf.pts());
        let output = frame::analyse(self, buf, &info, "Tracking", |view| {
            Ok::<_, std::convert::Infallible>(state.tracker.update(view, time, persons.as_deref(), pose.as_ref()))
        })?;

        let pts = buf.pts();
        if output.track_id != state.track_id {
            state.track_id = output.track_id;
            state.first_seen = pts;
        }
        if matches!(output.state, TrackState::Tracking | TrackState::Verifying) {
            state.last_seen = pts;
        }
        let athlete = output.bbox.map(|rect| meta::AthleteInfo {
            rect,
            confidence: output.confidence,
            tracking_id: output.track_id,
            first_seen: state.first_seen,
            last_seen: state.last_seen,
            state: output.state,
        });
        drop(guard);

        gst::log!(CAT, imp = self, "{:?}: {} {:?}", pts, output.state.name(), output.bbox);
        if let Some(a) = &athlete {
            meta::add_athlete(buf, a, info.width(), info.height());
        }
        if output.request_redetect {
            gst::debug!(CAT, imp = self, "asking upstream for re-detection ({})", output.state.name());
            // Nobody upstream may handle it (no detector): that is not an error.
            let _ =
                self.obj().sink_pad().push_event(meta::redetect_event(output.state.name(), pts, output.bbox.as_ref()));
        }
        if output.left_behind {
            gst::info!(
                CAT,
                imp = self,
                "{pts:?}: the athlete kept their place while the camera moved: choosing afresh"
            );
        }
        if post_messages {
            let mut s = gst::Structure::builder("aicoachtrack")
                .field("pts", pts)
                .field("state", output.state.name())
                .field("tracking_id", output.track_id)
                .field("redetect", output.request_redetect)
                .field("left_behind", output.left_behind)
                .build();
            if let Some(a) = &athlete {
                s.set("athlete", meta::od_structure(meta::ROI_ATHLETE, &a.rect, a.confidence));
            }
            let _ = self.obj().post_message(gst::message::Element::builder(s).src(&*self.obj()).build());
        }
        Ok(gst::FlowSuccess::Ok)
    }
}

/// Caps arrive parsed; frames are read in `transform_ip` (why not `transform_frame_ip`: see
/// [`crate::frame`]).
impl VideoFilterImpl for AiCoachTrack {
    fn set_info(
        &self,
        _incaps: &gst::Caps,
        in_info: &gst_video::VideoInfo,
        _outcaps: &gst::Caps,
        _out_info: &gst_video::VideoInfo,
    ) -> Result<(), gst::LoggableError> {
        let info = in_info.clone();
        let resized = {
            let mut guard = self.state.lock().unwrap();
            let Some(state) = guard.as_mut() else { return Ok(()) };
            let resized = frame::resized(state.info.as_ref(), &info);
            state.info = Some(info);
            resized
        };
        if resized {
            self.reset("the resolution changed");
        }
        Ok(())
    }
}
