// SPDX-License-Identifier: MPL-2.0
//! tract: the pure-Rust backend that needs nothing installed, and the fallback that always works.

use tract_linalg::multithread::{Executor, multithread_tract_scope};
use tract_onnx::prelude::*;

use super::{Backend, LoadRequest};
use crate::error::{EngineError, Result};
use crate::tensor::{ElementType, Outputs, Tensor, TensorData};

const NAME: &str = "tract";

pub struct TractBackend {
    model: Arc<TypedRunnableModel>,
    input_names: Vec<String>,
    output_names: Vec<String>,
    /// A pool of the engine's own thread budget, or none when it runs on the caller's thread.
    executor: Option<Executor>,
}

impl TractBackend {
    pub fn load(req: &LoadRequest) -> Result<Self> {
        let err = |e: TractError| req.backend_error(NAME, format!("{e:#}"));
        let mut model = tract_onnx::onnx().model_for_proto_model(req.proto).map_err(err)?;
        for (i, input) in req.inputs.iter().enumerate() {
            let fact: InferenceFact = match input.element_type {
                ElementType::F32 => f32::fact(&input.shape).into(),
                ElementType::I32 => i32::fact(&input.shape).into(),
            };
            model.set_input_fact(i, fact).map_err(err)?;
        }
        let typed = model.into_optimized().map_err(err)?;
        // tract keeps the graph's output order, which is the proto's.
        let output_names = req.proto.graph.iter().flat_map(|g| g.output.iter().map(|o| o.name.clone())).collect();
        let runnable = typed.into_runnable().map_err(err)?;
        let executor = (req.threads > 1).then(|| Executor::multithread_with_name(req.threads, "aicoach-tract"));
        Ok(Self {
            model: runnable,
            input_names: req.inputs.iter().map(|i| i.name.clone()).collect(),
            output_names,
            executor,
        })
    }
}

fn to_tvalue(t: &Tensor) -> Result<TValue> {
    let tensor = match &t.data {
        TensorData::F32(v) => tract_onnx::prelude::Tensor::from_shape(&t.shape, v),
        TensorData::I32(v) => tract_onnx::prelude::Tensor::from_shape(&t.shape, v),
    }
    .map_err(|e| EngineError::Tensor { name: String::new(), reason: e.to_string() })?;
    Ok(tensor.into_tvalue())
}

impl Backend for TractBackend {
    fn run(&mut self, inputs: &[(&str, &Tensor)]) -> Result<Outputs> {
        let mut values = TVec::new();
        for name in &self.input_names {
            let (_, t) = inputs
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| EngineError::Tensor { name: name.clone(), reason: "input missing".into() })?;
            values.push(to_tvalue(t)?);
        }
        let run = || self.model.run(values);
        let result = match &self.executor {
            Some(ex) => multithread_tract_scope(ex.clone(), run),
            None => run(),
        }
        .map_err(|e| EngineError::Backend { backend: NAME, model: String::new(), reason: format!("{e:#}") })?;
        let mut outputs = Vec::with_capacity(result.len());
        for (name, value) in self.output_names.iter().zip(result) {
            let view = value
                .to_plain_array_view::<f32>()
                .map_err(|e| EngineError::Tensor { name: name.clone(), reason: e.to_string() })?;
            outputs.push((name.clone(), Tensor::f32(view.shape().to_vec(), view.iter().copied().collect())?));
        }
        Ok(Outputs(outputs))
    }
}
