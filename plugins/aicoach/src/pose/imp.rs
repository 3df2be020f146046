// SPDX-License-Identifier: MPL-2.0
//! aicoachpose: a thin adapter between buffers and `aicoach_engines::pose` (region choice,
//! landmark model, refinement). Buffers wait in `State::held` while the refinement looks ahead.

use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};

use aicoach_engines::movenet::BodyModel;
use aicoach_engines::pose::{PoseEstimator, PoseFrame, RefineMode, Refiner, RefinerConfig};
use aicoach_engines::{ModelFile, ModelId, PoseLandmarker, Rect};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::base_transform::GenerateOutputSuccess;
use gst_base::subclass::prelude::*;

use crate::inference::{self, DEFAULT_ENGINE, DEFAULT_THREADS};
use crate::{frame, meta};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new("aicoachpose", gst::DebugColorFlags::empty(), Some("AI Coach pose estimation"))
});

const DEFAULT_MODEL: &str = "lite";
const DEFAULT_BODY_MODEL: &str = "movenet-lightning";
const DEFAULT_WINDOW: u32 = 9;
const DEFAULT_LOOKAHEAD: u32 = 0;
const DEFAULT_REFINE: &str = "spatiotemporal";
const DEFAULT_MIN_CONFIDENCE: f64 = 0.5;
const DEFAULT_POST_MESSAGES: bool = false;
/// The frame rate assumed for the latency of a lookahead when the caps give none.
const FALLBACK_FPS: u64 = 30;

#[derive(Debug, Clone)]
struct Settings {
    /// `lite`, `full`, `heavy` or a path to a BlazePose landmark `.onnx`.
    model: String,
    /// `movenet-lightning`, `none`, or a path to a MoveNet SinglePose `.onnx`.
    body_model: String,
    engine: String,
    window: u32,
    lookahead: u32,
    refine: String,
    min_confidence: f64,
    threads: u32,
    post_messages: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            model: DEFAULT_MODEL.into(),
            body_model: DEFAULT_BODY_MODEL.into(),
            engine: DEFAULT_ENGINE.into(),
            window: DEFAULT_WINDOW,
            lookahead: DEFAULT_LOOKAHEAD,
            refine: DEFAULT_REFINE.into(),
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            threads: DEFAULT_THREADS,
            post_messages: DEFAULT_POST_MESSAGES,
        }
    }
}

impl Settings {
    fn model_file(&self) -> Result<ModelFile, String> {
        match self.model.as_str() {
            "lite" => Ok(ModelFile::bundled(ModelId::PoseLandmarkLite)),
            "full" => Ok(ModelFile::bundled(ModelId::PoseLandmarkFull)),
            "heavy" => Err("the heavy landmark model is not bundled (55 MB); recreate it with \
                engines/scripts/recreate-models.sh and set model to the path of pose_landmark_heavy.onnx"
                .into()),
            // Any BlazePose landmark model: same input and outputs as the full one.
            path if path.ends_with(".onnx") => Ok(ModelFile::custom(ModelId::PoseLandmarkFull, path)),
            other => {
                Err(format!("unknown pose model '{other}' (expected lite, full, heavy, or a path to a .onnx file)"))
            }
        }
    }

    /// `None` for `body-model=none`: the landmark model alone.
    fn body_model_file(&self) -> Result<Option<ModelFile>, String> {
        match self.body_model.as_str() {
            "none" => Ok(None),
            "movenet-lightning" => Ok(Some(ModelFile::bundled(ModelId::MoveNetLightning))),
            path if path.ends_with(".onnx") => Ok(Some(ModelFile::custom(ModelId::MoveNetLightning, path))),
            other => Err(format!(
                "unknown body model '{other}' (expected movenet-lightning, none, or a path to a .onnx file)"
            )),
        }
    }

    fn refiner_config(&self) -> Result<RefinerConfig, String> {
        let mode: RefineMode = self.refine.parse()?;
        RefinerConfig::new(mode, self.window as usize, self.lookahead as usize)
    }
}

/// What a held buffer needs to get its meta once its pose is refined.
struct Held {
    buffer: gst::Buffer,
    tracking_id: u64,
    roi_source: &'static str,
}

struct State {
    estimator: PoseEstimator,
    refiner: Refiner,
    info: Option<gst_video::VideoInfo>,
    /// The track the previous pose belonged to.
    tracking_id: Option<u64>,
    /// Buffers waiting for their lookahead, oldest first.
    held: VecDeque<Held>,
    /// Buffers with their final pose, ready to go downstream.
    ready: VecDeque<(Held, Option<PoseFrame>)>,
    model: String,
    refine: RefineMode,
}

