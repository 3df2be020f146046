// SPDX-License-Identifier: MPL-2.0
//! The page's drawings as inline SVG: the attempt timeline and the angle plots. Every element
//! that stands for a moment carries `data-time` (seconds into the video), which the page's
//! script turns into a seek; every `.playhead` line follows the video.

use std::fmt::Write;

use super::escape;
use super::view::ReportView;
use aicoach_coach::rule::Rule;

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 120.0;
const ROW: f64 = 26.0;

fn x_of(t: f64, duration: f64) -> f64 {
    LEFT + (t / duration).clamp(0.0, 1.0) * (WIDTH - LEFT - 10.0)
}

/// Runs of consecutive frames for which `keep` holds, as (start, end) times.
fn runs(view: &ReportView, keep: impl Fn(usize) -> bool) -> Vec<(f64, f64)> {
    let step = view.frame_interval();
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut open: Option<f64> = None;
    for i in 0..view.frames.len() {
        match (keep(i), open) {
            (true, None) => open = Some(view.frames[i].time),
            (false, Some(start)) => {
                out.push((start, view.frames[i].time));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        out.push((start, view.frames.last().map(|f| f.time + step).unwrap_or(start)));
    }
    out
}

fn playhead(svg: &mut String, height: f64) {
    let _ = write!(svg, r#"<line class="playhead" x1="{LEFT}" x2="{LEFT}" y1="0" y2="{height}"/>"#);
}

/// One row for the athlete (pose found / not) and attempts, then one row per error with its
/// segments; segments are clickable.
pub fn timeline(view: &ReportView) -> String {
    let duration = view.duration().max(1e-3);
    let height = ROW * (1 + view.errors.len()) as f64 + 24.0;
    let mut svg = format!(
        r#"<svg id="timeline" class="timeline" viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="none" role="img" aria-label="Attempt timeline">"#
    );
    let label = |svg: &mut String, row: usize, text: &str| {
        let _ = write!(svg, r#"<text class="row-label" x="4" y="{}">{}</text>"#, ROW * row as f64 + 17.0, escape(text));
    };
    label(&mut svg, 0, "Athlete");
    for (a, b) in runs(view, |i| view.frames[i].has_pose) {
        let (x0, x1) = (x_of(a, duration), x_of(b, duration));
        let _ = write!(
            svg,
            r#"<rect class="pose-run" x="{x0:.1}" y="4" width="{:.1}" height="{}"/>"#,
            (x1 - x0).max(1.0),
            ROW - 8.0
        );
    }
    for attempt in &view.attempts {
        let x = x_of(attempt.start, duration);
        let _ = write!(
            svg,
            r#"<line class="attempt-start" x1="{x:.1}" x2="{x:.1}" y1="0" y2="{height}" data-time="{:.3}"><title>Attempt {} starts</title></line>"#,
            attempt.start,
            attempt.index + 1
        );
    }
    for (row, (name, text)) in view.errors.iter().enumerate() {
        let row = row + 1;
        label(&mut svg, row, text);
        let y = ROW * row as f64 + 4.0;
        let _ = write!(
            svg,
            r#"<rect class="lane" x="{LEFT}" y="{y}" width="{}" height="{}"/>"#,
            WIDTH - LEFT - 10.0,
            ROW - 8.0
        );
        for segment in view.attempts.iter().flat_map(|a| &a.segments).filter(|s| &s.error == name) {
            let (x0, x1) = (x_of(segment.start, duration), x_of(segment.end + view.frame_interval(), duration));
            let _ = write!(
                svg,
                r#"<rect class="segment" x="{x0:.1}" y="{y}" width="{:.1}" height="{}" data-time="{:.3}" data-error="{}"><title>{} {:.2}-{:.2} s</title></rect>"#,
                (x1 - x0).max(2.0),
                ROW - 8.0,
                segment.start,
                escape(name),
                escape(text),
                segment.start,
                segment.end
            );
        }
    }
    time_axis(&mut svg, duration, height - 20.0);
    playhead(&mut svg, height - 20.0);
    svg.push_str("</svg>");
    svg
}

fn time_axis(svg: &mut String, duration: f64, y: f64) {
    let step = [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0]
        .into_iter()
        .find(|s| duration / s <= 12.0)
        .unwrap_or(1200.0);
    let mut t = 0.0;
    while t <= duration {
        let x = x_of(t, duration);
        let _ = write!(
            svg,
            r#"<line class="tick" x1="{x:.1}" x2="{x:.1}" y1="{y}" y2="{}"/><text class="tick-label" x="{x:.1}" y="{}">{}s</text>"#,
            y + 4.0,
            y + 16.0,
            t
        );
        t += step;
    }
}

/// A plot of one angle over time, with the thresholds of the rules that read it and the
/// segments of their errors shaded.
pub fn angle_plot(view: &ReportView, feature: &str, rules: &[(&str, &Rule)]) -> String {
    let duration = view.duration().max(1e-3);
    let (height, top, bottom) = (200.0, 10.0, 170.0);
    let values: Vec<(f64, Option<f64>)> =
        view.frames.iter().map(|f| (f.time, f.angles.get(feature).copied())).collect();
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in values.iter().filter_map(|v| v.1).chain(rules.iter().flat_map(|(_, r)| [r.on, r.off])) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 180.0);
    }
    let pad = ((hi - lo) * 0.1).max(5.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let y_of = |v: f64| bottom - (v - lo) / (hi - lo) * (bottom - top);
    let mut svg = format!(
        r#"<svg class="plot" data-feature="{}" viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="none" role="img" aria-label="{} over time">"#,
        escape(feature),
        escape(feature)
    );
    for (name, _) in rules {
        for segment in view.attempts.iter().flat_map(|a| &a.segments).filter(|s| s.error == *name) {
            let (x0, x1) = (x_of(segment.start, duration), x_of(segment.end + view.frame_interval(), duration));
            let _ = write!(
                svg,
                r#"<rect class="segment-shade" x="{x0:.1}" y="{top}" width="{:.1}" height="{}" data-time="{:.3}"/>"#,
                (x1 - x0).max(2.0),
                bottom - top,
                segment.start
            );
        }
    }
    for tick in nice_ticks(lo, hi) {
        let y = y_of(tick);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="axis-label" x="{}" y="{:.1}">{tick}°</text>"#,
            WIDTH - 10.0,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (name, rule) in rules {
        for (class, v, what) in [("threshold-on", rule.on, "flags"), ("threshold-off", rule.off, "clears")] {
            let y = y_of(v);
            let _ = write!(
                svg,
                r#"<line class="{class}" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"><title>{} {what} at {v}°</title></line><text class="{class}-label" x="{}" y="{:.1}">{} {what} {v}°</text>"#,
                WIDTH - 10.0,
                escape(&view.label(name)),
                WIDTH - 12.0,
                y - 3.0,
                escape(&view.label(name))
            );
        }
    }
    // One polyline per run of measurable frames, so gaps stay gaps.
    let mut run = String::new();
    let mut lines = Vec::new();
    for (t, v) in &values {
        match v {
            Some(v) => {
                let _ = write!(run, "{:.1},{:.1} ", x_of(*t, duration), y_of(*v));
            }
            None if !run.is_empty() => lines.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        lines.push(run);
    }
    for points in &lines {
        let _ = write!(svg, r#"<polyline class="angle" points="{}"/>"#, points.trim_end());
    }
    let _ = write!(
        svg,
        r#"<text class="plot-title" x="4" y="{}">{}</text>"#,
        top + 12.0,
        escape(&feature.replace('_', " "))
    );
    time_axis(&mut svg, duration, bottom + 4.0);
    playhead(&mut svg, bottom);
    svg.push_str("</svg>");
    svg
}

fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let step = [5.0, 10.0, 20.0, 30.0, 45.0, 90.0].into_iter().find(|s| (hi - lo) / s <= 6.0).unwrap_or(180.0);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi {
        out.push(t + 0.0); // no "-0"
        t += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view() -> ReportView {
        let mut lines = vec![json!({"type": "header", "sport": "s", "profile": "p",
                                     "errors": {"bent_knees": "Bent <knees>"}})];
        for i in 0..20 {
            let angles = if i == 7 { json!({}) } else { json!({"knee_flexion": i as f64 * 2.0}) };
            lines.push(json!({"type": "frame", "time": i as f64 * 0.1, "keypoints": {}, "angles": angles,
                              "errors": if i > 12 { vec!["bent_knees"] } else { vec![] }}));
        }
        lines.push(json!({"type": "attempt", "attempt": 0, "start": 0.0, "end": 1.9,
                          "segments": [{"error": "bent_knees", "label": "Bent <knees>", "start": 1.3, "end": 1.9}]}));
        ReportView::from_lines(&lines)
    }

    #[test]
    fn the_timeline_has_a_clickable_segment_per_error_and_escapes_labels() {
        let svg = timeline(&view());
        assert_eq!(svg.matches(r#"class="segment""#).count(), 1);
        assert!(svg.contains(r#"data-time="1.300""#));
        assert!(svg.contains("Bent &lt;knees&gt;") && !svg.contains("<knees>"));
        assert!(svg.contains(r#"class="playhead""#));
    }

    #[test]
    fn a_plot_breaks_its_line_at_missing_angles_and_draws_both_thresholds() {
        let rule = Rule { feature: "knee_flexion".into(), on: 25.0, off: 15.0, min_frames: 1 };
        let svg = angle_plot(&view(), "knee_flexion", &[("bent_knees", &rule)]);
        assert_eq!(svg.matches("<polyline").count(), 2, "frame 7 has no angle");
        assert!(svg.contains(r#"class="threshold-on""#) && svg.contains(r#"class="threshold-off""#));
        assert_eq!(svg.matches(r#"class="segment-shade""#).count(), 1);
    }
}
