// SPDX-License-Identifier: MPL-2.0
//! Refinement measured against ground truth that moves. Video with per-frame ground truth is
//! not in the development data, so each ground-truth person becomes a short clip shot by a
//! virtual camera that pans and zooms over their photo: the model sees a new resampling of
//! the person on every frame (real model noise), while the ground truth moves exactly with the
//! camera. The raw per-frame poses are then refined offline with each configuration (the
//! element's output is the same: it chooses regions from the raw keypoints) and scored with
//! PCK, mean error and jitter.

use serde_json::{Value, json};

use super::{
    Dataset, EvalError, GtPerson, JOINT_BLAZEPOSE, PCK_ALPHA, Tally, data_error, pck_threshold, rounded, score_person,
};
use aicoach_inference::pose::PoseEstimator;
use aicoach_vision::geometry::{Point, Rect};
use aicoach_vision::image::{PackedView, sample_bilinear};
use aicoach_vision::pose::jitter::{Jitter, jitter};
use aicoach_vision::pose::refiner::refine_sequence;
use aicoach_vision::pose::{Joint, PoseFrame, RefinerConfig, SEEN_CONFIDENCE};

/// Frames per clip: one full camera cycle.
pub const CLIP_FRAMES: usize = 30;
pub const CLIP_FPS: f64 = 30.0;
/// The clip's square frame, in pixels.
pub const CLIP_SIZE: u32 = 384;
/// The camera's field of view at rest, as a multiple of the person box's longer side.
const FIELD_OF_VIEW: f32 = 1.6;
/// Pan amplitude as a fraction of the field of view, and zoom amplitude.
const PAN: f32 = 0.12;
const ZOOM: f32 = 0.15;

/// The square of the photo one clip frame shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub center: Point,
    pub side: f32,
}

impl Camera {
    /// A photo point in clip-frame pixels.
    pub fn to_clip(&self, p: Point) -> Point {
        let k = CLIP_SIZE as f32 / self.side;
        Point::new(
            (p.x - self.center.x) * k + CLIP_SIZE as f32 / 2.0,
            (p.y - self.center.y) * k + CLIP_SIZE as f32 / 2.0,
        )
    }

    pub fn box_to_clip(&self, b: &Rect) -> Rect {
        let k = CLIP_SIZE as f32 / self.side;
        let c = self.to_clip(b.center());
        Rect::from_center(c.x, c.y, b.w * k, b.h * k)
    }

    pub fn person_to_clip(&self, person: &GtPerson) -> GtPerson {
        GtPerson {
            bbox: self.box_to_clip(&person.bbox),
            joints: person.joints.iter().map(|&(j, p)| (j, self.to_clip(p))).collect(),
        }
    }
}

/// One camera cycle around `bbox`: a figure-of-eight pan with a zoom in and out.
pub fn camera_path(bbox: &Rect) -> Vec<Camera> {
    let rest = FIELD_OF_VIEW * bbox.w.max(bbox.h);
    let c = bbox.center();
    (0..CLIP_FRAMES)
        .map(|i| {
            let phase = std::f32::consts::TAU * i as f32 / CLIP_FRAMES as f32;
            Camera {
                center: Point::new(c.x + PAN * rest * phase.sin(), c.y + 0.5 * PAN * rest * (2.0 * phase).sin()),
                side: rest * (1.0 + ZOOM * phase.sin()),
            }
        })
        .collect()
}

/// The clip frame `camera` sees of `photo`, RGB, black outside the photo.
pub fn render(photo: &PackedView<'_>, camera: &Camera) -> Vec<u8> {
    let n = CLIP_SIZE as usize;
    let k = camera.side / CLIP_SIZE as f32;
    let (x0, y0) = (camera.center.x - camera.side / 2.0, camera.center.y - camera.side / 2.0);
    let mut out = Vec::with_capacity(n * n * 3);
    for v in 0..n {
        for u in 0..n {
            let rgb = sample_bilinear(photo, x0 + (u as f32 + 0.5) * k, y0 + (v as f32 + 0.5) * k, [0.0; 3]);
            out.extend(rgb.iter().map(|c| c.round().clamp(0.0, 255.0) as u8));
        }
    }
    out
}

