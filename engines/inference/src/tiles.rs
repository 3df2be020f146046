// SPDX-License-Identifier: MPL-2.0
//! Looking for people too small for a detector that sees the whole frame at once: a detector's
//! input is a few hundred pixels wide, so in a wide shot of a large frame (a jumper 100 px tall
//! in 1768x994: 23 px at NanoDet's 416x320) the athlete is below what it resolves. The frame is
//! looked at again in overlapping tiles, each at the model's full input: first of half its width
//! and height (people twice as large to the model), then, where those find nobody either, of a
//! third (three times as large).

use aicoach_vision::Detection;
use aicoach_vision::geometry::Rect;

/// One way of cutting a frame into tiles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tiling {
    /// A tile's width and height as a share of the frame's.
    pub share: f32,
    /// Tiles along each side, evenly spread from one edge of the frame to the other.
    pub per_side: usize,
}

/// Half the frame, nine tiles, their centres a quarter of the frame apart: neighbouring tiles
/// share half their width, and anyone up to a quarter of the frame's size lies whole in one.
/// Anyone larger the whole-frame look finds.
pub const HALVES: Tiling = Tiling { share: 0.5, per_side: 3 };
/// A third of the frame, 25 tiles, a sixth apart: anyone up to a sixth of the frame's size lies
/// whole in one (sports2d's jumper shrunk to a quarter, 97 px of 994, whom the halves miss).
pub const THIRDS: Tiling = Tiling { share: 1.0 / 3.0, per_side: 5 };
/// The tilings in the order they are tried.
pub const TILINGS: [Tiling; 2] = [HALVES, THIRDS];
/// Tiles are looked at only where each holds at least this share of the model's input in
/// pixels (along its longer side): a tile the model enlarges adds no detail.
const MIN_TILE_SHARE_OF_INPUT: f32 = 0.9;
/// A box within this many of the frame's pixels of a tile's edge inside the frame is cut by it;
/// the person lies whole in the next tile.
const EDGE_PIXELS: f32 = 2.0;

/// The tiles of a `width` x `height` frame for a model fed `input` (columns, rows), in frame
/// pixels; none where the frame is too small for such tiles to show the model more than it sees.
pub fn tiles(tiling: Tiling, width: u32, height: u32, input: (usize, usize)) -> Vec<Rect> {
    let (w, h) = (width as f32, height as f32);
    let (tile_w, tile_h) = (w * tiling.share, h * tiling.share);
    if tiling.per_side < 2 || tile_w.max(tile_h) < MIN_TILE_SHARE_OF_INPUT * input.0.max(input.1) as f32 {
        return Vec::new();
    }
    let step = (1.0 - tiling.share) / (tiling.per_side - 1) as f32;
    let mut out = Vec::with_capacity(tiling.per_side * tiling.per_side);
    for row in 0..tiling.per_side {
        for col in 0..tiling.per_side {
            out.push(Rect { x: col as f32 * step * w, y: row as f32 * step * h, w: tile_w, h: tile_h });
        }
    }
    out
}

/// A person this many pixels tall (or wide) in the whole-frame look, or smaller, gets a look at
/// a window around them ([`window_around`]): NanoDet-m's scores fall off below about this.
const SMALL_IN_INPUT: f32 = 64.0;
/// The window is chosen so the person is about this large in the model's input.
const TARGET_IN_INPUT: f32 = 80.0;
/// The model enlarges a window at most this much (a person 20 px tall in the frame stays a
/// blur, however large), unless half the frame is smaller than that leaves: in a frame under
/// twice the model's input the window is half the frame.
const MAX_UPSCALE: f32 = 2.0;

/// A window of a `width` x `height` frame, fed at `input` (columns, rows), around `person`
/// where they are too small for the whole-frame look: a frame's window at the model's aspect
/// in which they fill about [`TARGET_IN_INPUT`] pixels, enlarged at most [`MAX_UPSCALE`] times,
/// at most half the frame's size (which wins over the enlargement limit), inside the frame. `None` where the whole-frame look sees them large enough.
pub fn window_around(person: &Rect, width: u32, height: u32, input: (usize, usize)) -> Option<Rect> {
    let (w, h) = (width as f32, height as f32);
    let (cols, rows) = (input.0 as f32, input.1 as f32);
    let longer = person.w.max(person.h);
    let whole_scale = (cols / w).min(rows / h);
    // A box from an event anyone upstream could send: nothing to look around unless it is one.
    let finite = [person.x, person.y, longer].iter().all(|v| v.is_finite());
    if !finite || longer <= 0.0 || longer * whole_scale >= SMALL_IN_INPUT {
        return None;
    }
    // Model pixels per frame pixel in the window: enough to show the person at the target size
    // but no more than the upscale limit, and at least what a window of half the frame gets.
    let half = HALVES.share;
    let scale = (TARGET_IN_INPUT / longer).min(MAX_UPSCALE).max((cols / (w * half)).max(rows / (h * half)));
    let (win_w, win_h) = ((cols / scale).min(w), (rows / scale).min(h));
    let c = person.center();
    let x = (c.x - win_w / 2.0).clamp(0.0, w - win_w);
    let y = (c.y - win_h / 2.0).clamp(0.0, h - win_h);
    Some(Rect { x, y, w: win_w, h: win_h })
}

