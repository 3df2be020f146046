// SPDX-License-Identifier: MPL-2.0
//! aicoachclassify: a thin adapter between buffers and `aicoach_coach::session::Session`
//! (features, rules and SVMs, attempts, suggestions, report).

use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};

use aicoach_coach::exemplar::Library;
use aicoach_coach::features::feature_index;
use aicoach_coach::profile::{self, Profile};
use aicoach_coach::report::AthleteBox;
use aicoach_coach::session::{FrameOutcome, Session};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use crate::realtime::{self, Realtime};
use crate::{frame, meta};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new("aicoachclassify", gst::DebugColorFlags::empty(), Some("AI Coach bad-pose classifier"))
});

const DEFAULT_PROFILE: &str = "freestyle-aerials";
const DEFAULT_ATTEMPT_GAP: f64 = 1.0;
const DEFAULT_POST_MESSAGES: bool = false;

#[derive(Debug, Clone)]
struct Settings {
    profile: String,
    report_location: Option<String>,
    exemplars: Option<String>,
    attempt_gap: f64,
    post_messages: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            profile: DEFAULT_PROFILE.into(),
            report_location: None,
            exemplars: None,
            attempt_gap: DEFAULT_ATTEMPT_GAP,
            post_messages: DEFAULT_POST_MESSAGES,
        }
    }
}

struct State {
    session: Session,
    /// Whether the session's summary has been written (at end of stream or stop).
    finished: bool,
}

#[derive(Default)]
pub struct AiCoachClassify {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    realtime: Realtime,
}

