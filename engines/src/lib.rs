// SPDX-License-Identifier: MPL-2.0
//! AI Coach inference layer: the vendored models, the backends that run them (tract, ONNX
//! Runtime, TensorRT) and the pre- and post-processing that turns frames into tensors and
//! tensors into people and keypoints. Nothing here depends on GStreamer.

pub mod backend;
pub mod blazepose;
pub mod detection;
pub mod detector;
pub mod error;
pub mod eval;
pub mod geometry;
pub mod image;
pub mod landmarker;
pub mod models;
pub mod movenet;
pub mod nanodet;
pub mod onnx_graph;
pub mod pose;
pub mod preprocess;
pub mod ssdlite;
pub mod tensor;

pub use backend::{Engine, EngineKind, EngineOptions};
pub use detection::Detection;
pub use detector::PersonDetector;
pub use error::{EngineError, Result};
pub use geometry::{Point, Rect, RotatedRect};
pub use landmarker::PoseLandmarker;
pub use models::{ModelFile, ModelId};
pub use tensor::{Outputs, Tensor};
