// SPDX-License-Identifier: MPL-2.0
//! aicoachoverlay: reads the analysis metas and hands them to `draw::scene::render` on a
//! canvas over the frame's own format.

use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;
use gst_video::subclass::prelude::*;

use crate::draw::scene::{self, Athlete, Layers, Scene};
use crate::draw::{Canvas, Matrix, PixelLayout};
use crate::realtime::{self, Realtime};
use crate::timing::{self, FrameClock};
use crate::{frame, meta};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new("aicoachoverlay", gst::DebugColorFlags::empty(), Some("AI Coach analysis overlay"))
});

const DEFAULT_LAYER: bool = true;
const DEFAULT_TEXT_SCALE: f64 = 1.0;

#[derive(Debug, Clone, Copy)]
struct Settings {
    layers: Layers,
    text_scale: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            layers: Layers {
                athlete_box: DEFAULT_LAYER,
                skeleton: DEFAULT_LAYER,
                labels: DEFAULT_LAYER,
                angles: DEFAULT_LAYER,
                score: DEFAULT_LAYER,
            },
            text_scale: DEFAULT_TEXT_SCALE,
        }
    }
}

#[derive(Default)]
pub struct AiCoachOverlay {
    settings: Mutex<Settings>,
    info: Mutex<Option<gst_video::VideoInfo>>,
    /// The frames' spacing, for durations the encoder downstream needs.
    clock: Mutex<FrameClock>,
    realtime: Realtime,
}

#[glib::object_subclass]
impl ObjectSubclass for AiCoachOverlay {
    const NAME: &'static str = "GstAiCoachOverlay";
    type Type = super::AiCoachOverlay;
    type ParentType = gst_video::VideoFilter;
}

/// The boolean layer properties: name, what it toggles.
const LAYERS: [(&str, &str); 5] = [
    ("draw-box", "Draw the athlete's box and track state"),
    ("draw-skeleton", "Draw the skeleton (limbs red where a flagged error involves them)"),
    ("draw-labels", "Draw the labels of the errors flagged on the frame"),
    ("draw-angles", "Draw the profile's angles at their joints"),
    ("draw-score", "Draw the attempt and its running form score"),
];

fn layer<'a>(layers: &'a mut Layers, name: &str) -> &'a mut bool {
    match name {
        "draw-box" => &mut layers.athlete_box,
        "draw-skeleton" => &mut layers.skeleton,
        "draw-labels" => &mut layers.labels,
        "draw-angles" => &mut layers.angles,
        "draw-score" => &mut layers.score,
        _ => unimplemented!(),
    }
}

