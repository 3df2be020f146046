// SPDX-License-Identifier: MPL-2.0
//! Inference backends behind one interface: load a model once, run it many times on named
//! tensors. `tract` (pure Rust) is always built; ONNX Runtime and TensorRT are cargo features.

use std::fmt;
use std::str::FromStr;

use crate::error::{EngineError, Result};
use crate::models::ModelFile;
use crate::onnx_graph;
use crate::tensor::{Outputs, Tensor, TensorInfo};

#[cfg(feature = "cuda")]
pub mod cuda_preprocess;
#[cfg(feature = "onnxruntime")]
pub mod onnxruntime;
#[cfg(feature = "tensorrt")]
pub mod tensorrt;
pub mod tract;

/// What a user asks for in an `engine` property or `--engine` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// TensorRT if a GPU and TensorRT are present, else ONNX Runtime if its library is found,
    /// else tract.
    #[default]
    Auto,
    /// tract: pure Rust, needs nothing installed.
    Tract,
    /// ONNX Runtime's CPU execution provider.
    OnnxRuntime,
    /// TensorRT with CUDA buffers.
    TensorRt,
}

impl EngineKind {
    pub const NAMES: &'static str = "auto, cpu (tract), onnxruntime, tensorrt";
}

impl FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" | "tract" => Ok(Self::Tract),
            "onnxruntime" | "ort" => Ok(Self::OnnxRuntime),
            "tensorrt" | "trt" => Ok(Self::TensorRt),
            _ => Err(format!("unknown engine '{s}' (expected one of: {})", Self::NAMES)),
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Tract => "tract",
            Self::OnnxRuntime => "onnxruntime",
            Self::TensorRt => "tensorrt",
        })
    }
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub kind: EngineKind,
    /// Threads this engine may use for one inference. On a 2-core box the elements share the
    /// cores, so the default is one each; raise it where one model is the bottleneck.
    pub threads: usize,
    /// Keep every output the file declares instead of pruning to the ones the product decodes
    /// (for benchmarks that measure what pruning saves, and for debugging).
    pub all_outputs: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { kind: EngineKind::Auto, threads: 1, all_outputs: false }
    }
}

impl EngineOptions {
    pub fn new(kind: EngineKind, threads: usize) -> Self {
        Self { kind, threads, ..Self::default() }
    }
}

/// One backend's loaded model.
pub trait Backend: Send {
    fn run(&mut self, inputs: &[(&str, &Tensor)]) -> Result<Outputs>;
}

/// A model loaded on one backend, ready to run.
pub struct Engine {
    backend: Box<dyn Backend>,
    kind: EngineKind,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
    selection: Vec<String>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine").field("kind", &self.kind).field("outputs", &self.outputs).finish()
    }
}

impl Engine {
    /// Reads and verifies `file`, cuts the graph to the input the product feeds and the
    /// outputs it uses, and loads it on the backend `options` asks for.
    pub fn load(file: &ModelFile, options: &EngineOptions) -> Result<Engine> {
        Self::load_sized(file, options, None)
    }

    /// [`Engine::load`] for a fully convolutional model fed `cols` x `rows` pixels instead of
    /// its file's square input (`None`: the file's size).
    pub fn load_sized(file: &ModelFile, options: &EngineOptions, size: Option<(usize, usize)>) -> Result<Engine> {
        let bytes = file.read_verified()?;
        let mut proto = onnx_graph::decode(&file.path, &bytes)?;
        onnx_graph::check_io(&file.path, &proto, file.spec)?;
        let spec = file.spec;
        if spec.file_input.is_some() {
            let fed = TensorInfo { name: spec.input.into(), element_type: spec.input_type, shape: spec.input_shape() };
            onnx_graph::feed_at(&mut proto, &fed);
        }
        if let Some((cols, rows)) = size.filter(|&(c, r)| c != spec.input_size || r != spec.input_size) {
            let shape = spec.input_shape_sized(cols, rows);
            onnx_graph::reshape_input(
                &mut proto,
                &TensorInfo { name: spec.input.into(), element_type: spec.input_type, shape },
            );
        }
        if !options.all_outputs {
            onnx_graph::prune_to_outputs(&mut proto, file.spec.outputs);
        }
        let (inputs, outputs) = onnx_graph::io(&proto);
        let model = LoadRequest { file, proto: &proto, inputs: &inputs, threads: options.threads.max(1) };

        let mut selection = Vec::new();
        let (backend, kind): (Box<dyn Backend>, EngineKind) = match options.kind {
            EngineKind::Tract => (Box::new(tract::TractBackend::load(&model)?), EngineKind::Tract),
            EngineKind::OnnxRuntime => (load_onnxruntime(&model)?, EngineKind::OnnxRuntime),
            EngineKind::TensorRt => (load_tensorrt(&model)?, EngineKind::TensorRt),
            EngineKind::Auto => {
                let mut chosen = None;
                for kind in [EngineKind::TensorRt, EngineKind::OnnxRuntime] {
                    let attempt = match kind {
                        EngineKind::TensorRt => load_tensorrt(&model),
                        _ => load_onnxruntime(&model),
                    };
                    match attempt {
                        Ok(backend) => {
                            selection.push(format!("{}: chose {kind}", file.spec.name));
                            chosen = Some((backend, kind));
                            break;
                        }
                        Err(e) => selection.push(format!("{}: skipped {kind}: {e}", file.spec.name)),
                    }
                }
                match chosen {
                    Some(c) => c,
                    None => {
                        selection.push(format!("{}: chose tract (the pure-Rust fallback)", file.spec.name));
                        (Box::new(tract::TractBackend::load(&model)?), EngineKind::Tract)
                    }
                }
            }
        };
        for line in &selection {
            log::info!("{line}");
        }
        Ok(Engine { backend, kind, inputs, outputs, selection })
    }

