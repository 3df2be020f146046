// SPDX-License-Identifier: MPL-2.0
//! aicoachpose: a thin adapter between buffers and `aicoach_inference::pose` (region choice,
//! landmark model, refinement). Buffers wait in `State::held` while the refinement looks ahead.

use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};

use aicoach_inference::movenet::BodyModel;
use aicoach_inference::pose::PoseEstimator;
use aicoach_inference::{ModelFile, ModelId, PoseLandmarker};
use aicoach_vision::Rect;
use aicoach_vision::pose::{PoseFrame, RefineMode, Refiner, RefinerConfig};
use aicoach_vision::tracking::TrackState;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::base_transform::GenerateOutputSuccess;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use crate::inference::{self, DEFAULT_ENGINE, DEFAULT_THREADS};
use crate::input_check::InputCheck;
use crate::realtime::{self, Realtime};
use crate::timing::{self, FrameClock};
use crate::{frame, meta};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new("aicoachpose", gst::DebugColorFlags::empty(), Some("AI Coach pose estimation"))
});

const DEFAULT_MODEL: &str = "lite";
const DEFAULT_BODY_MODEL: &str = "movenet-lightning";
const DEFAULT_RECHECK_MODEL: &str = "movenet-thunder";
const DEFAULT_WINDOW: u32 = 9;
const DEFAULT_LOOKAHEAD: u32 = 0;
const DEFAULT_REFINE: Refine = Refine::Spatiotemporal;
const DEFAULT_MIN_CONFIDENCE: f64 = 0.5;
const DEFAULT_POST_MESSAGES: bool = false;
/// The least overlap between the tracker's box and the body the pose shows for the two to be
/// taken for one person (the box is then fitted to the body).
const BODY_AGREEMENT: f32 = 0.3;
/// Live, the body model runs on one analysed frame in this many, the landmark model following
/// its own keypoints in between: both models on every frame do not fit a live 1080p50 stream on
/// two cores. Files are analysed with both on every frame.
const LIVE_BODY_EVERY: u32 = 3;
/// The blank frame the models first run on.
const WARM_UP_SIZE: (u32, u32) = (256, 256);

/// The `refine` property's values (`gst-inspect-1.0` lists them).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAiCoachRefine")]
pub enum Refine {
    #[enum_value(name = "The model's keypoints as they are", nick = "none")]
    None,
    #[enum_value(name = "An adaptive filter per joint over time", nick = "temporal")]
    Temporal,
    #[enum_value(name = "Joints correct each other (bone lengths), then temporal", nick = "spatiotemporal")]
    Spatiotemporal,
}

impl From<Refine> for RefineMode {
    fn from(r: Refine) -> Self {
        match r {
            Refine::None => RefineMode::None,
            Refine::Temporal => RefineMode::Temporal,
            Refine::Spatiotemporal => RefineMode::Spatiotemporal,
        }
    }
}

#[derive(Debug, Clone)]
struct Settings {
    /// `lite`, `full`, `heavy` or a path to a BlazePose landmark `.onnx`.
    model: String,
    /// `movenet-lightning`, `movenet-thunder`, `none`, or a path to a MoveNet SinglePose `.onnx`.
    body_model: String,
    /// `movenet-thunder`, `none`, or a path to a MoveNet SinglePose `.onnx`.
    recheck_model: String,
    engine: inference::Engine,
    window: u32,
    lookahead: u32,
    refine: Refine,
    min_confidence: f64,
    threads: u32,
    post_messages: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            model: DEFAULT_MODEL.into(),
            body_model: DEFAULT_BODY_MODEL.into(),
            recheck_model: DEFAULT_RECHECK_MODEL.into(),
            engine: DEFAULT_ENGINE,
            window: DEFAULT_WINDOW,
            lookahead: DEFAULT_LOOKAHEAD,
            refine: DEFAULT_REFINE,
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
        movenet_file(&self.body_model, "body model", &[ModelId::MoveNetLightning, ModelId::MoveNetThunder])
    }

    /// `None` for `recheck-model=none`.
    fn recheck_model_file(&self) -> Result<Option<ModelFile>, String> {
        movenet_file(&self.recheck_model, "recheck model", &[ModelId::MoveNetThunder])
    }

    fn refiner_config(&self) -> Result<RefinerConfig, String> {
        RefinerConfig::new(self.refine.into(), self.window as usize, self.lookahead as usize)
    }
}

