// SPDX-License-Identifier: MPL-2.0
//! Points, boxes, rotated regions of interest and the affine maps between crops and frames.

use std::f32::consts::PI;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    pub fn distance(self, other: Point) -> f32 {
        (self.x - other.x).hypot(self.y - other.y)
    }
}

/// An axis-aligned box: top-left corner, width and height, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub fn from_center(cx: f32, cy: f32, w: f32, h: f32) -> Self {
        Self { x: cx - w / 2.0, y: cy - h / 2.0, w, h }
    }

    pub fn from_corners(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
    }

    pub fn center(&self) -> Point {
        Point::new(self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// The box grown (or shrunk) `k` times in width and height about its centre.
    pub fn scaled(&self, k: f32) -> Rect {
        let c = self.center();
        Rect::from_center(c.x, c.y, self.w * k, self.h * k)
    }

    /// Whether `p` lies inside the box or on its border.
    pub fn contains(&self, p: Point) -> bool {
        p.x >= self.x && p.x <= self.x + self.w && p.y >= self.y && p.y <= self.y + self.h
    }

    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    pub fn iou(&self, other: &Rect) -> f32 {
        let inter = self.intersection(other).map_or(0.0, |r| r.area());
        let union = self.area() + other.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// The part the two boxes have in common; `None` where they do not overlap.
    pub fn intersection(&self, other: &Rect) -> Option<Rect> {
        let (x0, y0) = (self.x.max(other.x), self.y.max(other.y));
        let (x1, y1) = ((self.x + self.w).min(other.x + other.w), (self.y + self.h).min(other.y + other.h));
        (x1 > x0 && y1 > y0).then_some(Rect { x: x0, y: y0, w: x1 - x0, h: y1 - y0 })
    }

    /// The smallest box holding both.
    pub fn union(&self, other: &Rect) -> Rect {
        let (x0, y0) = (self.x.min(other.x), self.y.min(other.y));
        let (x1, y1) = ((self.x + self.w).max(other.x + other.w), (self.y + self.h).max(other.y + other.h));
        Rect::from_corners(x0, y0, x1, y1)
    }

    /// The smallest box holding all `points`; `None` when there are none.
    pub fn bounding(points: impl IntoIterator<Item = Point>) -> Option<Rect> {
        let mut it = points.into_iter();
        let first = it.next()?;
        let (mut x0, mut y0, mut x1, mut y1) = (first.x, first.y, first.x, first.y);
        for p in it {
            x0 = x0.min(p.x);
            y0 = y0.min(p.y);
            x1 = x1.max(p.x);
            y1 = y1.max(p.y);
        }
        Some(Rect::from_corners(x0, y0, x1, y1))
    }
}

/// A rectangle in the frame, rotated by `rotation` radians about its centre: the region a
/// top-down model is run on (MediaPipe's "normalized rect", in pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    pub center: Point,
    pub width: f32,
    pub height: f32,
    pub rotation: f32,
}

impl RotatedRect {
    /// The square of the frame's longer side centred on the frame: letterboxing as an ROI.
    pub fn letterbox(frame_width: u32, frame_height: u32) -> Self {
        Self::letterbox_to(frame_width, frame_height, 1, 1)
    }

    /// MediaPipe's alignment-points ROI: centred on `center`, a square of side
    /// `2 * |edge - center| * scale`, rotated so that `center -> edge` points up (90 degrees).
    pub fn from_alignment(center: Point, edge: Point, scale: f32) -> Self {
        let side = 2.0 * center.distance(edge) * scale;
        Self { center, width: side, height: side, rotation: upright_rotation(center, edge) }
    }

    /// The map from pixel coordinates of a `size` x `size` crop of this region to the frame.
    pub fn crop_to_frame(&self, size: usize) -> Affine {
        self.crop_to_frame_sized(size, size)
    }

    /// The map from pixel coordinates of a `cols` x `rows` crop of this region to the frame.
    pub fn crop_to_frame_sized(&self, cols: usize, rows: usize) -> Affine {
        let (s, c) = self.rotation.sin_cos();
        let kx = self.width / cols as f32;
        let ky = self.height / rows as f32;
        let (a, b, d, e) = (c * kx, -s * ky, s * kx, c * ky);
        let (half_x, half_y) = (cols as f32 / 2.0, rows as f32 / 2.0);
        Affine {
            a,
            b,
            c: self.center.x - (a * half_x + b * half_y),
            d,
            e,
            f: self.center.y - (d * half_x + e * half_y),
        }
    }

    /// The frame letterboxed to a `cols` x `rows` input: the frame's whole width or height,
    /// whichever fills the input first, the rest padding, centred.
    pub fn letterbox_to(frame_width: u32, frame_height: u32, cols: usize, rows: usize) -> Self {
        let frame = Rect { x: 0.0, y: 0.0, w: frame_width as f32, h: frame_height as f32 };
        Self::letterbox_area(&frame, cols, rows)
    }

    /// `area` of a frame letterboxed to a `cols` x `rows` input, as [`Self::letterbox_to`]
    /// does the whole frame.
    pub fn letterbox_area(area: &Rect, cols: usize, rows: usize) -> Self {
        let scale = (area.w / cols as f32).max(area.h / rows as f32);
        Self { center: area.center(), width: cols as f32 * scale, height: rows as f32 * scale, rotation: 0.0 }
    }

    /// The axis-aligned box around the rotated rectangle.
    pub fn bounding_rect(&self) -> Rect {
        let (s, c) = self.rotation.sin_cos();
        let w = (self.width * c).abs() + (self.height * s).abs();
        let h = (self.width * s).abs() + (self.height * c).abs();
        Rect::from_center(self.center.x, self.center.y, w, h)
    }
}

/// The rotation of a region that shows `from -> to` pointing up (hips -> shoulders: a body
/// upright): 0 when it already does, a quarter turn when it points along +x.
pub fn upright_rotation(from: Point, to: Point) -> f32 {
    normalize_angle(PI / 2.0 - (-(to.y - from.y)).atan2(to.x - from.x))
}

/// Where point `p` of a `width` x `height` picture lands when the picture is turned clockwise by
/// `quarters` quarter turns (as `image::imageops::rotate90` and GStreamer's `videoflip
/// video-direction=90r` turn it).
pub fn turned_clockwise(p: Point, quarters: u32, width: f32, height: f32) -> Point {
    match quarters % 4 {
        1 => Point::new(height - p.y, p.x),
        2 => Point::new(width - p.x, height - p.y),
        3 => Point::new(p.y, width - p.x),
        _ => p,
    }
}

/// Wraps an angle into [-pi, pi).
pub fn normalize_angle(a: f32) -> f32 {
    a - 2.0 * PI * ((a + PI) / (2.0 * PI)).floor()
}

/// `(x, y) -> (a x + b y + c, d x + e y + f)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub a: f32,
    pub b: f32,
    pub c: f32,
    pub d: f32,
    pub e: f32,
    pub f: f32,
}

