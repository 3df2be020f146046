// SPDX-License-Identifier: MPL-2.0
//! Labelled keypoint files for training: per-frame keypoints with binary labels.
//!
//! CSV (comma-separated, no quoting, one header line):
//! - keypoint columns `<name>_x`, `<name>_y` and optionally `<name>_c` (confidence, 1 when
//!   absent), with BlazePose's keypoint names (`left_knee`, `left_heel`, ...); an empty cell
//!   means the keypoint is missing;
//! - optional `group` (the clip a frame comes from: cross-validation never splits a group)
//!   and `frame`;
//! - every other column is a label: `1`/`0` (or `true`/`false`), empty when not labelled.
//!
//! COCO-style JSON: `categories[0].keypoints` names the keypoints (BlazePose names; COCO-17's
//! are a subset), each annotation has `keypoints` `[x, y, v]...` (v = 0: missing) and a
//! `labels` object `{ "<label>": 0 | 1 }`; an image's `group` field (else its file name) is
//! its group.

use std::collections::BTreeMap;
use std::path::Path;

use aicoach_vision::keypoints::KEYPOINT_NAMES;
use aicoach_vision::pose::Joint;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct DatasetError {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabelledFrame {
    pub group: String,
    pub frame: String,
    /// BlazePose order; `None` where missing.
    pub joints: Vec<Option<Joint>>,
    /// `None`: not labelled for that label.
    pub labels: BTreeMap<String, Option<bool>>,
}

fn keypoint_index(name: &str) -> Option<usize> {
    KEYPOINT_NAMES.iter().position(|n| *n == name)
}

fn parse_label(v: &str) -> Result<Option<bool>, String> {
    match v.trim() {
        "" => Ok(None),
        "1" | "true" => Ok(Some(true)),
        "0" | "false" => Ok(Some(false)),
        other => Err(format!("label value '{other}' is not 0, 1, true, false or empty")),
    }
}

pub fn read_csv(path: &Path) -> Result<Vec<LabelledFrame>, DatasetError> {
    let err = |reason: String| DatasetError { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().ok_or_else(|| err("it is empty".into()))?.split(',').map(str::trim).collect();
    // Column index of each keypoint's x, y and c.
    let mut columns: BTreeMap<usize, [Option<usize>; 3]> = BTreeMap::new();
    let (mut group, mut frame, mut labels) = (None, None, Vec::new());
    for (i, h) in header.iter().enumerate() {
        let axis = [("_x", 0), ("_y", 1), ("_c", 2)]
            .iter()
            .find_map(|(suffix, a)| h.strip_suffix(suffix).and_then(keypoint_index).map(|k| (k, *a)));
        match (axis, *h) {
            (Some((k, a)), _) => columns.entry(k).or_default()[a] = Some(i),
            (None, "group") => group = Some(i),
            (None, "frame") => frame = Some(i),
            (None, name) => labels.push((i, name.to_string())),
        }
    }
    for (k, c) in &columns {
        if c[0].is_none() || c[1].is_none() {
            return Err(err(format!("keypoint '{}' needs both an _x and a _y column", KEYPOINT_NAMES[*k])));
        }
    }
    if columns.is_empty() {
        return Err(err(format!(
            "no keypoint columns (expected <name>_x, <name>_y with names such as {}, ...)",
            KEYPOINT_NAMES[23..27].join(", ")
        )));
    }
    let mut frames = Vec::new();
    for (row, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let at = |line_err: &dyn Fn(String) -> DatasetError, i: usize| -> Result<&str, DatasetError> {
            cells
                .get(i)
                .copied()
                .ok_or_else(|| line_err(format!("has {} cells, the header {}", cells.len(), header.len())))
        };
        let line_err = |m: String| err(format!("row {}: {m}", row + 1));
        let number = |i: usize| -> Result<Option<f32>, DatasetError> {
            let cell = at(&line_err, i)?.trim();
            if cell.is_empty() {
                return Ok(None);
            }
            let v: f32 = cell.parse().map_err(|_| line_err(format!("'{}' is not a number ({})", cell, header[i])))?;
            if !v.is_finite() {
                return Err(line_err(format!("{} is {v}", header[i])));
            }
            Ok(Some(v))
        };
        let mut joints = vec![None; KEYPOINT_NAMES.len()];
        for (&k, c) in &columns {
            if let (Some(x), Some(y)) = (number(c[0].unwrap())?, number(c[1].unwrap())?) {
                let confidence = match c[2] {
                    Some(i) => number(i)?.unwrap_or(1.0),
                    None => 1.0,
                };
                joints[k] = Some(Joint { x, y, confidence });
            }
        }
        let mut map = BTreeMap::new();
        for (i, name) in &labels {
            map.insert(name.clone(), parse_label(at(&line_err, *i)?).map_err(line_err)?);
        }
        frames.push(LabelledFrame {
            group: group.map(|i| at(&line_err, i).map(str::to_string)).transpose()?.unwrap_or_default(),
            frame: frame.map(|i| at(&line_err, i).map(str::to_string)).transpose()?.unwrap_or_else(|| row.to_string()),
            joints,
            labels: map,
        });
    }
    Ok(frames)
}

pub fn write_csv(path: &Path, frames: &[LabelledFrame]) -> std::io::Result<()> {
    let labels: Vec<&String> = frames.first().map(|f| f.labels.keys().collect()).unwrap_or_default();
    let mut out = String::from("group,frame");
    for name in KEYPOINT_NAMES {
        out += &format!(",{name}_x,{name}_y,{name}_c");
    }
    for l in &labels {
        out += &format!(",{l}");
    }
    out.push('\n');
    for f in frames {
        out += &format!("{},{}", f.group, f.frame);
        for j in &f.joints {
            match j {
                Some(j) => out += &format!(",{},{},{}", j.x, j.y, j.confidence),
                None => out += ",,,",
            }
        }
        for l in &labels {
            out += match f.labels.get(*l).copied().flatten() {
                Some(true) => ",1",
                Some(false) => ",0",
                None => ",",
            };
        }
        out.push('\n');
    }
    std::fs::write(path, out)
}

pub fn read_coco(path: &Path) -> Result<Vec<LabelledFrame>, DatasetError> {
    let err = |reason: String| DatasetError { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| err(format!("not JSON: {e}")))?;
    let names = doc["categories"][0]["keypoints"].as_array().ok_or_else(|| err("no categories[0].keypoints".into()))?;
    let index: Vec<Option<usize>> = names.iter().map(|n| n.as_str().and_then(keypoint_index)).collect();
    if index.iter().all(Option::is_none) {
        return Err(err("none of categories[0].keypoints is a keypoint name we know".into()));
    }
    let groups: BTreeMap<i64, String> = doc["images"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let g = i["group"].as_str().or_else(|| i["file_name"].as_str())?;
            Some((i["id"].as_i64()?, g.to_string()))
        })
        .collect();
    let mut frames = Vec::new();
    for (n, a) in doc["annotations"].as_array().ok_or_else(|| err("no annotations".into()))?.iter().enumerate() {
        let kp = a["keypoints"].as_array().ok_or_else(|| err(format!("annotation {n} has no keypoints")))?;
        if kp.len() != 3 * names.len() {
            return Err(err(format!("annotation {n} has {} keypoint values, expected {}", kp.len(), 3 * names.len())));
        }
        let mut joints = vec![None; KEYPOINT_NAMES.len()];
        for (i, k) in index.iter().enumerate() {
            let (x, y, v) = (kp[3 * i].as_f64(), kp[3 * i + 1].as_f64(), kp[3 * i + 2].as_f64());
            let (Some(x), Some(y), Some(v)) = (x, y, v) else {
                return Err(err(format!("annotation {n}: keypoint {i} is not three numbers")));
            };
            if let Some(k) = k
                && v > 0.0
            {
                joints[*k] = Some(Joint { x: x as f32, y: y as f32, confidence: 1.0 });
            }
        }
        let mut labels = BTreeMap::new();
        for (name, v) in a["labels"].as_object().into_iter().flatten() {
            let value = match v {
                Value::Bool(b) => Some(*b),
                Value::Number(x) if x.as_f64() == Some(1.0) => Some(true),
                Value::Number(x) if x.as_f64() == Some(0.0) => Some(false),
                Value::Null => None,
                other => return Err(err(format!("annotation {n}: label '{name}' is {other}, not 0 or 1"))),
            };
            labels.insert(name.clone(), value);
        }
        let image = a["image_id"].as_i64().unwrap_or(-1);
        frames.push(LabelledFrame {
            group: groups.get(&image).cloned().unwrap_or_default(),
            frame: image.to_string(),
            joints,
            labels,
        });
    }
    Ok(frames)
}

/// Reads either format, by extension.
pub fn read(path: &Path) -> Result<Vec<LabelledFrame>, DatasetError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => read_coco(path),
        _ => read_csv(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, text: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("aicoach-ds-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_round_trips_and_reads_labels() {
        let mut labels = BTreeMap::new();
        labels.insert("bent_knees".to_string(), Some(true));
        let mut joints = vec![None; 33];
        joints[25] = Some(Joint { x: 10.5, y: 20.0, confidence: 0.75 });
        let frames = vec![
            LabelledFrame { group: "a".into(), frame: "1".into(), joints: joints.clone(), labels: labels.clone() },
            LabelledFrame {
                group: "b".into(),
                frame: "2".into(),
                joints,
                labels: [("bent_knees".to_string(), None)].into(),
            },
        ];
        let p = std::env::temp_dir().join(format!("aicoach-ds-{}-rt.csv", std::process::id()));
        write_csv(&p, &frames).unwrap();
        let back = read_csv(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        assert_eq!(back, frames);
    }

    #[test]
    fn bad_csv_is_explained() {
        let p = temp("nokp.csv", "group,bent\na,1\n");
        assert!(read_csv(&p).unwrap_err().to_string().contains("no keypoint columns"));
        let p = temp("half.csv", "left_knee_x,bent\n1,1\n");
        assert!(read_csv(&p).unwrap_err().to_string().contains("needs both"));
        let p = temp("nan.csv", "left_knee_x,left_knee_y,bent\n1,NaN,1\n");
        assert!(read_csv(&p).unwrap_err().to_string().contains("row 1"));
        let p = temp("word.csv", "left_knee_x,left_knee_y,bent\n1,2,maybe\n");
        assert!(read_csv(&p).unwrap_err().to_string().contains("'maybe'"));
    }

    #[test]
    fn coco_with_labels() {
        let p = temp(
            "c.json",
            r#"{"categories":[{"keypoints":["left_hip","left_knee","left_ankle"]}],
                "images":[{"id":1,"file_name":"clip1_001.jpg","group":"clip1"}],
                "annotations":[{"image_id":1,"keypoints":[0,0,2, 10,10,2, 0,0,0],"labels":{"bent_knees":1}}]}"#,
        );
        let f = read_coco(&p).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].group, "clip1");
        assert_eq!(f[0].labels["bent_knees"], Some(true));
        assert!(f[0].joints[25].is_some() && f[0].joints[27].is_none());
    }
}
