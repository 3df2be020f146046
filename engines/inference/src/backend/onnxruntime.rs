// SPDX-License-Identifier: MPL-2.0
//! ONNX Runtime through `ort`, with `libonnxruntime.so` loaded at run time.
//!
//! The library comes from the `onnxruntime` wheel on PyPI, which the setup unpacks into
//! `.ort/` at the repository root; `AICOACH_ORT_LIB` points elsewhere.

use std::path::PathBuf;
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;

use super::{Backend, LoadRequest};
use crate::error::{EngineError, Result};
use crate::onnx_graph;
use crate::tensor::{Outputs, Tensor, TensorData};

const NAME: &str = "onnxruntime";

/// Environment variable naming the ONNX Runtime shared library to load.
pub const ORT_LIB_ENV: &str = "AICOACH_ORT_LIB";
/// The version the setup installs and the tests are run against.
pub const ORT_VERSION: &str = "1.32.0";

/// Where the library is looked for, in order.
pub fn library_candidates() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(p) = std::env::var_os(ORT_LIB_ENV).filter(|p| !p.is_empty()) {
        paths.push(PathBuf::from(p));
        return paths;
    }
    let repo = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    paths.push(repo.join(".ort").join(format!("libonnxruntime.so.{ORT_VERSION}")));
    paths.push(PathBuf::from("/usr/local/lib/libonnxruntime.so"));
    paths.push(PathBuf::from("/usr/lib/x86_64-linux-gnu/libonnxruntime.so"));
    paths
}

/// Loads the library once per process. `ort` panics when asked to run without a library, so
/// every session goes through here first and gets a clean error instead.
fn environment() -> Result<&'static Environment> {
    static LOADED: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();
    let loaded = LOADED.get_or_init(|| {
        let candidates = library_candidates();
        let Some(path) = candidates.iter().find(|p| p.is_file()) else {
            return Err(format!(
                "libonnxruntime not found (looked at {}; set {ORT_LIB_ENV} or run the setup)",
                candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ));
        };
        let builder = ort::init_from(path).map_err(|e| format!("cannot load {}: {e}", path.display()))?;
        builder
            .with_name("aicoach")
            .build()
            .map_err(|e| format!("cannot start ONNX Runtime from {}: {e}", path.display()))
    });
    loaded.as_ref().map_err(|reason| EngineError::BackendUnavailable { backend: NAME, reason: reason.clone() })
}

pub struct OrtBackend {
    session: Session,
}

impl OrtBackend {
    pub fn load(req: &LoadRequest) -> Result<Self> {
        let environment = environment()?;
        let err = |e: ort::Error| req.backend_error(NAME, e);
        let bytes = onnx_graph::encode(req.proto);
        let session = Session::builder(environment)
            .map_err(err)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| err(e.into()))?
            .with_intra_threads(req.threads)
            .map_err(|e| err(e.into()))?
            .with_inter_threads(1)
            .map_err(|e| err(e.into()))?
            // Spinning threads would steal the other elements' core between frames.
            .with_intra_op_spinning(false)
            .map_err(|e| err(e.into()))?
            .commit_from_memory(&bytes)
            .map_err(err)?;
        Ok(Self { session })
    }
}

impl Backend for OrtBackend {
    fn run(&mut self, inputs: &[(&str, &Tensor)]) -> Result<Outputs> {
        let err = |e: ort::Error| EngineError::Backend { backend: NAME, model: String::new(), reason: e.to_string() };
        let mut values = Vec::with_capacity(inputs.len());
        for (name, t) in inputs {
            let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
            let value = match &t.data {
                TensorData::F32(v) => TensorRef::from_array_view((shape, v.as_slice())).map_err(err)?.into_dyn(),
                TensorData::I32(v) => TensorRef::from_array_view((shape, v.as_slice())).map_err(err)?.into_dyn(),
            };
            values.push((name.to_string(), value));
        }
        let outputs = self.session.run(values).map_err(err)?;
        let mut result = Vec::with_capacity(outputs.len());
        for (name, value) in outputs.iter() {
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(err)?;
            let shape = shape.iter().map(|&d| d.max(0) as usize).collect();
            result.push((name.to_string(), Tensor::f32(shape, data.to_vec())?));
        }
        Ok(Outputs(result))
    }
}
