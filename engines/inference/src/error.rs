// SPDX-License-Identifier: MPL-2.0
//! Errors of the inference layer. Every variant names the file or backend concerned, so that a
//! GStreamer element can forward the message to the user unchanged.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("model file {path}: {reason}")]
    ModelFile { path: PathBuf, reason: String },

    #[error("model file {path} is corrupt or not the expected model: sha256 is {actual}, expected {expected}")]
    ChecksumMismatch { path: PathBuf, actual: String, expected: String },

    #[error("unknown model '{0}' (expected one of: {1})")]
    UnknownModel(String, String),

    #[error("backend {backend} is not available: {reason}")]
    BackendUnavailable { backend: &'static str, reason: String },

    #[error("backend {backend} failed on {model}: {reason}")]
    Backend { backend: &'static str, model: String, reason: String },

    #[error("tensor '{name}': {reason}")]
    Tensor { name: String, reason: String },

    #[error(transparent)]
    Image(#[from] aicoach_vision::ImageError),
}

pub type Result<T> = std::result::Result<T, EngineError>;
