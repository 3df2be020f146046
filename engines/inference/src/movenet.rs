// SPDX-License-Identifier: MPL-2.0
//! MoveNet SinglePose (COCO-17): the body of the person at the centre of a square crop.
//!
//! Why it is in the product: given a box around the athlete with neighbours in view, MoveNet
//! keeps to the person in the middle far more often than the BlazePose landmark model, whose
//! crop must already be centred on the hips and turned upright (measured on crowded photos,
//! README "Evaluation"). So MoveNet finds the athlete's body joints and places BlazePose's
//! rotated region; BlazePose adds what MoveNet lacks (heels, toes, hands, face details).

use crate::backend::{Engine, EngineOptions};
use crate::error::{EngineError, Result};
use crate::models::{ModelFile, ModelId};
use crate::preprocess::{Normalization, Shrink, crop_to_tensor_with};
use aicoach_vision::geometry::{Affine, Point, Rect, RotatedRect, upright_rotation};
use aicoach_vision::image::RgbSource;
use aicoach_vision::keypoints::COCO17_FROM_BLAZEPOSE;

pub const NUM_KEYPOINTS: usize = 17;
/// Output values per keypoint: y, x (normalised to the crop), score.
const VALUES_PER_POINT: usize = 3;
pub const OUTPUT_LEN: usize = NUM_KEYPOINTS * VALUES_PER_POINT;
/// The crop around the athlete's box: a square of this many times its longer side, centred on
/// it, black outside the frame (a crop cut off at the frame's edge would move its centre toward
/// a neighbour, and MoveNet takes whoever is in the middle).
pub const CROP_SCALE: f32 = 1.5;
/// Raw 0..=255 values, black outside the frame.
const RAW: Normalization = Normalization { scale: [1.0; 3], offset: [0.0; 3], bgr: false, fill: [0.0; 3] };
/// The converted file's own input conversion after casting its integer pixels: `x * SCALE - 1`
/// (its constant). The product feeds the first convolution's input instead
/// ([`crate::models::FileInput`]): in the file, casting, normalising and transposing took a
/// tenth of the model's time.
const MODEL_INPUT_SCALE: f32 = 0.007_843_018;

/// MoveNet's own input from a crop of raw values: whole pixel values (the model takes
/// integers, and its joints move with sub-integer changes), normalised as the file does.
fn to_model_input(raw: &mut [f32]) {
    for v in raw {
        *v = v.round() * MODEL_INPUT_SCALE - 1.0;
    }
}

/// MoveNet's scores are not BlazePose's visibilities: a joint MoveNet places right often scores
/// 0.3 to 0.5, where the rest of the product (and MoveNet's own demos) draw the line at 0.3.
/// This maps its score onto the product's confidence scale, 0.3 onto 0.5 (the product's "seen"),
/// monotonically and keeping 0 and 1.
pub fn confidence_from_score(score: f32) -> f32 {
    const SEEN_SCORE: f32 = 0.3;
    let s = score.clamp(0.0, 1.0);
    if s < SEEN_SCORE { 0.5 * s / SEEN_SCORE } else { 0.5 + 0.5 * (s - SEEN_SCORE) / (1.0 - SEEN_SCORE) }
}

/// One MoveNet keypoint in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BodyPoint {
    pub x: f32,
    pub y: f32,
    /// MoveNet's own score (0..1).
    pub score: f32,
}

impl BodyPoint {
    pub fn point(&self) -> Point {
        Point::new(self.x, self.y)
    }
}

/// COCO-17 body keypoints of one person.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub points: [BodyPoint; NUM_KEYPOINTS],
}

