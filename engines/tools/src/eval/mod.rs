// SPDX-License-Identifier: MPL-2.0
//! Accuracy of the detector + landmark pipeline on ground-truth 2D keypoints (the small
//! annotated sets mmpose ships as test data): PCK@0.2 per joint, for the joints a dataset and
//! BlazePose share.
//!
//! Protocol, top-down with the ground-truth boxes as standard pose benchmarks do, one
//! prediction per ground-truth person:
//! 1. the detector looks at a square centred on the person's box, [`REGION_SCALE`] times its
//!    longer side, so it sees the whole person with some context but rarely a second one;
//! 2. of the detections whose face lies inside the box, the one whose body centre lies nearest
//!    the box centre gives the landmark ROI ([`aicoach_inference::blazepose::detector::roi`], see
//!    [`nearest_detection`]); without one the person counts as a detector miss
//!    and gets [`fallback_roi`], so a miss costs what the landmark model then gets wrong, not
//!    every joint;
//! 3. a labelled joint is correct when the prediction lies within [`PCK_ALPHA`] times the
//!    box's longer side of it.
//!
//! Parsing works on `serde_json::Value`s so each format is tested on inline JSON; running the
//! models needs the detector and landmarkers the caller loads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use aicoach_inference::blazepose::{self, ROI_SCALE};
use aicoach_inference::error::EngineError;
use aicoach_inference::{PersonDetector, PoseLandmarker};
use aicoach_vision::Detection;
use aicoach_vision::geometry::{Point, Rect, RotatedRect};
use aicoach_vision::image::PackedView;
use aicoach_vision::keypoints::{COCO17_FROM_BLAZEPOSE, COCO17_NAMES};

pub mod follow;
pub mod motion;

/// PCK's tolerance as a fraction of the person box's longer side.
pub const PCK_ALPHA: f32 = 0.2;
/// The detector's region around a ground-truth box, as a multiple of the box's longer side.
pub const REGION_SCALE: f32 = 1.5;
/// MPII's `scale` is the person's size in units of 200 pixels.
const MPII_PIXEL_STD: f32 = 200.0;

/// The joints PCK is reported for, with COCO's names: COCO-17 in COCO order, then the
/// COCO-WholeBody foot points BlazePose also predicts. A joint is an index into this list.
pub const JOINT_NAMES: [&str; JOINT_COUNT] = {
    let mut names = [""; JOINT_COUNT];
    let mut i = 0;
    while i < COCO17_NAMES.len() {
        names[i] = COCO17_NAMES[i];
        i += 1;
    }
    names[17] = "left_heel";
    names[18] = "right_heel";
    names[19] = "left_big_toe";
    names[20] = "right_big_toe";
    names
};
pub const JOINT_COUNT: usize = 21;

/// Column headers for the text table (the full names make it too wide for a terminal).
const JOINT_SHORT: [&str; JOINT_COUNT] = [
    "nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_sho", "r_sho", "l_elb", "r_elb", "l_wri", "r_wri", "l_hip", "r_hip",
    "l_kne", "r_kne", "l_ank", "r_ank", "l_hee", "r_hee", "l_toe", "r_toe",
];

/// Each joint's BlazePose keypoint. The big toe maps to `foot_index`, BlazePose's tip of the foot.
pub const JOINT_BLAZEPOSE: [usize; JOINT_COUNT] = {
    let mut map = [0; JOINT_COUNT];
    let mut i = 0;
    while i < COCO17_FROM_BLAZEPOSE.len() {
        map[i] = COCO17_FROM_BLAZEPOSE[i];
        i += 1;
    }
    // left_heel, right_heel, left_foot_index, right_foot_index
    map[17] = 29;
    map[18] = 30;
    map[19] = 31;
    map[20] = 32;
    map
};

/// Each joint's mirror image (left <-> right), for the swapped-sides sanity score.
const JOINT_MIRROR: [usize; JOINT_COUNT] = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19];

/// MPII's joint order (the annotation files carry no names).
pub const MPII_JOINTS: [&str; 16] = [
    "r_ankle",
    "r_knee",
    "r_hip",
    "l_hip",
    "l_knee",
    "l_ankle",
    "pelvis",
    "thorax",
    "upper_neck",
    "head_top",
    "r_wrist",
    "r_elbow",
    "r_shoulder",
    "l_shoulder",
    "l_elbow",
    "l_wrist",
];

/// COCO-WholeBody's `foot_kpts` order (the categories list only the 17 body names).
pub const WHOLEBODY_FEET: [&str; 6] =
    ["left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel"];

/// The reported joint a dataset's joint name stands for, if BlazePose has it. Names are matched
/// after normalising the spellings the formats use ("Right Shoulder", "r_shoulder").
pub fn joint_index(name: &str) -> Option<usize> {
    let mut name = name.trim().to_lowercase().replace([' ', '-'], "_");
    if let Some(rest) = name.strip_prefix("r_") {
        name = format!("right_{rest}");
    } else if let Some(rest) = name.strip_prefix("l_") {
        name = format!("left_{rest}");
    }
    // HumanArt's toe is the tip of the foot, like WholeBody's big toe and BlazePose's foot_index.
    let name = match name.as_str() {
        "left_toe" => "left_big_toe",
        "right_toe" => "right_big_toe",
        other => other,
    };
    JOINT_NAMES.iter().position(|n| *n == name)
}

