// SPDX-License-Identifier: MPL-2.0
//! AI Coach inference layer: the vendored models, the backends that run them (tract, ONNX
//! Runtime, TensorRT) and the pre- and post-processing that turns frames into tensors and
//! tensors into people and keypoints, and the per-frame pose estimator that runs them.
//!
//! It imports `aicoach-vision` (frames, geometry, the pose and its keypoint names) and nothing
//! else of AI Coach. Nothing here depends on GStreamer.

pub mod backend;
pub mod blazepose;
pub mod error;
pub mod landmarker;
pub mod models;
pub mod movenet;
pub mod nanodet;
pub mod nms;
pub mod onnx_graph;
pub mod person_detector;
pub mod pose;
pub mod preprocess;
mod region_copy;
pub mod ssdlite;
pub mod tensor;
pub mod tiles;

pub use backend::{Engine, EngineKind, EngineOptions};
pub use error::{EngineError, Result};
pub use landmarker::PoseLandmarker;
pub use models::{ModelFile, ModelId};
pub use person_detector::PersonDetector;
pub use tensor::{Outputs, Tensor};