/// COCO-17 indices.
const LEFT_SHOULDER: usize = 5;
const RIGHT_SHOULDER: usize = 6;
const LEFT_HIP: usize = 11;
const RIGHT_HIP: usize = 12;
/// COCO-17 head joints: nose, eyes, ears.
const HEAD: std::ops::RangeInclusive<usize> = 0..=4;
/// A head joint farther than this many torso lengths from the shoulders' midpoint is not this
/// body's (neck and head reach about half a torso): with the athlete's face hidden (hands up,
/// turned away) MoveNet can put it on a neighbour's face, and the box fitted to the pose then
/// takes the neighbour in (a seated man gesturing: his left eye and ear on the man beside him,
/// 1.7 torso lengths away).
const HEAD_REACH: f32 = 1.0;
/// Joints under this score do not size or turn the landmark region.
const REGION_MIN_SCORE: f32 = 0.2;
/// The landmark region's side as a multiple of the farthest confident joint's distance from
/// the hips (MediaPipe's 2 x body radius x 1.25 with the radius about 1.24 x that distance).
const REGION_EXTENT_SCALE: f32 = 3.1;
/// ... and at least this many torso lengths (a crouched or cut-off body has a short extent).
const REGION_TORSO_SCALE: f32 = 4.5;

impl Body {
    /// Mean score over the 17 joints: how sure MoveNet is that a person is there.
    pub fn score(&self) -> f32 {
        self.points.iter().map(|p| p.score).sum::<f32>() / NUM_KEYPOINTS as f32
    }

    fn mid(&self, a: usize, b: usize) -> Option<Point> {
        let (pa, pb) = (self.points[a], self.points[b]);
        (pa.score >= REGION_MIN_SCORE && pb.score >= REGION_MIN_SCORE)
            .then(|| Point::new((pa.x + pb.x) / 2.0, (pa.y + pb.y) / 2.0))
    }

    /// The middle of `a` and `b` where both were seen, else the one seen (a shoulder hidden
    /// behind the raised arm).
    fn seen_mid(&self, a: usize, b: usize) -> Option<Point> {
        self.mid(a, b)
            .or_else(|| [a, b].iter().map(|&i| self.points[i]).find(|p| p.score >= REGION_MIN_SCORE).map(|p| p.point()))
    }

    /// BlazePose's region from this body, as MediaPipe's detector would give it: centred on the
    /// hips, turned so hips -> shoulders points up, large enough for the whole body. `None`
    /// when hips or shoulders were not seen.
    pub fn landmark_region(&self) -> Option<RotatedRect> {
        let hips = self.mid(LEFT_HIP, RIGHT_HIP)?;
        let shoulders = self.mid(LEFT_SHOULDER, RIGHT_SHOULDER)?;
        let torso = hips.distance(shoulders);
        let extent = self
            .points
            .iter()
            .filter(|p| p.score >= REGION_MIN_SCORE)
            .map(|p| p.point().distance(hips))
            .fold(0.0, f32::max);
        let side = (REGION_EXTENT_SCALE * extent).max(REGION_TORSO_SCALE * torso);
        let rotation = upright_rotation(hips, shoulders);
        (side.is_finite() && side > 1.0).then_some(RotatedRect { center: hips, width: side, height: side, rotation })
    }

    /// The rotation of a region that shows this body upright (hips -> shoulders up), in frame
    /// terms; `None` when hips or shoulders were not seen. MoveNet reads it even where it sees
    /// the body sideways or upside down.
    pub fn orientation(&self) -> Option<f32> {
        Some(upright_rotation(self.mid(LEFT_HIP, RIGHT_HIP)?, self.mid(LEFT_SHOULDER, RIGHT_SHOULDER)?))
    }

    /// Whether joint `i` can be this body's: a head joint out of reach of the shoulders is not.
    /// Without a hip and a shoulder seen there is no torso to measure by, and every joint is.
    pub fn attached(&self, i: usize) -> bool {
        let torso = self.seen_mid(LEFT_HIP, RIGHT_HIP).zip(self.seen_mid(LEFT_SHOULDER, RIGHT_SHOULDER));
        match torso {
            Some((hips, shoulders)) if HEAD.contains(&i) => {
                self.points[i].point().distance(shoulders) <= HEAD_REACH * hips.distance(shoulders)
            }
            _ => true,
        }
    }

    /// The box around the joints MoveNet is fairly sure of.
    pub fn bounding_box(&self) -> Option<Rect> {
        Rect::bounding(self.points.iter().filter(|p| p.score >= REGION_MIN_SCORE).map(BodyPoint::point))
    }

