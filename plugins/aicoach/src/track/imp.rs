// SPDX-License-Identifier: MPL-2.0
//! aicoachtrack: a thin adapter between buffers and `tracking::AthleteTracker`.

use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;

use crate::tracking::{AthleteTracker, PoseCue, SelectRule, TrackState, TrackerConfig};
use crate::{frame, meta};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new("aicoachtrack", gst::DebugColorFlags::empty(), Some("AI Coach athlete tracker"))
});

const DEFAULT_SELECT: &str = "center";
const DEFAULT_VERIFY_THRESHOLD: f64 = 7.0;
const DEFAULT_LOST_AFTER: u32 = 10;
const DEFAULT_REDETECT_INTERVAL: u32 = 5;
const DEFAULT_MIN_SIMILARITY: f64 = 0.8;
const DEFAULT_VERIFY_INTERVAL: u32 = 15;
const DEFAULT_FORGET_AFTER: f64 = 3.0;
const DEFAULT_POST_MESSAGES: bool = false;
/// A pose sighting older than this many frames says nothing about where the athlete is now.
const MAX_POSE_AGE: u64 = 4;
/// The frame rate assumed for ageing pose sightings when the caps give none.
const FALLBACK_FPS: f64 = 30.0;

#[derive(Debug, Clone)]
struct Settings {
    select: String,
    verify_threshold: f64,
    lost_after: u32,
    redetect_interval: u32,
    min_similarity: f64,
    verify_interval: u32,
    forget_after: f64,
    post_messages: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            select: DEFAULT_SELECT.into(),
            verify_threshold: DEFAULT_VERIFY_THRESHOLD,
            lost_after: DEFAULT_LOST_AFTER,
            redetect_interval: DEFAULT_REDETECT_INTERVAL,
            min_similarity: DEFAULT_MIN_SIMILARITY,
            verify_interval: DEFAULT_VERIFY_INTERVAL,
            forget_after: DEFAULT_FORGET_AFTER,
            post_messages: DEFAULT_POST_MESSAGES,
        }
    }
}

impl Settings {
    /// `select` is parsed once in start() (it may only change in READY); the rest may change
    /// while playing and is read on every frame.
    fn tracker_config(&self, select: SelectRule, fps: f32) -> TrackerConfig {
        TrackerConfig {
            select,
            verify_psr: self.verify_threshold as f32,
            lost_after: self.lost_after,
            redetect_interval: self.redetect_interval,
            min_similarity: self.min_similarity as f32,
            verify_interval: self.verify_interval,
            forget_after: self.forget_after as f32,
            fps,
        }
    }
}

struct State {
    tracker: AthleteTracker,
    select: SelectRule,
    info: Option<gst_video::VideoInfo>,
    /// PTS when the current track id was first and last seen.
    first_seen: Option<gst::ClockTime>,
    last_seen: Option<gst::ClockTime>,
    track_id: u64,
    /// The pose estimator's latest report (an upstream event from downstream).
    pose_seen: Option<meta::PoseSeen>,
}

impl State {
    /// The caps' frame rate, or `FALLBACK_FPS` where they give none (still images, variable).
    fn fps(&self) -> f64 {
        let fps = self.info.as_ref().map(|i| i.fps()).filter(|f| f.numer() > 0 && f.denom() > 0);
        fps.map_or(FALLBACK_FPS, |f| f.numer() as f64 / f.denom() as f64)
    }

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
        let frames_ago = ((pts - seen.pts).nseconds() as f64 * self.fps() / 1e9).round() as u64;
        (1..=MAX_POSE_AGE).contains(&frames_ago).then_some(PoseCue { bbox: seen.rect, frames_ago: frames_ago as u32 })
    }
}

