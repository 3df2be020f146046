// SPDX-License-Identifier: MPL-2.0
//! The athlete's colours: coarse hue/saturation histograms of the upper and the lower body,
//! compared with the Bhattacharyya coefficient. Cheap, robust to pose and brightness changes,
//! and what tells the athlete's suit from a bystander's jacket when the tracker must choose
//! between detections. Two halves, because a blue top over a pink skirt and a pink top over
//! blue trousers have the same single histogram.

use crate::Rect;
use crate::image::RgbSource;

const HUES: usize = 12;
/// Chromatic bins (hue x two saturation levels x two brightness levels) then grey levels.
const CHROMATIC: usize = HUES * 2 * 2;
const GREYS: usize = 4;
pub const BINS: usize = CHROMATIC + GREYS;
/// Samples per axis over each half of the box.
const GRID: usize = 24;
/// Fraction of the box width sampled, centred: the sides are mostly background.
const INNER_W: f32 = 0.6;
/// Fraction of the box height sampled (head and feet are small and often background).
const INNER_H: f32 = 0.8;
/// Below this saturation a colour counts as grey, whatever its hue.
const GREY_SATURATION: f32 = 0.2;

fn bin(rgb: [f32; 3]) -> usize {
    let [r, g, b] = rgb.map(|v| v / 255.0);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let chroma = max - min;
    let saturation = if max > 0.0 { chroma / max } else { 0.0 };
    if saturation < GREY_SATURATION || max < 0.1 {
        return CHROMATIC + ((max * GREYS as f32) as usize).min(GREYS - 1);
    }
    let hue = if max == r {
        ((g - b) / chroma).rem_euclid(6.0)
    } else if max == g {
        (b - r) / chroma + 2.0
    } else {
        (r - g) / chroma + 4.0
    } / 6.0;
    let h = ((hue * HUES as f32) as usize).min(HUES - 1);
    let s = usize::from(saturation > 0.55);
    let v = usize::from(max > 0.55);
    (h * 2 + s) * 2 + v
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColourModel {
    /// Upper and lower half of the body.
    halves: [[f32; BINS]; 2],
}

impl ColourModel {
    /// The histograms of `rect` in `src`; `None` when the box lies outside the frame.
    pub fn from_frame<S: RgbSource + ?Sized>(src: &S, rect: &Rect) -> Option<Self> {
        let (w, h) = (src.width() as f32, src.height() as f32);
        let (iw, ih) = (rect.w * INNER_W, rect.h * INNER_H);
        let (x0, y0) = (rect.x + (rect.w - iw) / 2.0, rect.y + (rect.h - ih) / 2.0);
        let mut halves = [[0f32; BINS]; 2];
        for (half, bins) in halves.iter_mut().enumerate() {
            let mut n = 0.0;
            for j in 0..GRID {
                for i in 0..GRID {
                    let x = x0 + (i as f32 + 0.5) / GRID as f32 * iw;
                    let y = y0 + (half as f32 + (j as f32 + 0.5) / GRID as f32) * ih / 2.0;
                    if !(x >= 0.0 && y >= 0.0 && x < w && y < h) {
                        continue;
                    }
                    bins[bin(src.rgb(x as u32, y as u32))] += 1.0;
                    n += 1.0;
                }
            }
            if n == 0.0 {
                return None;
            }
            bins.iter_mut().for_each(|b| *b /= n);
        }
        Some(Self { halves })
    }

    /// Mean Bhattacharyya coefficient of the two halves: 1 for identical colour distributions,
    /// 0 for disjoint ones.
    pub fn similarity(&self, other: &ColourModel) -> f32 {
        let half = |i: usize| -> f32 { self.halves[i].iter().zip(&other.halves[i]).map(|(a, b)| (a * b).sqrt()).sum() };
        (half(0) + half(1)) / 2.0
    }

    /// Moves the model towards `observed` by `rate` (0..1).
    pub fn blend(&mut self, observed: &ColourModel, rate: f32) {
        for (mine, seen) in self.halves.iter_mut().zip(&observed.halves) {
            for (m, o) in mine.iter_mut().zip(seen) {
                *m = (1.0 - rate) * *m + rate * o;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::PackedView;

    fn two_people() -> Vec<u8> {
        // 20x10: a red person at the left, a blue one at the right, grey between.
        let mut d = Vec::new();
        for _ in 0..10 {
            for x in 0..20 {
                d.extend_from_slice(match x {
                    0..=5 => &[220u8, 30, 30],
                    14..=19 => &[30, 30, 220],
                    _ => &[128, 128, 128],
                });
            }
        }
        d
    }

    #[test]
    fn tells_two_differently_dressed_people_apart() {
        let data = two_people();
        let view = PackedView::rgb(&data, 20, 10).unwrap();
        let red = ColourModel::from_frame(&view, &Rect { x: 0.0, y: 0.0, w: 6.0, h: 10.0 }).unwrap();
        let red_again = ColourModel::from_frame(&view, &Rect { x: 0.5, y: 1.0, w: 5.0, h: 8.0 }).unwrap();
        let blue = ColourModel::from_frame(&view, &Rect { x: 14.0, y: 0.0, w: 6.0, h: 10.0 }).unwrap();
        assert!(red.similarity(&red_again) > 0.99);
        assert!(red.similarity(&blue) < 0.01);
        assert!(ColourModel::from_frame(&view, &Rect { x: 100.0, y: 0.0, w: 5.0, h: 5.0 }).is_none());
    }

    #[test]
    fn top_and_bottom_are_told_apart() {
        // 10x20: a blue top over a pink bottom, and the same colours swapped.
        let person = |top: [u8; 3], bottom: [u8; 3]| {
            let mut d = Vec::new();
            for y in 0..20 {
                for _ in 0..10 {
                    d.extend_from_slice(if y < 10 { &top } else { &bottom });
                }
            }
            d
        };
        let (blue, pink) = ([40u8, 80, 200], [230u8, 120, 160]);
        let a = person(blue, pink);
        let b = person(pink, blue);
        let full = Rect { x: 0.0, y: 0.0, w: 10.0, h: 20.0 };
        let ma = ColourModel::from_frame(&PackedView::rgb(&a, 10, 20).unwrap(), &full).unwrap();
        let mb = ColourModel::from_frame(&PackedView::rgb(&b, 10, 20).unwrap(), &full).unwrap();
        assert!(ma.similarity(&ma) > 0.99);
        assert!(ma.similarity(&mb) < 0.1, "{}", ma.similarity(&mb));
    }

    #[test]
    fn greys_ignore_hue_and_brightness_counts() {
        assert_eq!(bin([20.0, 20.0, 22.0]), bin([21.0, 19.0, 20.0]));
        assert_ne!(bin([30.0, 30.0, 30.0]), bin([230.0, 230.0, 230.0]));
        assert_ne!(bin([200.0, 30.0, 30.0]), bin([30.0, 30.0, 200.0]));
    }

    #[test]
    fn blending_moves_towards_the_observation() {
        let data = two_people();
        let view = PackedView::rgb(&data, 20, 10).unwrap();
        let mut m = ColourModel::from_frame(&view, &Rect { x: 0.0, y: 0.0, w: 6.0, h: 10.0 }).unwrap();
        let blue = ColourModel::from_frame(&view, &Rect { x: 14.0, y: 0.0, w: 6.0, h: 10.0 }).unwrap();
        let before = m.similarity(&blue);
        m.blend(&blue, 0.5);
        assert!(m.similarity(&blue) > before);
    }
}
