// SPDX-License-Identifier: MPL-2.0
//! `aicoach-product-eval`: measures the product as users run it, not its models.
//!
//! 1. **Pose** (`--pose`): for every ground-truth person in the development data (default
//!    `../shared/data/mmpose`), a crop of the photo centred on the person's box (a square of
//!    [`CROP_SCALE`] times the box's longer side, or `--crop-scale`, clipped to the photo or, with `--crop pad`,
//!    padded with black so the person stays centred; neighbours left in) goes through
//!    `gst-launch-1.0 ... imagefreeze num-buffers=3 ! CHAIN ! aicoachclassify
//!    report-location=...`; the keypoints of the report's last frame are scored with PCK@0.2
//!    (tolerance 0.2 x the box's longer side; a missing person or joint is a miss). Nothing of
//!    the ground truth reaches the chain: who the athlete is, the elements decide.
//! 2. **Tracking** (`--tracking`): `pipelines/analyse.sh` on each video that has hand-checked
//!    athlete boxes in `tests/fixtures/athlete_boxes/`, scored as VOT-LT: precision = mean IoU
//!    over frames where the report has an athlete (not `lost`), recall = summed IoU over frames
//!    where the athlete is visible / their count, F = their harmonic mean.
//!
//! `CHAIN` is `default` (`aicoachdetect ! aicoachtrack ! aicoachpose min-confidence=0`, every
//! property at its default), `pipelines` (the elements as `pipelines/analyse.sh` sets them),
//! or any launch fragment. The plugin is the release build's (`target/release`), or
//! `$AICOACH_PLUGIN_DIR`.
//!
//! `cargo run --release -p aicoach-tools --bin aicoach-product-eval -- [--pose] [--tracking] [--sweep]
//! [--chain default|pipelines|"..."] [--crop clip|pad] [--crop-scale F] [--max-side N] [--rotate DEG] [--width N] [--fps N] [--blur SIGMA] [--data DIR]
//! [--follow SHARE] [--inset SHARE] [--videos DIR] [--keep DIR]` (`--keep`: the copies, reports and, per clip,
//! `iou.tsv`, the reported and true box and their IoU on every frame)
//!
//! `--sweep` runs the tracking on each of [`SWEEP`]'s 17 settings (the clips as recorded and
//! re-encoded as below) and prints each one's mean F and the mean over all: one setting's F
//! moves by about 0.02 with any numeric change to the chain, so builds are compared on that mean.
//!
//! `--width` and `--fps` run the tracking on copies of the clips re-encoded (x264) at that width
//! (boxes scaled) or frame rate (frames dropped, each report frame scored against the box of the
//! source frame its timestamp falls on): the same athletes, smaller or choppier. `--blur` blurs
//! the copy (Gaussian, `SIGMA` pixels of the copy) before encoding: footage out of focus or
//! smeared by motion, as small broadcast clips often are. `--follow SHARE` films the copy with
//! a camera that follows the athlete ([`eval::follow`]): every frame cut to a window `SHARE` of
//! its width and height, aimed where the athlete's boxes were over the last few frames, so the
//! background and bystanders slide through the picture as in broadcast sport.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use aicoach_tools::eval::{self, DATASETS, GtPerson, Tally, follow};
use aicoach_vision::geometry::turned_clockwise;
use aicoach_vision::keypoints::KEYPOINT_NAMES;
use aicoach_vision::{Point, Rect};
use serde_json::Value;

/// The crop around a ground-truth person, as a multiple of the box's longer side (default;
/// `--crop-scale`: a looser crop holds more neighbours).
const CROP_SCALE: f32 = 1.5;
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

const DEFAULT_CHAIN: &str = "aicoachdetect ! aicoachtrack ! aicoachpose min-confidence=0";

fn pipelines_chain() -> String {
    // What analyse.sh runs (its queues, its detector, its request delay and its lookahead),
    // read from the script's own settings so the two cannot drift apart.
    let detector = std::env::var("DETECTOR").unwrap_or_else(|_| env_default("DETECTOR"));
    let search = std::env::var("SEARCH_DETECTOR").unwrap_or_else(|_| env_default("SEARCH_DETECTOR"));
    let (delay, detect_queue, pose_queue) =
        (env_default("REQUEST_DELAY"), env_default("DETECT_QUEUE"), env_default("POSE_QUEUE"));
    format!(
        "aicoachdetect model={detector} search-model={search} request-delay={delay} ! {detect_queue} ! \
         aicoachtrack ! aicoachpose lookahead=4 min-confidence=0 ! {pose_queue}"
    )
}

/// `NAME`'s value in `pipelines/env.sh`: `NAME=${NAME:-value}`, `NAME="value"` or `NAME=value`.
fn env_default(name: &str) -> String {
    let text = std::fs::read_to_string(format!("{REPO}/pipelines/env.sh")).unwrap_or_default();
    let (overridable, plain) = (format!("{name}=${{{name}:-"), format!("{name}="));
    text.lines()
        .find_map(|l| {
            let l = l.trim();
            match l.strip_prefix(&overridable) {
                Some(rest) => rest.strip_suffix('}').map(str::to_string),
                None => l.strip_prefix(&plain).map(|v| v.trim_matches('"').to_string()),
            }
        })
        .unwrap_or_else(|| panic!("pipelines/env.sh has no default for {name}"))
}

