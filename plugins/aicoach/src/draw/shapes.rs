// SPDX-License-Identifier: MPL-2.0
//! Anti-aliased lines, discs and boxes: each pixel is covered by how far its centre lies
//! inside the shape, within half a pixel of the edge.

use aicoach_vision::{Point, Rect};

use super::canvas::{Canvas, Rgb};

fn distance_to_segment(p: Point, a: Point, b: Point) -> f32 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    p.distance(Point::new(a.x + t * dx, a.y + t * dy))
}

/// A line `width` pixels wide with round ends.
pub fn line(canvas: &mut Canvas, a: Point, b: Point, width: f32, colour: Rgb) {
    let r = width / 2.0;
    let x0 = (a.x.min(b.x) - r - 1.0).floor() as i32;
    let x1 = (a.x.max(b.x) + r + 1.0).ceil() as i32;
    let y0 = (a.y.min(b.y) - r - 1.0).floor() as i32;
    let y1 = (a.y.max(b.y) + r + 1.0).ceil() as i32;
    let (x0, x1) = (x0.max(0), x1.min(canvas.width() as i32 - 1));
    let (y0, y1) = (y0.max(0), y1.min(canvas.height() as i32 - 1));
    for y in y0..=y1 {
        for x in x0..=x1 {
            let d = distance_to_segment(Point::new(x as f32 + 0.5, y as f32 + 0.5), a, b);
            canvas.blend(x, y, colour, r + 0.5 - d);
        }
    }
}

pub fn disc(canvas: &mut Canvas, c: Point, radius: f32, colour: Rgb) {
    line(canvas, c, c, 2.0 * radius, colour);
}

pub fn rect_outline(canvas: &mut Canvas, r: &Rect, width: f32, colour: Rgb) {
    let (x0, y0, x1, y1) = (r.x, r.y, r.x + r.w, r.y + r.h);
    for (a, b) in [((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))] {
        line(canvas, Point::new(a.0, a.1), Point::new(b.0, b.1), width, colour);
    }
}

/// A translucent filled box (behind text).
pub fn fill(canvas: &mut Canvas, r: &Rect, colour: Rgb, alpha: f32) {
    for y in r.y.floor() as i32..(r.y + r.h).ceil() as i32 {
        for x in r.x.floor() as i32..(r.x + r.w).ceil() as i32 {
            canvas.blend(x, y, colour, alpha);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::canvas::{Matrix, PixelLayout};
    use super::*;

    #[test]
    fn a_line_covers_its_middle_and_fades_at_its_edge() {
        let (w, h) = (20usize, 20usize);
        let mut rgba = vec![0u8; w * h * 4];
        let (mut e1, mut e2): ([u8; 0], [u8; 0]) = ([], []);
        let mut c = Canvas::new(
            PixelLayout::Packed { bytes: 4, rgb: [0, 1, 2] },
            Matrix::Bt601,
            w as u32,
            h as u32,
            [&mut rgba, &mut e1, &mut e2],
            [w * 4, 0, 0],
        );
        line(&mut c, Point::new(2.0, 10.0), Point::new(18.0, 10.0), 3.0, Rgb(0, 255, 0));
        assert_eq!(c.rgb(10, 9), [0, 255, 0]);
        assert_eq!(c.rgb(10, 10), [0, 255, 0]);
        // The pixel row whose centre is 2 px away gets partial coverage, farther ones none.
        let edge = c.rgb(10, 11)[1];
        assert!(edge > 0 && edge < 255, "{edge}");
        assert_eq!(c.rgb(10, 14), [0, 0, 0]);
    }
}
