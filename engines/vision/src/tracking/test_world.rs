// SPDX-License-Identifier: MPL-2.0
//! Test scenes seen through a moving camera: a textured world and people in it.

pub const W: u32 = 320;
pub const H: u32 = 240;

/// Value noise over 8-pixel cells: detail at every scale a thumbnail sees, like a crowd.
pub fn world(x: f32, y: f32) -> f32 {
    // A mixing hash: products' low bits alone repeat, and a repeating texture has many
    // matching shifts.
    let lattice = |i: i64, j: i64| {
        let mut h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        h ^= h >> 31;
        h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 29;
        (h >> 56) as f32
    };
    let (gx, gy) = (x / 8.0, y / 8.0);
    let (i, j) = (gx.floor() as i64, gy.floor() as i64);
    let (fx, fy) = (gx - gx.floor(), gy - gy.floor());
    let top = lattice(i, j) * (1.0 - fx) + lattice(i + 1, j) * fx;
    let bottom = lattice(i, j + 1) * (1.0 - fx) + lattice(i + 1, j + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// The world seen through a `W` x `H` window whose top-left corner is at (`cam_x`, `cam_y`),
/// grey RGB, with `people` (boxes in frame pixels) each wearing their own texture, which moves
/// with them.
pub fn frame(cam_x: f32, cam_y: f32, people: &[crate::Rect]) -> Vec<u8> {
    let mut data = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            let inside =
                people.iter().enumerate().find(|(_, r)| fx >= r.x && fx < r.x + r.w && fy >= r.y && fy < r.y + r.h);
            let v = match inside {
                Some((i, r)) => world(fx - r.x + 5000.0 * (i + 1) as f32, fy - r.y + 5000.0),
                None => world(fx + cam_x, fy + cam_y),
            };
            let v = v.clamp(0.0, 255.0) as u8;
            data.extend_from_slice(&[v, v, v]);
        }
    }
    data
}