/// A ground-truth person: the box that sets the tolerance and the labelled joints BlazePose shares.
#[derive(Debug, Clone, PartialEq)]
pub struct GtPerson {
    pub bbox: Rect,
    /// (joint index, position in frame pixels), labelled joints only.
    pub joints: Vec<(usize, Point)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GtImage {
    pub path: PathBuf,
    pub persons: Vec<GtPerson>,
}

/// How a dataset file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// COCO-style `images` + `annotations` with `[x, y, v]` keypoints named by the category.
    Coco,
    /// COCO-WholeBody, scoring only the feet (the body points are `test_coco.json`'s again).
    WholeBodyFeet,
    /// MPII: a list of {image, joints, joints_vis, center, scale}.
    Mpii,
}

#[derive(Debug, Clone, Copy)]
pub struct DatasetSpec {
    pub name: &'static str,
    /// Relative to the data folder; images are relative to this file's folder.
    pub file: &'static str,
    pub format: Format,
    /// MPII and JHMDB come from MATLAB with 1-based pixel indices (mmpose subtracts 1 too).
    pub one_based: bool,
}

pub const DATASETS: [DatasetSpec; 7] = [
    DatasetSpec { name: "coco", file: "coco/test_coco.json", format: Format::Coco, one_based: false },
    DatasetSpec { name: "mpii", file: "mpii/test_mpii.json", format: Format::Mpii, one_based: true },
    DatasetSpec { name: "aic", file: "aic/test_aic.json", format: Format::Coco, one_based: false },
    DatasetSpec { name: "jhmdb", file: "jhmdb/test_jhmdb_sub1.json", format: Format::Coco, one_based: true },
    DatasetSpec { name: "ochuman", file: "ochuman/test_ochuman.json", format: Format::Coco, one_based: false },
    DatasetSpec { name: "humanart", file: "humanart/test_humanart.json", format: Format::Coco, one_based: false },
    DatasetSpec {
        name: "coco_wholebody",
        file: "coco/test_coco_wholebody.json",
        format: Format::WholeBodyFeet,
        one_based: false,
    },
];

/// A dataset ready to evaluate: images that exist, and the ones the annotations name but the
/// folder lacks (mmpose's test folders ship only some of them).
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: &'static str,
    pub images: Vec<GtImage>,
    pub missing: Vec<GtImage>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {reason}")]
    Data { path: PathBuf, reason: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Image(#[from] aicoach_vision::ImageError),
}

fn data_error(path: &Path, reason: impl Into<String>) -> EvalError {
    EvalError::Data { path: path.to_path_buf(), reason: reason.into() }
}

/// Reads and parses one dataset below `data_dir`, splitting off images that are not on disk.
pub fn load_dataset(data_dir: &Path, spec: &DatasetSpec) -> Result<Dataset, EvalError> {
    let path = data_dir.join(spec.file);
    let text = std::fs::read_to_string(&path).map_err(|e| data_error(&path, format!("cannot read it: {e}")))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| data_error(&path, format!("not JSON: {e}")))?;
    let folder = path.parent().unwrap_or(data_dir);
    let offset = if spec.one_based { 1.0 } else { 0.0 };
    let images = match spec.format {
        Format::Coco => parse_coco(&json, folder, offset),
        Format::WholeBodyFeet => parse_wholebody_feet(&json, folder),
        Format::Mpii => parse_mpii(&json, folder, offset),
    }
    .map_err(|reason| data_error(&path, reason))?;
    let (images, missing) = images.into_iter().partition(|i| i.path.is_file());
    Ok(Dataset { name: spec.name, images, missing })
}

/// `name` below `folder`; when the annotation carries the original dataset's prefix (HumanArt's
/// `HumanArt/images/...`), the first suffix of it that exists below `folder`.
pub fn resolve_image(folder: &Path, name: &str) -> PathBuf {
    let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
    (0..parts.len())
        .map(|skip| folder.join(parts[skip..].join("/")))
        .find(|p| p.is_file())
        .unwrap_or_else(|| folder.join(name))
}

fn num(v: &Value) -> Option<f32> {
    v.as_f64().map(|x| x as f32)
}

fn array<'a>(v: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
    v[key].as_array().ok_or_else(|| format!("no '{key}' array"))
}

/// `[x, y, v, ...]` triplets: the labelled points (v > 0), `None` for the unlabelled ones.
fn triplets(values: &[Value], offset: f32) -> Vec<Option<Point>> {
    values
        .chunks(3)
        .map(|t| match (num(&t[0]), num(t.get(1)?), num(t.get(2)?)) {
            (Some(x), Some(y), Some(v)) if v > 0.0 => Some(Point::new(x - offset, y - offset)),
            _ => None,
        })
        .collect()
}