    /// Each COCO joint's BlazePose index, with the point.
    pub fn as_blazepose(&self) -> impl Iterator<Item = (usize, BodyPoint)> + '_ {
        COCO17_FROM_BLAZEPOSE.iter().zip(self.points.iter()).map(|(&i, &p)| (i, p))
    }
}

/// The square crop MoveNet looks at for a person in `b`.
pub fn crop_region(b: &Rect) -> RotatedRect {
    let side = CROP_SCALE * b.w.max(b.h);
    RotatedRect { center: b.center(), width: side, height: side, rotation: 0.0 }
}

/// Decodes the raw output (17 x (y, x, score), normalised to the crop of `size` pixels).
/// Output that is short or not finite (a broken model) is no body.
pub fn decode(raw: &[f32], size: usize, to_frame: &Affine) -> Option<Body> {
    if raw.len() < OUTPUT_LEN || !raw[..OUTPUT_LEN].iter().all(|v| v.is_finite()) {
        return None;
    }
    let mut points = [BodyPoint::default(); NUM_KEYPOINTS];
    for (i, p) in points.iter_mut().enumerate() {
        let v = &raw[i * VALUES_PER_POINT..(i + 1) * VALUES_PER_POINT];
        let at = to_frame.apply(Point::new(v[1] * size as f32, v[0] * size as f32));
        *p = BodyPoint { x: at.x, y: at.y, score: v[2].clamp(0.0, 1.0) };
    }
    points.iter().all(|p| p.x.is_finite() && p.y.is_finite()).then_some(Body { points })
}

pub struct BodyModel {
    engine: Engine,
    file: ModelFile,
}

