// SPDX-License-Identifier: MPL-2.0
//! What the model-running elements (`aicoachdetect`, `aicoachpose`) share: the `engine` and
//! `threads` properties, turning them into engine options, and telling the user when `auto`
//! had to fall back to tract.

use aicoach_inference::{Engine as ModelEngine, EngineKind, EngineOptions};
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

/// What a user should be told when `engine=auto` runs `model` on tract because nothing faster
/// loaded (ONNX Runtime's library missing, as on a machine that skipped the setup): the pipeline
/// works, slower (openpose 1280x720 lite: 25 against 48 fps on a 2-core EPYC). `None` when the
/// engine was chosen, or faster found.
pub fn fallback_warning(requested: Engine, model: &str, engine: &ModelEngine) -> Option<String> {
    if requested != Engine::Auto || engine.kind() != EngineKind::Tract {
        return None;
    }
    let why: Vec<&str> = engine.selection().iter().filter(|l| l.contains("skipped")).map(String::as_str).collect();
    Some(format!(
        "{model} runs on tract, the pure-Rust fallback, slower than ONNX Runtime ({}). \
         Install ONNX Runtime with pipelines/setup.sh, point AICOACH_ORT_LIB at libonnxruntime.so, \
         or set engine=cpu to choose tract knowingly.",
        why.join("; ")
    ))
}
