// SPDX-License-Identifier: MPL-2.0
//! Person detection on a frame with either detector model: tensor in, detections out.

use crate::backend::{Engine, EngineKind, EngineOptions};
use crate::blazepose;
use crate::error::{EngineError, Result};
use crate::models::{ModelFile, ModelId};
use crate::nanodet;
use crate::preprocess::{Normalization, Shrink, crop_to_tensor_with};
use crate::ssdlite;
use crate::tiles;
use aicoach_vision::Detection;
use aicoach_vision::geometry::{Point, Rect, RotatedRect};
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
    /// The engine for inputs of `engine_size`. NanoDet, fed a frame's aspect instead of a
    /// square ([`nanodet::input_size_for`]), is loaded again for another size, in place of the
    /// last: each engine holds its own working memory.
    engine: Engine,
    engine_size: (usize, usize),
    file: ModelFile,
    options: EngineOptions,
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
        let square = file.spec.input_size;
        Ok(Self {
            engine,
            engine_size: (square, square),
            file,
            options: options.clone(),
            decoder,
            min_score: DEFAULT_MIN_SCORE,
            max_detections: DEFAULT_MAX_DETECTIONS,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The input size [`Self::detect`] feeds for a `width` x `height` frame: NanoDet's of the
    /// frame's aspect (on TensorRT, whose engine is built for one size, its square), the
    /// others' square.
    pub fn input_size_for(&self, width: u32, height: u32) -> (usize, usize) {
        match self.decoder {
            Decoder::NanoDet if self.engine.kind() != EngineKind::TensorRt => nanodet::input_size_for(width, height),
            _ => (self.file.spec.input_size, self.file.spec.input_size),
        }
    }

    /// Loads what [`Self::detect`] needs for frames of this size now, rather than on the
    /// first such frame.
    pub fn prepare(&mut self, width: u32, height: u32) -> Result<()> {
        let size = self.input_size_for(width, height);
        self.engine_for(size).map(|_| ())
    }

    /// People in the whole frame: letterboxed to the model's input, or stretched to it for the
    /// pedestrian SSD, which was trained on stretched frames.
    pub fn detect<S: RgbSource + ?Sized>(&mut self, frame: &S) -> Result<Vec<Detection>> {
        let (region, size) = self.whole_frame(frame.width(), frame.height());
        self.run(frame, &region, size)
    }

    /// People upside down in the whole frame (a handstand, a flip, legs in the air after a
    /// fall), whom detectors trained on upright people miss: [`Self::detect`] on the frame
    /// turned half a turn, boxes in the frame's own pixels.
    pub fn detect_upside_down<S: RgbSource + ?Sized>(&mut self, frame: &S) -> Result<Vec<Detection>> {
        let (region, size) = self.whole_frame(frame.width(), frame.height());
        let turned = RotatedRect { rotation: std::f32::consts::PI, ..region };
        self.run(frame, &turned, size)
    }

    /// The region of a `w` x `h` frame the model sees whole, and the input size it is fed at.
    fn whole_frame(&self, w: u32, h: u32) -> (RotatedRect, (usize, usize)) {
        let size = self.input_size_for(w, h);
        (self.seeing(&Rect { x: 0.0, y: 0.0, w: w as f32, h: h as f32 }, size), size)
    }

    /// The region the model is fed to see `area` of the frame whole at an input of `size`.
    fn seeing(&self, area: &Rect, size: (usize, usize)) -> RotatedRect {
        match self.decoder {
            Decoder::SsdLite(_) => RotatedRect { center: area.center(), width: area.w, height: area.h, rotation: 0.0 },
            _ => RotatedRect::letterbox_area(area, size.0, size.1),
        }
    }

    /// People too small for [`Self::detect`] to find: the frame again in overlapping tiles at
    /// the model's full input ([`tiles`]), those cut by a tile's edge left to the tile that holds
    /// them whole (overlaps between tiles remain: merge the result). Nothing where the frame is
    /// too small for such tiles.
    pub fn detect_tiled<S: RgbSource + ?Sized>(&mut self, frame: &S, tiling: tiles::Tiling) -> Result<Vec<Detection>> {
        let (w, h) = (frame.width(), frame.height());
        let size = self.input_size_for(w, h);
        let mut found = Vec::new();
        for tile in tiles::tiles(tiling, w, h, size) {
            found.extend(self.whole_people_in(frame, &tile, size)?);
        }
        Ok(found)
    }

    /// People in a window of the frame around `person`, who is too small for [`Self::detect`]
    /// to be sure of ([`tiles::window_around`]); nothing where they are large enough. Those cut
    /// by the window's edge are left out (merge the result with the whole frame's).
    pub fn detect_around<S: RgbSource + ?Sized>(&mut self, frame: &S, person: &Rect) -> Result<Vec<Detection>> {
        let (w, h) = (frame.width(), frame.height());
        let size = self.input_size_for(w, h);
        match tiles::window_around(person, w, h, size) {
            Some(window) => self.whole_people_in(frame, &window, size),
            None => Ok(Vec::new()),
        }
    }

    /// The people `area` of the frame holds whole, the model seeing it at an input of `size`:
    /// those cut by an edge of the area inside the frame are left to a look that holds them.
    fn whole_people_in<S: RgbSource + ?Sized>(
        &mut self,
        frame: &S,
        area: &Rect,
        size: (usize, usize),
    ) -> Result<Vec<Detection>> {
        let people = self.run(frame, &self.seeing(area, size), size)?;
        let (w, h) = (frame.width(), frame.height());
        Ok(people.into_iter().filter(|d| tiles::is_whole(d, area, w, h)).collect())
    }

    /// People inside `region` of the frame (e.g. around where the athlete was last seen);
    /// coordinates are still frame pixels.
    pub fn detect_in<S: RgbSource + ?Sized>(&mut self, frame: &S, region: &RotatedRect) -> Result<Vec<Detection>> {
        let square = self.file.spec.input_size;
        self.run(frame, region, (square, square))
    }

    /// The engine for a `cols` x `rows` input, loaded in place of the last one when the size
    /// changes.
    fn engine_for(&mut self, size: (usize, usize)) -> Result<&mut Engine> {
        if size != self.engine_size {
            self.engine = Engine::load_sized(&self.file, &self.options, Some(size))?;
            self.engine_size = size;
            crate::backend::return_freed_memory();
        }
        Ok(&mut self.engine)
    }

    fn run<S: RgbSource + ?Sized>(
        &mut self,
        frame: &S,
        region: &RotatedRect,
        size: (usize, usize),
    ) -> Result<Vec<Detection>> {
        let spec = self.file.spec;
        let norm = match self.decoder {
            Decoder::BlazePose(_) | Decoder::SsdLite(_) => Normalization::SIGNED_UNIT,
            Decoder::NanoDet => Normalization::NANODET,
        };
        let input = crop_to_tensor_with(frame, region, size, spec.layout, &norm, Shrink::Taps);
        let outputs = self.engine_for(size)?.run(&[(spec.input, &input.tensor)])?;
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
                    let (columns, rows) = nanodet::grid(stride, size);
                    let cells = columns * rows;
                    levels.push(nanodet::Level {
                        stride,
                        columns,
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