impl BodyModel {
    pub fn load(file: ModelFile, options: &EngineOptions) -> Result<Self> {
        if !matches!(file.spec.id, ModelId::MoveNetLightning | ModelId::MoveNetThunder) {
            return Err(EngineError::ModelFile {
                path: file.path.clone(),
                reason: format!("{:?} is not a MoveNet body model", file.spec.id),
            });
        }
        let engine = Engine::load(&file, options)?;
        Ok(Self { engine, file })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The body of the person in the middle of `b` (the athlete's box), in frame pixels.
    pub fn estimate<S: RgbSource + ?Sized>(&mut self, frame: &S, b: &Rect) -> Result<Option<Body>> {
        self.estimate_in(frame, &crop_region(b))
    }

    /// The body of the person MoveNet takes for the subject of `region` (a square, upright or
    /// turned: the joints come back in frame pixels either way).
    pub fn estimate_in<S: RgbSource + ?Sized>(&mut self, frame: &S, region: &RotatedRect) -> Result<Option<Body>> {
        let spec = self.file.spec;
        let size = (spec.input_size, spec.input_size);
        let mut input = crop_to_tensor_with(frame, region, size, spec.layout, &RAW, Shrink::Smooth);
        to_model_input(input.tensor.as_f32_mut()?);
        let outputs = self.engine.run(&[(spec.input, &input.tensor)])?;
        let raw = outputs.f32_exact(spec.outputs[0], OUTPUT_LEN)?;
        Ok(decode(raw, spec.input_size, &input.to_frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(points: &[(usize, f32, f32)]) -> Body {
        let mut b = Body { points: [BodyPoint::default(); NUM_KEYPOINTS] };
        for &(i, x, y) in points {
            b.points[i] = BodyPoint { x, y, score: 0.9 };
        }
        b
    }

    #[test]
    fn decodes_normalised_points_through_the_crop() {
        let mut raw = vec![0f32; OUTPUT_LEN];
        // Nose at (y 0.25, x 0.5) with score 0.8.
        raw[..3].copy_from_slice(&[0.25, 0.5, 0.8]);
        let region = crop_region(&Rect { x: 100.0, y: 100.0, w: 100.0, h: 200.0 });
        assert_eq!((region.width, region.center), (300.0, Point::new(150.0, 200.0)));
        let b = decode(&raw, 192, &region.crop_to_frame(192)).unwrap();
        let nose = b.points[0];
        assert!((nose.x - 150.0).abs() < 1e-3 && (nose.y - 125.0).abs() < 1e-3, "{nose:?}");
        assert_eq!(nose.score, 0.8);
        assert!(decode(&raw[..10], 192, &region.crop_to_frame(192)).is_none());
        raw[4] = f32::NAN;
        assert!(decode(&raw, 192, &region.crop_to_frame(192)).is_none());
    }

    #[test]
    fn the_landmark_region_sits_on_the_hips_and_turns_the_body_upright() {
        // Upright: shoulders 100 px above the hips, an ankle 200 px below.
        let upright =
            body(&[(5, 90.0, 0.0), (6, 110.0, 0.0), (11, 90.0, 100.0), (12, 110.0, 100.0), (15, 100.0, 300.0)]);
        let r = upright.landmark_region().unwrap();
        assert_eq!(r.center, Point::new(100.0, 100.0));
        assert!(r.rotation.abs() < 1e-5, "{}", r.rotation);
        assert!((r.width - 3.1 * 200.0).abs() < 1e-3, "{}", r.width);
        // Lying with the head to the right: the region turns a quarter.
        let lying = body(&[(5, 200.0, 90.0), (6, 200.0, 110.0), (11, 100.0, 90.0), (12, 100.0, 110.0)]);
        let r = lying.landmark_region().unwrap();
        assert!((r.rotation.abs() - std::f32::consts::FRAC_PI_2).abs() < 1e-4, "{}", r.rotation);
        assert!((r.width - 4.5 * 100.0).abs() < 1e-3, "a short extent is widened to 4.5 torsos: {}", r.width);
        // Hips unseen: no region.
        assert!(body(&[(5, 0.0, 0.0), (6, 10.0, 0.0)]).landmark_region().is_none());
    }

    /// The graph cut at its first convolution, fed what [`to_model_input`] makes of a crop,
    /// computes what the whole file computes from the crop's integer pixels.
    #[test]
    fn feeding_past_the_conversion_changes_nothing() {
        use crate::backend::EngineKind;
        use crate::models::{Layout, ModelSpec};
        use crate::tensor::{ElementType, Tensor};
        let spec = ModelId::MoveNetLightning.spec();
        let whole: &'static ModelSpec = Box::leak(Box::new(ModelSpec {
            input: spec.file_input.unwrap().name,
            input_type: ElementType::I32,
            layout: Layout::Nhwc,
            file_input: None,
            ..*spec
        }));
        let options = EngineOptions::new(EngineKind::Tract, 1);
        let mut cut = Engine::load(&ModelFile::bundled(spec.id), &options).unwrap();
        let mut file = Engine::load(&ModelFile { spec: whole, ..ModelFile::bundled(spec.id) }, &options).unwrap();
        // An image-like pattern, the same pixels in both layouts.
        let size = spec.input_size;
        let pixel = |x: usize, y: usize, c: usize| ((x * 7 + y * 3 + c * 50) % 256) as f32;
        let nhwc: Vec<i32> = (0..size * size * 3).map(|i| pixel(i / 3 % size, i / 3 / size, i % 3) as i32).collect();
        let mut nchw: Vec<f32> =
            (0..size * size * 3).map(|i| pixel(i % size, i / size % size, i / (size * size))).collect();
        to_model_input(&mut nchw);
        let a = file.run(&[(whole.input, &Tensor::i32(whole.input_shape(), nhwc).unwrap())]).unwrap();
        let b = cut.run(&[(spec.input, &Tensor::f32(spec.input_shape(), nchw).unwrap())]).unwrap();
        let (a, b) =
            (a.f32_exact(spec.outputs[0], OUTPUT_LEN).unwrap(), b.f32_exact(spec.outputs[0], OUTPUT_LEN).unwrap());
        let worst = a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-4, "largest difference {worst}: {a:?} vs {b:?}");
    }

    #[test]
    fn scores_map_onto_the_products_confidence() {
        assert_eq!(confidence_from_score(0.0), 0.0);
        assert!((confidence_from_score(0.3) - 0.5).abs() < 1e-6);
        assert!((confidence_from_score(1.0) - 1.0).abs() < 1e-6);
        assert!(confidence_from_score(0.2) < confidence_from_score(0.25));
        assert_eq!(confidence_from_score(f32::NAN.max(2.0)), 1.0);
    }
}
