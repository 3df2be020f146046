// SPDX-License-Identifier: MPL-2.0
//! The one error of the vision layer: a frame whose size, stride or planes do not describe an
//! image. The inference layer wraps it (`EngineError::Image`) unchanged.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("image: {0}")]
pub struct ImageError(pub String);

pub type Result<T> = std::result::Result<T, ImageError>;
