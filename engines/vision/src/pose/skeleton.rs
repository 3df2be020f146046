// SPDX-License-Identifier: MPL-2.0
//! The bones of BlazePose's 33-point body: which joints are rigidly linked, for the spatial
//! refinement and for drawing.

/// Bones whose length stays nearly constant for one athlete over a short window, ordered from
/// the torso outwards so a correction of a joint can lean on joints corrected before it.
/// Face points are left out: they are tiny and turn with the head.
pub const BONES: [(usize, usize); 24] = [
    (11, 12), // shoulders
    (23, 24), // hips
    (11, 23), // left flank
    (12, 24), // right flank
    (11, 13), // left upper arm
    (12, 14),
    (13, 15), // left forearm
    (14, 16),
    (23, 25), // left thigh
    (24, 26),
    (25, 27), // left shank
    (26, 28),
    (27, 29), // left ankle-heel
    (28, 30),
    (27, 31), // left ankle-foot index
    (28, 32),
    (29, 31), // left heel-foot index
    (30, 32),
    (15, 17), // left wrist-pinky
    (16, 18),
    (15, 19), // left wrist-index
    (16, 20),
    (15, 21), // left wrist-thumb
    (16, 22),
];

/// The number of keypoints the skeleton is defined for.
pub const JOINT_COUNT: usize = 33;

/// For each joint, the bones (indices into [`BONES`]) it belongs to.
pub fn bones_of(joint: usize) -> impl Iterator<Item = (usize, usize)> {
    BONES.iter().enumerate().filter(move |(_, (a, b))| *a == joint || *b == joint).map(move |(i, &(a, b))| {
        let other = if a == joint { b } else { a };
        (i, other)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keypoints::KEYPOINT_NAMES;

    #[test]
    fn bones_join_left_to_left_and_right_to_right() {
        for &(a, b) in &BONES {
            let (na, nb) = (KEYPOINT_NAMES[a], KEYPOINT_NAMES[b]);
            let side = |n: &str| n.split('_').next().unwrap().to_string();
            // The two cross-body bones join a left and a right joint of the same kind.
            if (a, b) == (11, 12) || (a, b) == (23, 24) {
                assert_eq!(na.replace("left", "right"), nb);
            } else {
                assert_eq!(side(na), side(nb), "{na} - {nb}");
            }
        }
    }

    #[test]
    fn the_knee_has_a_thigh_and_a_shank() {
        let mut others: Vec<usize> = bones_of(25).map(|(_, o)| o).collect();
        others.sort();
        assert_eq!(others, vec![23, 27]);
    }
}