/// The shared joints among `names` whose points are labelled.
fn shared_joints<S: AsRef<str>>(names: &[S], points: &[Option<Point>]) -> Vec<(usize, Point)> {
    names.iter().zip(points).filter_map(|(n, p)| Some((joint_index(n.as_ref())?, (*p)?))).collect()
}

/// COCO's `[x, y, w, h]`, if present and not empty.
fn coco_bbox(ann: &Value, offset: f32) -> Option<Rect> {
    let b = ann["bbox"].as_array()?;
    let [x, y, w, h] = [num(b.first()?)?, num(b.get(1)?)?, num(b.get(2)?)?, num(b.get(3)?)?];
    (w > 0.0 && h > 0.0).then_some(Rect { x: x - offset, y: y - offset, w, h })
}

/// A person worth scoring: some shared joint labelled and a box with an area.
fn person(bbox: Option<Rect>, joints: Vec<(usize, Point)>) -> Option<GtPerson> {
    let bbox = bbox.filter(|b| b.w.max(b.h) > 0.0)?;
    (!joints.is_empty()).then_some(GtPerson { bbox, joints })
}

/// The `images` list as (id, path) in file order.
fn coco_images(json: &Value, folder: &Path) -> Result<Vec<(u64, PathBuf)>, String> {
    array(json, "images")?
        .iter()
        .map(|img| match (img["id"].as_u64(), img["file_name"].as_str()) {
            (Some(id), Some(name)) => Ok((id, resolve_image(folder, name))),
            _ => Err(format!("image entry without id or file_name: {img}")),
        })
        .collect()
}

