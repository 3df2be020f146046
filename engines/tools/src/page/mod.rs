// SPDX-License-Identifier: MPL-2.0
//! The session report page: one self-contained HTML file (inline CSS, script and SVG, no
//! network) beside the annotated video, thumbnails and exemplar clips, opened from disk.
//!
//! It shows what the paper's interface showed (the per-frame verdict under the video, a way to
//! step through the bad poses, the score, suggested good-form clips) plus what coaches expect
//! from video-analysis tools: a timeline of bad-pose segments per error, a thumbnail of each
//! segment's worst frame, angle plots with the profile's thresholds, and each exemplar played
//! side by side with the athlete's segment, time-aligned. `pipelines/report.sh` makes the
//! folder; this module writes the page from the report and the frames the pipeline saved.

mod svg;
pub mod view;

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use aicoach_coach::profile::{Judge, Profile};
use aicoach_coach::rule::Rule;
pub use view::ReportView;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");
/// Seconds of context shown before and after a segment in the side-by-side comparison.
const COMPARE_CONTEXT: f64 = 1.0;

/// What the page is built from, relative to the output folder where they are files.
pub struct PageInput<'a> {
    pub report: &'a Path,
    /// The annotated video's file name inside the output folder.
    pub video: &'a str,
    /// Where the pipeline saved one JPEG per frame, named `%06d.jpg` from 0.
    pub frames: Option<&'a Path>,
    /// Shown as the page title: usually the analysed video's name.
    pub title: &'a str,
}

/// An exemplar clip the page plays: the script that made the folder converts `source` into
/// `dest` (inside the output folder) so the browser can play it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExemplarCopy {
    pub source: PathBuf,
    pub dest: String,
}