/// A MoveNet property's file: `none`, the name of one of `bundled`, or a path to a MoveNet
/// `.onnx` with the first one's input.
fn movenet_file(value: &str, property: &str, bundled: &[ModelId]) -> Result<Option<ModelFile>, String> {
    if value == "none" {
        return Ok(None);
    }
    if let Some(&id) = bundled.iter().find(|id| id.spec().name == value) {
        return Ok(Some(ModelFile::bundled(id)));
    }
    if value.ends_with(".onnx") {
        return Ok(Some(ModelFile::custom(bundled[0], value)));
    }
    let names: Vec<&str> = bundled.iter().map(|id| id.spec().name).collect();
    Err(format!("unknown {property} '{value}' (expected {}, none, or a path to a MoveNet .onnx)", names.join(", ")))
}

/// What a held buffer needs to get its meta once its pose is refined.
struct Held {
    buffer: gst::Buffer,
    tracking_id: u64,
    roi_source: &'static str,
    /// The pose is the last one moved along, not estimated on this frame.
    carried: bool,
    /// Its body is the recheck model's.
    rechecked: bool,
}

/// What every outgoing buffer's meta is written with.
struct OutputContext {
    model: String,
    /// `model` on frames whose body the recheck model found.
    recheck_model: String,
    refine: RefineMode,
    frame_size: Option<(u32, u32)>,
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
    recheck_model: String,
    refine: RefineMode,
    /// The frames' times, from their timestamps: the refinement's spacing and the lookahead's
    /// latency.
    clock: FrameClock,
    /// The frame interval the reported latency was computed for.
    latency_interval_ns: u64,
    /// The last pose estimated (unrefined), where it was estimated from and the athlete's box
    /// then: carried onto frames too late to analyse.
    last_estimate: Option<(PoseFrame, &'static str, Option<Rect>)>,
}

impl State {
    /// The longest a frame may take to come, for the lookahead's latency: the longest recent
    /// interval between timestamps; before there are any, the caps' rate where it is plausible
    /// for a camera, else 30 fps.
    fn frame_interval_ns(&self) -> u64 {
        self.clock.longest_interval_ns().unwrap_or_else(|| {
            let caps_rate =
                self.info.as_ref().and_then(|i| timing::plausible_interval_ns(i.fps().numer(), i.fps().denom()));
            caps_rate.unwrap_or(timing::DEFAULT_INTERVAL_NS)
        })
    }

