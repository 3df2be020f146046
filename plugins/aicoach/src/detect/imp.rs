// SPDX-License-Identifier: MPL-2.0
//! aicoachdetect: person detection on chosen frames.

use std::sync::{LazyLock, Mutex};

use aicoach_inference::person_detector;
use aicoach_inference::pose::budget::RunBudget;
use aicoach_inference::tiles;
use aicoach_inference::{ModelFile, ModelId, PersonDetector};
use aicoach_vision::detection;
use aicoach_vision::{Detection, RotatedRect};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use super::requests::{Landing, Requests};
use crate::inference::{self, DEFAULT_ENGINE, DEFAULT_THREADS};
use crate::input_check::InputCheck;
use crate::realtime::{self, Realtime};
use crate::{frame, meta};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new("aicoachdetect", gst::DebugColorFlags::empty(), Some("AI Coach person detector"))
});

// NanoDet finds people of any size and pose; the pedestrian SSD, surest of large upright
// people, joins it while the athlete is looked for. The other way round (the SSD first) the
// tracker lost a backlit jumper the SSD misses (development tracking mean F 0.627 / 0.585 /
// 0.553 at full size / 320 px wide / 12 fps, against 0.684 / 0.649 / 0.604).
const DEFAULT_MODEL: &str = "nanodet";
const DEFAULT_SEARCH_MODEL: &str = "ssdlite";
// Development photos turned half round: PCK@0.2 63.0 -> 74.3 through the default chain; the
// upright and quarter-turned photos and the tracking clips (next to) unchanged.
const DEFAULT_SEARCH_UPSIDE_DOWN: bool = true;
/// People are mostly upright: a person found upside down counts with this share of its score.
/// At full score, boxes the turned look found on people lying sideways (parts of them, or two
/// of them together) beat the upright look's right ones: quarter-turned photos 62.1 -> 53.8.
const UPSIDE_DOWN_PRIOR: f32 = 0.8;
// A wide shot of a large frame holds its athlete too small for the model's whole-frame look
// (sports2d shrunk to a third in a black frame of its size: the jumper, 130 px tall, found by
// no whole-frame look in 156 frames).
const DEFAULT_SEARCH_TILES: bool = true;
/// The tiled look costs 9 detector runs, 34 where the halves find nobody either: it may run on
/// this many search frames a second of stream time, after the first [`TILE_LOOK_BURST`] (a clip
/// with nobody in view for a while searches every few frames).
const TILE_LOOKS_PER_SECOND: f64 = 0.25;
const TILE_LOOK_BURST: f64 = 2.0;
/// Two detectors' boxes overlapping by more than this are one person.
const SAME_PERSON_IOU: f32 = 0.5;
/// While the athlete is looked for and nobody reaches `threshold`, the surest person down to
/// this share of it is reported: a clear athlete in a small, blurred picture can score just
/// under the threshold (a backlit jumper 71 px tall at 0.47) with nobody else near it.
const SEARCH_THRESHOLD_SHARE: f64 = 0.6;
// The detector's own defaults, written once (in `aicoach-inference`).
const DEFAULT_THRESHOLD: f64 = person_detector::DEFAULT_MIN_SCORE as f64;
const DEFAULT_INTERVAL: u32 = 0;
const DEFAULT_MAX_DETECTIONS: u32 = person_detector::DEFAULT_MAX_DETECTIONS as u32;
const DEFAULT_POST_MESSAGES: bool = false;
const DEFAULT_REQUEST_DELAY: u32 = 1;
/// The blank frame the detector first runs on.
const WARM_UP_SIZE: (u32, u32) = (320, 240);
/// Live, detection takes at most this share of the stream's time: it shares the streaming
/// thread with the pose estimator (which takes the most), and a tracker asks for it every few
/// frames at most.
const LIVE_DETECTION_SHARE: f64 = 0.15;