#[derive(Debug)]
pub struct Page {
    pub html: String,
    pub thumbnails: Vec<(PathBuf, String)>,
    pub exemplars: Vec<ExemplarCopy>,
    pub notes: Vec<String>,
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn clock(t: f64) -> String {
    let t = t.max(0.0);
    format!("{}:{:05.2}", (t / 60.0).floor() as u64, t % 60.0)
}

/// Builds the page; nothing is written. A profile that cannot be loaded only costs the
/// thresholds on the plots (noted), not the page.
pub fn build(input: &PageInput, view: &ReportView) -> Page {
    let mut notes = Vec::new();
    let profile = match Profile::load(Path::new(&view.profile_path)) {
        Ok(p) => Some(p),
        Err(e) => {
            notes.push(format!("the plots have no thresholds: {e}"));
            None
        }
    };
    let rules: Vec<(&str, &Rule)> = profile
        .as_ref()
        .map(|p| {
            p.errors
                .iter()
                .filter_map(|e| match &e.judge {
                    Judge::Rule(r) => Some((e.name.as_str(), r)),
                    Judge::Svm(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let rule_of = |error: &str| rules.iter().find(|(n, _)| *n == error).map(|(_, r)| *r);

    let mut html = String::new();
    let duration = view.duration();
    let _ = write!(
        html,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} · AI Coach</title><style>{STYLE}</style></head><body data-duration="{duration:.3}"><header><h1>{title}</h1><p class="sport">{sport}</p></header>"#,
        title = escape(input.title),
        sport = escape(&view.sport.replace('-', " ")),
    );
    if view.frames_with_pose() == 0 {
        html.push_str(r#"<p id="no-athlete" class="banner">No athlete was found in this video: no frame has a pose, so there is nothing to judge.</p>"#);
    }
    if view.end_of_stream != Some(true) {
        html.push_str(r#"<p class="banner warn">The analysis stopped before the end of the video: this report covers the frames analysed up to then.</p>"#);
    }

    // Video, the verdict of the frame on screen, and stepping through bad poses.
    let _ = write!(
        html,
        r#"<section class="player"><video id="video" src="{}" controls preload="auto" muted></video><div class="side"><div id="verdict" class="verdict" aria-live="polite"></div><div class="step"><button id="prev-bad" type="button">◀ previous bad pose</button><button id="next-bad" type="button">next bad pose ▶</button></div>{}</div></section>"#,
        escape(input.video),
        scores(view)
    );

    html.push_str(r#"<section><h2>Timeline</h2>"#);
    html.push_str(&svg::timeline(view));
    html.push_str("</section>");

    // The worst frame of each segment.
    let mut thumbnails = Vec::new();
    html.push_str(r#"<section><h2>Bad poses</h2><div id="thumbnails" class="thumbnails">"#);
    let segments: Vec<_> = view.attempts.iter().flat_map(|a| &a.segments).collect();
    if segments.is_empty() {
        html.push_str(r#"<p class="empty">No bad pose was flagged.</p>"#);
    }
    for (k, segment) in segments.iter().enumerate() {
        let worst = view.worst_frame(segment, rule_of(&segment.error));
        let time = worst.map(|i| view.frames[i].time).unwrap_or(segment.start);
        let image = worst.and_then(|i| {
            let source = input.frames?.join(format!("{i:06}.jpg"));
            source.is_file().then(|| {
                let name = format!("thumbs/segment-{k}.jpg");
                thumbnails.push((source, name.clone()));
                name
            })
        });
        let picture = match image {
            Some(src) => format!(r#"<img src="{src}" alt="{}">"#, escape(&segment.label)),
            None => r#"<div class="no-image">no frame saved</div>"#.to_string(),
        };
        let _ = write!(
            html,
            r#"<figure class="thumbnail" data-time="{time:.3}" data-error="{}" tabindex="0">{picture}<figcaption><b>{}</b> {} ({} frames)</figcaption></figure>"#,
            escape(&segment.error),
            escape(&segment.label),
            clock(time),
            segment.frames
        );
    }
    html.push_str("</div></section>");

    // Angles over time, with the thresholds of the rules that read them.
    let mut features: Vec<String> = profile.as_ref().map(|p| p.display_angles.clone()).unwrap_or_default();
    for (_, rule) in &rules {
        if !features.contains(&rule.feature) {
            features.push(rule.feature.clone());
        }
    }
    if features.is_empty() {
        features = ["hip_flexion", "knee_flexion"].map(str::to_string).to_vec();
    }
    html.push_str(r#"<section><h2>Angles</h2><div id="plots">"#);
    for feature in &features {
        let reading: Vec<_> = rules.iter().filter(|(_, r)| &r.feature == feature).copied().collect();
        html.push_str(&svg::angle_plot(view, feature, &reading));
    }
    html.push_str("</div></section>");

    // Exemplars beside the athlete's segments.
    let mut exemplars: Vec<ExemplarCopy> = Vec::new();
    // One comparison per error: its longest segment that has a suggestion.
    let mut suggested: Vec<&view::SegmentRow> = Vec::new();
    for (name, _) in &view.errors {
        let longest = segments.iter().filter(|s| &s.error == name && s.suggestion.is_some()).max_by_key(|s| s.frames);
        suggested.extend(longest.copied());
    }
    if !suggested.is_empty() {
        html.push_str(r#"<section><h2>Good form to compare</h2>"#);
    }
    for segment in suggested {
        let s = segment.suggestion.as_ref().expect("filtered");
        let dest = match exemplars.iter().find(|e| e.source == Path::new(&s.video)) {
            Some(e) => e.dest.clone(),
            None => {
                let stem = Path::new(&s.video).file_stem().and_then(|n| n.to_str()).unwrap_or("clip");
                let safe: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
                let dest = format!("exemplars/{}-{safe}.mp4", exemplars.len());
                exemplars.push(ExemplarCopy { source: PathBuf::from(&s.video), dest: dest.clone() });
                dest
            }
        };
        let athlete = (segment.start - COMPARE_CONTEXT).max(0.0)..(segment.end + COMPARE_CONTEXT).min(duration);
        let exemplar = (s.start - COMPARE_CONTEXT).max(0.0)..(s.end + COMPARE_CONTEXT);
        let _ = write!(
            html,
            r#"<div class="compare" data-athlete-start="{:.3}" data-athlete-end="{:.3}" data-exemplar-start="{:.3}" data-exemplar-end="{:.3}"><h3>{} at {}: “{}”</h3><div class="pair"><figure><video class="athlete" src="{}#t={:.3}" muted preload="metadata"></video><figcaption>Athlete</figcaption></figure><figure><video class="exemplar" src="{}#t={:.3}" muted preload="metadata"></video><figcaption>Good form (distance {:.1})</figcaption></figure></div><button type="button" class="play-pair">Play side by side</button> <label>speed <select class="speed"><option value="0.25">¼</option><option value="0.5" selected>½</option><option value="1">1×</option></select></label></div>"#,
            athlete.start,
            athlete.end,
            exemplar.start,
            exemplar.end,
            escape(&segment.label),
            clock(segment.start),
            escape(&s.clip),
            escape(input.video),
            athlete.start,
            escape(&dest),
            exemplar.start,
            s.distance
        );
    }
    if !exemplars.is_empty() {
        html.push_str("</section>");
    }

    // The per-frame verdicts for the readout under the video: [time, [error indexes], {angle: deg}].
    let names: Vec<&str> = view.errors.iter().map(|(n, _)| n.as_str()).collect();
    let frames: Vec<_> = view
        .frames
        .iter()
        .map(|f| {
            let errors: Vec<usize> = f.errors.iter().filter_map(|e| names.iter().position(|n| n == e)).collect();
            let angles: serde_json::Map<_, _> =
                features.iter().filter_map(|n| Some((n.clone(), json!(*f.angles.get(n)?)))).collect();
            json!([(f.time * 1000.0).round() / 1000.0, errors, angles, f.has_pose])
        })
        .collect();
    let data = json!({
        "labels": view.errors.iter().map(|(_, l)| l).collect::<Vec<_>>(),
        "frames": frames,
        "segments": segments.iter().map(|s| s.start).collect::<Vec<_>>(),
    });
    // `</` cannot end the script element early once escaped.
    let data = data.to_string().replace("</", "<\\/");
    let _ = write!(
        html,
        r#"<footer>Made by AI Coach from {} frames ({} with a pose). Opened from disk; nothing is loaded from the network.</footer><script type="application/json" id="report-data">{data}</script><script>{SCRIPT}</script></body></html>"#,
        view.frames.len(),
        view.frames_with_pose()
    );
    Page { html, thumbnails, exemplars, notes }
}

fn scores(view: &ReportView) -> String {
    let mut out = String::from(r#"<div id="scores" class="scores">"#);
    if view.attempts.is_empty() {
        out.push_str("<p>No attempt.</p>");
    }
    for a in &view.attempts {
        let form = a.form_score.map(|v| format!("{v:.0} %")).unwrap_or_else(|| "–".into());
        let _ = write!(
            out,
            r#"<div class="score" data-time="{:.3}"><span class="attempt">Attempt {} · {}–{}</span><span class="form">form <b>{form}</b></span>"#,
            a.start,
            a.index,
            clock(a.start),
            clock(a.end)
        );
        if let Some((value, scale)) = a.score {
            let _ = write!(out, r#"<span class="estimate">estimated score <b>{value:.1}</b> / {scale}</span>"#);
        }
        let _ = write!(out, r#"<span class="count">{} bad-pose segments</span></div>"#, a.segments.len());
    }
    out.push_str("</div>");
    out
}

/// Writes the page and its thumbnails into `out`; returns the exemplar clips still to convert.
pub fn write(input: &PageInput, out: &Path) -> Result<Page, String> {
    let view = ReportView::read(input.report).map_err(|e| e.to_string())?;
    let page = build(input, &view);
    std::fs::create_dir_all(out.join("thumbs")).map_err(|e| format!("{}: {e}", out.display()))?;
    for (source, name) in &page.thumbnails {
        std::fs::copy(source, out.join(name)).map_err(|e| format!("{}: {e}", source.display()))?;
    }
    let index = out.join("index.html");
    std::fs::write(&index, &page.html).map_err(|e| format!("{}: {e}", index.display()))?;
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(with_pose: bool) -> ReportView {
        let profile = aicoach_coach::profile::resolve("freestyle-aerials").unwrap();
        let mut lines = vec![json!({"type": "header", "sport": "freestyle-aerials",
            "profile": profile.display().to_string(),
            "errors": {"bent_hips": "Bent hips", "bent_knees": "Bent knees", "crossed_skis": "Crossed skis"}})];
        for i in 0..30 {
            let bad = (10..15).contains(&i);
            lines.push(json!({"type": "frame", "time": i as f64 / 30.0, "attempt": 0,
                "keypoints": if with_pose { json!({}) } else { json!(null) },
                "angles": if with_pose { json!({"knee_flexion": if bad { 40.0 } else { 5.0 }}) } else { json!({}) },
                "errors": if bad { vec!["bent_knees"] } else { vec![] }}));
        }
        if with_pose {
            lines.push(json!({"type": "attempt", "attempt": 0, "start": 0.0, "end": 0.967, "form_score": 83.3,
                "segments": [{"error": "bent_knees", "label": "Bent knees", "start": 10.0 / 30.0, "end": 14.0 / 30.0,
                    "frames": 5, "suggestion": {"clip": "good", "video": "/clips/good jump.mp4", "start": 2.0, "end": 2.2}}]}));
        }
        lines.push(json!({"type": "summary", "end_of_stream": true}));
        ReportView::from_lines(&lines)
    }

    #[test]
    fn a_report_with_a_bad_pose_gets_every_part_of_the_page() {
        let view = report(true);
        let input = PageInput { report: Path::new("r.jsonl"), video: "annotated.mp4", frames: None, title: "jump <1>" };
        let page = build(&input, &view);
        for part in
            [r#"id="video""#, r#"id="timeline""#, r#"class="thumbnail""#, r#"class="plot""#, r#"class="compare""#]
        {
            assert!(page.html.contains(part), "{part} is missing");
        }
        assert!(page.html.contains("jump &lt;1&gt;"));
        assert!(page.html.contains("form <b>83 %</b>"));
        assert!(!page.html.contains("no-athlete"));
        assert_eq!(
            page.exemplars,
            vec![ExemplarCopy { source: "/clips/good jump.mp4".into(), dest: "exemplars/0-good-jump.mp4".into() }]
        );
        assert!(page.notes.is_empty(), "{:?}", page.notes);
        assert!(page.html.contains(r#"class="threshold-on""#), "the profile's knee rule is drawn");
    }

    #[test]
    fn a_video_without_an_athlete_says_so() {
        let view = report(false);
        let input = PageInput { report: Path::new("r.jsonl"), video: "a.mp4", frames: None, title: "empty" };
        let page = build(&input, &view);
        assert!(page.html.contains(r#"id="no-athlete""#));
        assert!(page.html.contains("No bad pose was flagged"));
    }
}