impl ObjectImpl for AiCoachOverlay {
    fn constructed(&self) {
        self.parent_constructed();
        realtime::keep_late_frames(self.obj().upcast_ref());
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let mut props: Vec<glib::ParamSpec> = LAYERS
                .iter()
                .map(|(name, blurb)| {
                    glib::ParamSpecBoolean::builder(name)
                        .blurb(blurb)
                        .default_value(DEFAULT_LAYER)
                        .mutable_playing()
                        .build()
                })
                .collect();
            props.push(
                glib::ParamSpecDouble::builder("text-scale")
                    .nick("Text scale")
                    .blurb("Text size relative to the default (which follows the frame height)")
                    .minimum(0.25)
                    .maximum(8.0)
                    .default_value(DEFAULT_TEXT_SCALE)
                    .mutable_playing()
                    .build(),
            );
            props
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings.lock().unwrap();
        match pspec.name() {
            "text-scale" => settings.text_scale = value.get().unwrap(),
            name => *layer(&mut settings.layers, name) = value.get().unwrap(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let mut settings = *self.settings.lock().unwrap();
        match pspec.name() {
            "text-scale" => settings.text_scale.to_value(),
            name => layer(&mut settings.layers, name).to_value(),
        }
    }
}

impl GstObjectImpl for AiCoachOverlay {}

impl ElementImpl for AiCoachOverlay {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "AI Coach analysis overlay",
                "Filter/Effect/Video",
                "Draws the athlete's box, skeleton, errors, angles and score onto the video, in place",
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

/// How the canvas addresses a format's pixels: the packed layouts are the models' own.
fn pixel_layout(format: gst_video::VideoFormat) -> Option<PixelLayout> {
    if let Some(packed) = frame::packed_format(format) {
        return Some(PixelLayout::Packed { bytes: packed.bytes_per_pixel(), rgb: packed.rgb_offsets() });
    }
    match format {
        gst_video::VideoFormat::I420 => Some(PixelLayout::I420),
        gst_video::VideoFormat::Nv12 => Some(PixelLayout::Nv12),
        _ => None,
    }
}

fn matrix(info: &gst_video::VideoInfo) -> Matrix {
    match info.colorimetry().matrix() {
        gst_video::VideoColorMatrix::Bt709 => Matrix::Bt709,
        gst_video::VideoColorMatrix::Bt601 => Matrix::Bt601,
        // Unknown: GStreamer's default for the size.
        _ if info.height() >= 720 => Matrix::Bt709,
        _ => Matrix::Bt601,
    }
}

impl BaseTransformImpl for AiCoachOverlay {
    const MODE: gst_base::subclass::BaseTransformMode = gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.info.lock().unwrap() = None;
        self.clock.lock().unwrap().reset();
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        if matches!(event.view(), gst::EventView::FlushStop(_) | gst::EventView::StreamStart(_)) {
            self.clock.lock().unwrap().reset();
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
        // The output goes to an encoder and a muxer: every frame leaves with a real duration.
        {
            let mut clock = self.clock.lock().unwrap();
            clock.time(buf.pts().map(|t| t.nseconds()));
            if let Some(ns) =
                timing::repaired_duration_ns(buf.duration().map(|d| d.nseconds()), clock.usual_interval_ns())
            {
                buf.set_duration(gst::ClockTime::from_nseconds(ns));
            }
        }
        let pose = meta::read_pose(buf);
        let verdict = meta::read_verdict(buf);
        let athlete = meta::athlete(buf);
        let scene = Scene {
            athlete: athlete.as_ref().map(|a| Athlete { rect: a.rect, state: a.state, tracking_id: a.tracking_id }),
            joints: pose.as_ref().map(|p| p.joints.as_slice()),
            verdict: verdict.as_ref(),
        };
        // Nothing to draw: the frame is not even mapped.
        if scene.is_empty() {
            return Ok(gst::FlowSuccess::Ok);
        }
        let info = frame::negotiated(self, self.info.lock().unwrap().as_ref())?;
        let settings = *self.settings.lock().unwrap();
        let layout = pixel_layout(info.format()).ok_or(gst::FlowError::NotNegotiated)?;
        let mut frame = gst_video::VideoFrameRef::from_buffer_ref_writable(buf, &info).map_err(|_| {
            gst::element_imp_error!(self, gst::StreamError::Format, ("Cannot map the frame for writing"));
            gst::FlowError::Error
        })?;
        let strides: Vec<usize> = frame.plane_stride().iter().map(|s| *s as usize).collect();
        let stride = |i: usize| strides.get(i).copied().unwrap_or(0);
        let [p0, p1, p2, _] = frame.planes_data_mut();
        let mut canvas = Canvas::new(
            layout,
            matrix(&info),
            info.width(),
            info.height(),
            [p0, p1, p2],
            [stride(0), stride(1), stride(2)],
        );
        scene::render(&mut canvas, &scene, settings.layers, settings.text_scale as f32);
        Ok(gst::FlowSuccess::Ok)
    }
}

/// Caps arrive parsed (`set_info`). Frames are not taken through `transform_frame_ip`: its frame
/// gives no access to the buffer, whose duration the overlay repairs, and it would map frames
/// with nothing to draw; `transform_ip` maps for writing only when there is something to draw.
impl VideoFilterImpl for AiCoachOverlay {
    fn set_info(
        &self,
        _incaps: &gst::Caps,
        in_info: &gst_video::VideoInfo,
        _outcaps: &gst::Caps,
        _out_info: &gst_video::VideoInfo,
    ) -> Result<(), gst::LoggableError> {
        let info = in_info.clone();
        gst::debug!(CAT, imp = self, "drawing on {}x{} {:?}", info.width(), info.height(), info.format());
        *self.info.lock().unwrap() = Some(info);
        Ok(())
    }
}
