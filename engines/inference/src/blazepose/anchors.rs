// SPDX-License-Identifier: MPL-2.0
//! SSD anchors of the BlazePose detector (MediaPipe's SsdAnchorsCalculator with the pose
//! detector's options: 224x224 input, strides 8/16/32/32/32, fixed anchor size, two anchors
//! per cell and layer).

use aicoach_vision::geometry::Point;

pub const INPUT_SIZE: usize = 224;
const STRIDES: [usize; 5] = [8, 16, 32, 32, 32];
pub const NUM_ANCHORS: usize = 2254;

/// Anchor centres in [0, 1] input coordinates, in the detector's output order.
pub fn anchors() -> Vec<Point> {
    let mut out = Vec::with_capacity(NUM_ANCHORS);
    let mut layer = 0;
    while layer < STRIDES.len() {
        // Consecutive layers with the same stride share one feature map: their anchors are
        // emitted together per cell (aspect ratio 1 plus the interpolated scale: 2 per layer).
        let stride = STRIDES[layer];
        let mut per_cell = 0;
        while layer < STRIDES.len() && STRIDES[layer] == stride {
            per_cell += 2;
            layer += 1;
        }
        let fm = INPUT_SIZE.div_ceil(stride);
        for y in 0..fm {
            for x in 0..fm {
                let centre = Point::new((x as f32 + 0.5) / fm as f32, (y as f32 + 0.5) / fm as f32);
                out.extend(std::iter::repeat_n(centre, per_cell));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_count_and_layout() {
        let a = anchors();
        assert_eq!(a.len(), NUM_ANCHORS);
        // 28x28 cells of 2, then 14x14 of 2, then 7x7 of 6.
        assert_eq!(a[0], Point::new(0.5 / 28.0, 0.5 / 28.0));
        assert_eq!(a[0], a[1]);
        assert_eq!(a[2], Point::new(1.5 / 28.0, 0.5 / 28.0));
        assert_eq!(a[28 * 28 * 2], Point::new(0.5 / 14.0, 0.5 / 14.0));
        let last_layer = 28 * 28 * 2 + 14 * 14 * 2;
        assert!(a[last_layer..last_layer + 6].iter().all(|p| *p == Point::new(0.5 / 7.0, 0.5 / 7.0)));
        assert_eq!(*a.last().unwrap(), Point::new(6.5 / 7.0, 6.5 / 7.0));
    }
}
