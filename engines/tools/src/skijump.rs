// SPDX-License-Identifier: MPL-2.0
//! The SkiProject ski-jumping annotations (`../shared/data/skiproject_skijump`): 17 jumps with
//! hand-labelled body and ski keypoints on sampled frames, human phase annotations and five
//! judges' style marks. Turned into our keypoints and labels here, for training the
//! ski-jumping profile's phase classifiers and score model.
//!
//! Keypoints: the source's 23 points are listed by string id in `categories[1].keypoints`.
//! Body joints map to BlazePose's names. Our pose models have no skis, so a ski is read where
//! the runtime reads it, along the foot: the two labelled points on each ski next to the boot
//! become `heel` (rear) and `foot_index` (front), turned round where they disagree with the
//! ski's own tail -> tip direction. The source's left/right naming is checked per frame: a
//! ski is given to the leg whose ankle is nearer its binding, and the sides are counted where
//! the shoulders and hips disagree (see [`SideCheck`]).

use std::collections::BTreeMap;
use std::path::Path;

use aicoach_vision::Point;
use aicoach_vision::keypoints::KEYPOINT_NAMES;
use aicoach_vision::pose::Joint;
use serde_json::Value;

use crate::dataset::{DatasetError, LabelledFrame};

/// Source id -> BlazePose name for the body joints.
const BODY: [(&str, &str); 13] = [
    ("1", "nose"),
    ("6", "left_shoulder"),
    ("3", "right_shoulder"),
    ("7", "left_elbow"),
    ("4", "right_elbow"),
    ("8", "left_wrist"),
    ("5", "right_wrist"),
    ("10", "left_hip"),
    ("17", "right_hip"),
    ("11", "left_knee"),
    ("18", "right_knee"),
    ("12", "left_ankle"),
    ("19", "right_ankle"),
];
/// Per ski (source's left, right): (binding front, binding rear, tip, tail).
const SKIS: [[&str; 4]; 2] = [["13", "14", "16", "15"], ["20", "21", "23", "22"]];

/// What the left/right check found over all frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SideCheck {
    pub frames: usize,
    /// Frames whose skis were labelled on the other leg's side (swapped back).
    pub skis_swapped: usize,
    /// Frames where the binding points ran against the ski's tail -> tip (turned round).
    pub bindings_turned: usize,
    /// Frames where the left shoulder and left hip lie on opposite sides of the body's axis.
    pub torso_inconsistent: usize,
}

pub struct SkiJumps {
    pub frames: Vec<LabelledFrame>,
    /// Per jump id (`JP0005`): the style mark, the sum of the middle three of five judges.
    pub scores: BTreeMap<String, f64>,
    pub sides: SideCheck,
}

fn err(path: &Path, reason: impl Into<String>) -> DatasetError {
    DatasetError { path: path.display().to_string(), reason: reason.into() }
}

fn index(name: &str) -> usize {
    KEYPOINT_NAMES.iter().position(|n| *n == name).expect("a BlazePose name")
}

/// Phase ranges of one jump (frame numbers), `None` where not annotated.
#[derive(Debug, Default, Clone, Copy)]
struct Phases {
    take_off: Option<u32>,
    landing: Option<u32>,
    telemark: Option<(u32, u32)>,
}

fn read_phases(path: &Path) -> Result<BTreeMap<String, Phases>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|e| err(path, format!("cannot read it: {e}")))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).ok_or_else(|| err(path, format!("no column {name}")));
    let (id, take_off, landing, tm, ts, te) = (
        col("jump_id")?,
        col("take_off_frame")?,
        col("landing")?,
        col("telemark_measurable")?,
        col("telemark_start")?,
        col("telemark_end")?,
    );
    let mut out = BTreeMap::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let num = |i: usize| cells.get(i).and_then(|c| c.trim().parse::<u32>().ok());
        let jump: u32 = cells[id]
            .trim_start_matches("jump")
            .parse()
            .map_err(|_| err(path, format!("bad jump id '{}'", cells[id])))?;
        let telemark = (num(tm) == Some(1)).then(|| num(ts).zip(num(te))).flatten();
        out.insert(format!("JP{jump:04}"), Phases { take_off: num(take_off), landing: num(landing), telemark });
    }
    Ok(out)
}

fn read_scores(path: &Path) -> Result<BTreeMap<String, f64>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|e| err(path, format!("cannot read it: {e}")))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let judges: Vec<usize> = ["AthleteJdgA", "AthleteJdgB", "AthleteJdgC", "AthleteJdgD", "AthleteJdgE"]
        .iter()
        .map(|j| header.iter().position(|h| h == j).ok_or_else(|| err(path, format!("no column {j}"))))
        .collect::<Result<_, _>>()?;
    let mut out = BTreeMap::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let mut marks: Vec<f64> = judges.iter().filter_map(|&j| cells.get(j)?.trim().parse().ok()).collect();
        if marks.len() == 5 {
            marks.sort_by(f64::total_cmp);
            out.insert(cells[0].to_string(), marks[1..4].iter().sum());
        }
    }
    Ok(out)
}

fn point(kp: &[Value], slot: usize) -> Option<Point> {
    let (x, y, v) = (kp.get(3 * slot)?.as_f64()?, kp.get(3 * slot + 1)?.as_f64()?, kp.get(3 * slot + 2)?.as_f64()?);
    (v > 0.0).then(|| Point::new(x as f32, y as f32))
}

