// SPDX-License-Identifier: MPL-2.0
//! What the overlay draws: the athlete's box and track state, the skeleton (a limb red when a
//! flagged error is measured on both its ends, green otherwise), the error labels, the
//! profile's angles at their joints, and the attempt's running score. Sizes follow the frame's
//! height so the picture reads the same at 320x240 and at 1080p.

use aicoach_vision::keypoints::KEYPOINT_NAMES;
use aicoach_vision::pose::Joint;
use aicoach_vision::pose::skeleton::BONES;
use aicoach_vision::tracking::TrackState;
use aicoach_vision::{Point, Rect};

use super::canvas::{Canvas, Rgb};
use super::{shapes, text};
use crate::meta::Verdict;

pub const GOOD: Rgb = Rgb(40, 210, 90);
pub const BAD: Rgb = Rgb(235, 40, 40);
const WHITE: Rgb = Rgb(255, 255, 255);
const SHADE: Rgb = Rgb(0, 0, 0);

/// Which layers to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layers {
    pub athlete_box: bool,
    pub skeleton: bool,
    pub labels: bool,
    pub angles: bool,
    pub score: bool,
}

impl Default for Layers {
    fn default() -> Self {
        Self { athlete_box: true, skeleton: true, labels: true, angles: true, score: true }
    }
}

pub struct Athlete {
    pub rect: Rect,
    pub state: TrackState,
    pub tracking_id: u64,
}

/// One frame's analysis.
#[derive(Default)]
pub struct Scene<'a> {
    pub athlete: Option<Athlete>,
    /// BlazePose order; `None` where left out.
    pub joints: Option<&'a [Option<Joint>]>,
    pub verdict: Option<&'a Verdict>,
}

impl Scene<'_> {
    pub fn is_empty(&self) -> bool {
        self.athlete.is_none() && self.joints.is_none() && self.verdict.is_none()
    }
}

fn state_colour(state: TrackState) -> Rgb {
    match state {
        TrackState::Tracking => Rgb(40, 200, 230),
        TrackState::Verifying => Rgb(250, 200, 40),
        TrackState::Searching | TrackState::Lost => Rgb(150, 150, 150),
    }
}

/// Where an angle is shown: the joint it is measured at.
fn angle_anchor(angle: &str, point: &dyn Fn(&str) -> Option<Point>) -> Option<Point> {
    let mid = |a: &str, b: &str| match (point(a), point(b)) {
        (Some(p), Some(q)) => Some(Point::new((p.x + q.x) / 2.0, (p.y + q.y) / 2.0)),
        (p, q) => p.or(q),
    };
    // `knee_left` is measured at `left_knee`.
    let side = || {
        let (joint, side) = angle.rsplit_once('_')?;
        point(&format!("{side}_{joint}"))
    };
    match angle {
        "hip_flexion" => mid("left_hip", "right_hip"),
        "knee_flexion" => mid("left_knee", "right_knee"),
        "trunk_lean" => mid("left_shoulder", "right_shoulder"),
        "ski_angle" | "ski_crossing" => mid("left_foot_index", "right_foot_index"),
        "leg_angle" | "leg_separation" => mid("left_ankle", "right_ankle"),
        _ => side(),
    }
}

/// Text on a translucent dark box; returns the box's height.
fn label(canvas: &mut Canvas, x: f32, y: f32, s: &str, size: f32, colour: Rgb) -> f32 {
    let (w, h) = text::measure(s, size);
    let pad = size * 0.2;
    shapes::fill(canvas, &Rect { x, y, w: w + 2.0 * pad, h: h + 2.0 * pad }, SHADE, 0.55);
    text::draw(canvas, x + pad, y + pad, s, size, colour);
    h + 2.0 * pad
}