/// The person category's keypoint names, which give the keypoint arrays' order.
fn coco_keypoint_names(json: &Value) -> Result<Vec<String>, String> {
    let categories = array(json, "categories")?;
    let person = categories.iter().find(|c| c["name"] == "person").or(categories.first());
    let names = person.and_then(|c| c["keypoints"].as_array()).ok_or("no person category with keypoint names")?;
    Ok(names.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
}

/// The annotation's keypoint array that matches the category's names: `keypoints`, or for
/// HumanArt, whose 21 names extend COCO's 17, `keypoints_21`.
fn coco_keypoints(ann: &Value, names: usize) -> Result<&[Value], String> {
    ["keypoints", "keypoints_21"]
        .iter()
        .filter_map(|key| ann[*key].as_array())
        .find(|kp| kp.len() == 3 * names)
        .map(Vec::as_slice)
        .ok_or_else(|| format!("annotation {} has no keypoint array of {names} points", ann["id"]))
}

/// Groups per-annotation persons under the images they belong to, dropping empty images.
fn group_by_image(images: Vec<(u64, PathBuf)>, persons: Vec<(u64, GtPerson)>) -> Result<Vec<GtImage>, String> {
    let index: HashMap<u64, usize> = images.iter().enumerate().map(|(i, (id, _))| (*id, i)).collect();
    let mut out: Vec<GtImage> = images.into_iter().map(|(_, path)| GtImage { path, persons: Vec::new() }).collect();
    for (id, p) in persons {
        let i = *index.get(&id).ok_or_else(|| format!("annotation for unknown image id {id}"))?;
        out[i].persons.push(p);
    }
    out.retain(|i| !i.persons.is_empty());
    Ok(out)
}

/// Annotations that are neither crowds nor lacking an image id.
fn coco_annotations(json: &Value) -> Result<impl Iterator<Item = (u64, &Value)>, String> {
    let anns = array(json, "annotations")?;
    Ok(anns.iter().filter(|a| a["iscrowd"].as_u64() != Some(1)).filter_map(|a| Some((a["image_id"].as_u64()?, a))))
}

/// COCO-style files (COCO, AIC, JHMDB, OCHuman, HumanArt). Without a box, the box around the
/// labelled keypoints stands in.
pub fn parse_coco(json: &Value, folder: &Path, offset: f32) -> Result<Vec<GtImage>, String> {
    let names = coco_keypoint_names(json)?;
    let mut persons = Vec::new();
    for (image, ann) in coco_annotations(json)? {
        let points = triplets(coco_keypoints(ann, names.len())?, offset);
        let bbox = coco_bbox(ann, offset).or_else(|| Rect::bounding(points.iter().flatten().copied()));
        if let Some(p) = person(bbox, shared_joints(&names, &points)) {
            persons.push((image, p));
        }
    }
    group_by_image(coco_images(json, folder)?, persons)
}

/// COCO-WholeBody's feet (heels and big toes; BlazePose has no small toe).
pub fn parse_wholebody_feet(json: &Value, folder: &Path) -> Result<Vec<GtImage>, String> {
    let mut persons = Vec::new();
    for (image, ann) in coco_annotations(json)? {
        let Some(feet) = ann["foot_kpts"].as_array() else { continue };
        if feet.len() != 3 * WHOLEBODY_FEET.len() {
            return Err(format!("annotation {} has {} foot values, expected 18", ann["id"], feet.len()));
        }
        if let Some(p) = person(coco_bbox(ann, 0.0), shared_joints(&WHOLEBODY_FEET, &triplets(feet, 0.0))) {
            persons.push((image, p));
        }
    }
    group_by_image(coco_images(json, folder)?, persons)
}

/// One MPII entry: joints where `joints_vis` > 0; the box is the square of side `scale * 200`
/// around `center`, which is how MPII sizes people.
fn mpii_person(entry: &Value, offset: f32) -> Result<Option<GtPerson>, String> {
    let joints = array(entry, "joints")?;
    let vis = array(entry, "joints_vis")?;
    if joints.len() != MPII_JOINTS.len() || vis.len() != MPII_JOINTS.len() {
        return Err(format!("MPII entry with {} joints, expected 16: {}", joints.len(), entry["image"]));
    }
    let points: Vec<Option<Point>> = joints
        .iter()
        .zip(vis)
        .map(|(j, v)| match (num(&j[0]), num(&j[1]), num(v)) {
            (Some(x), Some(y), Some(v)) if v > 0.0 => Some(Point::new(x - offset, y - offset)),
            _ => None,
        })
        .collect();
    let (cx, cy, scale) = (num(&entry["center"][0]), num(&entry["center"][1]), num(&entry["scale"]));
    let bbox = match (cx, cy, scale) {
        (Some(cx), Some(cy), Some(s)) => {
            Some(Rect::from_center(cx - offset, cy - offset, s * MPII_PIXEL_STD, s * MPII_PIXEL_STD))
        }
        _ => None,
    };
    Ok(person(bbox, shared_joints(&MPII_JOINTS, &points)))
}

/// MPII: a list of people, several of which may share an image.
pub fn parse_mpii(json: &Value, folder: &Path, offset: f32) -> Result<Vec<GtImage>, String> {
    let entries = json.as_array().ok_or("expected a list of people")?;
    let mut images: Vec<GtImage> = Vec::new();
    for entry in entries {
        let name = entry["image"].as_str().ok_or("MPII entry without an image")?;
        let Some(p) = mpii_person(entry, offset)? else { continue };
        let path = resolve_image(folder, name);
        match images.iter_mut().find(|i| i.path == path) {
            Some(image) => image.persons.push(p),
            None => images.push(GtImage { path, persons: vec![p] }),
        }
    }
    Ok(images)
}

/// The square the detector looks at: centred on the box, [`REGION_SCALE`] times its longer side.
pub fn detection_region(bbox: &Rect) -> RotatedRect {
    let side = REGION_SCALE * bbox.w.max(bbox.h);
    RotatedRect { center: bbox.center(), width: side, height: side, rotation: 0.0 }
}

/// The landmark ROI when the detector finds nobody. BlazePose's ROI is the square of side
/// `2 * body radius * ROI_SCALE` on the hips, its body circle enclosing the whole person; for
/// an upright person the box's longer side is that circle's diameter and the box centre stands
/// in for the hips. So: the box centre, side `ROI_SCALE * max(w, h)`, upright, which is the
/// detection region scaled by `ROI_SCALE / REGION_SCALE`.
pub fn fallback_roi(bbox: &Rect) -> RotatedRect {
    let side = ROI_SCALE * bbox.w.max(bbox.h);
    RotatedRect { center: bbox.center(), width: side, height: side, rotation: 0.0 }
}

/// The detection that is this person's: among those whose face lies inside the box, the one
/// whose body box is centred nearest the box centre; the higher score on a tie. The face test
/// keeps a neighbour from being taken for the person: the detector is anchored on faces, and
/// in a crowd a neighbour's body often reaches into the box (or is extrapolated into it when cut
/// off by the frame) while their face rarely does. Detections without a face box (NanoDet)
/// are judged by their centre alone.
pub fn nearest_detection<'a>(detections: &'a [Detection], bbox: &Rect) -> Option<&'a Detection> {
    let target = bbox.center();
    detections.iter().filter(|d| d.face.is_none_or(|f| bbox.contains(f.center()))).min_by(|a, b| {
        let (da, db) = (a.bbox.center().distance(target), b.bbox.center().distance(target));
        da.total_cmp(&db).then(b.score.total_cmp(&a.score))
    })
}

/// PCK's distance tolerance for a person.
pub fn pck_threshold(bbox: &Rect) -> f32 {
    PCK_ALPHA * bbox.w.max(bbox.h)
}

/// Correct and labelled joint instances, per joint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub correct: [u32; JOINT_COUNT],
    pub total: [u32; JOINT_COUNT],
}

impl Tally {
    pub fn add(&mut self, joint: usize, correct: bool) {
        self.total[joint] += 1;
        self.correct[joint] += u32::from(correct);
    }