#[derive(Debug, Clone)]
struct Settings {
    /// `ssdlite`, `blazepose-detector`, `nanodet`, or a path to an ONNX file with the inputs and
    /// outputs of one of them (its kind is taken from the file name: containing "nanodet", "ssd",
    /// or else the BlazePose detector).
    model: String,
    /// A second detector that joins the first while the athlete is being looked for (the first
    /// frame, and whenever a tracker asks while searching or lost): `none`, or a name or path
    /// as `model` takes.
    search_model: String,
    /// While the athlete is looked for, the first detector also runs on the frame turned half
    /// round: people upside down.
    search_upside_down: bool,
    /// While the athlete is looked for and nobody reaches the threshold, the first detector
    /// looks again in tiles of the frame ([`tiles::TILINGS`]): people too small for the
    /// whole-frame look.
    search_tiles: bool,
    engine: inference::Engine,
    threshold: f64,
    interval: u32,
    max_detections: u32,
    threads: u32,
    post_messages: bool,
    /// A re-detection request runs on this many frames after the one the tracker asked on.
    request_delay: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            model: DEFAULT_MODEL.into(),
            search_model: DEFAULT_SEARCH_MODEL.into(),
            search_upside_down: DEFAULT_SEARCH_UPSIDE_DOWN,
            search_tiles: DEFAULT_SEARCH_TILES,
            engine: DEFAULT_ENGINE,
            threshold: DEFAULT_THRESHOLD,
            interval: DEFAULT_INTERVAL,
            max_detections: DEFAULT_MAX_DETECTIONS,
            threads: DEFAULT_THREADS,
            post_messages: DEFAULT_POST_MESSAGES,
            request_delay: DEFAULT_REQUEST_DELAY,
        }
    }
}

impl Settings {
    fn model_file(&self) -> Result<ModelFile, String> {
        detector_file(&self.model)
    }

    /// The search detector's file: none when switched off or the same as the first.
    fn search_model_file(&self) -> Result<Option<ModelFile>, String> {
        if self.search_model == "none" || self.search_model == self.model {
            return Ok(None);
        }
        detector_file(&self.search_model).map(Some)
    }
}

/// A person detector's file from a name users type or a path.
fn detector_file(model: &str) -> Result<ModelFile, String> {
    match ModelId::from_name(model) {
        Ok(id @ (ModelId::PoseDetector | ModelId::NanoDet | ModelId::PedestrianSsd)) => Ok(ModelFile::bundled(id)),
        Ok(_) => Err(format!("'{model}' is a pose model, not a person detector")),
        Err(_) if model.ends_with(".onnx") => {
            let id = if model.contains("nanodet") {
                ModelId::NanoDet
            } else if model.contains("ssd") {
                ModelId::PedestrianSsd
            } else {
                ModelId::PoseDetector
            };
            Ok(ModelFile::custom(id, model))
        }
        Err(_) => Err(format!(
            "unknown detector model '{model}' (expected ssdlite, blazepose-detector, nanodet, or a path to a .onnx file)"
        )),
    }
}

/// What a tracker's re-detection request asks for, applied on the frame it falls due on.
#[derive(Debug)]
struct Ask {
    /// The athlete is looked for (the tracker searching or lost): the search passes join.
    search: bool,
    /// Where the tracker had the athlete: looked at closer if small.
    athlete: Option<aicoach_vision::Rect>,
}

struct State {
    detector: PersonDetector,
    /// Joins `detector` while the athlete is looked for.
    search_detector: Option<PersonDetector>,
    /// The athlete is being looked for: the first frame, or a tracker asked while searching or
    /// lost.
    searching: bool,
    info: Option<gst_video::VideoInfo>,
    /// Frames since the detector last ran.
    since_detection: u64,
    /// Run on the next frame: the first one, or a re-detection request fell due.
    pending: bool,
    /// Which frame each re-detection request runs on.
    requests: Requests<Ask>,
    /// How often the tiled look may run.
    tile_looks: RunBudget,
    /// Where the tracker had the athlete, from the last request that fell due: the next run looks
    /// closer there if they are small.
    athlete: Option<aicoach_vision::Rect>,
}

#[derive(Default)]
pub struct AiCoachDetect {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    input_check: InputCheck,
    realtime: Realtime,
}