fn cross(o: Point, a: Point, b: Point) -> f32 {
    (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
}

/// One annotation in our keypoints, with what the side check did to it.
fn convert(kp: &[Value], slot_of: &BTreeMap<&str, usize>, sides: &mut SideCheck) -> Vec<Option<Joint>> {
    let get = |id: &str| slot_of.get(id).and_then(|&s| point(kp, s));
    let mut joints = vec![None; KEYPOINT_NAMES.len()];
    for (id, name) in BODY {
        joints[index(name)] = get(id).map(|p| Joint { x: p.x, y: p.y, confidence: 1.0 });
    }
    // Each ski's binding (front, rear), oriented along tail -> tip.
    let mut skis: Vec<Option<(Point, Point)>> = SKIS
        .iter()
        .map(|ids| {
            let (front, rear) = (get(ids[0])?, get(ids[1])?);
            match (get(ids[2]), get(ids[3])) {
                (Some(tip), Some(tail))
                    if (front.x - rear.x) * (tip.x - tail.x) + (front.y - rear.y) * (tip.y - tail.y) < 0.0 =>
                {
                    sides.bindings_turned += 1;
                    Some((rear, front))
                }
                _ => Some((front, rear)),
            }
        })
        .collect();
    // Give each ski to the leg whose ankle is nearer its binding.
    if let (Some(l), Some(r), Some(la), Some(ra)) =
        (skis[0], skis[1], joints[index("left_ankle")], joints[index("right_ankle")])
    {
        let mid = |s: (Point, Point)| Point::new((s.0.x + s.1.x) / 2.0, (s.0.y + s.1.y) / 2.0);
        let kept = mid(l).distance(la.point()) + mid(r).distance(ra.point());
        let swapped = mid(l).distance(ra.point()) + mid(r).distance(la.point());
        if swapped < kept {
            skis.swap(0, 1);
            sides.skis_swapped += 1;
        }
    }
    for (ski, side) in skis.iter().zip(["left", "right"]) {
        if let Some((front, rear)) = ski {
            joints[index(&format!("{side}_foot_index"))] = Some(Joint { x: front.x, y: front.y, confidence: 1.0 });
            joints[index(&format!("{side}_heel"))] = Some(Joint { x: rear.x, y: rear.y, confidence: 1.0 });
        }
    }
    let p = |n: &str| joints[index(n)].map(|j| j.point());
    if let (Some(ls), Some(rs), Some(lh), Some(rh)) =
        (p("left_shoulder"), p("right_shoulder"), p("left_hip"), p("right_hip"))
    {
        // Along the body's axis (mid-shoulder -> mid-hip), both left points on the same side.
        let ms = Point::new((ls.x + rs.x) / 2.0, (ls.y + rs.y) / 2.0);
        let mh = Point::new((lh.x + rh.x) / 2.0, (lh.y + rh.y) / 2.0);
        if cross(ms, mh, ls) * cross(ms, mh, lh) < 0.0 {
            sides.torso_inconsistent += 1;
        }
    }
    sides.frames += 1;
    joints
}

/// Reads the whole folder: `annotations/JP*/annotations_jump*.json`, `jump_phases_SkiTB.csv`,
/// `JP_data.csv`. Labels per frame: `flight` (between take-off and landing; unlabelled where
/// either is not annotated) and `telemark` (inside the annotated telemark range; unlabelled
/// for jumps whose telemark was not measurable).
pub fn load(dir: &Path) -> Result<SkiJumps, DatasetError> {
    let phases = read_phases(&dir.join("jump_phases_SkiTB.csv"))?;
    let scores = read_scores(&dir.join("JP_data.csv"))?;
    let mut files: Vec<_> = std::fs::read_dir(dir.join("annotations"))
        .map_err(|e| err(dir, format!("no annotations folder: {e}")))?
        .filter_map(|e| e.ok())
        .flat_map(|jump| std::fs::read_dir(jump.path()).into_iter().flatten().filter_map(|f| f.ok()))
        .map(|f| f.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut sides = SideCheck::default();
    let mut frames = Vec::new();
    for file in files {
        let jump = file.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let text = std::fs::read_to_string(&file).map_err(|e| err(&file, format!("cannot read it: {e}")))?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| err(&file, format!("not JSON: {e}")))?;
        let order = doc["categories"]
            .as_array()
            .and_then(|c| c.iter().find_map(|c| c["keypoints"].as_array()))
            .ok_or_else(|| err(&file, "no category with keypoints"))?;
        let slot_of: BTreeMap<&str, usize> =
            order.iter().enumerate().filter_map(|(i, id)| Some((id.as_str()?, i))).collect();
        let frame_of: BTreeMap<i64, u32> = doc["images"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| {
                let name = i["extra"]["name"].as_str().or_else(|| i["file_name"].as_str())?;
                Some((i["id"].as_i64()?, name.split(['.', '_']).next()?.parse().ok()?))
            })
            .collect();
        let phase = phases.get(&jump).copied().unwrap_or_default();
        for a in doc["annotations"].as_array().into_iter().flatten() {
            let (Some(kp), Some(frame)) =
                (a["keypoints"].as_array(), a["image_id"].as_i64().and_then(|i| frame_of.get(&i)))
            else {
                continue;
            };
            let joints = convert(kp, &slot_of, &mut sides);
            let flight = phase.take_off.zip(phase.landing).map(|(t, l)| *frame > t && *frame < l);
            let telemark = phase.telemark.map(|(s, e)| (s..=e).contains(frame));
            frames.push(LabelledFrame {
                group: jump.clone(),
                frame: frame.to_string(),
                joints,
                labels: [("flight".to_string(), flight), ("telemark".to_string(), telemark)].into(),
            });
        }
    }
    if frames.is_empty() {
        return Err(err(dir, "no annotated frames found"));
    }
    Ok(SkiJumps { frames, scores, sides })
}
