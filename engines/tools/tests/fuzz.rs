// SPDX-License-Identifier: MPL-2.0
//! Fuzzing the parsers users feed files to: sport profiles and session reports. Whatever the
//! bytes (random, a real file cut anywhere, a real file with bytes flipped), loading returns a
//! value or an error message and never panics.
//!
//! CI runs proptest's default 256 cases per property; run longer by hand with
//! `PROPTEST_CASES=100000 cargo test -p aicoach-tools --test fuzz --release`.

use std::path::{Path, PathBuf};

use aicoach_coach::profile::{self, Profile};
use aicoach_coach::report;
use aicoach_tools::page::ReportView;
use proptest::prelude::*;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bundled_profile_text(sport: &str) -> String {
    std::fs::read_to_string(profile::resolve(sport).unwrap()).unwrap()
}

/// A real report's lines: a header, frames with keypoints and angles, an attempt, a summary.
const REPORT: &str = r#"{"type":"header","sport":"freestyle-aerials","profile":"p.json","errors":{"bent_knees":"Bent knees"},"features":["knee_flexion"]}
{"type":"frame","time":0.0,"pts":0,"attempt":1,"athlete":{"x":1.0,"y":2.0,"w":30.0,"h":60.0,"state":"tracking","tracking_id":1},"keypoints":{"left_knee":[10.0,20.0,0.9]},"angles":{"knee_flexion":30.5},"phases":{},"errors":["bent_knees"]}
{"type":"frame","time":0.1,"pts":100000000,"attempt":1,"athlete":null,"keypoints":null,"angles":{},"phases":{},"errors":[]}
{"type":"attempt","attempt":1,"start":0.0,"end":0.1,"frames":2,"frames_with_pose":1,"judged_frames":1,"form_score":0.0,"score":null,"segments":[{"error":"bent_knees","label":"Bent knees","start":0.0,"end":0.0,"frames":1,"suggestion":null}]}
{"type":"summary","sport":"freestyle-aerials","attempts":1,"frames":2,"segments":{"bent_knees":1},"end_of_stream":true}
"#;

/// `text` with some bytes replaced, some removed and the end possibly cut off.
fn mangled(text: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let len = text.len();
    (prop::collection::vec((0..len, any::<u8>(), any::<bool>()), 0..8), 0..=len).prop_map(move |(edits, cut)| {
        let mut bytes = text.as_bytes().to_vec();
        for (at, byte, remove) in edits {
            let at = at.min(bytes.len().saturating_sub(1));
            if bytes.is_empty() {
                break;
            }
            if remove {
                bytes.remove(at);
            } else {
                bytes[at] = byte;
            }
        }
        bytes.truncate(cut);
        bytes
    })
}

fn load_profile(dir: &Path, bytes: &[u8]) -> Result<Profile, String> {
    let path = dir.join("profile.json");
    std::fs::write(&path, bytes).unwrap();
    Profile::load(&path).map_err(|e| e.to_string())
}

proptest! {
    #[test]
    fn any_bytes_as_a_profile_load_or_fail_with_a_message(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let dir = scratch("profile-bytes");
        if let Err(e) = load_profile(&dir, &bytes) {
            prop_assert!(e.contains("profile.json"), "the error names the file: {e}");
        }
    }

    #[test]
    fn a_mangled_profile_loads_or_fails_with_a_message(bytes in mangled(Box::leak(bundled_profile_text("freestyle-aerials").into_boxed_str()))) {
        let dir = scratch("profile-mangled");
        match load_profile(&dir, &bytes) {
            Ok(p) => prop_assert!(!p.errors.is_empty()),
            Err(e) => prop_assert!(e.contains("profile.json"), "{e}"),
        }
    }

    #[test]
    fn a_mangled_report_reads_up_to_its_last_whole_line(bytes in mangled(REPORT)) {
        let dir = scratch("report");
        let path = dir.join("report.jsonl");
        std::fs::write(&path, &bytes).unwrap();
        let _ = report::read_frames(&path);
        if let Ok(view) = ReportView::read(&path) {
            prop_assert!(view.frames.len() <= 2);
            let _ = view.duration();
        }
    }

    #[test]
    fn any_json_lines_make_a_report_view(lines in prop::collection::vec(json_value(), 0..12)) {
        let view = ReportView::from_lines(&lines);
        let _ = (view.duration(), view.frame_interval(), view.frames_with_pose());
        for segment in view.attempts.iter().flat_map(|a| &a.segments) {
            let _ = view.worst_frame(segment, None);
        }
    }
}

/// JSON values shaped like report lines, with fields of the wrong types and missing.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    let leaf = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(|b| json!(b)),
        any::<f64>().prop_map(|f| if f.is_finite() { json!(f) } else { json!(null) }),
        any::<i64>().prop_map(|i| json!(i)),
        "[a-z_]{0,8}".prop_map(|s| json!(s)),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "time",
                    "start",
                    "end",
                    "error",
                    "segments",
                    "angles",
                    "errors",
                    "frames",
                    "suggestion",
                    "keypoints",
                    "athlete"
                ]),
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    });
    (prop::sample::select(vec!["header", "frame", "attempt", "summary", "other"]), value).prop_map(|(kind, v)| {
        let mut v = if v.is_object() { v } else { json!({"x": v}) };
        v["type"] = json!(kind);
        v
    })
}
