// SPDX-License-Identifier: MPL-2.0
//! 2D pose on a region of a frame with a BlazePose landmark model.

use crate::backend::{Engine, EngineOptions};
use crate::blazepose::landmarks::{self, Landmarks};
use crate::error::{EngineError, Result};
use crate::models::{ModelFile, ModelId};
use crate::preprocess::{Normalization, Shrink, crop_to_tensor_with};
use aicoach_vision::geometry::RotatedRect;
use aicoach_vision::image::RgbSource;

pub struct PoseLandmarker {
    engine: Engine,
    file: ModelFile,
}

impl PoseLandmarker {
    pub fn load(file: ModelFile, options: &EngineOptions) -> Result<Self> {
        if !matches!(file.spec.id, ModelId::PoseLandmarkLite | ModelId::PoseLandmarkFull) {
            return Err(EngineError::ModelFile {
                path: file.path.clone(),
                reason: format!("{:?} is not a pose landmark model", file.spec.id),
            });
        }
        let engine = Engine::load(&file, options)?;
        Ok(Self { engine, file })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Keypoints of the person in `roi` (see `blazepose::detector::roi` and
    /// `Landmarks::next_roi`), in frame pixels.
    pub fn estimate<S: RgbSource + ?Sized>(&mut self, frame: &S, roi: &RotatedRect) -> Result<Landmarks> {
        let spec = self.file.spec;
        let size = (spec.input_size, spec.input_size);
        let input = crop_to_tensor_with(frame, roi, size, spec.layout, &Normalization::UNIT, Shrink::Smooth);
        let outputs = self.engine.run(&[(spec.input, &input.tensor)])?;
        let raw = outputs.f32_exact(spec.outputs[0], landmarks::OUTPUT_LEN)?;
        let flag = outputs.f32_exact(spec.outputs[1], 1)?[0];
        Ok(landmarks::decode(raw, flag, &input.to_frame).expect("length checked above"))
    }
}