#[glib::object_subclass]
impl ObjectSubclass for AiCoachDetect {
    const NAME: &'static str = "GstAiCoachDetect";
    type Type = super::AiCoachDetect;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for AiCoachDetect {
    fn constructed(&self) {
        self.parent_constructed();
        realtime::keep_late_frames(self.obj().upcast_ref());
        self.realtime.set_analysis_share(LIVE_DETECTION_SHARE);
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("model")
                    .nick("Model")
                    .blurb("Person detector: nanodet (people of any size and pose), ssdlite (pedestrian SSD, large people), blazepose-detector (large people whose face shows), or a path to an .onnx file of one of these kinds")
                    .default_value(Some(DEFAULT_MODEL))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("search-model")
                    .nick("Search model")
                    .blurb("A second detector that joins the first while the athlete is looked for (the first frame; \
                        a tracker searching or lost): ssdlite (surest of large upright people), \
                        another model name or .onnx path, or none")
                    .default_value(Some(DEFAULT_SEARCH_MODEL))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("search-upside-down")
                    .nick("Search upside down")
                    .blurb("While the athlete is looked for (files only), the first detector also looks at the frame \
                        turned upside down, for people in a handstand, a flip or a fall, whom it misses upright \
                        (one more detector run on those frames)")
                    .default_value(DEFAULT_SEARCH_UPSIDE_DOWN)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("search-tiles")
                    .nick("Search tiles")
                    .blurb("While the athlete is looked for (files only) and nobody reaches the threshold, the first \
                        detector looks again at a large frame in overlapping tiles of half its size, then of a third: an \
                        athlete too small for the whole-frame look (a wide shot). At most one such look in four seconds \
                        after the first two")
                    .default_value(DEFAULT_SEARCH_TILES)
                    .mutable_playing()
                    .build(),
                inference::engine_param(),
                glib::ParamSpecDouble::builder("threshold")
                    .nick("Threshold")
                    .blurb(
                        "Minimum detection score (while the athlete is looked for and nobody reaches it, the surest \
                         person down to 0.6 of it is reported alone)",
                    )
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("interval")
                    .nick("Interval")
                    .blurb("Run every N frames (0: only the first frame and when asked to re-detect)")
                    .default_value(DEFAULT_INTERVAL)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("max-detections")
                    .nick("Max detections")
                    .blurb("Most people reported per frame")
                    .minimum(1)
                    .maximum(100)
                    .default_value(DEFAULT_MAX_DETECTIONS)
                    .mutable_playing()
                    .build(),
                inference::threads_param(),
                glib::ParamSpecUInt::builder("request-delay")
                    .nick("Request delay")
                    .blurb("A tracker's re-detection request runs on this many frames after the one it asked on (1: the next). \
                        With a queue between detector and tracker, more than the queue holds plus two makes that frame the \
                        same whatever the threads' timing: the analysis of a file is then the same on every run")
                    .minimum(1)
                    .maximum(32)
                    .default_value(DEFAULT_REQUEST_DELAY)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("post-messages")
                    .nick("Post messages")
                    .blurb("Post an element message with the detections of each frame the detector runs on")
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
            "model" => settings.model = value.get::<Option<String>>().unwrap().unwrap_or_else(|| DEFAULT_MODEL.into()),
            "search-model" => {
                settings.search_model =
                    value.get::<Option<String>>().unwrap().unwrap_or_else(|| DEFAULT_SEARCH_MODEL.into())
            }
            "search-upside-down" => settings.search_upside_down = value.get().unwrap(),
            "search-tiles" => settings.search_tiles = value.get().unwrap(),
            // Checked in start(), which fails with an error naming the bad value.
            "engine" => settings.engine = value.get().unwrap(),
            "threshold" => settings.threshold = value.get().unwrap(),
            "interval" => settings.interval = value.get().unwrap(),
            "max-detections" => settings.max_detections = value.get().unwrap(),
            "threads" => settings.threads = value.get().unwrap(),
            "post-messages" => settings.post_messages = value.get().unwrap(),
            "request-delay" => settings.request_delay = value.get().unwrap(),
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings.lock().unwrap();
        match pspec.name() {
            "model" => settings.model.to_value(),
            "search-model" => settings.search_model.to_value(),
            "search-upside-down" => settings.search_upside_down.to_value(),
            "search-tiles" => settings.search_tiles.to_value(),
            "engine" => settings.engine.to_value(),
            "threshold" => settings.threshold.to_value(),
            "interval" => settings.interval.to_value(),
            "max-detections" => settings.max_detections.to_value(),
            "threads" => settings.threads.to_value(),
            "post-messages" => settings.post_messages.to_value(),
            "request-delay" => settings.request_delay.to_value(),
            _ => unimplemented!(),
        }
    }
}

impl GstObjectImpl for AiCoachDetect {}

impl ElementImpl for AiCoachDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "AI Coach person detector",
                "Filter/Analyzer/Video",
                "Finds people and attaches them as region-of-interest metadata",
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

impl BaseTransformImpl for AiCoachDetect {
    const MODE: gst_base::subclass::BaseTransformMode = gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = self.settings.lock().unwrap().clone();
        let options = inference::engine_options(settings.engine, settings.threads);
        let file = settings.model_file().map_err(|e| gst::error_msg!(gst::LibraryError::Settings, ("{e}")))?;
        let mut detector = PersonDetector::load(file, &options)
            .map_err(|e| gst::error_msg!(gst::ResourceError::OpenRead, ("Cannot load the detector: {e}")))?;
        gst::info!(CAT, imp = self, "detector {} on {}", settings.model, detector.engine().kind());
        // On the model's own square input: NanoDet loads for the frame's aspect once caps
        // give it (`set_info`), and a blank frame's aspect would load it once more for nothing.
        let square = RotatedRect::letterbox(WARM_UP_SIZE.0, WARM_UP_SIZE.1);
        self.realtime.warm_up(WARM_UP_SIZE, |view| {
            detector
                .detect_in(view, &square)
                .map(|_| ())
                .map_err(|e| gst::error_msg!(gst::LibraryError::Failed, ("The detector fails on a blank frame: {e}")))
        })?;
        for line in detector.engine().selection() {
            gst::info!(CAT, imp = self, "{line}");
        }
        if let Some(warning) = inference::fallback_warning(settings.engine, &settings.model, detector.engine()) {
            gst::element_imp_warning!(self, gst::LibraryError::Init, ("{warning}"));
        }
        let search_file = settings
            .search_model_file()
            .map_err(|e| gst::error_msg!(gst::LibraryError::Settings, ("search-model: {e}")))?;
        let search_detector = match search_file {
            Some(file) => {
                let mut search = PersonDetector::load(file, &options).map_err(|e| {
                    gst::error_msg!(gst::ResourceError::OpenRead, ("Cannot load the search detector: {e}"))
                })?;
                realtime::on_blank_frame(WARM_UP_SIZE, |view| search.detect_in(view, &square)).map_err(|e| {
                    gst::error_msg!(gst::LibraryError::Failed, ("The search detector fails on a blank frame: {e}"))
                })?;
                gst::info!(CAT, imp = self, "search detector {} on {}", settings.search_model, search.engine().kind());
                Some(search)
            }
            None => None,
        };
        *self.state.lock().unwrap() = Some(State {
            detector,
            search_detector,
            searching: true,
            info: None,
            since_detection: 0,
            pending: true,
            requests: Requests::default(),
            tile_looks: RunBudget::new(TILE_LOOKS_PER_SECOND, TILE_LOOK_BURST),
            athlete: None,
        });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().unwrap() = None;
        // The detectors' working memory, freed with them, goes back to the system rather than
        // staying in the process until the next start.
        aicoach_inference::backend::return_freed_memory();
        Ok(())
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        let obj = self.obj();
        self.realtime
            .answer_query(obj.sink_pad(), direction, query, || gst::ClockTime::ZERO)
            .unwrap_or_else(|| BaseTransformImplExt::parent_query(self, direction, query))
    }