impl Affine {
    pub fn apply(&self, p: Point) -> Point {
        Point::new(self.a * p.x + self.b * p.y + self.c, self.d * p.x + self.e * p.y + self.f)
    }

    /// How many frame pixels one crop pixel spans (the larger of the two axes).
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.d).max(self.b.hypot(self.e))
    }

    /// ... and along the shorter of the two axes (a crop stretched to a square model input).
    pub fn min_scale(&self) -> f32 {
        self.a.hypot(self.d).min(self.b.hypot(self.e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn iou_of_known_boxes() {
        let a = Rect { x: 0.0, y: 0.0, w: 10.0, h: 10.0 };
        let b = Rect { x: 5.0, y: 0.0, w: 10.0, h: 10.0 };
        assert!(close(a.iou(&b), 50.0 / 150.0));
        assert!(close(a.iou(&a), 1.0));
        assert_eq!(a.iou(&Rect { x: 20.0, y: 20.0, w: 1.0, h: 1.0 }), 0.0);
        assert!(a.contains(Point::new(10.0, 5.0)) && !a.contains(Point::new(10.1, 5.0)));
        let b = Rect { x: 5.0, y: -2.0, w: 10.0, h: 4.0 };
        assert_eq!(a.intersection(&b), Some(Rect { x: 5.0, y: 0.0, w: 5.0, h: 2.0 }));
        assert_eq!(a.intersection(&Rect { x: 10.0, y: 0.0, w: 1.0, h: 1.0 }), None, "touching edges share nothing");
        assert_eq!(a.union(&b), Rect { x: 0.0, y: -2.0, w: 15.0, h: 12.0 });
    }

    #[test]
    fn a_point_turns_with_the_picture() {
        // A 4x2 picture: its top-left corner goes to the top-right of the 2x4 picture turned a
        // quarter clockwise, the bottom-right of the one turned half round, the bottom-left of
        // three quarters; four quarters bring it back.
        let p = Point::new(0.0, 0.0);
        assert_eq!(turned_clockwise(p, 1, 4.0, 2.0), Point::new(2.0, 0.0));
        assert_eq!(turned_clockwise(p, 2, 4.0, 2.0), Point::new(4.0, 2.0));
        assert_eq!(turned_clockwise(p, 3, 4.0, 2.0), Point::new(0.0, 4.0));
        let q = Point::new(1.0, 0.5);
        assert_eq!(turned_clockwise(turned_clockwise(q, 1, 4.0, 2.0), 3, 2.0, 4.0), q);
        assert_eq!(turned_clockwise(q, 4, 4.0, 2.0), q);
    }

    #[test]
    fn upright_alignment_has_no_rotation() {
        // Edge point straight above the centre (y grows downwards): the person stands upright.
        let roi = RotatedRect::from_alignment(Point::new(100.0, 200.0), Point::new(100.0, 150.0), 1.25);
        assert!(close(roi.rotation, 0.0), "{}", roi.rotation);
        assert!(close(roi.width, 125.0));
        // Lying to the right: the body axis points along +x, a quarter turn.
        let roi = RotatedRect::from_alignment(Point::new(100.0, 200.0), Point::new(150.0, 200.0), 1.0);
        assert!(close(roi.rotation, PI / 2.0), "{}", roi.rotation);
    }

    #[test]
    fn crop_corners_map_to_the_rotated_square() {
        let roi = RotatedRect { center: Point::new(50.0, 40.0), width: 20.0, height: 20.0, rotation: PI / 2.0 };
        let m = roi.crop_to_frame(256);
        let c = m.apply(Point::new(128.0, 128.0));
        assert!(close(c.x, 50.0) && close(c.y, 40.0));
        // The crop's "up" (v decreasing) follows the rotation: top centre of the crop lands to
        // the centre's right in the frame for a quarter turn.
        let top = m.apply(Point::new(128.0, 0.0));
        assert!(close(top.x, 60.0) && close(top.y, 40.0), "{top:?}");
        assert!(close(m.scale(), 20.0 / 256.0));
    }

    #[test]
    fn letterbox_square_covers_the_frame() {
        let roi = RotatedRect::letterbox(640, 480);
        let m = roi.crop_to_frame(224);
        let tl = m.apply(Point::new(0.0, 0.0));
        assert!(close(tl.x, 0.0) && close(tl.y, -80.0), "{tl:?}");
        assert!(close(roi.bounding_rect().w, 640.0));
    }

    #[test]
    fn letterbox_to_a_wide_input_pads_only_what_the_aspect_leaves() {
        // 1280x720 into 416x256: 1280 fills the width (scale 3.077), 720 of 787.7 rows are
        // frame, 33.8 frame pixels of padding above and below.
        let roi = RotatedRect::letterbox_to(1280, 720, 416, 256);
        let m = roi.crop_to_frame_sized(416, 256);
        let (tl, br) = (m.apply(Point::new(0.0, 0.0)), m.apply(Point::new(416.0, 256.0)));
        assert!(close(tl.x, 0.0) && close(br.x, 1280.0), "{tl:?} {br:?}");
        assert!(close(tl.y, -33.846) && close(br.y, 753.846), "{tl:?} {br:?}");
        assert!(close(m.scale(), 1280.0 / 416.0));
        assert!(close(m.min_scale(), m.scale()), "letterboxing keeps the aspect");
        // A 4:3 frame stretched to a square shrinks one axis more than the other.
        let stretched = RotatedRect { center: Point::new(384.0, 288.0), width: 768.0, height: 576.0, rotation: 0.0 };
        let s = stretched.crop_to_frame_sized(300, 300);
        assert!(close(s.scale(), 2.56) && close(s.min_scale(), 1.92), "{} {}", s.scale(), s.min_scale());
        // A tall frame fills the rows instead.
        let tall = RotatedRect::letterbox_to(720, 1280, 256, 416);
        assert!(close(tall.height, 1280.0) && close(tall.width, 256.0 * 1280.0 / 416.0), "{tall:?}");
    }
}