#[derive(Default)]
pub struct AiCoachTrack {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

#[glib::object_subclass]
impl ObjectSubclass for AiCoachTrack {
    const NAME: &'static str = "GstAiCoachTrack";
    type Type = super::AiCoachTrack;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for AiCoachTrack {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("select")
                    .nick("Select")
                    .blurb("How the athlete is chosen among people: center (highest score nearest the centre), score, largest")
                    .default_value(Some(DEFAULT_SELECT))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("verify-threshold")
                    .nick("Verify threshold")
                    .blurb("Tracker confidence (peak-to-sidelobe ratio) below which a detection is asked to verify the track")
                    .minimum(0.0)
                    .maximum(100.0)
                    .default_value(DEFAULT_VERIFY_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("lost-after")
                    .nick("Lost after")
                    .blurb("Frames of failed verification before the athlete is declared lost")
                    .minimum(1)
                    .maximum(10_000)
                    .default_value(DEFAULT_LOST_AFTER)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("redetect-interval")
                    .nick("Re-detect interval")
                    .blurb("Frames between re-detection requests while searching, verifying or lost")
                    .minimum(1)
                    .maximum(10_000)
                    .default_value(DEFAULT_REDETECT_INTERVAL)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("min-similarity")
                    .nick("Min similarity")
                    .blurb("Least colour similarity (0..1) for a detection to be taken as the athlete")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_MIN_SIMILARITY)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("verify-interval")
                    .nick("Verify interval")
                    .blurb("Frames between detections that confirm a confident track (0: only when unsure)")
                    .default_value(DEFAULT_VERIFY_INTERVAL)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("forget-after")
                    .nick("Forget after")
                    .blurb("Seconds lost after which the athlete is forgotten and the next one chosen gets a new id (0: never)")
                    .minimum(0.0)
                    .maximum(3600.0)
                    .default_value(DEFAULT_FORGET_AFTER)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("post-messages")
                    .nick("Post messages")
                    .blurb("Post an element message with the athlete's box and state for every frame")
                    .default_value(DEFAULT_POST_MESSAGES)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings.lock().unwrap();
        match pspec.name() {
            // Checked in start(), which fails with an error naming the bad value.
            "select" => {
                settings.select = value.get::<Option<String>>().unwrap().unwrap_or_else(|| DEFAULT_SELECT.into())
            }
            "verify-threshold" => settings.verify_threshold = value.get().unwrap(),
            "lost-after" => settings.lost_after = value.get().unwrap(),
            "redetect-interval" => settings.redetect_interval = value.get().unwrap(),
            "min-similarity" => settings.min_similarity = value.get().unwrap(),
            "verify-interval" => settings.verify_interval = value.get().unwrap(),
            "forget-after" => settings.forget_after = value.get().unwrap(),
            "post-messages" => settings.post_messages = value.get().unwrap(),
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings.lock().unwrap();
        match pspec.name() {
            "select" => settings.select.to_value(),
            "verify-threshold" => settings.verify_threshold.to_value(),
            "lost-after" => settings.lost_after.to_value(),
            "redetect-interval" => settings.redetect_interval.to_value(),
            "min-similarity" => settings.min_similarity.to_value(),
            "verify-interval" => settings.verify_interval.to_value(),
            "forget-after" => settings.forget_after.to_value(),
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
        }
    }
}

impl BaseTransformImpl for AiCoachTrack {
    const MODE: gst_base::subclass::BaseTransformMode = gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let (select, config) = {
            let settings = self.settings.lock().unwrap();
            let select: SelectRule =
                settings.select.parse().map_err(|e: String| gst::error_msg!(gst::LibraryError::Settings, ("{e}")))?;
            (select, settings.tracker_config(select, FALLBACK_FPS as f32))
        };
        *self.state.lock().unwrap() = Some(State {
            tracker: AthleteTracker::new(config),
            select,
            info: None,
            first_seen: None,
            last_seen: None,
            track_id: 0,
            pose_seen: None,
        });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().unwrap() = None;
        Ok(())
    }

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "Cannot parse caps {incaps}"))?;
        let resized = {
            let mut guard = self.state.lock().unwrap();
            let Some(state) = guard.as_mut() else { return Ok(()) };
            let resized =
                state.info.as_ref().is_some_and(|old| (old.width(), old.height()) != (info.width(), info.height()));
            state.info = Some(info);
            resized
        };
        if resized {
            self.reset("the resolution changed");
        }
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
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

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        let info = state.info.clone().ok_or_else(|| {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ("No caps before the first buffer"));
            gst::FlowError::NotNegotiated
        })?;
        let post_messages = {
            let settings = self.settings.lock().unwrap();
            *state.tracker.config_mut() = settings.tracker_config(state.select, state.fps() as f32);
            settings.post_messages
        };
        let persons = meta::detector_ran(buf).then(|| meta::persons(buf));
        let pose = state.pose_cue(buf.pts());
        let output = {
            frame::with_view(buf, &info, |view| state.tracker.update(view, persons.as_deref(), pose.as_ref())).map_err(
                |e| {
                    gst::element_imp_error!(self, gst::StreamError::Format, ("{e}"));
                    gst::FlowError::Error
                },
            )?
        };

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
            state: output.state.name(),
        });
        drop(guard);

        gst::log!(CAT, imp = self, "{:?}: {} {:?}", pts, output.state.name(), output.bbox);
        if let Some(a) = &athlete {
            meta::add_athlete(buf, a, info.width(), info.height());
        }
        if output.request_redetect {
            gst::debug!(CAT, imp = self, "asking upstream for re-detection ({})", output.state.name());
            // Nobody upstream may handle it (no detector): that is not an error.
            let _ = self.obj().sink_pad().push_event(meta::redetect_event(output.state.name()));
        }
        if post_messages {
            let mut s = gst::Structure::builder("aicoachtrack")
                .field("pts", pts)
                .field("state", output.state.name())
                .field("tracking_id", output.track_id)
                .field("redetect", output.request_redetect)
                .build();
            if let Some(a) = &athlete {
                s.set("athlete", meta::od_structure(meta::ROI_ATHLETE, &a.rect, a.confidence));
            }
            let _ = self.obj().post_message(gst::message::Element::builder(s).src(&*self.obj()).build());
        }
        Ok(gst::FlowSuccess::Ok)
    }
}