/// Whether `found` in `tile` of a `width` x `height` frame is a whole person: not cut by an edge
/// of the tile that lies inside the frame (a part of someone the neighbouring tile holds whole).
pub fn is_whole(found: &Detection, tile: &Rect, width: u32, height: u32) -> bool {
    let b = &found.bbox;
    let inner = |tile_edge: f32, frame_edge: f32| (tile_edge - frame_edge).abs() > EDGE_PIXELS;
    let cut = |edge: f32, tile_edge: f32, frame_edge: f32| {
        inner(tile_edge, frame_edge) && (edge - tile_edge).abs() <= EDGE_PIXELS
    };
    !(cut(b.x, tile.x, 0.0)
        || cut(b.y, tile.y, 0.0)
        || cut(b.x + b.w, tile.x + tile.w, width as f32)
        || cut(b.y + b.h, tile.y + tile.h, height as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_half_size_tiles_cover_a_large_frame_and_none_a_small_one() {
        let t = tiles(HALVES, 1768, 994, (416, 320));
        assert_eq!(t.len(), 9);
        // Corners to corners, each half the frame.
        assert_eq!((t[0].x, t[0].y, t[0].w, t[0].h), (0.0, 0.0, 884.0, 497.0));
        let last = t[8];
        assert!(((last.x + last.w) - 1768.0).abs() < 0.01 && ((last.y + last.h) - 994.0).abs() < 0.01);
        // Anyone a quarter of the frame's size lies whole in one of them.
        let person = Rect { x: 700.0, y: 380.0, w: 1768.0 / 4.0, h: 994.0 / 4.0 };
        let holds = |tile: &Rect| tile.intersection(&person).is_some_and(|i| (i.area() - person.area()).abs() < 1.0);
        assert!(t.iter().any(holds), "{person:?}");
        // A 640x360 frame is about the model's input already.
        assert!(tiles(HALVES, 640, 360, (416, 256)).is_empty());
        assert_eq!(tiles(HALVES, 1280, 720, (416, 256)).len(), 9);
        // Thirds: 25, a sixth of the frame apart, from 1120 px or so.
        let thirds = tiles(THIRDS, 1768, 994, (416, 320));
        assert_eq!(thirds.len(), 25);
        assert!((thirds[1].x - 1768.0 / 6.0).abs() < 0.01 && (thirds[24].x + thirds[24].w - 1768.0).abs() < 0.01);
        assert!(tiles(THIRDS, 1024, 576, (416, 256)).is_empty());
        assert_eq!(tiles(THIRDS, 1280, 720, (416, 256)).len(), 25);
    }

    #[test]
    fn a_small_person_gets_a_window_that_shows_them_larger_and_a_large_one_none() {
        let input = (416, 320);
        // 100 px tall in 1768x994: 23 px in the whole-frame look.
        let small = Rect { x: 800.0, y: 380.0, w: 40.0, h: 100.0 };
        let win = window_around(&small, 1768, 994, input).unwrap();
        let scale = 416.0 / win.w;
        assert!((70.0..=100.0).contains(&(small.h * scale)), "{} px in the window's look", small.h * scale);
        assert!((win.w / win.h - 416.0 / 320.0).abs() < 1e-3);
        let inside = win.intersection(&small).is_some_and(|i| (i.area() - small.area()).abs() < 1.0);
        assert!(inside, "{win:?}");
        // At the frame's corner the window stays inside the frame.
        let corner = window_around(&Rect { x: 1740.0, y: 960.0, w: 20.0, h: 30.0 }, 1768, 994, input).unwrap();
        assert!(corner.x + corner.w <= 1768.01 && corner.y + corner.h <= 994.01 && corner.x >= 0.0);
        // Never more than twice the model's input: 20 px people are not enlarged further.
        assert!(corner.w >= 416.0 / 2.0 - 0.01);
        // Someone 400 px tall the whole-frame look sees well; half the frame's width at most.
        assert_eq!(window_around(&Rect { x: 800.0, y: 300.0, w: 150.0, h: 400.0 }, 1768, 994, input), None);
        // Nonsense boxes (an event anyone upstream may send): no window.
        for nonsense in [
            Rect { x: f32::NAN, y: 0.0, w: 40.0, h: 100.0 },
            Rect { x: 0.0, y: 0.0, w: 0.0, h: -5.0 },
            Rect { x: 0.0, y: f32::INFINITY, w: 40.0, h: 100.0 },
        ] {
            assert_eq!(window_around(&nonsense, 1768, 994, input), None, "{nonsense:?}");
        }
        // Far outside the frame: a window inside it all the same.
        let outside = window_around(&Rect { x: -5000.0, y: 9000.0, w: 40.0, h: 100.0 }, 1768, 994, input).unwrap();
        assert!(outside.x == 0.0 && outside.y + outside.h <= 994.01, "{outside:?}");
        let medium = window_around(&Rect { x: 800.0, y: 300.0, w: 100.0, h: 250.0 }, 1768, 994, input).unwrap();
        assert!(medium.w <= 884.01, "{medium:?}");
    }

    #[test]
    fn a_box_cut_by_a_tile_edge_inside_the_frame_is_not_a_whole_person() {
        let tile = Rect { x: 442.0, y: 0.0, w: 884.0, h: 497.0 };
        let at = |x, y, w, h| Detection::boxed(Rect { x, y, w, h }, 0.9);
        assert!(is_whole(&at(600.0, 100.0, 40.0, 100.0), &tile, 1768, 994));
        // Cut by the tile's left and bottom edges, which lie inside the frame.
        assert!(!is_whole(&at(442.0, 100.0, 40.0, 100.0), &tile, 1768, 994));
        assert!(!is_whole(&at(600.0, 400.0, 40.0, 97.0), &tile, 1768, 994));
        // The tile's top edge is the frame's: someone cut by it is cut by the picture itself.
        assert!(is_whole(&at(600.0, 0.0, 40.0, 100.0), &tile, 1768, 994));
    }
}