#[derive(Clone)]
struct Args {
    pose: bool,
    tracking: bool,
    /// Tracking on every one of [`SWEEP`]'s settings, with their mean.
    sweep: bool,
    chain: String,
    chain_name: String,
    data: PathBuf,
    videos: PathBuf,
    keep: Option<PathBuf>,
    /// Pad the person's square crop with black where it leaves the photo (the person stays in
    /// its centre), instead of clipping it to the photo.
    pad: bool,
    /// Turn each pose crop (and its ground truth) clockwise by this many degrees: athletes in
    /// flips, handstands and dives, whom the models were mostly not trained on.
    rotate: u32,
    /// The crop's side as a multiple of the person's box's longer side.
    crop_scale: f32,
    /// Crops larger than this many pixels (their longer side) are shrunk to it: a small or
    /// low-resolution photo.
    max_side: Option<u32>,
    /// Tracking on copies of the clips re-encoded at this width (boxes scaled)...
    width: Option<u32>,
    /// ...and at this frame rate (frames dropped; boxes found by timestamp)...
    fps: Option<u32>,
    /// ...and blurred (Gaussian sigma in the copy's pixels)...
    blur: Option<f32>,
    /// ...and filmed by a camera following the athlete, with windows this share of the frame...
    follow: Option<f32>,
    /// ...and shrunk to this share of the picture's width and height, in the middle of a black
    /// picture of the full size: a wide shot, the athlete small in a large frame.
    inset: Option<f32>,
}

impl Args {
    /// Every option at its default.
    fn defaults() -> Self {
        Args {
            pose: false,
            tracking: false,
            sweep: false,
            chain: DEFAULT_CHAIN.into(),
            chain_name: "default".into(),
            data: PathBuf::from(format!("{REPO}/../shared/data/mmpose")),
            videos: PathBuf::from(format!("{REPO}/../shared/data")),
            keep: None,
            pad: false,
            rotate: 0,
            crop_scale: CROP_SCALE,
            max_side: None,
            width: None,
            fps: None,
            blur: None,
            follow: None,
            inset: None,
        }
    }

