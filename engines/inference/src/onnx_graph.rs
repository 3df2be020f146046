// SPDX-License-Identifier: MPL-2.0
//! Reading, checking and pruning ONNX graphs before any backend sees them.
//!
//! The converted BlazePose landmark models compute a 256x256 segmentation mask, a 64x64 heatmap
//! and 3D world points besides the landmarks: more than half of their cost. Every backend is
//! given the graph cut down to the outputs the product decodes, so no backend pays for them.

use std::collections::HashSet;
use std::path::Path;

use prost::Message;
use tract_onnx::pb::{self, tensor_shape_proto::dimension, type_proto};

use crate::error::{EngineError, Result};
use crate::models::ModelSpec;
use crate::tensor::{ElementType, TensorInfo};

// ONNX TensorProto.DataType values.
const ONNX_FLOAT: i32 = 1;
const ONNX_INT32: i32 = 6;

pub fn decode(path: &Path, bytes: &[u8]) -> Result<pb::ModelProto> {
    let model = pb::ModelProto::decode(bytes).map_err(|e| EngineError::ModelFile {
        path: path.to_path_buf(),
        reason: format!("not a valid ONNX model: {e}"),
    })?;
    if model.graph.as_ref().is_none_or(|g| g.node.is_empty()) {
        return Err(EngineError::ModelFile { path: path.to_path_buf(), reason: "the ONNX model has no graph".into() });
    }
    Ok(model)
}

pub fn encode(model: &pb::ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

fn value_info(v: &pb::ValueInfoProto) -> Option<TensorInfo> {
    let Some(type_proto::Value::TensorType(t)) = v.r#type.as_ref()?.value.as_ref() else {
        return None;
    };
    let element_type = match t.elem_type {
        ONNX_FLOAT => ElementType::F32,
        ONNX_INT32 => ElementType::I32,
        _ => return None,
    };
    let shape = t
        .shape
        .as_ref()?
        .dim
        .iter()
        .map(|d| match d.value {
            Some(dimension::Value::DimValue(n)) if n > 0 => n as usize,
            // Symbolic or unknown dimensions: the batch, which we always run at 1.
            _ => 1,
        })
        .collect();
    Some(TensorInfo { name: v.name.clone(), element_type, shape })
}

/// The graph's declared inputs and outputs (tensor-typed ones only).
pub fn io(model: &pb::ModelProto) -> (Vec<TensorInfo>, Vec<TensorInfo>) {
    let graph = model.graph.as_ref().expect("decode() checked the graph");
    let initializers: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs =
        graph.input.iter().filter(|v| !initializers.contains(v.name.as_str())).filter_map(value_info).collect();
    let outputs = graph.output.iter().filter_map(value_info).collect();
    (inputs, outputs)
}

/// Checks that the model has the input and outputs `spec` describes, so that a wrong file
/// (a landmark model given as detector, say) is refused instead of decoded as garbage.
pub fn check_io(path: &Path, model: &pb::ModelProto, spec: &ModelSpec) -> Result<()> {
    let (inputs, outputs) = io(model);
    let mismatch = |reason: String| EngineError::ModelFile {
        path: path.to_path_buf(),
        reason: format!("does not look like the {} model: {reason}", spec.name),
    };
    let (name, element_type, shape) = spec.file_input();
    let input = inputs
        .iter()
        .find(|i| i.name == name)
        .ok_or_else(|| mismatch(format!("it has no input '{name}' (inputs: {})", names(&inputs))))?;
    if input.shape != shape || input.element_type != element_type {
        return Err(mismatch(format!(
            "input '{name}' is {:?} {:?}, expected {element_type:?} {shape:?}",
            input.element_type, input.shape
        )));
    }
    let produced =
        |t: &str| model.graph.as_ref().is_some_and(|g| g.node.iter().any(|n| n.output.iter().any(|o| o == t)));
    if spec.file_input.is_some() && !produced(spec.input) {
        return Err(mismatch(format!("it has no tensor '{}' to feed", spec.input)));
    }
    for wanted in spec.outputs {
        if !outputs.iter().any(|o| o.name == *wanted) {
            return Err(mismatch(format!("it has no output '{wanted}' (outputs: {})", names(&outputs))));
        }
    }
    Ok(())
}