    pub fn merge(&mut self, other: &Tally) {
        for j in 0..JOINT_COUNT {
            self.correct[j] += other.correct[j];
            self.total[j] += other.total[j];
        }
    }

    /// PCK of one joint in 0..1; `None` when it was never labelled.
    pub fn pck(&self, joint: usize) -> Option<f32> {
        ratio(self.correct[joint], self.total[joint])
    }

    /// PCK over all joint instances (so joints labelled more often weigh more).
    pub fn mean(&self) -> Option<f32> {
        ratio(self.correct.iter().sum(), self.instances())
    }

    pub fn instances(&self) -> u32 {
        self.total.iter().sum()
    }
}

fn ratio(correct: u32, total: u32) -> Option<f32> {
    (total > 0).then(|| correct as f32 / total as f32)
}

/// Scores one person's 33 predicted BlazePose points against the ground truth into `tally`,
/// and with left and right exchanged into `swapped`: a swapped score well above the plain one
/// flags a dataset whose sides are the viewer's rather than the person's.
pub fn score_person(person: &GtPerson, predicted: &[Point], tally: &mut Tally, swapped: &mut Tally) {
    let threshold = pck_threshold(&person.bbox);
    let hit = |joint: usize, gt: Point| predicted[JOINT_BLAZEPOSE[joint]].distance(gt) <= threshold;
    for &(joint, gt) in &person.joints {
        tally.add(joint, hit(joint, gt));
        swapped.add(joint, hit(JOINT_MIRROR[joint], gt));
    }
}

/// One model's results on one dataset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatasetScore {
    pub name: String,
    pub persons: usize,
    pub detector_misses: usize,
    /// Persons not scored because their image is not in the folder.
    pub missing_persons: usize,
    pub tally: Tally,
    pub swapped: Tally,
}

impl DatasetScore {
    fn new(name: &str) -> Self {
        Self { name: name.to_string(), ..Self::default() }
    }

    /// Adds `other`'s counts to this one's (for the overall line).
    pub fn merge(&mut self, other: &DatasetScore) {
        self.persons += other.persons;
        self.detector_misses += other.detector_misses;
        self.missing_persons += other.missing_persons;
        self.tally.merge(&other.tally);
        self.swapped.merge(&other.swapped);
    }
}

/// The detector and the landmark models under test (each scored separately on the same ROIs).
pub struct Pipeline {
    pub detector: PersonDetector,
    pub landmarkers: Vec<(String, PoseLandmarker)>,
}

impl Pipeline {
    /// The landmark ROI for a ground-truth box, and whether the detector supplied it.
    pub fn roi_for(&mut self, view: &PackedView<'_>, bbox: &Rect) -> Result<(RotatedRect, bool), EngineError> {
        let detections = self.detector.detect_in(view, &detection_region(bbox))?;
        let roi = nearest_detection(&detections, bbox).and_then(blazepose::detector::roi);
        Ok(match roi {
            Some(roi) => (roi, true),
            None => (fallback_roi(bbox), false),
        })
    }
}

/// A decoded RGB image.
fn load_rgb(path: &Path) -> Result<::image::RgbImage, EvalError> {
    ::image::open(path).map(|i| i.into_rgb8()).map_err(|e| data_error(path, format!("cannot decode it: {e}")))
}

/// Runs every model of `pipeline` on `dataset`: one score per landmarker, in its order.
pub fn evaluate(dataset: &Dataset, pipeline: &mut Pipeline) -> Result<Vec<DatasetScore>, EvalError> {
    let mut scores: Vec<DatasetScore> = pipeline.landmarkers.iter().map(|_| DatasetScore::new(dataset.name)).collect();
    let missing_persons: usize = dataset.missing.iter().map(|i| i.persons.len()).sum();
    for image in &dataset.images {
        let rgb = load_rgb(&image.path)?;
        let view = PackedView::rgb(rgb.as_raw(), rgb.width(), rgb.height())?;
        for person in &image.persons {
            let (roi, detected) = pipeline.roi_for(&view, &person.bbox)?;
            for ((_, landmarker), score) in pipeline.landmarkers.iter_mut().zip(&mut scores) {
                let landmarks = landmarker.estimate(&view, &roi)?;
                let predicted: Vec<Point> = landmarks.keypoints.iter().map(|k| k.point()).collect();
                score.persons += 1;
                score.detector_misses += usize::from(!detected);
                score_person(person, &predicted, &mut score.tally, &mut score.swapped);
            }
        }
    }
    for score in &mut scores {
        score.missing_persons = missing_persons;
    }
    Ok(scores)
}

/// The sum of all rows: its means are over every joint instance of every dataset.
pub fn overall(rows: &[DatasetScore]) -> DatasetScore {
    let mut all = DatasetScore::new("all");
    for row in rows {
        all.merge(row);
    }
    all
}

fn percent(v: Option<f32>, decimals: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{:.*}", decimals, 100.0 * v))
}

/// The joints any row has instances of (the others would be empty columns).
fn used_joints(rows: &[DatasetScore]) -> Vec<usize> {
    (0..JOINT_COUNT).filter(|&j| rows.iter().any(|r| r.tally.total[j] > 0)).collect()
}