#[glib::object_subclass]
impl ObjectSubclass for AiCoachClassify {
    const NAME: &'static str = "GstAiCoachClassify";
    type Type = super::AiCoachClassify;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for AiCoachClassify {
    fn constructed(&self) {
        self.parent_constructed();
        realtime::keep_late_frames(self.obj().upcast_ref());
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("profile")
                    .nick("Profile")
                    .blurb(
                        "Sport profile: a bundled sport (freestyle-aerials, ski-jumping) or a path to a profile .json",
                    )
                    .default_value(Some(DEFAULT_PROFILE))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("report-location")
                    .nick("Report location")
                    .blurb("Where to write the JSON Lines report (none: no report)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("exemplars")
                    .nick("Exemplars")
                    .blurb("Folder of an exemplar library (library.json) to suggest good-form clips from")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("attempt-gap")
                    .nick("Attempt gap")
                    .blurb("Seconds without the athlete that end an attempt")
                    .minimum(0.01)
                    .maximum(3600.0)
                    .default_value(DEFAULT_ATTEMPT_GAP)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("post-messages")
                    .nick("Post messages")
                    .blurb("Post an element message with the verdict of every frame and one per finished attempt")
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
            "profile" => {
                settings.profile = value.get::<Option<String>>().unwrap().unwrap_or_else(|| DEFAULT_PROFILE.into())
            }
            "report-location" => {
                settings.report_location = value.get::<Option<String>>().unwrap().filter(|s| !s.is_empty())
            }
            "exemplars" => settings.exemplars = value.get::<Option<String>>().unwrap().filter(|s| !s.is_empty()),
            "attempt-gap" => settings.attempt_gap = value.get().unwrap(),
            "post-messages" => settings.post_messages = value.get().unwrap(),
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings.lock().unwrap();
        match pspec.name() {
            "profile" => settings.profile.to_value(),
            "report-location" => settings.report_location.to_value(),
            "exemplars" => settings.exemplars.to_value(),
            "attempt-gap" => settings.attempt_gap.to_value(),
            "post-messages" => settings.post_messages.to_value(),
            _ => unimplemented!(),
        }
    }
}

impl GstObjectImpl for AiCoachClassify {}

impl ElementImpl for AiCoachClassify {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "AI Coach bad-pose classifier",
                "Filter/Analyzer/Video",
                "Flags bad poses from the athlete's keypoints, scores attempts, suggests exemplars, writes a report",
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

/// The buffer's verdict for the overlay and applications.
fn verdict_of(profile: &Profile, outcome: &FrameOutcome) -> meta::Verdict {
    let mut v = meta::Verdict {
        sport: profile.sport.clone(),
        attempt: outcome.attempt,
        form_score: outcome.form_score,
        ..Default::default()
    };
    if let Some(fv) = &outcome.verdict {
        for (error, on) in profile.errors.iter().zip(&fv.errors) {
            if *on == Some(true) {
                v.errors.push(error.name.clone());
                v.labels.push(error.label.clone());
                v.bad_joints.extend(error.joints.iter().map(|j| j.to_string()));
            }
        }
        v.bad_joints.sort();
        v.bad_joints.dedup();
        v.angles = profile
            .display_angles
            .iter()
            .filter_map(|a| Some((a.clone(), fv.features.values[feature_index(a)?]?)))
            .collect();
        v.phases = fv.phases.iter().filter_map(|(n, on)| Some((n.clone(), (*on)?))).collect();
    }
    v
}

impl AiCoachClassify {
    /// Writes the session's last lines once (end of stream, or a stop before it).
    fn finish(&self, end_of_stream: bool) {
        let mut guard = self.state.lock().unwrap();
        let Some(state) = guard.as_mut() else { return };
        if state.finished {
            return;
        }
        state.finished = true;
        match state.session.finish(end_of_stream) {
            Ok(attempts) => gst::info!(CAT, imp = self, "session finished: {} attempts", attempts.len()),
            Err(e) => {
                drop(guard);
                gst::element_imp_error!(self, gst::ResourceError::Write, ("Cannot finish the report: {e}"));
            }
        }
    }
}

impl BaseTransformImpl for AiCoachClassify {
    const MODE: gst_base::subclass::BaseTransformMode = gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = self.settings.lock().unwrap().clone();
        let bad = |e: String| gst::error_msg!(gst::LibraryError::Settings, ("{e}"));
        let path = profile::resolve(&settings.profile).map_err(|e| bad(e.to_string()))?;
        let profile = Profile::load(&path).map_err(|e| bad(e.to_string()))?;
        let library = match &settings.exemplars {
            Some(dir) => {
                let library = Library::load(&PathBuf::from(dir)).map_err(|e| bad(e.to_string()))?;
                if library.sport != profile.sport {
                    return Err(bad(format!(
                        "the exemplar library in {dir} is for {}, the profile for {}",
                        library.sport, profile.sport
                    )));
                }
                Some(library)
            }
            None => None,
        };
        gst::info!(
            CAT,
            imp = self,
            "profile {} ({} errors) from {}",
            profile.sport,
            profile.errors.len(),
            path.display()
        );
        let report = settings.report_location.as_ref().map(PathBuf::from);
        let session = Session::new(profile, library, report.as_deref(), settings.attempt_gap).map_err(|e| {
            gst::error_msg!(
                gst::ResourceError::OpenWrite,
                ("Cannot write the report {}: {e}", settings.report_location.as_deref().unwrap_or_default())
            )
        })?;
        *self.state.lock().unwrap() = Some(State { session, finished: false });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        // Stopped before the end of the stream (Ctrl-C without EOS, an error upstream): the
        // report still gets its attempt and summary lines.
        self.finish(false);
        *self.state.lock().unwrap() = None;
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        match event.view() {
            gst::EventView::Eos(_) => self.finish(true),
            gst::EventView::FlushStop(_) | gst::EventView::StreamStart(_) => {
                // A seek or a new stream: what follows is another attempt.
                if let Some(state) = self.state.lock().unwrap().as_mut() {
                    if let Err(e) = state.session.end_attempt() {
                        gst::warning!(CAT, imp = self, "cannot write the attempt: {e}");
                    }
                    // After EOS (a player seeking back from the end) the session goes on: the
                    // next EOS or stop writes another summary, so the report still ends with
                    // one that covers the whole session.
                    state.finished = false;
                }
            }
            _ => {}
        }
        self.parent_sink_event(event)
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
        let post_messages = self.settings.lock().unwrap().post_messages;
        let time = buf.pts().map_or(0.0, |t| t.nseconds() as f64 / 1e9);
        // The report gives what the picture shows of the athlete, as the ROI meta does: a box
        // reaching past the frame's edges (a body partly out of view) ends at them.
        let athlete = meta::athlete(buf).zip(meta::athlete_in_picture(buf)).map(|(a, seen)| AthleteBox {
            x: seen.x as f64,
            y: seen.y as f64,
            w: seen.w as f64,
            h: seen.h as f64,
            state: a.state.name().to_string(),
            tracking_id: a.tracking_id,
        });
        // A pose carried onto a frame that came too late to analyse was not seen: not judged.
        let pose = meta::read_pose(buf).filter(|p| !p.carried);
        let (outcome, verdict) = {
            let mut guard = self.state.lock().unwrap();
            let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
            let outcome = state
                .session
                .push(
                    time,
                    buf.pts().map(|t| t.nseconds()),
                    athlete.as_ref(),
                    pose.as_ref().map(|p| p.joints.as_slice()),
                )
                .map_err(|e| {
                    gst::element_imp_error!(self, gst::ResourceError::Write, ("Cannot write the report: {e}"));
                    gst::FlowError::Error
                })?;
            let verdict = verdict_of(state.session.profile(), &outcome);
            (outcome, verdict)
        };
        gst::log!(CAT, imp = self, "{:?}: errors {:?}", buf.pts(), verdict.errors);
        meta::set_verdict(buf, &verdict);
        if post_messages {
            let s = gst::Structure::builder("aicoachclassify")
                .field("pts", buf.pts())
                .field("verdict", meta::verdict_structure(&verdict))
                .build();
            let _ = self.obj().post_message(gst::message::Element::builder(s).src(&*self.obj()).build());
            if let Some(ended) = &outcome.ended {
                let s = gst::Structure::builder("aicoachclassify-attempt")
                    .field("attempt", ended.index)
                    .field("start", ended.start)
                    .field("end", ended.end)
                    .field("form_score", ended.form_score.unwrap_or(-1.0))
                    .field("segments", ended.segments.len() as u32)
                    .build();
                let _ = self.obj().post_message(gst::message::Element::builder(s).src(&*self.obj()).build());
            }
        }
        Ok(gst::FlowSuccess::Ok)
    }
}

/// A video filter that never maps a frame: the verdict comes from the metadata alone
/// (`transform_ip`).
impl VideoFilterImpl for AiCoachClassify {}
