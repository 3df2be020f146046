// SPDX-License-Identifier: MPL-2.0
//! A camera that follows the athlete, made from a clip with athlete boxes: a window of the
//! frame centred on where the athlete was over the last few frames (an operator panning after
//! them, a little late), cut out of every frame. The athlete stays near the middle while the
//! ground, the spectators and the bystanders slide through the picture, as in broadcast sport;
//! the development clips were mostly filmed from a still camera.
//!
//! The windows come from the ground truth, as a real camera's aim comes from its operator's
//! eye; the elements analysing the copy see only its pictures.

use std::path::Path;

use aicoach_vision::geometry::{Point, Rect};

/// How many frames of the athlete's past centres the camera's aim averages: a quarter to a
/// third of a second at 30 to 50 fps, an operator who follows without anticipating.
pub const LAG_FRAMES: usize = 10;

/// The window each frame is cut to: `share` of the frame's width and height (even sizes, as
/// x264 needs), centred on the mean of the athlete's centres over the last `lag` frames with
/// a box (frames without one keep the last aim; before the first box, the first box's centre),
/// moved inside the frame where it would leave it. Integer corners, so cuts are exact.
pub fn windows(boxes: &[Option<Rect>], width: u32, height: u32, share: f32, lag: usize) -> Vec<Rect> {
    let even = |v: f32| ((v / 2.0).round() as u32 * 2).max(2);
    let (w, h) = (even(width as f32 * share).min(width), even(height as f32 * share).min(height));
    let first = boxes.iter().flatten().next().map(Rect::center);
    let frame_centre = Point::new(width as f32 / 2.0, height as f32 / 2.0);
    let mut recent: Vec<Point> = Vec::new();
    boxes
        .iter()
        .map(|b| {
            if let Some(b) = b {
                recent.push(b.center());
                if recent.len() > lag.max(1) {
                    recent.remove(0);
                }
            }
            let aim = match recent.len() {
                0 => first.unwrap_or(frame_centre),
                n => Point::new(
                    recent.iter().map(|p| p.x).sum::<f32>() / n as f32,
                    recent.iter().map(|p| p.y).sum::<f32>() / n as f32,
                ),
            };
            let x = (aim.x - w as f32 / 2.0).round().clamp(0.0, (width - w) as f32);
            let y = (aim.y - h as f32 / 2.0).round().clamp(0.0, (height - h) as f32);
            Rect { x, y, w: w as f32, h: h as f32 }
        })
        .collect()
}

/// The part of `b` inside `window`, in the window's pixels; `None` where the athlete is out
/// of the picture.
pub fn in_window(b: &Rect, window: &Rect) -> Option<Rect> {
    b.intersection(window).map(|r| Rect { x: r.x - window.x, y: r.y - window.y, ..r })
}

/// Cuts every PNG frame in `frames` (sorted by name, one per window) to its window and writes
/// it to `out` under the same name.
pub fn cut_frames(frames: &Path, windows: &[Rect], out: &Path) -> Result<(), String> {
    let mut names: Vec<_> = std::fs::read_dir(frames)
        .map_err(|e| format!("{}: {e}", frames.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    names.sort();
    if names.len() != windows.len() {
        return Err(format!("{} frames decoded, {} athlete boxes", names.len(), windows.len()));
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (name, w) in names.iter().zip(windows) {
        let picture = image::open(name).map_err(|e| format!("{}: {e}", name.display()))?.to_rgb8();
        let cut = image::imageops::crop_imm(&picture, w.x as u32, w.y as u32, w.w as u32, w.h as u32).to_image();
        let target = out.join(name.file_name().unwrap());
        cut.save(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32, y: f32) -> Option<Rect> {
        Some(Rect { x: x - 10.0, y: y - 20.0, w: 20.0, h: 40.0 })
    }

    #[test]
    fn the_window_follows_the_athlete_late_and_stays_in_the_frame() {
        // Half of a 400 x 200 frame: 200 x 100. The athlete runs right 10 px a frame.
        let boxes: Vec<Option<Rect>> = (0..6).map(|i| at(150.0 + 10.0 * i as f32, 100.0)).collect();
        let w = windows(&boxes, 400, 200, 0.5, 3);
        assert_eq!((w[0].w, w[0].h), (200.0, 100.0));
        assert_eq!((w[0].x, w[0].y), (50.0, 50.0));
        // Aimed at the mean of the last three centres (180, 190, 200): a frame behind the
        // athlete at 200.
        assert_eq!(w[5].x, 190.0 - 100.0);
        // Near the frame's edge, the window stops there.
        let edge = windows(&[at(390.0, 190.0)], 400, 200, 0.5, 3);
        assert_eq!((edge[0].x, edge[0].y), (200.0, 100.0));
        // Without a box, the last aim; before any, the first box's.
        let gaps = windows(&[None, at(200.0, 100.0), None], 400, 200, 0.5, 3);
        assert_eq!(gaps[0], gaps[1]);
        assert_eq!(gaps[1], gaps[2]);
    }

    #[test]
    fn a_box_is_cut_to_the_window_and_moved_into_its_pixels() {
        let window = Rect { x: 100.0, y: 50.0, w: 200.0, h: 100.0 };
        let b = Rect { x: 80.0, y: 60.0, w: 40.0, h: 20.0 };
        assert_eq!(in_window(&b, &window), Some(Rect { x: 0.0, y: 10.0, w: 20.0, h: 20.0 }));
        assert_eq!(in_window(&Rect { x: 0.0, y: 0.0, w: 50.0, h: 50.0 }, &window), None);
    }
}
