// SPDX-License-Identifier: MPL-2.0
//! Drawing on raw frames in place, with no GStreamer in sight: a canvas over the frame's own
//! format, anti-aliased shapes and text, and the overlay's scene.

pub mod canvas;
pub mod scene;
pub mod shapes;
pub mod text;

pub use canvas::{Canvas, Matrix, PixelLayout, Rgb};
