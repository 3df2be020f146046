// SPDX-License-Identifier: MPL-2.0
//! The classifier's verdict on a frame as a `GstStructure` named `aicoach/verdict`, stored in
//! the buffer's `AICoachMeta` under the field `verdict`: `sport`, `attempt` (u32, 0 outside an
//! attempt), `errors` (array of error names flagged on this frame), `labels` (their display
//! labels, same order), `bad_joints` (array of the keypoint names those errors are measured
//! on), `angles` (structure: display angle name -> degrees, measurable ones), `phases`
//! (structure: phase name -> boolean, known ones) and `form_score` (double, percent of judged
//! frames of the attempt without an error; absent before anything was judged).

use super::with_custom_structure;

pub const VERDICT_PARAMS: &str = "aicoach/verdict";
pub const VERDICT_FIELD: &str = "verdict";

/// A verdict as the overlay reads it back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    pub sport: String,
    pub attempt: u32,
    pub errors: Vec<String>,
    pub labels: Vec<String>,
    pub bad_joints: Vec<String>,
    pub angles: Vec<(String, f64)>,
    pub phases: Vec<(String, bool)>,
    pub form_score: Option<f64>,
}

fn strings(v: &[String]) -> gst::Array {
    gst::Array::new(v.iter().map(|s| s.as_str()))
}

pub fn verdict_structure(v: &Verdict) -> gst::Structure {
    let mut angles = gst::Structure::new_empty("angles");
    for (name, deg) in &v.angles {
        angles.set(name.as_str(), *deg);
    }
    let mut phases = gst::Structure::new_empty("phases");
    for (name, on) in &v.phases {
        phases.set(name.as_str(), *on);
    }
    let mut s = gst::Structure::builder(VERDICT_PARAMS)
        .field("sport", v.sport.as_str())
        .field("attempt", v.attempt)
        .field("errors", strings(&v.errors))
        .field("labels", strings(&v.labels))
        .field("bad_joints", strings(&v.bad_joints))
        .field("angles", angles)
        .field("phases", phases)
        .build();
    if let Some(score) = v.form_score {
        s.set("form_score", score);
    }
    s
}

pub fn set_verdict(buffer: &mut gst::BufferRef, v: &Verdict) {
    with_custom_structure(buffer, |s| s.set(VERDICT_FIELD, verdict_structure(v)));
}

fn read_strings(s: &gst::StructureRef, field: &str) -> Vec<String> {
    s.get::<gst::Array>(field).map(|a| a.iter().filter_map(|v| v.get::<String>().ok()).collect()).unwrap_or_default()
}

pub fn read_verdict(buffer: &gst::BufferRef) -> Option<Verdict> {
    let s = super::custom_field::<gst::Structure>(buffer, VERDICT_FIELD)?;
    let angles = s
        .get::<gst::Structure>("angles")
        .map(|a| a.iter().filter_map(|(n, v)| Some((n.to_string(), v.get::<f64>().ok()?))).collect())
        .unwrap_or_default();
    let phases = s
        .get::<gst::Structure>("phases")
        .map(|a| a.iter().filter_map(|(n, v)| Some((n.to_string(), v.get::<bool>().ok()?))).collect())
        .unwrap_or_default();
    Some(Verdict {
        sport: s.get::<String>("sport").unwrap_or_default(),
        attempt: s.get::<u32>("attempt").unwrap_or(0),
        errors: read_strings(&s, "errors"),
        labels: read_strings(&s, "labels"),
        bad_joints: read_strings(&s, "bad_joints"),
        angles,
        phases,
        form_score: s.get::<f64>("form_score").ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_round_trips() {
        gst::init().unwrap();
        super::super::register_custom_meta();
        let v = Verdict {
            sport: "ski-jumping".into(),
            attempt: 2,
            errors: vec!["bent_knees".into()],
            labels: vec!["Bent knees".into()],
            bad_joints: vec!["left_knee".into(), "left_hip".into()],
            angles: vec![("knee_flexion".into(), 41.5)],
            phases: vec![("flight".into(), true)],
            form_score: Some(75.0),
        };
        let mut buffer = gst::Buffer::new();
        set_verdict(buffer.get_mut().unwrap(), &v);
        assert_eq!(read_verdict(&buffer), Some(v));
    }
}