    fn src_event(&self, event: gst::Event) -> bool {
        self.realtime.on_src_event(&event);
        if meta::is_redetect_event(&event) {
            gst::debug!(CAT, imp = self, "re-detection requested: {:?}", event.structure());
            let delay = self.settings.lock().unwrap().request_delay;
            if let Some(state) = self.state.lock().unwrap().as_mut() {
                let asked_on = meta::redetect_pts(&event);
                let ask = Ask { search: meta::redetect_to_search(&event), athlete: meta::redetect_athlete(&event) };
                if state.requests.request(asked_on.map(|t| t.nseconds()), delay, ask) == Landing::Late {
                    gst::debug!(
                        CAT,
                        imp = self,
                        "request from {asked_on:?} arrived past frame {delay} after it: runs on the next"
                    );
                }
            }
            return true;
        }
        self.parent_src_event(event)
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        self.input_check.on_sink_event(self.obj().upcast_ref(), self.obj().sink_pad(), &event);
        self.realtime.on_sink_event(&event);
        if let gst::EventView::FlushStop(_) | gst::EventView::StreamStart(_) = event.view()
            && let Some(state) = self.state.lock().unwrap().as_mut()
        {
            state.pending = true;
            state.since_detection = 0;
            state.requests.clear();
            state.tile_looks.reset();
            state.athlete = None;
        }
        self.parent_sink_event(event)
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let obj = self.obj();
        let _timer = self.realtime.measure(obj.upcast_ref());
        // Only the values that may change while playing, copied: frames the detector skips
        // should cost next to nothing.
        let (interval, threshold, max_detections, post_messages, upside_down, look_in_tiles) = {
            let s = self.settings.lock().unwrap();
            (s.interval, s.threshold, s.max_detections, s.post_messages, s.search_upside_down, s.search_tiles)
        };
        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        state.since_detection += 1;
        // A request that falls due stays due until the detector runs (live, it may wait for a
        // frame that is on time).
        for ask in state.requests.frame(buf.pts().map(|t| t.nseconds())) {
            state.pending = true;
            state.searching |= ask.search;
            state.athlete = ask.athlete.or(state.athlete);
        }
        let due = state.pending || (interval > 0 && state.since_detection >= interval as u64);
        if !due {
            return Ok(gst::FlowSuccess::Ok);
        }
        // Downstream is late: the detection waits for a frame that is on time (it stays due).
        let (at, now) = realtime::running_times(self.obj().upcast_ref(), buf.pts());
        if self.realtime.skip_analysis(at, now) {
            gst::debug!(CAT, imp = self, "late: detection postponed from {:?}", buf.pts());
            return Ok(gst::FlowSuccess::Ok);
        }
        let info = frame::negotiated(self, state.info.as_ref())?;
        let min_score = if state.searching { threshold * SEARCH_THRESHOLD_SHARE } else { threshold };
        for detector in std::iter::once(&mut state.detector).chain(state.search_detector.as_mut()) {
            detector.min_score = min_score as f32;
            detector.max_detections = max_detections as usize;
        }
        // Live, the search passes stay out: their runs would add their time to the latency every
        // frame waits for (the processing bound is the slowest recent frame's).
        let search = state.searching && !self.realtime.upstream_live(self.obj().sink_pad());
        let detections = frame::analyse(self, buf, &info, "Detection", |view| {
            let mut found = state.detector.detect(view)?;
            // An athlete small in a large frame: the first detector again on a window around
            // them, where they are large enough for it.
            if let Some(athlete) = state.athlete.take() {
                found = merge_detections(found, state.detector.detect_around(view, &athlete)?, max_detections as usize);
            }
            if let Some(search) = state.search_detector.as_mut().filter(|_| search) {
                found = merge_detections(found, search.detect(view)?, max_detections as usize);
            }
            // Upside down, the first detector once more: the people it was trained on stand
            // upright, and a handstand or a flip on a photo or a clip's first frame went unfound.
            if search && upside_down {
                let turned = state.detector.detect_upside_down(view)?;
                found = merge_upside_down(found, turned, threshold as f32, max_detections as usize);
            }
            // Nobody sure in the whole frame: maybe someone too small for it, in halves of the
            // frame, then in thirds.
            let time = buf.pts().map_or(0.0, |t| t.nseconds() as f64 / 1e9);
            if search && look_in_tiles && !detection::any_sure(&found, threshold as f32) && state.tile_looks.take(time)
            {
                for tiling in tiles::TILINGS {
                    if detection::any_sure(&found, threshold as f32) {
                        break;
                    }
                    let more = state.detector.detect_tiled(view, tiling)?;
                    found = merge_detections(found, more, max_detections as usize);
                }
            }
            Ok::<_, aicoach_inference::EngineError>(detection::sure_or_surest(found, threshold as f32))
        })?;
        state.pending = false;
        // Until a tracker asks to search again (or with no tracker, after the first frame), the
        // first detector is enough.
        state.searching = false;
        state.since_detection = 0;
        drop(guard);

        gst::log!(CAT, imp = self, "{} people on {:?}", detections.len(), buf.pts());
        meta::mark_detector_ran(buf);
        for d in &detections {
            gst::trace!(CAT, imp = self, "person {:?} score {:.3}", d.bbox, d.score);
            meta::add_person(buf, d, info.width(), info.height());
        }
        if post_messages {
            let list: gst::List = detections
                .iter()
                .map(|d| meta::od_structure(meta::ROI_PERSON, &d.bbox, d.score).to_send_value())
                .collect();
            let s = gst::Structure::builder("aicoachdetect").field("pts", buf.pts()).field("detections", list).build();
            let _ = self.obj().post_message(gst::message::Element::builder(s).src(&*self.obj()).build());
        }
        Ok(gst::FlowSuccess::Ok)
    }
}

