// SPDX-License-Identifier: MPL-2.0
//! A frame to draw on, in place, in its own format: packed RGB variants, I420 and NV12.
//! Drawing is blending a colour into a pixel with a coverage (anti-aliasing); on YUV frames
//! the colour is converted once and each luma pixel also blends its coverage into the chroma
//! sample it shares with three others (blending the same colour again only moves it closer,
//! so a thin line's chroma is as strong as its best-covered pixel, not a quarter of it).

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The YUV matrix of a frame (limited range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matrix {
    Bt601,
    Bt709,
}

impl Matrix {
    fn coefficients(self) -> (f32, f32) {
        match self {
            Matrix::Bt601 => (0.299, 0.114),
            Matrix::Bt709 => (0.2126, 0.0722),
        }
    }

    pub fn to_yuv(self, c: Rgb) -> [f32; 3] {
        let (kr, kb) = self.coefficients();
        let (r, g, b) = (c.0 as f32 / 255.0, c.1 as f32 / 255.0, c.2 as f32 / 255.0);
        let y = kr * r + (1.0 - kr - kb) * g + kb * b;
        let u = (b - y) / (2.0 * (1.0 - kb));
        let v = (r - y) / (2.0 * (1.0 - kr));
        [16.0 + 219.0 * y, 128.0 + 224.0 * u, 128.0 + 224.0 * v]
    }

    pub fn to_rgb(self, yuv: [u8; 3]) -> [u8; 3] {
        let (kr, kb) = self.coefficients();
        let y = (yuv[0] as f32 - 16.0) / 219.0;
        let u = (yuv[1] as f32 - 128.0) / 224.0;
        let v = (yuv[2] as f32 - 128.0) / 224.0;
        let r = y + 2.0 * (1.0 - kr) * v;
        let b = y + 2.0 * (1.0 - kb) * u;
        let g = (y - kr * r - kb * b) / (1.0 - kr - kb);
        [r, g, b].map(|c| (c * 255.0).round().clamp(0.0, 255.0) as u8)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelLayout {
    /// Bytes per pixel and the byte offsets of R, G and B within a pixel.
    Packed {
        bytes: usize,
        rgb: [usize; 3],
    },
    I420,
    Nv12,
}

pub struct Canvas<'a> {
    layout: PixelLayout,
    matrix: Matrix,
    width: i32,
    height: i32,
    planes: [&'a mut [u8]; 3],
    strides: [usize; 3],
}

fn mix(dst: &mut u8, src: f32, alpha: f32) {
    let d = *dst as f32;
    // Rounded by adding a half and truncating (the value is clamped first, so never
    // negative), not with `round`: that is a libm call per channel of every blended pixel on
    // the baseline x86-64 target, 1 % of a whole pipeline's CPU samples in `perf`.
    *dst = ((d + (src - d) * alpha).clamp(0.0, 255.0) + 0.5) as u8;
}

impl<'a> Canvas<'a> {
    /// `planes` and `strides`: one for packed formats, Y/U/V for I420, Y/UV for NV12 (the
    /// unused entries empty).
    pub fn new(
        layout: PixelLayout,
        matrix: Matrix,
        width: u32,
        height: u32,
        planes: [&'a mut [u8]; 3],
        strides: [usize; 3],
    ) -> Self {
        Self { layout, matrix, width: width as i32, height: height as i32, planes, strides }
    }

    pub fn width(&self) -> u32 {
        self.width as u32
    }

    pub fn height(&self) -> u32 {
        self.height as u32
    }

    /// Blends `colour` into pixel (x, y) with coverage `alpha` (0..1); outside the frame,
    /// nothing.
    pub fn blend(&mut self, x: i32, y: i32, colour: Rgb, alpha: f32) {
        if x < 0 || y < 0 || x >= self.width || y >= self.height || alpha <= 0.0 {
            return;
        }
        let alpha = alpha.min(1.0);
        let (x, y) = (x as usize, y as usize);
        match self.layout {
            PixelLayout::Packed { bytes, rgb } => {
                let at = y * self.strides[0] + x * bytes;
                let src = [colour.0, colour.1, colour.2];
                for (offset, value) in rgb.iter().zip(src) {
                    mix(&mut self.planes[0][at + offset], value as f32, alpha);
                }
            }
            PixelLayout::I420 | PixelLayout::Nv12 => {
                let [yv, u, v] = self.matrix.to_yuv(colour);
                mix(&mut self.planes[0][y * self.strides[0] + x], yv, alpha);
                let (cx, cy) = (x / 2, y / 2);
                if self.layout == PixelLayout::I420 {
                    mix(&mut self.planes[1][cy * self.strides[1] + cx], u, alpha);
                    mix(&mut self.planes[2][cy * self.strides[2] + cx], v, alpha);
                } else {
                    let at = cy * self.strides[1] + 2 * cx;
                    mix(&mut self.planes[1][at], u, alpha);
                    mix(&mut self.planes[1][at + 1], v, alpha);
                }
            }
        }
    }

    /// The colour at (x, y), for tests and checks.
    pub fn rgb(&self, x: u32, y: u32) -> [u8; 3] {
        let (x, y) = (x as usize, y as usize);
        match self.layout {
            PixelLayout::Packed { bytes, rgb } => {
                let at = y * self.strides[0] + x * bytes;
                rgb.map(|o| self.planes[0][at + o])
            }
            PixelLayout::I420 => self.matrix.to_rgb([
                self.planes[0][y * self.strides[0] + x],
                self.planes[1][(y / 2) * self.strides[1] + x / 2],
                self.planes[2][(y / 2) * self.strides[2] + x / 2],
            ]),
            PixelLayout::Nv12 => {
                let at = (y / 2) * self.strides[1] + 2 * (x / 2);
                self.matrix.to_rgb([
                    self.planes[0][y * self.strides[0] + x],
                    self.planes[1][at],
                    self.planes[1][at + 1],
                ])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuv_round_trips_within_a_step() {
        for m in [Matrix::Bt601, Matrix::Bt709] {
            for c in [Rgb(230, 40, 40), Rgb(0, 200, 80), Rgb(255, 255, 255), Rgb(10, 10, 10)] {
                let yuv = m.to_yuv(c).map(|v| v.round() as u8);
                let back = m.to_rgb(yuv);
                for (a, b) in back.iter().zip([c.0, c.1, c.2]) {
                    assert!((*a as i32 - b as i32).abs() <= 3, "{m:?} {c:?} -> {back:?}");
                }
            }
        }
    }

    #[test]
    fn mixing_rounds_to_the_nearest_step_and_clamps() {
        let mixed = |d: u8, src: f32, alpha: f32| {
            let mut v = d;
            mix(&mut v, src, alpha);
            v
        };
        assert_eq!(mixed(100, 200.0, 0.5), 150);
        assert_eq!(mixed(100, 101.0, 0.5), 101); // 100.5 rounds up
        assert_eq!(mixed(100, 100.8, 0.5), 100); // 100.4 rounds down
        assert_eq!(mixed(250, 400.0, 1.0), 255);
        assert_eq!(mixed(5, -100.0, 1.0), 0);
    }

    #[test]
    fn blending_on_nv12_reaches_the_colour_where_fully_covered() {
        let (w, h) = (4usize, 4usize);
        let mut y = vec![128u8; w * h];
        let mut uv = vec![128u8; w * h / 2];
        let mut none: [u8; 0] = [];
        let mut canvas =
            Canvas::new(PixelLayout::Nv12, Matrix::Bt601, w as u32, h as u32, [&mut y, &mut uv, &mut none], [w, w, 0]);
        for (px, py) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            canvas.blend(px, py, Rgb(230, 40, 40), 1.0);
        }
        let got = canvas.rgb(0, 0);
        assert!(got[0] > 200 && got[1] < 80 && got[2] < 80, "{got:?}");
        // Untouched pixels keep their grey.
        assert_eq!(canvas.rgb(3, 3), Matrix::Bt601.to_rgb([128, 128, 128]));
    }
}