impl State {
    fn take_refined(&mut self, refined: Option<Option<PoseFrame>>) {
        if let Some(pose) = refined {
            let held = self.held.pop_front().expect("the refiner holds no more frames than we do");
            self.ready.push_back((held, pose));
        }
    }
}

#[derive(Default)]
pub struct AiCoachPose {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

#[glib::object_subclass]
impl ObjectSubclass for AiCoachPose {
    const NAME: &'static str = "GstAiCoachPose";
    type Type = super::AiCoachPose;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for AiCoachPose {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("model")
                    .nick("Model")
                    .blurb("Landmark model: lite, full, heavy (not bundled), or a path to a BlazePose landmark .onnx")
                    .default_value(Some(DEFAULT_MODEL))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("body-model")
                    .nick("Body model")
                    .blurb("Finds the athlete's body in their box and places the landmark model's region: \
                        movenet-lightning, none (the landmark model follows its own keypoints), or a path to a MoveNet .onnx")
                    .default_value(Some(DEFAULT_BODY_MODEL))
                    .mutable_ready()
                    .build(),
                inference::engine_param(),
                glib::ParamSpecUInt::builder("window")
                    .nick("Window")
                    .blurb("T: frames the refinement relates (bone lengths; lookahead included)")
                    .minimum(1)
                    .maximum(300)
                    .default_value(DEFAULT_WINDOW)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("lookahead")
                    .nick("Lookahead")
                    .blurb("Future frames the refinement waits for (0: causal, for live use); adds latency, less than window")
                    .maximum(299)
                    .default_value(DEFAULT_LOOKAHEAD)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("refine")
                    .nick("Refine")
                    .blurb("Refinement: none, temporal (adaptive filter per joint), spatiotemporal (joints correct each other, then temporal)")
                    .default_value(Some(DEFAULT_REFINE))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("min-confidence")
                    .nick("Min confidence")
                    .blurb("Keypoints the model sees with less confidence are left out of the metadata and messages")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_MIN_CONFIDENCE)
                    .mutable_playing()
                    .build(),
                inference::threads_param(),
                glib::ParamSpecBoolean::builder("post-messages")
                    .nick("Post messages")
                    .blurb("Post an element message with the keypoints of every frame")
                    .default_value(DEFAULT_POST_MESSAGES)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings.lock().unwrap();
        let string = |default: &str| value.get::<Option<String>>().unwrap().unwrap_or_else(|| default.into());
        match pspec.name() {
            // Strings and the window are checked in start(), which fails naming the bad value.
            "model" => settings.model = string(DEFAULT_MODEL),
            "body-model" => settings.body_model = string(DEFAULT_BODY_MODEL),
            "engine" => settings.engine = string(DEFAULT_ENGINE),
            "window" => settings.window = value.get().unwrap(),
            "lookahead" => settings.lookahead = value.get().unwrap(),
            "refine" => settings.refine = string(DEFAULT_REFINE),
            "min-confidence" => settings.min_confidence = value.get().unwrap(),
            "threads" => settings.threads = value.get().unwrap(),
            "post-messages" => settings.post_messages = value.get().unwrap(),
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings.lock().unwrap();
        match pspec.name() {
            "model" => settings.model.to_value(),
            "body-model" => settings.body_model.to_value(),
            "engine" => settings.engine.to_value(),
            "window" => settings.window.to_value(),
            "lookahead" => settings.lookahead.to_value(),
            "refine" => settings.refine.to_value(),
            "min-confidence" => settings.min_confidence.to_value(),
            "threads" => settings.threads.to_value(),
            "post-messages" => settings.post_messages.to_value(),
            _ => unimplemented!(),
        }
    }
}

impl GstObjectImpl for AiCoachPose {}

impl ElementImpl for AiCoachPose {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "AI Coach pose estimation",
                "Filter/Analyzer/Video",
                "Estimates the tracked athlete's 2D keypoints and refines them over space and time",
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

/// Where to look on this buffer: the tracker's athlete, else the best detected person.
/// `Err(())` when a tracker says the athlete is lost: there is nobody to look at.
fn athlete_box(buffer: &gst::BufferRef) -> Result<(Option<Rect>, u64), ()> {
    if let Some((rect, id, state)) = meta::athlete(buffer) {
        return if state == "lost" { Err(()) } else { Ok((Some(rect), id)) };
    }
    let best = meta::persons(buffer).into_iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|(r, _)| r);
    Ok((best, 0))
}

impl AiCoachPose {
    /// Attaches the refined pose (and posts it) and hands the buffer back.
    fn finish(&self, held: Held, pose: Option<PoseFrame>, model: &str, refine: RefineMode) -> gst::Buffer {
        let (min_confidence, post_messages) = {
            let s = self.settings.lock().unwrap();
            (s.min_confidence as f32, s.post_messages)
        };
        let Held { mut buffer, tracking_id, roi_source } = held;
        let structure = pose.as_ref().map(|p| {
            let source = meta::PoseSource { tracking_id, model, refine: refine.name(), roi_source };
            meta::pose_structure(p, &source, min_confidence)
        });
        gst::log!(CAT, imp = self, "{:?}: pose {}", buffer.pts(), structure.is_some());
        if let Some(s) = &structure {
            meta::set_pose(buffer.make_mut(), s.clone());
        }
        if post_messages {
            let mut m = gst::Structure::builder("aicoachpose")
                .field("pts", buffer.pts())
                .field("tracking_id", tracking_id)
                .field("present", structure.is_some())
                .build();
            if let Some(s) = structure {
                m.set("pose", s);
            }
            let _ = self.obj().post_message(gst::message::Element::builder(m).src(&*self.obj()).build());
        }
        buffer
    }