fn names(infos: &[TensorInfo]) -> String {
    infos.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Makes `tensor`, computed inside the graph, its only input: the nodes that computed it (and
/// what only they needed) are removed with the file's own inputs. [`check_io`] has checked
/// that a node produces it.
pub fn feed_at(model: &mut pb::ModelProto, tensor: &TensorInfo) {
    let graph = model.graph.as_mut().expect("decode() checked the graph");
    let initializers: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let declared: Vec<String> =
        graph.input.iter().map(|v| v.name.clone()).filter(|n| !initializers.contains(n.as_str())).collect();
    graph.input.retain(|v| !declared.contains(&v.name));
    graph.node.retain(|n| !n.output.contains(&tensor.name));
    graph.input.push(tensor_value_info(tensor));
    let outputs: Vec<String> = graph.output.iter().map(|o| o.name.clone()).collect();
    prune_to_outputs(model, &outputs.iter().map(String::as_str).collect::<Vec<_>>());
}

/// Gives the graph's input `tensor`'s name its new shape, for a fully convolutional model fed
/// another input size. The outputs' and intermediate tensors' declared shapes (computed for
/// the old size) are dropped: the backends infer them.
pub fn reshape_input(model: &mut pb::ModelProto, tensor: &TensorInfo) {
    let graph = model.graph.as_mut().expect("decode() checked the graph");
    for input in graph.input.iter_mut().filter(|i| i.name == tensor.name) {
        *input = tensor_value_info(tensor);
    }
    for output in &mut graph.output {
        if let Some(type_proto::Value::TensorType(t)) = output.r#type.as_mut().and_then(|t| t.value.as_mut()) {
            t.shape = None;
        }
    }
    graph.value_info.clear();
}

fn tensor_value_info(t: &TensorInfo) -> pb::ValueInfoProto {
    let dims = t
        .shape
        .iter()
        .map(|&n| pb::tensor_shape_proto::Dimension {
            value: Some(dimension::Value::DimValue(n as i64)),
            ..Default::default()
        })
        .collect();
    let elem_type = match t.element_type {
        ElementType::F32 => ONNX_FLOAT,
        ElementType::I32 => ONNX_INT32,
    };
    pb::ValueInfoProto {
        name: t.name.clone(),
        r#type: Some(pb::TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type,
                shape: Some(pb::TensorShapeProto { dim: dims }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Removes every node, initializer and output not needed to compute `keep`.
///
/// ONNX stores nodes in topological order, so one backward sweep finds what is needed.
pub fn prune_to_outputs(model: &mut pb::ModelProto, keep: &[&str]) {
    let graph = model.graph.as_mut().expect("decode() checked the graph");
    graph.output.retain(|o| keep.contains(&o.name.as_str()));
    let mut needed: HashSet<String> = keep.iter().map(|s| s.to_string()).collect();
    let mut kept_nodes = Vec::with_capacity(graph.node.len());
    for node in graph.node.drain(..).rev() {
        if node.output.iter().any(|o| needed.contains(o)) {
            needed.extend(node.input.iter().filter(|i| !i.is_empty()).cloned());
            kept_nodes.push(node);
        }
    }
    kept_nodes.reverse();
    graph.node = kept_nodes;
    graph.initializer.retain(|t| needed.contains(&t.name));
    graph.sparse_initializer.retain(|t| t.values.as_ref().is_some_and(|v| needed.contains(&v.name)));
    graph.value_info.retain(|v| needed.contains(&v.name));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{ModelFile, ModelId};

    fn load(id: ModelId) -> (ModelFile, pb::ModelProto) {
        let file = ModelFile::bundled(id);
        let bytes = file.read_verified().unwrap();
        let model = decode(&file.path, &bytes).unwrap();
        (file, model)
    }

    #[test]
    fn pruning_the_landmark_model_drops_unused_heads() {
        let (file, mut model) = load(ModelId::PoseLandmarkLite);
        check_io(&file.path, &model, file.spec).unwrap();
        let nodes_before = model.graph.as_ref().unwrap().node.len();
        prune_to_outputs(&mut model, file.spec.outputs);
        let graph = model.graph.as_ref().unwrap();
        assert_eq!(graph.output.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["Identity", "Identity_1"]);
        assert!(graph.node.len() < nodes_before, "{} !< {nodes_before}", graph.node.len());
        assert_every_input_defined(graph);
    }

    /// Every node input is produced by an earlier node, an initializer or a graph input.
    fn assert_every_input_defined(graph: &pb::GraphProto) {
        let mut known: HashSet<&str> = graph.input.iter().map(|i| i.name.as_str()).collect();
        known.extend(graph.initializer.iter().map(|t| t.name.as_str()));
        for node in &graph.node {
            for i in node.input.iter().filter(|i| !i.is_empty()) {
                assert!(known.contains(i.as_str()), "{} reads undefined {i}", node.name);
            }
            known.extend(node.output.iter().map(|o| o.as_str()));
        }
    }

    #[test]
    fn movenet_is_fed_past_its_pixel_conversion() {
        let (file, mut model) = load(ModelId::MoveNetLightning);
        check_io(&file.path, &model, file.spec).unwrap();
        let spec = file.spec;
        // A MoveNet file without that tensor (converted otherwise) is refused, naming it.
        let mut other = model.clone();
        other.graph.as_mut().unwrap().node.retain(|n| !n.output.iter().any(|o| o == spec.input));
        let err = check_io(&file.path, &other, spec).unwrap_err().to_string();
        assert!(err.contains("no tensor") && err.contains(spec.input), "{err}");
        let fed = TensorInfo { name: spec.input.into(), element_type: spec.input_type, shape: spec.input_shape() };
        let nodes_before = model.graph.as_ref().unwrap().node.len();
        feed_at(&mut model, &fed);
        assert_eq!(io(&model).0, [fed]);
        let graph = model.graph.as_ref().unwrap();
        // Cast, unstack, subtract, multiply, subtract, transpose: gone; the first convolution
        // reads the fed tensor.
        assert_eq!(nodes_before - graph.node.len(), 6);
        assert_eq!((graph.node[0].op_type.as_str(), graph.node[0].input[0].as_str()), ("Conv", spec.input));
        assert_every_input_defined(graph);
    }

    #[test]
    fn a_model_of_another_kind_is_refused_by_its_io() {
        let (file, model) = load(ModelId::PoseLandmarkLite);
        let err = check_io(&file.path, &model, ModelId::PoseDetector.spec()).unwrap_err().to_string();
        assert!(err.contains("pose_landmark_lite.onnx") && err.contains("blazepose-detector"), "{err}");
        assert!(err.contains("[1, 256, 256, 3]"), "{err}");
    }

    #[test]
    fn garbage_is_not_a_model() {
        let err = decode(Path::new("x.onnx"), b"definitely not protobuf \xff\xff").unwrap_err().to_string();
        assert!(err.contains("x.onnx") && err.contains("ONNX"), "{err}");
    }
}