    /// Runs the model on named inputs; returns the (pruned) graph's outputs by name.
    pub fn run(&mut self, inputs: &[(&str, &Tensor)]) -> Result<Outputs> {
        for (name, tensor) in inputs {
            let info = self.inputs.iter().find(|i| i.name == *name).ok_or_else(|| EngineError::Tensor {
                name: name.to_string(),
                reason: "the model has no such input".into(),
            })?;
            if info.shape != tensor.shape || info.element_type != tensor.element_type() {
                return Err(EngineError::Tensor {
                    name: name.to_string(),
                    reason: format!(
                        "model expects {:?} {:?}, got {:?} {:?}",
                        info.element_type,
                        info.shape,
                        tensor.element_type(),
                        tensor.shape
                    ),
                });
            }
        }
        self.backend.run(inputs)
    }

    /// The backend actually in use (never `Auto`).
    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    pub fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    pub fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }

    /// Why `auto` chose the backend it did, one line per candidate (empty for explicit choices).
    pub fn selection(&self) -> &[String] {
        &self.selection
    }
}

/// Hands the heap memory freed so far back to the system. A model loaded again (another input
/// size) frees the last one's working memory, which glibc otherwise keeps in the process: on
/// openpose/video.avi the pipeline's peak RSS was 405 MiB instead of 320 after NanoDet took
/// the frame's aspect.
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; no memory in use is touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What a backend needs to load a model: the pruned graph and where it came from.
pub struct LoadRequest<'a> {
    pub file: &'a ModelFile,
    pub proto: &'a tract_onnx::pb::ModelProto,
    pub inputs: &'a [TensorInfo],
    pub threads: usize,
}

impl LoadRequest<'_> {
    pub fn backend_error(&self, backend: &'static str, reason: impl fmt::Display) -> EngineError {
        EngineError::Backend { backend, model: self.file.path.display().to_string(), reason: reason.to_string() }
    }
}

fn load_onnxruntime(model: &LoadRequest) -> Result<Box<dyn Backend>> {
    #[cfg(feature = "onnxruntime")]
    {
        Ok(Box::new(onnxruntime::OrtBackend::load(model)?))
    }
    #[cfg(not(feature = "onnxruntime"))]
    {
        let _ = model;
        Err(EngineError::BackendUnavailable {
            backend: "onnxruntime",
            reason: "this build has no ONNX Runtime support (cargo feature `onnxruntime`)".into(),
        })
    }
}

fn load_tensorrt(model: &LoadRequest) -> Result<Box<dyn Backend>> {
    #[cfg(feature = "tensorrt")]
    {
        Ok(Box::new(tensorrt::TensorRtBackend::load(model)?))
    }
    #[cfg(not(feature = "tensorrt"))]
    {
        let _ = model;
        Err(EngineError::BackendUnavailable {
            backend: "tensorrt",
            reason: "this build has no TensorRT support (cargo feature `tensorrt`)".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_names_parse_and_nonsense_is_rejected() {
        assert_eq!("cpu".parse::<EngineKind>().unwrap(), EngineKind::Tract);
        assert_eq!("auto".parse::<EngineKind>().unwrap(), EngineKind::Auto);
        let err = "gpu9000".parse::<EngineKind>().unwrap_err();
        assert!(err.contains("gpu9000") && err.contains("tensorrt"), "{err}");
    }
}