    /// Whether the tracking runs on re-encoded copies of the clips (`--width`, `--fps`,
    /// `--blur`, `--follow`, `--inset`) rather than on the clips themselves.
    fn re_encodes(&self) -> bool {
        self.width.is_some()
            || self.fps.is_some()
            || self.blur.is_some()
            || self.follow.is_some()
            || self.inset.is_some()
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = parse(Args::defaults(), std::env::args().skip(1))?;
    if args.sweep {
        args.tracking = true;
    }
    if !args.pose && !args.tracking {
        args.pose = true;
        args.tracking = true;
    }
    Ok(args)
}

/// `args` with the command-line arguments in `it` applied.
fn parse(mut args: Args, mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--pose" => args.pose = true,
            "--tracking" => args.tracking = true,
            "--sweep" => args.sweep = true,
            "--chain" => {
                let v = value()?;
                (args.chain, args.chain_name) = match v.as_str() {
                    "default" => (DEFAULT_CHAIN.into(), v),
                    "pipelines" => (pipelines_chain(), v),
                    _ => (v.clone(), "custom".into()),
                };
            }
            "--data" => args.data = value()?.into(),
            "--videos" => args.videos = value()?.into(),
            "--keep" => args.keep = Some(value()?.into()),
            "--width" => args.width = Some(value()?.parse().map_err(|e| format!("--width: {e}"))?),
            "--fps" => args.fps = Some(value()?.parse().map_err(|e| format!("--fps: {e}"))?),
            "--blur" => {
                let sigma: f32 = value()?.parse().map_err(|e| format!("--blur: {e}"))?;
                if !(sigma > 0.0 && sigma <= 20.0) {
                    return Err(format!("--blur is a sigma in pixels, above 0 and at most 20, not {sigma}"));
                }
                args.blur = Some(sigma);
            }
            "--follow" => {
                let share: f32 = value()?.parse().map_err(|e| format!("--follow: {e}"))?;
                if !(0.2..=1.0).contains(&share) {
                    return Err(format!("--follow is the window's share of the frame, 0.2 to 1, not {share}"));
                }
                args.follow = Some(share);
            }
            "--inset" => {
                let share: f32 = value()?.parse().map_err(|e| format!("--inset: {e}"))?;
                if !(0.1..=1.0).contains(&share) {
                    return Err(format!("--inset is the picture's share of the frame, 0.1 to 1, not {share}"));
                }
                args.inset = Some(share);
            }
            "--rotate" => {
                args.rotate = match value()?.as_str() {
                    "0" => 0,
                    "90" => 90,
                    "180" => 180,
                    "270" => 270,
                    other => return Err(format!("--rotate is 0, 90, 180 or 270 (degrees clockwise), not {other}")),
                }
            }
            "--crop-scale" => {
                let scale: f32 = value()?.parse().map_err(|e| format!("--crop-scale: {e}"))?;
                if !(1.0..=5.0).contains(&scale) {
                    return Err(format!("--crop-scale is the crop's side over the person's, 1 to 5, not {scale}"));
                }
                args.crop_scale = scale;
            }
            "--max-side" => {
                let side: u32 = value()?.parse().map_err(|e| format!("--max-side: {e}"))?;
                if side < 32 {
                    return Err(format!("--max-side is at least 32 pixels, not {side}"));
                }
                args.max_side = Some(side);
            }
            "--crop" => {
                args.pad = match value()?.as_str() {
                    "clip" => false,
                    "pad" => true,
                    other => return Err(format!("--crop is clip or pad, not {other}")),
                }
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    Ok(args)
}

fn plugin_dir() -> String {
    std::env::var("AICOACH_PLUGIN_DIR").unwrap_or_else(|_| format!("{REPO}/target/release"))
}

/// Runs a launch line with the plugin on the path; the error carries what gst-launch printed.
fn gst_launch(line: &str) -> Result<(), String> {
    let out = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(line.split_whitespace())
        .env("GST_PLUGIN_PATH", plugin_dir())
        .output()
        .map_err(|e| format!("cannot run gst-launch-1.0: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

fn report_lines(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines().map(|l| serde_json::from_str(l).map_err(|e| format!("{}: {e}", path.display()))).collect()
}

fn frames(lines: &[Value]) -> impl Iterator<Item = &Value> {
    lines.iter().filter(|l| l["type"] == "frame")
}

/// The crop around a person: its pixels and where its origin lies in the photo. Clipped to the
/// photo, or with `pad` the whole square, black where it leaves the photo.
fn crop_around(photo: &image::RgbImage, bbox: &Rect, scale: f32, pad: bool) -> (image::RgbImage, Point) {
    let side = scale * bbox.w.max(bbox.h);
    let c = bbox.center();
    if pad {
        // Even side, as below.
        let n = ((side.ceil() as u32) + 1) & !1;
        let (x0, y0) = ((c.x - n as f32 / 2.0).floor() as i64, (c.y - n as f32 / 2.0).floor() as i64);
        let mut square = image::RgbImage::new(n, n);
        image::imageops::replace(&mut square, photo, -x0, -y0);
        return (square, Point::new(x0 as f32, y0 as f32));
    }
    let x0 = (c.x - side / 2.0).max(0.0).floor() as u32;
    let y0 = (c.y - side / 2.0).max(0.0).floor() as u32;
    let x1 = ((c.x + side / 2.0).ceil() as u32).min(photo.width());
    let y1 = ((c.y + side / 2.0).ceil() as u32).min(photo.height());
    // Even sizes: I420 after decodebin needs them, and a user's photo could be any size.
    let (w, h) = ((x1 - x0) & !1, (y1 - y0) & !1);
    (image::imageops::crop_imm(photo, x0, y0, w, h).to_image(), Point::new(x0 as f32, y0 as f32))
}

/// `crop` shrunk (triangle filter) so its longer side is at most `max_side`, with the factor.
fn shrunk(crop: image::RgbImage, max_side: Option<u32>) -> (image::RgbImage, f32) {
    let longer = crop.width().max(crop.height());
    match max_side.filter(|m| *m < longer) {
        Some(m) => {
            let f = m as f32 / longer as f32;
            // Even sizes, as for the crops themselves.
            let (w, h) = (((crop.width() as f32 * f) as u32) & !1, ((crop.height() as f32 * f) as u32) & !1);
            (image::imageops::resize(&crop, w, h, image::imageops::FilterType::Triangle), f)
        }
        None => (crop, 1.0),
    }
}

/// `crop` turned clockwise by `degrees` (0, 90, 180, 270), with the map of its points.
fn turned(crop: image::RgbImage, degrees: u32) -> (image::RgbImage, impl Fn(Point) -> Point) {
    let (w, h) = (crop.width() as f32, crop.height() as f32);
    let image = match degrees {
        90 => image::imageops::rotate90(&crop),
        180 => image::imageops::rotate180(&crop),
        270 => image::imageops::rotate270(&crop),
        _ => crop,
    };
    (image, move |p: Point| turned_clockwise(p, degrees / 90, w, h))
}

/// The 33 keypoints of the report's last frame with a pose, in crop pixels; points the
/// report lacks are placed where no joint can be.
fn last_pose(lines: &[Value]) -> Option<Vec<Point>> {
    let kps = frames(lines).filter(|f| f["keypoints"].is_object()).last()?["keypoints"].clone();
    Some(
        KEYPOINT_NAMES
            .iter()
            .map(|n| {
                let v = kps[*n].as_array()?;
                Some(Point::new(v.first()?.as_f64()? as f32, v.get(1)?.as_f64()? as f32))
            })
            .map(|p| p.unwrap_or(Point::new(f32::INFINITY, f32::INFINITY)))
            .collect(),
    )
}

fn pose_eval(args: &Args, tmp: &Path) -> Result<(), String> {
    println!("== pose: PCK@0.2 through `{}`", args.chain);
    let edge = if args.pad { "padded with black past the photo's edge" } else { "clipped to the photo" };
    println!("   crops: square of {} x the box's longer side around each ground-truth person, {edge}", args.crop_scale);
    if args.rotate != 0 {
        println!("   each crop turned {} degrees clockwise", args.rotate);
    }
    if let Some(side) = args.max_side {
        println!("   crops shrunk to at most {side} px a side");
    }
    let mut all = Tally::default();
    let (mut people, mut with_pose) = (0, 0);
    for spec in DATASETS.iter().filter(|s| s.format != eval::Format::WholeBodyFeet) {
        let dataset = eval::load_dataset(&args.data, spec).map_err(|e| e.to_string())?;
        // COCO-WholeBody adds feet to the COCO images: score them with the COCO people.
        let feet = if spec.name == "coco" {
            let wb = DATASETS.iter().find(|s| s.format == eval::Format::WholeBodyFeet).expect("listed");
            eval::load_dataset(&args.data, wb).map_err(|e| e.to_string())?.images
        } else {
            Vec::new()
        };
        let mut tally = Tally::default();
        let (mut n, mut found) = (0, 0);
        for (i, image) in dataset.images.iter().enumerate() {
            let photo = image::open(&image.path).map_err(|e| format!("{}: {e}", image.path.display()))?.to_rgb8();
            for (p, person) in image.persons.iter().enumerate() {
                let mut person = person.clone();
                if let Some(wb) = feet.iter().find(|f| f.path == image.path)
                    && let Some(extra) = wb.persons.iter().find(|q| q.bbox.iou(&person.bbox) > 0.9)
                {
                    person.joints.extend(extra.joints.iter().copied());
                }
                let (crop, origin) = crop_around(&photo, &person.bbox, args.crop_scale, args.pad);
                let (crop, shrink) = shrunk(crop, args.max_side);
                let (crop, turn) = turned(crop, args.rotate);
                let name = format!("{}-{i}-{p}", spec.name);
                let png = tmp.join(format!("{name}.png"));
                crop.save(&png).map_err(|e| e.to_string())?;
                let report = tmp.join(format!("{name}.jsonl"));
                gst_launch(&format!(
                    "filesrc location={} ! decodebin ! videoconvert ! imagefreeze num-buffers=3 ! {} ! \
                     aicoachclassify report-location={} ! fakesink",
                    png.display(),
                    args.chain,
                    report.display()
                ))
                .map_err(|e| format!("{name}: {e}"))?;
                let predicted = last_pose(&report_lines(&report)?);
                n += 1;
                found += usize::from(predicted.is_some());
                let predicted = predicted.unwrap_or_else(|| vec![Point::new(f32::INFINITY, f32::INFINITY); 33]);
                let in_crop = |q: Point| turn(Point::new((q.x - origin.x) * shrink, (q.y - origin.y) * shrink));
                let b = &person.bbox;
                let shifted = GtPerson {
                    bbox: Rect::bounding([in_crop(Point::new(b.x, b.y)), in_crop(Point::new(b.x + b.w, b.y + b.h))])
                        .expect("two finite corners"),
                    joints: person.joints.iter().map(|&(j, q)| (j, in_crop(q))).collect(),
                };
                let mut one = Tally::default();
                eval::score_person(&shifted, &predicted, &mut one, &mut Tally::default());
                if std::env::var_os("PRODUCT_EVAL_VERBOSE").is_some() {
                    println!(
                        "   {name}: {} of {} joints (person at {:.0},{:.0} {:.0}x{:.0} in the crop)",
                        one.correct.iter().sum::<u32>(),
                        one.instances(),
                        shifted.bbox.x,
                        shifted.bbox.y,
                        shifted.bbox.w,
                        shifted.bbox.h
                    );
                }
                tally.merge(&one);
            }
        }
        println!(
            "   {:<9} {:>2} people, {:>2} with a pose, PCK@0.2 {}",
            spec.name,
            n,
            found,
            tally.mean().map_or("-".into(), |v| format!("{:.1}", v * 100.0))
        );
        all.merge(&tally);
        people += n;
        with_pose += found;
    }
    println!(
        "   all       {people} people, {with_pose} with a pose, {} joints: PCK@0.2 {:.1}",
        all.instances(),
        all.mean().unwrap_or(0.0) * 100.0
    );
    Ok(())
}

/// VOT-LT precision, recall and F of reported boxes against true ones (`None`: not reported /
/// not visible).
fn vot_lt(reported: &[Option<Rect>], truth: &[Option<Rect>]) -> (f32, f32, f32) {
    let (mut p_sum, mut p_n, mut r_sum, mut r_n) = (0.0, 0, 0.0, 0);
    for (r, t) in reported.iter().zip(truth) {
        let iou = frame_iou(r, t);
        if r.is_some() {
            p_sum += iou;
            p_n += 1;
        }
        if t.is_some() {
            r_sum += iou;
            r_n += 1;
        }
    }
    let p = if p_n > 0 { p_sum / p_n as f32 } else { 0.0 };
    let r = if r_n > 0 { r_sum / r_n as f32 } else { 0.0 };
    let f = if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 };
    (p, r, f)
}

/// One frame's overlap: 0 where either box is missing.
fn frame_iou(reported: &Option<Rect>, truth: &Option<Rect>) -> f32 {
    match (reported, truth) {
        (Some(r), Some(t)) => r.iou(t),
        _ => 0.0,
    }
}

/// Frame by frame, the reported box, the true one and their IoU (`--keep`: where the
/// tracker loses its F).
fn write_ious(path: &Path, reported: &[Option<Rect>], truth: &[Option<Rect>]) -> Result<(), String> {
    let cell = |b: &Option<Rect>| b.map_or("-".into(), |b| format!("{:.0},{:.0},{:.0},{:.0}", b.x, b.y, b.w, b.h));
    let mut text = String::from("frame\treported\ttruth\tiou\n");
    for (i, (r, t)) in reported.iter().zip(truth).enumerate() {
        text += &format!("{i}\t{}\t{}\t{:.2}\n", cell(r), cell(t), frame_iou(r, t));
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A re-encoded copy of a clip (`--width`, `--fps`, `--blur`, `--follow`) and how its frames
/// map to the fixture's.
#[derive(Debug, Clone, PartialEq)]
struct Variant {
    /// The copy's size (even, as x264 needs), frame rate and blur, where changed.
    size: Option<(u32, u32)>,
    fps: Option<u32>,
    blur: Option<f32>,
    /// Copy pixels per source pixel.
    scale: f32,
    /// The source's frame rate, `num / den`.
    rate: (u64, u64),
    /// The following camera's window on each source frame, in source pixels.
    windows: Option<Vec<Rect>>,
    /// With `--inset`: the picture's size and its place in the black frame (left, top), the
    /// frame's size being `size` or the source's.
    inset: Option<Inset>,
}

#[derive(Debug, Clone, PartialEq)]
struct Inset {
    inner: (u32, u32),
    frame: (u32, u32),
    left: u32,
    top: u32,
}

impl Inset {
    fn of(share: f32, (w, h): (u32, u32)) -> Self {
        let inner = (((w as f32 * share) as u32).max(2) & !1, ((h as f32 * share) as u32).max(2) & !1);
        let (left, top) = ((w - inner.0) / 2, (h - inner.1) / 2);
        Self { inner, frame: (w, h), left, top }
    }

    /// The launch fragment that shrinks the picture and pads it with black to the frame.
    fn launch(&self) -> String {
        let (right, bottom) = (self.frame.0 - self.inner.0 - self.left, self.frame.1 - self.inner.1 - self.top);
        format!(
            "videobox fill=black left=-{} right=-{right} top=-{} bottom=-{bottom} ! videoconvert ! ",
            self.left, self.top
        )
    }
}

impl Variant {
    fn of(args: &Args, fixture: &Value, boxes: &[Option<Rect>]) -> Result<Option<Self>, String> {
        if !args.re_encodes() {
            return Ok(None);
        }
        let dim = |k: &str| fixture[k].as_u64().ok_or(format!("fixture without {k}"));
        let (w, h) = (dim("width")?, dim("height")?);
        let windows = args.follow.map(|share| follow::windows(boxes, w as u32, h as u32, share, follow::LAG_FRAMES));
        // The following camera's picture is the window's size.
        let (w, h) = windows.as_ref().and_then(|ws| ws.first()).map_or((w, h), |r| (r.w as u64, r.h as u64));
        let rate = fixture["framerate"].as_str().ok_or("fixture without framerate")?;
        let (num, den) = rate.split_once('/').ok_or(format!("framerate {rate} is not num/den"))?;
        let rate = (
            num.parse().map_err(|_| format!("framerate {rate}"))?,
            den.parse().map_err(|_| format!("framerate {rate}"))?,
        );
        let size = args.width.map(|cw| (cw & !1, ((cw as f64 * h as f64 / w as f64 / 2.0).round() as u32) * 2));
        let scale = size.map_or(1.0, |(cw, _)| cw as f32 / w as f32);
        let inset = args.inset.map(|share| Inset::of(share, size.unwrap_or((w as u32 & !1, h as u32 & !1))));
        Ok(Some(Self { size, fps: args.fps, blur: args.blur, scale, rate, windows, inset }))
    }

    /// The re-encoding of `source` (a launch fragment giving raw video): x264 on one thread,
    /// since its threads make each run's pictures a little different (and the tracking with
    /// them).
    fn launch(&self, source: &str, copy: &Path) -> String {
        let mut caps = String::from("video/x-raw");
        if let Some((w, h)) = self.inset.as_ref().map(|i| i.inner).or(self.size) {
            caps += &format!(",width={w},height={h},pixel-aspect-ratio=1/1");
        }
        let inset = self.inset.as_ref().map_or(String::new(), Inset::launch);
        // Only where frames are dropped: without durations on its buffers (the following
        // camera's frames come from files) videorate drops the last frame too.
        let mut rate = "";
        if let Some(f) = self.fps {
            caps += &format!(",framerate={f}/1");
            rate = "videorate drop-only=true ! ";
        }
        // gaussianblur works on AYUV: converted there and back.
        let blur =
            self.blur.map_or(String::new(), |s| format!("videoconvert ! gaussianblur sigma={s} ! videoconvert ! "));
        format!(
            "{source} ! videoconvert ! videoscale ! {rate}{caps} ! {inset}{blur}\
             x264enc speed-preset=veryfast threads=1 ! h264parse ! mp4mux ! filesink location={}",
            copy.display()
        )
    }

    /// The fixture's box for each report frame: the source frame its timestamp falls on,
    /// counted from the copy's first frame (the source's first: `videorate` drops later ones),
    /// scaled to the copy. Not from zero: the copies start 2 frames late (x264's reordering
    /// delay, kept by mp4mux), and absolute timestamps scored every frame against the box of
    /// two frames later.
    fn truth(&self, report: &[&Value], boxes: &[Option<Rect>]) -> Vec<Option<Rect>> {
        let (num, den) = self.rate;
        let first = report.iter().filter_map(|f| f["pts"].as_u64()).min().unwrap_or(0);
        report
            .iter()
            .map(|f| {
                let pts = f["pts"].as_u64()?.saturating_sub(first);
                let i =
                    ((pts as f64 * num as f64 / (den as f64 * 1e9)).round() as usize).min(boxes.len().checked_sub(1)?);
                let b = match &self.windows {
                    Some(windows) => follow::in_window(&boxes[i]?, windows.get(i)?)?,
                    None => boxes[i]?,
                };
                // The picture's own factors: its sides are rounded to even pixels.
                let (sx, sy, left, top) = match &self.inset {
                    Some(i) => (
                        self.scale * i.inner.0 as f32 / i.frame.0 as f32,
                        self.scale * i.inner.1 as f32 / i.frame.1 as f32,
                        i.left as f32,
                        i.top as f32,
                    ),
                    None => (self.scale, self.scale, 0.0, 0.0),
                };
                Some(Rect { x: b.x * sx + left, y: b.y * sy + top, w: b.w * sx, h: b.h * sy })
            })
            .collect()
    }
}

/// `source`'s frames cut to the following camera's `windows` (PNGs under `dir`), as a launch
/// fragment that plays them at the source's frame `rate`.
fn filmed_following(source: &Path, windows: &[Rect], rate: (u64, u64), dir: &Path) -> Result<String, String> {
    let (frames, cut) = (dir.join("frames"), dir.join("followed"));
    std::fs::create_dir_all(&frames).map_err(|e| format!("{}: {e}", frames.display()))?;
    gst_launch(&format!(
        "filesrc location={} ! decodebin ! videoconvert ! video/x-raw,format=RGB ! pngenc compression-level=1 ! \
         multifilesink location={}/%05d.png",
        source.display(),
        frames.display()
    ))
    .map_err(|e| format!("decoding {}: {e}", source.display()))?;
    follow::cut_frames(&frames, windows, &cut).map_err(|e| format!("{}: {e}", source.display()))?;
    let _ = std::fs::remove_dir_all(&frames);
    Ok(format!(
        "multifilesrc location={}/%05d.png index=0 caps=image/png,framerate={}/{} ! pngdec",
        cut.display(),
        rate.0,
        rate.1
    ))
}

fn rect(v: &Value) -> Option<Rect> {
    let n = |k: &str| v.get(k).and_then(Value::as_f64).map(|x| x as f32);
    let a = v.as_array();
    match a {
        Some(a) if a.len() == 4 => {
            let f: Vec<f32> = a.iter().filter_map(|x| x.as_f64().map(|x| x as f32)).collect();
            (f.len() == 4).then(|| Rect { x: f[0], y: f[1], w: f[2], h: f[3] })
        }
        _ => Some(Rect { x: n("x")?, y: n("y")?, w: n("w")?, h: n("h")? }),
    }
}

/// The mean F over the clips (`None`: no clip has boxes).
fn tracking_eval(args: &Args, tmp: &Path) -> Result<Option<f32>, String> {
    let fixtures = PathBuf::from(format!("{REPO}/tests/fixtures/athlete_boxes"));
    println!("== tracking: VOT-LT through pipelines/analyse.sh against {}", fixtures.display());
    if args.re_encodes() {
        let (w, f) = (
            args.width.map_or("as recorded".into(), |w| format!("{w} px wide")),
            args.fps.map_or("as recorded".into(), |f| format!("{f} fps")),
        );
        let blur = args.blur.map_or(String::new(), |s| format!(", blurred (Gaussian sigma {s} px)"));
        let follow = args.follow.map_or(String::new(), |s| {
            format!(
                ", filmed following the athlete (windows {s} of the frame, aimed at their last {} centres)",
                follow::LAG_FRAMES
            )
        });
        let inset = args.inset.map_or(String::new(), |s| {
            format!(", shrunk to {s} of the frame's width and height in the middle of a black frame (a wide shot)")
        });
        println!("   on copies re-encoded with x264: {w}, {f}{blur}{follow}{inset}");
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .map_err(|e| format!("{}: {e}", fixtures.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    let mut fs = Vec::new();
    for fixture in names {
        let truth: Value = serde_json::from_str(&std::fs::read_to_string(&fixture).map_err(|e| e.to_string())?)
            .map_err(|e| format!("{}: {e}", fixture.display()))?;
        let source = args.videos.join(truth["video"].as_str().ok_or("fixture without video")?);
        let boxes: Vec<Option<Rect>> =
            truth["boxes"].as_array().ok_or("fixture without boxes")?.iter().map(rect).collect();
        let stem = source.file_stem().unwrap().to_string_lossy().to_string();
        let variant = Variant::of(args, &truth, &boxes)?;
        let video = match &variant {
            Some(v) => {
                let copy = tmp.join(format!("{stem}-variant.mp4"));
                let input = match &v.windows {
                    Some(windows) => filmed_following(&source, windows, v.rate, &tmp.join(&stem))?,
                    None => format!("filesrc location={} ! decodebin", source.display()),
                };
                gst_launch(&v.launch(&input, &copy)).map_err(|e| format!("re-encoding {}: {e}", source.display()))?;
                // The cut frames are in the copy now.
                let _ = std::fs::remove_dir_all(tmp.join(&stem));
                copy
            }
            None => source.clone(),
        };
        let out = tmp.join(fixture.file_stem().unwrap());
        let status = Command::new("bash")
            .arg(format!("{REPO}/pipelines/analyse.sh"))
            .arg(&video)
            .arg(&out)
            .env("AICOACH_PLUGIN_DIR", plugin_dir())
            .output()
            .map_err(|e| e.to_string())?;
        if !status.status.success() {
            return Err(format!("analyse.sh {}: {}", video.display(), String::from_utf8_lossy(&status.stderr)));
        }
        let name = video.file_stem().unwrap().to_string_lossy().to_string();
        let lines = report_lines(&out.join(format!("{name}.jsonl")))?;
        let report: Vec<&Value> = frames(&lines).collect();
        let reported: Vec<Option<Rect>> = report
            .iter()
            .map(|f| {
                let a = &f["athlete"];
                (a.is_object() && a["state"] != "lost").then(|| rect(a)).flatten()
            })
            .collect();
        let boxes = match &variant {
            Some(v) => v.truth(&report, &boxes),
            None => {
                if reported.len() != boxes.len() {
                    println!("   note: {} has {} report frames, {} truth frames", stem, reported.len(), boxes.len());
                }
                boxes
            }
        };
        let (p, r, f) = vot_lt(&reported, &boxes);
        if args.keep.is_some() {
            write_ious(&out.join("iou.tsv"), &reported, &boxes)?;
        }
        println!(
            "   {:<16} frames {:>4}  athlete visible {:>4}  reported {:>4}  precision {p:.3}  recall {r:.3}  F {f:.3}",
            fixture.file_stem().unwrap().to_string_lossy(),
            boxes.len(),
            boxes.iter().filter(|b| b.is_some()).count(),
            reported.iter().filter(|b| b.is_some()).count()
        );
        fs.push(f);
    }
    if fs.is_empty() {
        return Ok(None);
    }
    let mean = fs.iter().sum::<f32>() / fs.len() as f32;
    println!("   mean F {mean:.3} over {} videos", fs.len());
    Ok(Some(mean))
}

/// The tracking settings `--sweep` runs, as arguments applied over the others given: the clips
/// as recorded, smaller, choppier, blurred, filmed by a camera following the athlete, and as
/// wide shots (the athlete small in a large frame). One
/// setting's F moves by about 0.02 with any numeric change, since the chain feeds each frame's
/// keypoints into the next frame's crop and thresholded decisions amplify the difference:
/// builds are compared on the mean over all of them.
const SWEEP: [&str; 17] = [
    "",
    "--width 320",
    "--fps 12",
    "--width 320 --blur 1",
    "--width 320 --blur 2",
    "--width 640",
    "--fps 24",
    "--follow 0.5",
    "--follow 0.5 --width 320 --blur 1",
    "--follow 0.35 --width 320",
    "--follow 0.7",
    "--width 480 --fps 15",
    "--width 320 --blur 1.5",
    "--follow 0.6 --width 480 --blur 1",
    "--inset 0.5",
    "--inset 0.33",
    "--inset 0.25",
];

/// Tracking on every one of [`SWEEP`]'s settings, then each setting's mean F and their mean.
fn sweep_eval(args: &Args, tmp: &Path) -> Result<(), String> {
    let mut means = Vec::new();
    for (i, setting) in SWEEP.iter().enumerate() {
        let one = parse(args.clone(), setting.split_whitespace().map(String::from))?;
        let dir = tmp.join(format!("setting-{i}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mean = tracking_eval(&one, &dir)?.ok_or("no clip has athlete boxes")?;
        means.push((if setting.is_empty() { "(as recorded)" } else { setting }, mean));
    }
    println!("== tracking sweep: mean F per setting");
    for (setting, mean) in &means {
        println!("   {setting:<36} {mean:.3}");
    }
    let overall = means.iter().map(|(_, m)| m).sum::<f32>() / means.len() as f32;
    println!("   mean F over the {} settings {overall:.3}", means.len());
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("aicoach-product-eval: {e}");
            return ExitCode::from(2);
        }
    };
    let tmp =
        args.keep.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("aicoach-eval-{}", std::process::id())));
    if let Err(e) = std::fs::create_dir_all(&tmp) {
        eprintln!("aicoach-product-eval: {}: {e}", tmp.display());
        return ExitCode::FAILURE;
    }
    println!("chain: {} ({})", args.chain_name, args.chain);
    let result =
        (if args.pose { pose_eval(&args, &tmp) } else { Ok(()) }).and_then(|_| match (args.sweep, args.tracking) {
            (true, _) => sweep_eval(&args, &tmp),
            (false, true) => tracking_eval(&args, &tmp).map(|_| ()),
            (false, false) => Ok(()),
        });
    if args.keep.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aicoach-product-eval: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sweep_setting_parses_and_all_but_the_first_track_on_copies() {
        let base = parse_args_from(&["--tracking"]).unwrap();
        for (i, setting) in SWEEP.iter().enumerate() {
            let one = parse(base.clone(), setting.split_whitespace().map(String::from)).unwrap();
            assert_eq!(one.re_encodes(), i > 0, "{setting:?}");
        }
        let followed = parse(base.clone(), SWEEP[13].split_whitespace().map(String::from)).unwrap();
        assert_eq!(
            (followed.follow, followed.width, followed.blur, followed.fps),
            (Some(0.6), Some(480), Some(1.0), None)
        );
        let wide = parse(base, SWEEP[15].split_whitespace().map(String::from)).unwrap();
        assert_eq!((wide.inset, wide.follow, wide.width), (Some(0.33), None, None));
    }

    fn parse_args_from(words: &[&str]) -> Result<Args, String> {
        parse(Args::defaults(), words.iter().map(|w| w.to_string()))
    }

    #[test]
    fn vot_lt_counts_misses_and_false_reports() {
        let b = Some(Rect { x: 0.0, y: 0.0, w: 10.0, h: 10.0 });
        assert_eq!(vot_lt(&[b, b], &[b, b]), (1.0, 1.0, 1.0));
        // Reported on a frame without the athlete: precision halves; recall holds.
        let (p, r, _) = vot_lt(&[b, b], &[b, None]);
        assert_eq!((p, r), (0.5, 1.0));
        // Not reported while visible: recall halves.
        let (p, r, _) = vot_lt(&[b, None], &[b, b]);
        assert_eq!((p, r), (1.0, 0.5));
    }

    #[test]
    fn the_iou_table_has_a_line_per_frame_with_misses_at_zero() {
        let b = Some(Rect { x: 0.0, y: 0.0, w: 10.0, h: 10.0 });
        let half = Some(Rect { x: 5.0, y: 0.0, w: 10.0, h: 10.0 });
        let path = std::env::temp_dir().join(format!("aicoach-iou-{}.tsv", std::process::id()));
        write_ious(&path, &[b, half, None], &[b, b, b]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            text,
            "frame\treported\ttruth\tiou\n0\t0,0,10,10\t0,0,10,10\t1.00\n1\t5,0,10,10\t0,0,10,10\t0.33\n\
             2\t-\t0,0,10,10\t0.00\n"
        );
    }

    #[test]
    fn a_person_at_the_photo_corner_stays_centred_in_a_padded_crop_and_not_in_a_clipped_one() {
        let photo = image::RgbImage::from_pixel(100, 80, image::Rgb([200, 200, 200]));
        let person = Rect { x: 0.0, y: 0.0, w: 20.0, h: 40.0 };
        let (padded, origin) = crop_around(&photo, &person, CROP_SCALE, true);
        assert_eq!(padded.dimensions(), (60, 60));
        assert_eq!(origin, Point::new(-20.0, -10.0));
        let centre = person.center();
        assert_eq!((centre.x - origin.x, centre.y - origin.y), (30.0, 30.0));
        // Black past the photo's edge, the photo where it is.
        assert_eq!(padded.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(padded.get_pixel(25, 15).0, [200, 200, 200]);
        let (clipped, origin) = crop_around(&photo, &person, CROP_SCALE, false);
        assert_eq!((clipped.dimensions(), origin), ((40, 50), Point::new(0.0, 0.0)));
    }

    #[test]
    fn a_re_encoded_copy_is_scored_against_the_source_frame_its_timestamp_falls_on() {
        let v = Variant {
            size: Some((320, 180)),
            fps: Some(12),
            blur: None,
            scale: 0.5,
            rate: (30, 1),
            windows: None,
            inset: None,
        };
        let boxes: Vec<Option<Rect>> =
            (0..10).map(|i| Some(Rect { x: i as f32 * 10.0, y: 0.0, w: 20.0, h: 40.0 })).collect();
        // Frames at 0, 0.1 and 2/12 s fall on source frames 0, 3 and 5 of a 30 fps source; a
        // timestamp past the end takes the last box; no timestamp, no box.
        let report: Vec<Value> = [Some(0u64), Some(100_000_000), Some(166_666_667), Some(10_000_000_000), None]
            .iter()
            .map(|pts| serde_json::json!({ "pts": pts }))
            .collect();
        let refs: Vec<&Value> = report.iter().collect();
        let xs: Vec<Option<f32>> = v.truth(&refs, &boxes).iter().map(|b| b.map(|b| b.x)).collect();
        assert_eq!(xs, [Some(0.0), Some(15.0), Some(25.0), Some(45.0), None]);
        assert_eq!(v.truth(&refs, &boxes)[0].unwrap().h, 20.0);
        // A copy that starts two frames late (x264's delay) is counted from its first frame.
        let late: Vec<Value> =
            [66_666_667u64, 166_666_667, 233_333_334].iter().map(|pts| serde_json::json!({ "pts": pts })).collect();
        let refs: Vec<&Value> = late.iter().collect();
        let xs: Vec<Option<f32>> = v.truth(&refs, &boxes).iter().map(|b| b.map(|b| b.x)).collect();
        assert_eq!(xs, [Some(0.0), Some(15.0), Some(25.0)]);
        let line = v.launch("filesrc location=/v/a.mp4 ! decodebin", Path::new("/t/b.mp4"));
        assert!(line.contains("width=320,height=180,pixel-aspect-ratio=1/1,framerate=12/1"), "{line}");
        assert!(!line.contains("gaussianblur"), "{line}");
        let blurred = Variant { blur: Some(1.5), ..v.clone() }
            .launch("filesrc location=/v/a.mp4 ! decodebin", Path::new("/t/b.mp4"));
        assert!(
            blurred.contains("framerate=12/1 ! videoconvert ! gaussianblur sigma=1.5 ! videoconvert ! x264enc"),
            "{blurred}"
        );
        assert!(!Variant { fps: None, ..v.clone() }.launch("s", Path::new("/t/b.mp4")).contains("videorate"));
        // Filmed following: each box is cut to its frame's window and moved into its pixels.
        let window = |x: f32| Rect { x, y: 0.0, w: 40.0, h: 40.0 };
        let followed = Variant { windows: Some((0..10).map(|i| window(i as f32 * 10.0)).collect()), ..v };
        let refs: Vec<&Value> = report.iter().collect();
        let xs: Vec<Option<f32>> = followed.truth(&refs, &boxes).iter().map(|b| b.map(|b| b.x)).collect();
        assert_eq!(xs, [Some(0.0), Some(0.0), Some(0.0), Some(0.0), None]);
    }

    #[test]
    fn a_wide_shot_shrinks_the_picture_into_the_middle_of_a_black_frame_and_the_boxes_with_it() {
        let inset = Inset::of(0.33, (1768, 994));
        assert_eq!((inset.inner, inset.left, inset.top), ((582, 328), 593, 333));
        let v =
            Variant { size: None, fps: None, blur: None, scale: 1.0, rate: (30, 1), windows: None, inset: Some(inset) };
        let line = v.launch("filesrc location=/v/a.mp4 ! decodebin", Path::new("/t/b.mp4"));
        assert!(
            line.contains(
                "video/x-raw,width=582,height=328,pixel-aspect-ratio=1/1 ! \
                 videobox fill=black left=-593 right=-593 top=-333 bottom=-333 ! videoconvert ! x264enc"
            ),
            "{line}"
        );
        let boxes = [Some(Rect { x: 1768.0, y: 994.0, w: 176.8, h: 99.4 })];
        let report = [serde_json::json!({ "pts": 0 })];
        let b = v.truth(&report.iter().collect::<Vec<_>>(), &boxes)[0].unwrap();
        assert!((b.x - 1175.0).abs() < 0.01 && (b.y - 661.0).abs() < 0.01, "{b:?}");
        assert!((b.w - 58.2).abs() < 0.01 && (b.h - 32.8).abs() < 0.01, "{b:?}");
    }
}