pub fn render(canvas: &mut Canvas, scene: &Scene, layers: Layers, text_scale: f32) {
    let unit = canvas.height() as f32 / 240.0;
    let size = (11.0 * unit * text_scale).max(11.0);
    let stroke = (1.5 * unit).max(2.0);
    let margin = 4.0 * unit;
    let bad: Vec<&str> = scene.verdict.map(|v| v.bad_joints.iter().map(String::as_str).collect()).unwrap_or_default();
    let point = |name: &str| -> Option<Point> {
        let i = KEYPOINT_NAMES.iter().position(|n| *n == name)?;
        scene.joints?.get(i).copied().flatten().map(|j| j.point())
    };

    if layers.athlete_box
        && let Some(a) = &scene.athlete
    {
        let colour = state_colour(a.state);
        shapes::rect_outline(canvas, &a.rect, stroke, colour);
        let tag = format!("#{} {}", a.tracking_id, a.state.name());
        let (_, h) = text::measure(&tag, size * 0.8);
        // Above the box, or inside its top edge when the box touches the frame's top.
        let above = a.rect.y - h - stroke;
        let y = if above >= 0.0 { above } else { a.rect.y.max(0.0) + stroke };
        text::draw(canvas, a.rect.x.max(0.0) + stroke, y, &tag, size * 0.8, colour);
    }

    // A distant athlete gets a finer skeleton, so the dots do not hide the body.
    let body =
        scene.joints.and_then(|j| Rect::bounding(j.iter().flatten().map(|j| j.point()))).map_or(0.0, |b| b.w.max(b.h));
    let limb = if body > 0.0 { stroke.min((body / 50.0).max(1.5)) } else { stroke };
    if layers.skeleton && scene.joints.is_some() {
        let is_bad = |i: usize| bad.contains(&KEYPOINT_NAMES[i]);
        let neck = match (point("left_shoulder"), point("right_shoulder")) {
            (Some(a), Some(b)) => Some(Point::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0)),
            _ => None,
        };
        if let (Some(n), Some(nose)) = (neck, point("nose")) {
            shapes::line(canvas, n, nose, limb, GOOD);
        }
        for &(a, b) in &BONES {
            if let (Some(p), Some(q)) = (point(KEYPOINT_NAMES[a]), point(KEYPOINT_NAMES[b])) {
                let colour = if is_bad(a) && is_bad(b) { BAD } else { GOOD };
                shapes::line(canvas, p, q, limb, colour);
            }
        }
        for (i, name) in KEYPOINT_NAMES.iter().enumerate() {
            if let Some(p) = point(name) {
                shapes::disc(canvas, p, limb * 0.9, if is_bad(i) { BAD } else { WHITE });
            }
        }
    }

    if layers.angles
        && let Some(v) = scene.verdict
    {
        // Readouts of a small athlete crowd together: each moves down below the ones it
        // would cover.
        let mut placed: Vec<Rect> = Vec::new();
        for (name, degrees) in &v.angles {
            if let Some(p) = angle_anchor(name, &point) {
                let s = format!("{degrees:.0}°");
                let (w, h) = text::measure(&s, size * 0.85);
                // Beside the body rather than on it.
                let mut r =
                    Rect { x: p.x + (3.0 * unit).max(0.25 * body), y: p.y - 3.0 * unit, w: w * 1.4, h: h * 1.4 };
                while let Some(other) = placed.iter().find(|o| o.iou(&r) > 0.0) {
                    r.y = other.y + other.h + 1.0;
                }
                label(canvas, r.x, r.y, &s, size * 0.85, WHITE);
                placed.push(r);
            }
        }
    }

    if layers.labels
        && let Some(v) = scene.verdict
    {
        let mut y = margin;
        for l in &v.labels {
            y += label(canvas, margin, y, l, size, BAD) + margin / 2.0;
        }
    }

    if layers.score
        && let Some(v) = scene.verdict
        && v.attempt > 0
    {
        let s = match v.form_score {
            Some(score) => format!("Attempt {}  form {score:.0}%", v.attempt),
            None => format!("Attempt {}", v.attempt),
        };
        let (w, _) = text::measure(&s, size);
        let x = canvas.width() as f32 - w - margin - 0.4 * size;
        label(canvas, x, margin, &s, size, WHITE);
    }
}