/// A refinement configuration under test, with its label.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub label: &'static str,
    pub config: RefinerConfig,
}

/// One variant's results over all clips.
#[derive(Debug, Clone, Default)]
pub struct MotionScore {
    pub tally: Tally,
    /// Sum and count of the error of labelled joints, in units of the box's longer side.
    error_sum: f64,
    error_count: usize,
    pub jitter_sum: f64,
    pub jitter_samples: usize,
}

impl MotionScore {
    pub fn mean_error(&self) -> f64 {
        if self.error_count == 0 { 0.0 } else { self.error_sum / self.error_count as f64 }
    }

    pub fn jitter(&self) -> f64 {
        if self.jitter_samples == 0 { 0.0 } else { self.jitter_sum / self.jitter_samples as f64 }
    }

    fn add_jitter(&mut self, j: Jitter) {
        self.jitter_sum += j.mean * j.samples as f64;
        self.jitter_samples += j.samples;
    }
}

/// All results of one model: per variant, plus the ground truth's own jitter (the camera's
/// motion: the floor no refinement should go below).
#[derive(Debug, Clone, Default)]
pub struct MotionReport {
    pub clips: usize,
    pub frames_without_pose: usize,
    pub variants: Vec<(String, MotionScore)>,
    pub ground_truth_jitter: MotionScore,
}

/// The BlazePose points the ground truth labels, for jitter.
fn scored_points() -> Vec<usize> {
    JOINT_BLAZEPOSE.to_vec()
}

/// The ground truth of one clip as poses, the labelled joints certain and the rest unseen.
fn ground_truth_frames(clip: &[GtPerson]) -> Vec<Option<PoseFrame>> {
    clip.iter()
        .enumerate()
        .map(|(i, person)| {
            let mut joints = vec![Joint::default(); 33];
            for &(j, p) in &person.joints {
                joints[JOINT_BLAZEPOSE[j]] = Joint { x: p.x, y: p.y, confidence: 1.0 };
            }
            Some(PoseFrame { time: i as f64 / CLIP_FPS, score: 1.0, joints })
        })
        .collect()
}

fn score_clip(score: &mut MotionScore, clip: &[GtPerson], poses: &[Option<PoseFrame>], raw: &[Option<PoseFrame>]) {
    let mut swapped = Tally::default();
    for (person, pose) in clip.iter().zip(poses) {
        match pose {
            Some(pose) => {
                let predicted: Vec<Point> = pose.joints.iter().map(Joint::point).collect();
                score_person(person, &predicted, &mut score.tally, &mut swapped);
                let size = person.bbox.w.max(person.bbox.h) as f64;
                for &(j, gt) in &person.joints {
                    score.error_sum += predicted[JOINT_BLAZEPOSE[j]].distance(gt) as f64 / size;
                    score.error_count += 1;
                }
            }
            None => person.joints.iter().for_each(|&(j, _)| score.tally.add(j, false)),
        }
    }
    score.add_jitter(jitter(poses, raw, &scored_points(), SEEN_CONFIDENCE));
}

/// Runs `estimator` over a clip of every person of `datasets` and scores each variant.
pub fn evaluate_motion(
    datasets: &[Dataset],
    estimator: &mut PoseEstimator,
    variants: &[Variant],
) -> Result<MotionReport, EvalError> {
    let mut report = MotionReport {
        variants: variants.iter().map(|v| (v.label.to_string(), MotionScore::default())).collect(),
        ..MotionReport::default()
    };
    for image in datasets.iter().flat_map(|d| &d.images) {
        let rgb = ::image::open(&image.path)
            .map(|i| i.into_rgb8())
            .map_err(|e| data_error(&image.path, format!("cannot decode it: {e}")))?;
        let photo = PackedView::rgb(rgb.as_raw(), rgb.width(), rgb.height())?;
        for person in &image.persons {
            let cameras = camera_path(&person.bbox);
            let clip: Vec<GtPerson> = cameras.iter().map(|c| c.person_to_clip(person)).collect();
            estimator.reset();
            let mut raw = Vec::with_capacity(CLIP_FRAMES);
            for (i, (camera, truth)) in cameras.iter().zip(&clip).enumerate() {
                let frame = render(&photo, camera);
                let view = PackedView::rgb(&frame, CLIP_SIZE, CLIP_SIZE)?;
                // The box a tracker would give: the person's box, as it moves in the clip.
                let estimate = estimator.estimate(&view, Some(&truth.bbox), i as f64 / CLIP_FPS)?;
                report.frames_without_pose += usize::from(estimate.is_none());
                raw.push(estimate.map(|e| e.pose));
            }
            for (variant, (_, score)) in variants.iter().zip(&mut report.variants) {
                score_clip(score, &clip, &refine_sequence(variant.config, raw.iter().cloned()), &raw);
            }
            let truth = ground_truth_frames(&clip);
            report.ground_truth_jitter.add_jitter(jitter(&truth, &truth, &scored_points(), SEEN_CONFIDENCE));
            report.clips += 1;
        }
    }
    Ok(report)
}

