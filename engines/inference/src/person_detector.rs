// SPDX-License-Identifier: MPL-2.0
//! Person detection on a frame with either detector model: tensor in, detections out.

use crate::backend::{Engine, EngineOptions};
use crate::blazepose;
use crate::error::{EngineError, Result};
use crate::models::{ModelFile, ModelId};
use crate::nanodet;
use crate::preprocess::{Normalization, crop_to_tensor};
use crate::ssdlite;
use aicoach_vision::Detection;
use aicoach_vision::geometry::{Point, RotatedRect};
use aicoach_vision::image::RgbSource;

pub const DEFAULT_MIN_SCORE: f32 = 0.5;
pub const DEFAULT_MAX_DETECTIONS: usize = 10;

enum Decoder {
    /// BlazePose's SSD anchors, computed once.
    BlazePose(Vec<Point>),
    NanoDet,
    /// The pedestrian SSD's anchors (compiled in).
    SsdLite(&'static [ssdlite::Anchor]),
}

pub struct PersonDetector {
    engine: Engine,
    file: ModelFile,
    decoder: Decoder,
    pub min_score: f32,
    pub max_detections: usize,
}

impl PersonDetector {
    /// Loads a detector model file (`ModelId::PoseDetector`, `ModelId::NanoDet` or
    /// `ModelId::PedestrianSsd`).
    pub fn load(file: ModelFile, options: &EngineOptions) -> Result<Self> {
        let decoder = match file.spec.id {
            ModelId::PoseDetector => Decoder::BlazePose(blazepose::anchors::anchors()),
            ModelId::NanoDet => Decoder::NanoDet,
            ModelId::PedestrianSsd => Decoder::SsdLite(&ssdlite::ANCHORS),
            other => {
                return Err(EngineError::ModelFile {
                    path: file.path.clone(),
                    reason: format!("{other:?} is not a person detector"),
                });
            }
        };
        let engine = Engine::load(&file, options)?;
        Ok(Self { engine, file, decoder, min_score: DEFAULT_MIN_SCORE, max_detections: DEFAULT_MAX_DETECTIONS })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// People in the whole frame: letterboxed to the model's square input, or stretched to it
    /// for the pedestrian SSD, which was trained on stretched frames.
    pub fn detect<S: RgbSource + ?Sized>(&mut self, frame: &S) -> Result<Vec<Detection>> {
        let (w, h) = (frame.width(), frame.height());
        let region = match self.decoder {
            Decoder::SsdLite(_) => RotatedRect {
                center: Point::new(w as f32 / 2.0, h as f32 / 2.0),
                width: w as f32,
                height: h as f32,
                rotation: 0.0,
            },
            _ => RotatedRect::letterbox(w, h),
        };
        self.detect_in(frame, &region)
    }

    /// People inside `region` of the frame (e.g. around where the athlete was last seen);
    /// coordinates are still frame pixels.
    pub fn detect_in<S: RgbSource + ?Sized>(&mut self, frame: &S, region: &RotatedRect) -> Result<Vec<Detection>> {
        let spec = self.file.spec;
        let norm = match self.decoder {
            Decoder::BlazePose(_) | Decoder::SsdLite(_) => Normalization::SIGNED_UNIT,
            Decoder::NanoDet => Normalization::NANODET,
        };
        let input = crop_to_tensor(frame, region, spec.input_size, spec.layout, &norm);
        let outputs = self.engine.run(&[(spec.input, &input.tensor)])?;
        let detections = match &self.decoder {
            Decoder::BlazePose(anchors) => {
                let n = blazepose::anchors::NUM_ANCHORS;
                let boxes = outputs.f32_exact(spec.outputs[0], n * blazepose::detector::VALUES_PER_ANCHOR)?;
                let logits = outputs.f32_exact(spec.outputs[1], n)?;
                blazepose::detector::decode(
                    boxes,
                    logits,
                    anchors,
                    &input.to_frame,
                    self.min_score,
                    self.max_detections,
                )
            }
            Decoder::NanoDet => {
                let mut levels = Vec::with_capacity(nanodet::STRIDES.len());
                for (i, &stride) in nanodet::STRIDES.iter().enumerate() {
                    let cells = nanodet::cells(stride);
                    levels.push(nanodet::Level {
                        stride,
                        scores: outputs.f32_exact(spec.outputs[i], cells * nanodet::NUM_CLASSES)?,
                        boxes: outputs.f32_exact(spec.outputs[3 + i], cells * nanodet::REG_VALUES)?,
                    });
                }
                nanodet::decode(&levels, &input.to_frame, self.min_score, self.max_detections)
            }
            Decoder::SsdLite(anchors) => {
                let boxes = outputs.f32_exact(spec.outputs[0], ssdlite::NUM_ANCHORS * ssdlite::BOX_VALUES)?;
                let logits = outputs.f32_exact(spec.outputs[1], ssdlite::NUM_ANCHORS * ssdlite::CLASS_VALUES)?;
                ssdlite::decode(boxes, logits, anchors, &input.to_frame, self.min_score, self.max_detections)
            }
        };
        Ok(detections)
    }
}
