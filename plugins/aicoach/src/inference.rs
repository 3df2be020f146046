// SPDX-License-Identifier: MPL-2.0
//! What the model-running elements (`aicoachdetect`, `aicoachpose`) share: the `engine` and
//! `threads` properties and turning them into engine options.

use aicoach_inference::{EngineKind, EngineOptions};
use gst::glib;
use gst::prelude::*;

pub const DEFAULT_ENGINE: Engine = Engine::Auto;
pub const DEFAULT_THREADS: u32 = 1;

/// The `engine` property's values (`gst-inspect-1.0` lists them).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAiCoachEngine")]
pub enum Engine {
    /// TensorRT with a GPU, else ONNX Runtime where its library is installed, else tract.
    #[default]
    #[enum_value(name = "TensorRT with a GPU, else ONNX Runtime where installed, else tract", nick = "auto")]
    Auto,
    #[enum_value(name = "tract: pure Rust, needs nothing installed", nick = "cpu")]
    Cpu,
    #[enum_value(name = "ONNX Runtime's CPU execution provider", nick = "onnxruntime")]
    OnnxRuntime,
    #[enum_value(name = "TensorRT with CUDA buffers", nick = "tensorrt")]
    TensorRt,
}

impl From<Engine> for EngineKind {
    fn from(e: Engine) -> Self {
        match e {
            Engine::Auto => EngineKind::Auto,
            Engine::Cpu => EngineKind::Tract,
            Engine::OnnxRuntime => EngineKind::OnnxRuntime,
            Engine::TensorRt => EngineKind::TensorRt,
        }
    }
}

pub fn engine_param() -> glib::ParamSpec {
    glib::ParamSpecEnum::builder_with_default("engine", DEFAULT_ENGINE)
        .nick("Engine")
        .blurb("Inference backend")
        .mutable_ready()
        .build()
}

pub fn threads_param() -> glib::ParamSpec {
    glib::ParamSpecUInt::builder("threads")
        .nick("Threads")
        .blurb("Threads for one inference")
        .minimum(1)
        .maximum(64)
        .default_value(DEFAULT_THREADS)
        .mutable_ready()
        .build()
}

/// The options for `engine` and `threads` as set.
pub fn engine_options(engine: Engine, threads: u32) -> EngineOptions {
    EngineOptions::new(engine.into(), threads as usize)
}