pub fn format_motion(model: &str, report: &MotionReport) -> String {
    let mut out = format!(
        "model {model}: {} clips of {CLIP_FRAMES} frames, {} frames without a pose\n{:<26}{:>9}{:>12}{:>12}\n",
        report.clips, report.frames_without_pose, "refinement", "PCK@0.2", "error", "jitter"
    );
    for (label, s) in &report.variants {
        out += &format!(
            "{label:<26}{:>9.1}{:>12.4}{:>12.5}\n",
            100.0 * s.tally.mean().unwrap_or(0.0),
            s.mean_error(),
            s.jitter()
        );
    }
    out + &format!("{:<26}{:>9}{:>12}{:>12.5}\n", "(ground truth)", "", "", report.ground_truth_jitter.jitter())
}

pub fn motion_json(model: &str, report: &MotionReport) -> Value {
    let variants: Vec<Value> = report
        .variants
        .iter()
        .map(|(label, s)| {
            json!({
                "refinement": label,
                "pck": s.tally.mean().map(rounded),
                "instances": s.tally.instances(),
                "mean_error": (s.mean_error() * 1e5).round() / 1e5,
                "jitter": (s.jitter() * 1e6).round() / 1e6,
                "jitter_samples": s.jitter_samples,
            })
        })
        .collect();
    json!({
        "model": model,
        "clips": report.clips,
        "frames_per_clip": CLIP_FRAMES,
        "frames_without_pose": report.frames_without_pose,
        "pck_alpha": rounded(PCK_ALPHA),
        "ground_truth_jitter": (report.ground_truth_jitter.jitter() * 1e6).round() / 1e6,
        "variants": variants,
    })
}

/// The PCK tolerance of a clip person, for tests.
pub fn clip_threshold(person: &GtPerson) -> f32 {
    pck_threshold(&person.bbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_camera_maps_the_box_centre_to_the_clip_centre_at_rest() {
        let bbox = Rect { x: 100.0, y: 40.0, w: 50.0, h: 200.0 };
        let path = camera_path(&bbox);
        assert_eq!(path.len(), CLIP_FRAMES);
        let c = path[0].to_clip(bbox.center());
        assert!((c.x - 192.0).abs() < 1e-3 && (c.y - 192.0).abs() < 1e-3);
        // The whole box stays in view all cycle.
        for camera in &path {
            let b = camera.box_to_clip(&bbox);
            assert!(b.x >= 0.0 && b.y >= 0.0 && b.x + b.w <= 384.0 && b.y + b.h <= 384.0, "{b:?}");
        }
    }

    #[test]
    fn rendering_samples_the_photo_where_the_camera_looks() {
        // A 4x4 photo, white on its right half.
        let mut pixels = vec![0u8; 4 * 4 * 3];
        for y in 0..4 {
            for x in 2..4 {
                pixels[(y * 4 + x) * 3..(y * 4 + x) * 3 + 3].copy_from_slice(&[255, 255, 255]);
            }
        }
        let photo = PackedView::rgb(&pixels, 4, 4).unwrap();
        let frame = render(&photo, &Camera { center: Point::new(2.0, 2.0), side: 4.0 });
        let at = |u: usize, v: usize| frame[(v * CLIP_SIZE as usize + u) * 3];
        assert_eq!(at(10, 192), 0);
        assert_eq!(at(300, 192), 255);
    }
}