    /// Sends every held buffer downstream, refined with what future there is (before EOS or
    /// any other serialized event, which must not overtake them).
    fn drain(&self) -> Result<gst::FlowSuccess, gst::FlowError> {
        let (out, model, refine) = {
            let mut guard = self.state.lock().unwrap();
            let Some(state) = guard.as_mut() else { return Ok(gst::FlowSuccess::Ok) };
            for pose in state.refiner.drain() {
                state.take_refined(Some(pose));
            }
            (std::mem::take(&mut state.ready), state.model.clone(), state.refine)
        };
        if !out.is_empty() {
            gst::debug!(CAT, imp = self, "draining {} held buffers", out.len());
        }
        for (held, pose) in out {
            let buffer = self.finish(held, pose, &model, refine);
            self.obj().src_pad().push(buffer)?;
        }
        Ok(gst::FlowSuccess::Ok)
    }

    /// The latency the lookahead adds: that many frame durations, rounded up.
    fn added_latency(&self) -> gst::ClockTime {
        let lookahead = self.settings.lock().unwrap().lookahead as u64;
        let fps = self.state.lock().unwrap().as_ref().and_then(|s| s.info.as_ref().map(|i| i.fps()));
        let (numer, denom) = match fps {
            Some(f) if f.numer() > 0 && f.denom() > 0 => (f.numer() as u64, f.denom() as u64),
            _ => (FALLBACK_FPS, 1),
        };
        gst::ClockTime::SECOND.mul_div_ceil(lookahead * denom, numer).unwrap_or(gst::ClockTime::MAX)
    }
}

impl BaseTransformImpl for AiCoachPose {
    const MODE: gst_base::subclass::BaseTransformMode = gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = self.settings.lock().unwrap().clone();
        let bad = |e: String| gst::error_msg!(gst::LibraryError::Settings, ("{e}"));
        let options = inference::engine_options(&settings.engine, settings.threads)?;
        let refiner_config = settings.refiner_config().map_err(bad)?;
        let file = settings.model_file().map_err(bad)?;
        let body_file = settings.body_model_file().map_err(bad)?;
        let landmarker = PoseLandmarker::load(file, &options)
            .map_err(|e| gst::error_msg!(gst::ResourceError::OpenRead, ("Cannot load the pose model: {e}")))?;
        gst::info!(CAT, imp = self, "pose model {} on {}", settings.model, landmarker.engine().kind());
        for line in landmarker.engine().selection() {
            gst::info!(CAT, imp = self, "{line}");
        }
        let estimator = match body_file {
            None => PoseEstimator::new(landmarker),
            Some(file) => {
                let body = BodyModel::load(file, &options)
                    .map_err(|e| gst::error_msg!(gst::ResourceError::OpenRead, ("Cannot load the body model: {e}")))?;
                gst::info!(CAT, imp = self, "body model {} on {}", settings.body_model, body.engine().kind());
                PoseEstimator::with_body_model(landmarker, body)
            }
        };
        *self.state.lock().unwrap() = Some(State {
            estimator,
            refiner: Refiner::new(refiner_config),
            info: None,
            tracking_id: None,
            held: VecDeque::new(),
            ready: VecDeque::new(),
            // What the metadata names as the keypoints' source: both models when MoveNet leads.
            model: if settings.body_model == "none" {
                settings.model
            } else {
                format!("{}+{}", settings.body_model, settings.model)
            },
            refine: refiner_config.mode,
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
        let lookahead = self.settings.lock().unwrap().lookahead;
        if lookahead > 0 && info.fps().numer() == 0 {
            gst::element_imp_warning!(
                self,
                gst::StreamError::Format,
                ("The stream has no frame rate: the lookahead's latency is reported for {FALLBACK_FPS} fps")
            );
        }
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            let resized =
                state.info.as_ref().is_some_and(|old| (old.width(), old.height()) != (info.width(), info.height()));
            if resized {
                // Keypoints of the old size are in the wrong coordinates.
                state.estimator.reset();
                state.refiner.break_sequence();
            }
            state.info = Some(info);
        }
        if lookahead > 0 {
            let _ = self.obj().post_message(gst::message::Latency::builder().src(&*self.obj()).build());
        }
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        match event.view() {
            gst::EventView::FlushStop(_) => {
                if let Some(state) = self.state.lock().unwrap().as_mut() {
                    state.refiner.reset();
                    state.estimator.reset();
                    state.held.clear();
                    state.ready.clear();
                    state.tracking_id = None;
                }
            }
            _ if event.is_serialized() => {
                if let Err(e) = self.drain() {
                    gst::debug!(CAT, imp = self, "downstream refused the drained buffers: {e:?}");
                }
                if let gst::EventView::StreamStart(_) = event.view()
                    && let Some(state) = self.state.lock().unwrap().as_mut()
                {
                    state.estimator.reset();
                    state.refiner.break_sequence();
                    state.tracking_id = None;
                }
            }
            _ => {}
        }
        self.parent_sink_event(event)
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        if direction == gst::PadDirection::Src
            && let gst::QueryViewMut::Latency(q) = query.view_mut()
        {
            if !self.obj().sink_pad().peer_query(q.query_mut()) {
                return false;
            }
            let (live, min, max) = q.result();
            let added = self.added_latency();
            gst::debug!(CAT, imp = self, "upstream latency {min} / {max:?}, adding {added}");
            q.set(live, min + added, max.map(|m| m + added));
            return true;
        }
        BaseTransformImplExt::parent_query(self, direction, query)
    }