fn table_row(row: &DatasetScore, joints: &[usize]) -> String {
    let mut line = format!("{:<15}{:>5}{:>5}", row.name, row.persons, row.detector_misses);
    for &j in joints {
        line += &format!("{:>6}", percent(row.tally.pck(j), 0));
    }
    line + &format!(
        "{:>7}{:>7}{:>6}",
        percent(row.tally.mean(), 1),
        percent(row.swapped.mean(), 1),
        row.tally.instances()
    )
}

/// The text table: one line per dataset, then the overall line. Joint columns are PCK in
/// percent; `miss` counts detector misses, `swap` is the mean with left and right exchanged,
/// `n` the number of joint instances.
pub fn format_table(rows: &[DatasetScore]) -> String {
    let joints = used_joints(rows);
    let mut out = format!("{:<15}{:>5}{:>5}", "dataset", "pers", "miss");
    for &j in &joints {
        out += &format!("{:>6}", JOINT_SHORT[j]);
    }
    out += &format!("{:>7}{:>7}{:>6}\n", "mean", "swap", "n");
    for row in rows {
        out += &table_row(row, &joints);
        out.push('\n');
    }
    out + &table_row(&overall(rows), &joints) + "\n"
}

/// A ratio for the JSON report, rounded so f32 noise does not show (0.2, not 0.20000000298).
pub fn rounded(v: f32) -> f64 {
    (f64::from(v) * 1e4).round() / 1e4
}