    fn output_context(&self) -> OutputContext {
        OutputContext {
            model: self.model.clone(),
            recheck_model: self.recheck_model.clone(),
            refine: self.refine,
            frame_size: self.info.as_ref().map(|i| (i.width(), i.height())),
        }
    }

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
    input_check: InputCheck,
    realtime: Realtime,
}

#[glib::object_subclass]
impl ObjectSubclass for AiCoachPose {
    const NAME: &'static str = "GstAiCoachPose";
    type Type = super::AiCoachPose;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for AiCoachPose {
    fn constructed(&self) {
        self.parent_constructed();
        realtime::keep_late_frames(self.obj().upcast_ref());
    }

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
                        movenet-lightning, movenet-thunder (four times slower, surer on hard frames), none (the landmark model \
                        follows its own keypoints), or a path to a MoveNet .onnx")
                    .default_value(Some(DEFAULT_BODY_MODEL))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("recheck-model")
                    .nick("Recheck model")
                    .blurb("A larger body model that looks again where the body model and the landmark model disagree \
                        (a back view, tangled people, an acrobat) and replaces the body there: movenet-thunder, none, \
                        or a path to a MoveNet .onnx. Not on live streams that run the body model only now and then")
                    .default_value(Some(DEFAULT_RECHECK_MODEL))
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
                glib::ParamSpecEnum::builder_with_default("refine", DEFAULT_REFINE)
                    .nick("Refine")
                    .blurb("How keypoints are refined over the window")
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
            // Model names and the window are checked in start(), which fails naming the bad value.
            "model" => settings.model = string(DEFAULT_MODEL),
            "body-model" => settings.body_model = string(DEFAULT_BODY_MODEL),
            "recheck-model" => settings.recheck_model = string(DEFAULT_RECHECK_MODEL),
            "engine" => settings.engine = value.get().unwrap(),
            "window" => settings.window = value.get().unwrap(),
            "lookahead" => settings.lookahead = value.get().unwrap(),
            "refine" => settings.refine = value.get().unwrap(),
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
            "recheck-model" => settings.recheck_model.to_value(),
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
    if let Some(a) = meta::athlete(buffer) {
        return if a.state == TrackState::Lost { Err(()) } else { Ok((Some(a.rect), a.tracking_id)) };
    }
    let best = meta::persons(buffer).into_iter().max_by(|a, b| a.score.total_cmp(&b.score)).map(|d| d.bbox);
    Ok((best, 0))
}

/// The tracker's box fitted to the body the pose shows ([`PoseFrame::fitted_box`]).
fn fit_athlete_box(buffer: &mut gst::BufferRef, pose: &PoseFrame, width: u32, height: u32) {
    let Some(athlete) = meta::athlete(buffer).filter(|a| a.state != TrackState::Lost) else { return };
    if let Some(body) = pose.fitted_box(&athlete.rect, BODY_AGREEMENT) {
        meta::set_athlete_rect(buffer, body, width, height);
    }
}

impl AiCoachPose {
    /// Attaches the refined pose (and posts it), fits the athlete's box to it, and hands the
    /// buffer back.
    fn finish(&self, held: Held, pose: Option<PoseFrame>, out: &OutputContext) -> gst::Buffer {
        let (min_confidence, post_messages) = {
            let s = self.settings.lock().unwrap();
            (s.min_confidence as f32, s.post_messages)
        };
        let Held { mut buffer, tracking_id, roi_source, carried, rechecked } = held;
        let structure = pose.as_ref().map(|p| {
            let model = if rechecked { &out.recheck_model } else { &out.model };
            let source = meta::PoseSource { tracking_id, model, refine: out.refine.name(), roi_source, carried };
            meta::pose_structure(p, &source, min_confidence)
        });
        gst::log!(CAT, imp = self, "{:?}: pose {}", buffer.pts(), structure.is_some());
        if let Some(s) = &structure {
            meta::set_pose(buffer.make_mut(), s.clone());
        }
        if let Some((pose, (width, height))) = pose.as_ref().zip(out.frame_size) {
            fit_athlete_box(buffer.make_mut(), pose, width, height);
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
        let (out, context) = {
            let mut guard = self.state.lock().unwrap();
            let Some(state) = guard.as_mut() else { return Ok(gst::FlowSuccess::Ok) };
            for pose in state.refiner.drain() {
                state.take_refined(Some(pose));
            }
            (std::mem::take(&mut state.ready), state.output_context())
        };
        if !out.is_empty() {
            gst::debug!(CAT, imp = self, "draining {} held buffers", out.len());
        }
        for (held, pose) in out {
            let buffer = self.finish(held, pose, &context);
            self.obj().src_pad().push(buffer)?;
        }
        Ok(gst::FlowSuccess::Ok)
    }

    /// Asks the pipeline to query the latency again (after the lookahead's changed).
    fn post_latency(&self) {
        gst::debug!(CAT, imp = self, "the lookahead's latency changed");
        let _ = self.obj().post_message(gst::message::Latency::builder().src(&*self.obj()).build());
    }

    /// The latency the lookahead adds: that many of the longest recent frame intervals.
    fn added_latency(&self) -> gst::ClockTime {
        let lookahead = self.settings.lock().unwrap().lookahead as u64;
        let mut guard = self.state.lock().unwrap();
        let interval = guard.as_mut().map_or(timing::DEFAULT_INTERVAL_NS, |s| {
            s.latency_interval_ns = s.frame_interval_ns();
            s.latency_interval_ns
        });
        gst::ClockTime::from_nseconds(lookahead.saturating_mul(interval))
    }
}

impl BaseTransformImpl for AiCoachPose {
    const MODE: gst_base::subclass::BaseTransformMode = gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = self.settings.lock().unwrap().clone();
        let bad = |e: String| gst::error_msg!(gst::LibraryError::Settings, ("{e}"));
        let options = inference::engine_options(settings.engine, settings.threads);
        let refiner_config = settings.refiner_config().map_err(bad)?;
        let file = settings.model_file().map_err(bad)?;
        let body_file = settings.body_model_file().map_err(bad)?;
        let recheck_file = settings.recheck_model_file().map_err(bad)?;
        let landmarker = PoseLandmarker::load(file, &options)
            .map_err(|e| gst::error_msg!(gst::ResourceError::OpenRead, ("Cannot load the pose model: {e}")))?;
        gst::info!(CAT, imp = self, "pose model {} on {}", settings.model, landmarker.engine().kind());
        for line in landmarker.engine().selection() {
            gst::info!(CAT, imp = self, "{line}");
        }
        if let Some(warning) = inference::fallback_warning(settings.engine, &settings.model, landmarker.engine()) {
            gst::element_imp_warning!(self, gst::LibraryError::Init, ("{warning}"));
        }
        let mut estimator = match body_file {
            None => PoseEstimator::new(landmarker),
            Some(file) => {
                let body = BodyModel::load(file, &options)
                    .map_err(|e| gst::error_msg!(gst::ResourceError::OpenRead, ("Cannot load the body model: {e}")))?;
                gst::info!(CAT, imp = self, "body model {} on {}", settings.body_model, body.engine().kind());
                let mut estimator = PoseEstimator::with_body_model(landmarker, body);
                // The same model again would only find the same body.
                if let Some(file) = recheck_file.filter(|_| settings.recheck_model != settings.body_model) {
                    let recheck = BodyModel::load(file, &options).map_err(|e| {
                        gst::error_msg!(gst::ResourceError::OpenRead, ("Cannot load the recheck model: {e}"))
                    })?;
                    gst::info!(
                        CAT,
                        imp = self,
                        "recheck model {} on {}",
                        settings.recheck_model,
                        recheck.engine().kind()
                    );
                    estimator.set_recheck(Some(recheck));
                }
                estimator
            }
        };
        let (w, h) = WARM_UP_SIZE;
        let athlete = Rect { x: w as f32 / 4.0, y: 0.0, w: w as f32 / 2.0, h: h as f32 };
        self.realtime.warm_up(WARM_UP_SIZE, |view| {
            estimator.estimate(view, Some(&athlete), 0.0).map(|_| ()).map_err(|e| {
                gst::error_msg!(gst::LibraryError::Failed, ("Pose estimation fails on a blank frame: {e}"))
            })
        })?;
        estimator.reset();
        *self.state.lock().unwrap() = Some(State {
            estimator,
            refiner: Refiner::new(refiner_config),
            info: None,
            tracking_id: None,
            held: VecDeque::new(),
            ready: VecDeque::new(),
            // What the metadata names as the keypoints' source: both models when MoveNet leads.
            model: if settings.body_model == "none" {
                settings.model.clone()
            } else {
                format!("{}+{}", settings.body_model, settings.model)
            },
            recheck_model: format!("{}+{}", settings.recheck_model, settings.model),
            refine: refiner_config.mode,
            clock: FrameClock::default(),
            latency_interval_ns: timing::DEFAULT_INTERVAL_NS,
            last_estimate: None,
        });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().unwrap() = None;
        // As in aicoachdetect: the models' freed working memory goes back to the system now,
        // not at some later start (the CI's start-stop test once saw 16 MiB kept over 15 cycles).
        aicoach_inference::backend::return_freed_memory();
        Ok(())
    }