    fn submit_input_buffer(&self, _is_discont: bool, buffer: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        let info = state.info.clone().ok_or_else(|| {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ("No caps before the first buffer"));
            gst::FlowError::NotNegotiated
        })?;
        let time = buffer.pts().map_or(0.0, |t| t.nseconds() as f64 / 1e9);
        let (athlete, tracking_id) = match athlete_box(&buffer) {
            Ok(found) => found,
            Err(()) => {
                state.estimator.reset();
                let refined = state.refiner.push(None);
                state.held.push_back(Held { buffer, tracking_id: 0, roi_source: "" });
                state.take_refined(refined);
                return Ok(gst::FlowSuccess::Ok);
            }
        };
        if state.tracking_id.is_some_and(|id| id != tracking_id) {
            gst::debug!(CAT, imp = self, "new track {tracking_id}: starting the pose afresh");
            state.estimator.reset();
            state.refiner.break_sequence();
        }
        state.tracking_id = Some(tracking_id);
        let estimate = frame::with_view(&buffer, &info, |view| state.estimator.estimate(view, athlete.as_ref(), time))
            .map_err(|e| {
                gst::element_imp_error!(self, gst::StreamError::Format, ("{e}"));
                gst::FlowError::Error
            })?
            .map_err(|e| {
                gst::element_imp_error!(self, gst::LibraryError::Failed, ("Pose estimation failed: {e}"));
                gst::FlowError::Error
            })?;
        let roi_source = estimate.as_ref().map_or("", |e| e.source.name());
        // Tell the tracker where the body is now, before refinement delays it: it verifies its
        // track with this when its own filter is unsure (a flip, motion blur, back light).
        let seen = estimate.as_ref().filter(|_| tracking_id != 0).and_then(|e| {
            Some(meta::PoseSeen { pts: buffer.pts()?, tracking_id, rect: e.pose.bounding_box()?, score: e.pose.score })
        });
        let refined = state.refiner.push(estimate.map(|e| e.pose));
        state.held.push_back(Held { buffer, tracking_id, roi_source });
        state.take_refined(refined);
        drop(guard);
        if let Some(seen) = seen {
            // Nobody upstream may want it (no tracker): not an error.
            let _ = self.obj().sink_pad().push_event(meta::pose_seen_event(&seen));
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn generate_output(&self) -> Result<GenerateOutputSuccess, gst::FlowError> {
        let (next, model, refine) = {
            let mut guard = self.state.lock().unwrap();
            let Some(state) = guard.as_mut() else { return Ok(GenerateOutputSuccess::NoOutput) };
            let Some(next) = state.ready.pop_front() else { return Ok(GenerateOutputSuccess::NoOutput) };
            (next, state.model.clone(), state.refine)
        };
        let (held, pose) = next;
        Ok(GenerateOutputSuccess::Buffer(self.finish(held, pose, &model, refine)))
    }
}