/// One row as JSON: counts and PCK per joint (COCO names, COCO order), means in 0..1.
pub fn score_json(row: &DatasetScore) -> Value {
    let joints: Vec<Value> = (0..JOINT_COUNT)
        .filter(|&j| row.tally.total[j] > 0)
        .map(|j| {
            json!({
                "joint": JOINT_NAMES[j],
                "pck": row.tally.pck(j).map(rounded),
                "correct": row.tally.correct[j],
                "total": row.tally.total[j],
            })
        })
        .collect();
    json!({
        "dataset": row.name,
        "persons": row.persons,
        "detector_misses": row.detector_misses,
        "persons_without_image": row.missing_persons,
        "instances": row.tally.instances(),
        "mean": row.tally.mean().map(rounded),
        "mean_left_right_swapped": row.swapped.mean().map(rounded),
        "joints": joints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    fn no_folder() -> PathBuf {
        PathBuf::from("/nonexistent-aicoach-eval")
    }

    #[test]
    fn joints_map_to_blazepose_points_of_the_same_name() {
        for (j, name) in JOINT_NAMES.iter().enumerate() {
            let bp = aicoach_vision::keypoints::KEYPOINT_NAMES[JOINT_BLAZEPOSE[j]];
            assert_eq!(bp, name.replace("big_toe", "foot_index"), "joint {name}");
        }
        for (j, &m) in JOINT_MIRROR.iter().enumerate() {
            let mirrored = JOINT_NAMES[j].replace("left", "L").replace("right", "left").replace('L', "right");
            assert_eq!(JOINT_NAMES[m], mirrored);
        }
    }

    #[test]
    fn dataset_spellings_resolve_to_coco_joints() {
        let idx = |n: &str| joint_index(n).map(|j| JOINT_NAMES[j]);
        assert_eq!(idx("Right Shoulder"), Some("right_shoulder"));
        assert_eq!(idx("r_ankle"), Some("right_ankle"));
        assert_eq!(idx("l_wrist"), Some("left_wrist"));
        assert_eq!(idx("left_toe"), Some("left_big_toe"));
        assert_eq!(idx("right_heel"), Some("right_heel"));
        for unshared in ["Head top", "neck", "belly", "pelvis", "upper_neck", "left_small_toe", "left_finger"] {
            assert_eq!(idx(unshared), None, "{unshared}");
        }
        // MPII: the twelve limb joints are shared, the head and trunk points are not.
        assert_eq!(MPII_JOINTS.iter().filter(|n| joint_index(n).is_some()).count(), 12);
    }

    fn person_at(bbox: Rect, joints: &[(usize, f32, f32)]) -> GtPerson {
        GtPerson { bbox, joints: joints.iter().map(|&(j, x, y)| (j, Point::new(x, y))).collect() }
    }

    #[test]
    fn pck_counts_points_within_a_fifth_of_the_longer_side() {
        // A 50x100 box: tolerance 20 px.
        let bbox = Rect { x: 0.0, y: 0.0, w: 50.0, h: 100.0 };
        assert!(close(pck_threshold(&bbox), 20.0));
        // left_shoulder (5) exact, right_shoulder (6) 20 px off (counts), nose (0) 20.5 px off.
        let person = person_at(bbox, &[(5, 10.0, 10.0), (6, 40.0, 10.0), (0, 25.0, 5.0)]);
        let mut predicted = vec![Point::new(-1000.0, -1000.0); 33];
        predicted[11] = Point::new(10.0, 10.0);
        predicted[12] = Point::new(40.0, 30.0);
        predicted[0] = Point::new(25.0, 25.5);
        let (mut tally, mut swapped) = (Tally::default(), Tally::default());
        score_person(&person, &predicted, &mut tally, &mut swapped);
        assert_eq!(tally.pck(5), Some(1.0));
        assert_eq!(tally.pck(6), Some(1.0));
        assert_eq!(tally.pck(0), Some(0.0));
        assert_eq!(tally.pck(7), None);
        assert!(close(tally.mean().unwrap(), 2.0 / 3.0));
        // Swapped: the shoulders are 30 px apart, so each misses the other's ground truth.
        assert!(close(swapped.mean().unwrap(), 0.0));

        // The mean is over instances: a second dataset's 1/1 pulls it to 3/4.
        let mut other = Tally::default();
        other.add(9, true);
        tally.merge(&other);
        assert!(close(tally.mean().unwrap(), 0.75));
        assert_eq!(tally.instances(), 4);
    }

    #[test]
    fn regions_centre_on_the_box() {
        let bbox = Rect { x: 100.0, y: 50.0, w: 40.0, h: 200.0 };
        let region = detection_region(&bbox);
        assert_eq!(region.center, Point::new(120.0, 150.0));
        assert!(close(region.width, 300.0) && close(region.height, 300.0));
        let roi = fallback_roi(&bbox);
        assert_eq!(roi.center, region.center);
        assert!(close(roi.width, 250.0) && roi.rotation == 0.0);
    }

    #[test]
    fn the_detection_nearest_the_box_centre_wins_among_faces_in_the_box() {
        // Faces 40 px above the body centres; the box spans x -20..40, y -60..20 (centre (10, -20)).
        let det = |cx: f32, score: f32| Detection {
            score,
            bbox: Rect::from_center(cx, 0.0, 10.0, 10.0),
            face: Some(Rect::from_center(cx, -40.0, 4.0, 4.0)),
            keypoints: Vec::new(),
        };
        let bbox = Rect { x: -20.0, y: -60.0, w: 60.0, h: 80.0 };
        let dets = [det(50.0, 0.9), det(12.0, 0.6), det(-8.0, 0.7)];
        assert_eq!(nearest_detection(&dets, &bbox).unwrap().score, 0.6);
        let tie = [det(12.0, 0.6), det(8.0, 0.8)];
        assert_eq!(nearest_detection(&tie, &bbox).unwrap().score, 0.8);
        // A neighbour whose face is outside the box is nobody's match, however near its body.
        let mut neighbour = det(10.0, 0.9);
        neighbour.face = Some(Rect::from_center(10.0, -70.0, 4.0, 4.0));
        assert!(nearest_detection(&[neighbour.clone()], &bbox).is_none());
        neighbour.face = None;
        assert!(nearest_detection(&[neighbour], &bbox).is_some());
        assert!(nearest_detection(&[], &bbox).is_none());
    }

    #[test]
    fn coco_style_files_follow_the_category_names() {
        // AIC-like: names in the category, v 0 unlabelled; the second person has no box.
        let json: Value = serde_json::from_str(
            r#"{
            "images": [{"id": 7, "file_name": "a.jpg"}, {"id": 8, "file_name": "b.jpg"}],
            "categories": [{"name": "person", "keypoints": ["Right Shoulder", "Head top", "Left Hip"]}],
            "annotations": [
                {"image_id": 7, "bbox": [10, 20, 30, 40], "keypoints": [1, 2, 2, 3, 4, 1, 0, 0, 0]},
                {"image_id": 7, "keypoints": [0, 0, 0, 5, 6, 2, 15, 26, 1]},
                {"image_id": 7, "iscrowd": 1, "bbox": [0, 0, 9, 9], "keypoints": [1, 1, 2, 1, 1, 2, 1, 1, 2]},
                {"image_id": 8, "bbox": [0, 0, 9, 9], "keypoints": [0, 0, 0, 1, 1, 2, 0, 0, 0]}
            ]}"#,
        )
        .unwrap();
        let images = parse_coco(&json, &no_folder(), 0.0).unwrap();
        // Image 8's only labelled point is the head top, which BlazePose lacks.
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].path, no_folder().join("a.jpg"));
        let [a, b] = &images[0].persons[..] else { panic!("{:?}", images[0].persons) };
        assert_eq!(a.bbox, Rect { x: 10.0, y: 20.0, w: 30.0, h: 40.0 });
        assert_eq!(a.joints, vec![(6, Point::new(1.0, 2.0))]);
        // No box: the box around all labelled points, the unshared head top included.
        assert_eq!(b.bbox, Rect::from_corners(5.0, 6.0, 15.0, 26.0));
        assert_eq!(b.joints, vec![(11, Point::new(15.0, 26.0))]);
    }

    #[test]
    fn one_based_files_shift_by_a_pixel_and_humanart_uses_its_21_points() {
        let json: Value = serde_json::from_str(
            r#"{
            "images": [{"id": 1, "file_name": "HumanArt/images/x/1.jpg"}],
            "categories": [{"name": "person", "keypoints": ["nose", "right_toe"]}],
            "annotations": [{"image_id": 1, "bbox": [1, 1, 10, 10],
                             "keypoints": [5, 5, 2], "keypoints_21": [5, 5, 2, 8, 9, 2]}]
            }"#,
        )
        .unwrap();
        let images = parse_coco(&json, &no_folder(), 1.0).unwrap();
        let p = &images[0].persons[0];
        assert_eq!(p.bbox, Rect { x: 0.0, y: 0.0, w: 10.0, h: 10.0 });
        assert_eq!(p.joints, vec![(0, Point::new(4.0, 4.0)), (20, Point::new(7.0, 8.0))]);
    }

    #[test]
    fn wholebody_feet_map_big_toes_and_heels() {
        let json: Value = serde_json::from_str(
            r#"{
            "images": [{"id": 1, "file_name": "c.jpg"}],
            "categories": [{"name": "person", "keypoints": ["nose"]}],
            "annotations": [
                {"image_id": 1, "bbox": [0, 0, 50, 100], "keypoints": [1, 1, 2],
                 "foot_kpts": [1, 2, 2, 3, 4, 2, 5, 6, 1, 7, 8, 2, 9, 10, 2, 11, 12, 0]},
                {"image_id": 1, "bbox": [0, 0, 50, 100], "keypoints": [1, 1, 2], "foot_kpts": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}
            ]}"#,
        )
        .unwrap();
        let images = parse_wholebody_feet(&json, &no_folder()).unwrap();
        assert_eq!(images[0].persons.len(), 1, "the person without foot labels is dropped");
        let by_name: Vec<(&str, Point)> =
            images[0].persons[0].joints.iter().map(|&(j, p)| (JOINT_NAMES[j], p)).collect();
        assert_eq!(
            by_name,
            vec![
                ("left_big_toe", Point::new(1.0, 2.0)),
                ("left_heel", Point::new(5.0, 6.0)),
                ("right_big_toe", Point::new(7.0, 8.0)),
            ]
        );
    }

    #[test]
    fn mpii_people_get_square_boxes_and_share_images() {
        let joint = |i: usize| json!([10.0 * i as f64 + 1.0, 1.0]);
        let joints: Vec<Value> = (0..16).map(joint).collect();
        let mut vis = vec![1; 16];
        vis[0] = 0; // r_ankle unlabelled
        let entry =
            json!({"image": "m.jpg", "joints": joints, "joints_vis": vis, "center": [101.0, 201.0], "scale": 1.5});
        let json = json!([entry.clone(), entry]);
        let images = parse_mpii(&json, &no_folder(), 1.0).unwrap();
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].persons.len(), 2);
        let p = &images[0].persons[0];
        assert_eq!(p.bbox, Rect::from_center(100.0, 200.0, 300.0, 300.0));
        // Eleven of the twelve shared joints (r_ankle is unlabelled); r_knee is MPII joint 1.
        assert_eq!(p.joints.len(), 11);
        assert_eq!(p.joints[0], (joint_index("right_knee").unwrap(), Point::new(10.0, 0.0)));
        let l_wrist = p.joints.iter().find(|(j, _)| JOINT_NAMES[*j] == "left_wrist").unwrap();
        assert_eq!(l_wrist.1, Point::new(150.0, 0.0));
    }

    #[test]
    fn prefixed_image_paths_resolve_inside_the_folder() {
        let dir = std::env::temp_dir().join(format!("aicoach-eval-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("real/acro")).unwrap();
        std::fs::write(dir.join("real/acro/1.jpg"), b"").unwrap();
        assert_eq!(resolve_image(&dir, "HumanArt/images/real/acro/1.jpg"), dir.join("real/acro/1.jpg"));
        assert_eq!(resolve_image(&dir, "HumanArt/images/other/2.jpg"), dir.join("HumanArt/images/other/2.jpg"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn table_has_a_line_per_dataset_and_an_overall_line() {
        let mut a = DatasetScore::new("coco");
        a.persons = 2;
        a.tally.add(0, true);
        a.tally.add(0, false);
        let mut b = DatasetScore::new("mpii");
        b.persons = 1;
        b.detector_misses = 1;
        b.tally.add(16, true);
        let table = format_table(&[a.clone(), b]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[0].contains("nose") && lines[0].contains("r_ank") && !lines[0].contains("l_eye"), "{table}");
        assert!(lines[1].starts_with("coco") && lines[1].contains("50.0"), "{table}");
        assert!(lines[3].starts_with("all") && lines[3].contains("66.7"), "{table}");
        let json = score_json(&a);
        assert_eq!((json["joints"][0]["joint"].as_str(), json["joints"][0]["total"].as_u64()), (Some("nose"), Some(2)));
        assert_eq!(json["mean"], 0.5);
    }
}
