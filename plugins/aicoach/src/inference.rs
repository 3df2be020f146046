// SPDX-License-Identifier: MPL-2.0
//! What the model-running elements (`aicoachdetect`, `aicoachpose`) share: the `engine` and
//! `threads` properties and turning them into engine options, with an error naming a bad
//! engine.

use aicoach_engines::{EngineKind, EngineOptions};
use gst::glib;
use gst::prelude::*;

pub const DEFAULT_ENGINE: &str = "auto";
pub const DEFAULT_THREADS: u32 = 1;

pub fn engine_param() -> glib::ParamSpec {
    glib::ParamSpecString::builder("engine")
        .nick("Engine")
        .blurb("Inference backend: auto, cpu, onnxruntime, tensorrt")
        .default_value(Some(DEFAULT_ENGINE))
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

/// The options for `engine` and `threads` as set; checked when the element starts.
pub fn engine_options(engine: &str, threads: u32) -> Result<EngineOptions, gst::ErrorMessage> {
    let kind: EngineKind = engine.parse().map_err(|e: String| gst::error_msg!(gst::LibraryError::Settings, ("{e}")))?;
    Ok(EngineOptions::new(kind, threads as usize))
}