    fn src_event(&self, event: gst::Event) -> bool {
        self.realtime.on_src_event(&event);
        self.parent_src_event(event)
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        self.input_check.on_sink_event(self.obj().upcast_ref(), self.obj().sink_pad(), &event);
        self.realtime.on_sink_event(&event);
        match event.view() {
            gst::EventView::FlushStop(_) => {
                if let Some(state) = self.state.lock().unwrap().as_mut() {
                    state.refiner.reset();
                    state.estimator.reset();
                    state.held.clear();
                    state.ready.clear();
                    state.tracking_id = None;
                    state.clock.reset();
                    state.last_estimate = None;
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
                    state.clock.reset();
                    state.last_estimate = None;
                }
            }
            _ => {}
        }
        self.parent_sink_event(event)
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        let obj = self.obj();
        let lookahead = || {
            let lookahead = self.added_latency();
            gst::debug!(CAT, imp = self, "adding the lookahead's {lookahead} and the processing time's bound");
            lookahead
        };
        self.realtime
            .answer_query(obj.sink_pad(), direction, query, lookahead)
            .unwrap_or_else(|| BaseTransformImplExt::parent_query(self, direction, query))
    }

    fn submit_input_buffer(&self, _is_discont: bool, buffer: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let obj = self.obj();
        let _timer = self.realtime.measure(obj.upcast_ref());
        let lookahead = self.settings.lock().unwrap().lookahead;
        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        let info = frame::negotiated(self, state.info.as_ref())?;
        let time = state.clock.time(buffer.pts().map(|t| t.nseconds()));
        // Frames further apart than the latency reported for the lookahead assumed: a live
        // sink must be told to wait longer.
        let latency_grew = lookahead > 0 && state.frame_interval_ns() > state.latency_interval_ns;
        let (athlete, tracking_id) = match athlete_box(&buffer) {
            Ok(found) => found,
            Err(()) => {
                state.estimator.reset();
                let refined = state.refiner.push(None);
                state.held.push_back(Held { buffer, tracking_id: 0, roi_source: "", carried: false, rechecked: false });
                state.take_refined(refined);
                drop(guard);
                if latency_grew {
                    self.post_latency();
                }
                return Ok(gst::FlowSuccess::Ok);
            }
        };
        if state.tracking_id.is_some_and(|id| id != tracking_id) {
            gst::debug!(CAT, imp = self, "new track {tracking_id}: starting the pose afresh");
            state.estimator.reset();
            state.refiner.break_sequence();
            state.last_estimate = None;
        }
        state.tracking_id = Some(tracking_id);
        // Downstream is late, or live analysis is paced: this frame shows the last pose, moved
        // with the athlete's box, and the estimator's time goes to catching up.
        let (at, now) = realtime::running_times(self.obj().upcast_ref(), buffer.pts());
        if self.realtime.skip_analysis(at, now) {
            // With no pose to carry (nobody seen yet), the frame goes without one: it is the
            // search for the athlete, on every frame, that a live stream cannot afford.
            let (pose, roi_source) = state.last_estimate.as_ref().map_or((None, ""), |(pose, source, then)| {
                let shift = match (then, &athlete) {
                    (Some(then), Some(now)) => (now.center().x - then.center().x, now.center().y - then.center().y),
                    _ => (0.0, 0.0),
                };
                (Some(pose.carried(shift.0, shift.1, time)), *source)
            });
            let carried = pose.is_some();
            gst::debug!(CAT, imp = self, "late: pose carried onto {:?}: {carried}", buffer.pts());
            let refined = state.refiner.push(pose);
            state.held.push_back(Held { buffer, tracking_id, roi_source, carried, rechecked: false });
            state.take_refined(refined);
            drop(guard);
            if latency_grew {
                self.post_latency();
            }
            return Ok(gst::FlowSuccess::Ok);
        }
        state.estimator.set_body_every(if self.realtime.is_live() { LIVE_BODY_EVERY } else { 0 });
        let estimate = frame::analyse(self, &buffer, &info, "Pose estimation", |view| {
            state.estimator.estimate(view, athlete.as_ref(), time)
        })?;
        let roi_source = estimate.as_ref().map_or("", |e| e.source.name());
        let rechecked = estimate.as_ref().is_some_and(|e| e.rechecked);
        // Tell the tracker where the body is now, before refinement delays it: it verifies its
        // track with this when its own filter is unsure (a flip, motion blur, back light). A
        // tracker's athlete always comes with their box.
        let seen = estimate.as_ref().filter(|_| tracking_id != 0).and_then(|e| {
            let rect = e.pose.sighting(athlete.as_ref()?)?;
            Some(meta::PoseSeen { pts: buffer.pts()?, tracking_id, rect, score: e.pose.score })
        });
        state.last_estimate = estimate.as_ref().map(|e| (e.pose.clone(), roi_source, athlete));
        let refined = state.refiner.push(estimate.map(|e| e.pose));
        state.held.push_back(Held { buffer, tracking_id, roi_source, carried: false, rechecked });
        state.take_refined(refined);
        drop(guard);
        if latency_grew {
            self.post_latency();
        }
        if let Some(seen) = seen {
            // Nobody upstream may want it (no tracker): not an error.
            let _ = self.obj().sink_pad().push_event(meta::pose_seen_event(&seen));
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn generate_output(&self) -> Result<GenerateOutputSuccess, gst::FlowError> {
        let (next, context) = {
            let mut guard = self.state.lock().unwrap();
            let Some(state) = guard.as_mut() else { return Ok(GenerateOutputSuccess::NoOutput) };
            let Some(next) = state.ready.pop_front() else { return Ok(GenerateOutputSuccess::NoOutput) };
            (next, state.output_context())
        };
        let (held, pose) = next;
        Ok(GenerateOutputSuccess::Buffer(self.finish(held, pose, &context)))
    }
}

/// Caps arrive parsed; frames are read in `transform_ip` (why not `transform_frame_ip`: see
/// [`crate::frame`]).
impl VideoFilterImpl for AiCoachPose {
    fn set_info(
        &self,
        _incaps: &gst::Caps,
        in_info: &gst_video::VideoInfo,
        _outcaps: &gst::Caps,
        _out_info: &gst_video::VideoInfo,
    ) -> Result<(), gst::LoggableError> {
        let info = in_info.clone();
        let lookahead = self.settings.lock().unwrap().lookahead;
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            let resized = frame::resized(state.info.as_ref(), &info);
            if resized {
                // Keypoints of the old size are in the wrong coordinates.
                state.estimator.reset();
                state.refiner.break_sequence();
            }
            state.info = Some(info);
        }
        if lookahead > 0 {
            self.post_latency();
        }
        Ok(())
    }
}