/// The people two detectors found, once each: where their boxes overlap by more than
/// [`SAME_PERSON_IOU`], the surer one stays.
fn merge_detections(first: Vec<Detection>, second: Vec<Detection>, max: usize) -> Vec<Detection> {
    aicoach_inference::nms::hard_nms(first.into_iter().chain(second).collect(), SAME_PERSON_IOU, max)
}

/// `upright` with the people found on the frame turned upside down, who count with
/// [`UPSIDE_DOWN_PRIOR`] of their score. Those found upright with a score at `threshold` keep
/// their upright boxes: the turned look is for the people the upright ones missed or were
/// unsure of.
fn merge_upside_down(
    upright: Vec<Detection>,
    mut turned: Vec<Detection>,
    threshold: f32,
    max: usize,
) -> Vec<Detection> {
    let sure = |d: &&Detection| d.score >= threshold;
    turned.retain(|t| !upright.iter().filter(sure).any(|u| u.bbox.iou(&t.bbox) > SAME_PERSON_IOU));
    for d in &mut turned {
        d.score *= UPSIDE_DOWN_PRIOR;
    }
    merge_detections(upright, turned, max)
}

/// Caps arrive parsed; frames are read in `transform_ip` (why not `transform_frame_ip`: see
/// [`crate::frame`]).
impl VideoFilterImpl for AiCoachDetect {
    fn set_info(
        &self,
        _incaps: &gst::Caps,
        in_info: &gst_video::VideoInfo,
        _outcaps: &gst::Caps,
        _out_info: &gst_video::VideoInfo,
    ) -> Result<(), gst::LoggableError> {
        let info = in_info.clone();
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            // NanoDet takes the frame's aspect: its engine for this size loads now, not on the
            // first frame, which would wait for it.
            for detector in std::iter::once(&mut state.detector).chain(state.search_detector.as_mut()) {
                detector.prepare(info.width(), info.height()).map_err(|e| {
                    gst::element_imp_error!(
                        self,
                        gst::LibraryError::Failed,
                        ("The detector cannot take {}x{} frames: {e}", info.width(), info.height())
                    );
                    gst::loggable_error!(CAT, "detector not prepared for the frame size")
                })?;
            }
            // A new resolution means the people found before are in the wrong coordinates.
            state.info = Some(info);
            state.athlete = None;
            state.pending = true;
            state.searching = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aicoach_vision::Rect;

    fn person(x: f32, score: f32) -> Detection {
        Detection::boxed(Rect { x, y: 0.0, w: 50.0, h: 100.0 }, score)
    }

    #[test]
    fn people_found_upside_down_join_those_found_upright_at_a_discount() {
        let boxes =
            |found: &[Detection]| found.iter().map(|d| (d.bbox.x, (d.score * 100.0).round())).collect::<Vec<_>>();
        // Someone the upright look missed joins, at 0.8 of the score.
        assert_eq!(
            boxes(&merge_upside_down(vec![person(0.0, 0.9)], vec![person(200.0, 0.75)], 0.5, 10)),
            [(0.0, 90.0), (200.0, 60.0)]
        );
        // Someone found upright with confidence keeps the upright box, even where the turned
        // look is surer of a box a little off it.
        assert_eq!(boxes(&merge_upside_down(vec![person(0.0, 0.55)], vec![person(5.0, 0.9)], 0.5, 10)), [(0.0, 55.0)]);
        // Someone the upright look was unsure of: the surer box, after the discount.
        assert_eq!(boxes(&merge_upside_down(vec![person(0.0, 0.45)], vec![person(5.0, 0.9)], 0.5, 10)), [(5.0, 72.0)]);
        assert_eq!(boxes(&merge_upside_down(vec![person(0.0, 0.45)], vec![person(5.0, 0.55)], 0.5, 10)), [(0.0, 45.0)]);
    }
}
