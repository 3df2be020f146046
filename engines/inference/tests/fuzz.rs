// SPDX-License-Identifier: MPL-2.0
//! Fuzzing the model-output decoders: whatever a broken, truncated or hostile model returns
//! (any length, NaN, infinities, huge values), decoding never panics and returns only
//! detections with scores in 0..=1 and finite landmark sets or none.
//!
//! CI runs proptest's default 256 cases per property; run longer by hand with
//! `PROPTEST_CASES=100000 cargo test -p aicoach-inference --test fuzz --release`.

use aicoach_inference::blazepose::{anchors, detector, landmarks};
use aicoach_inference::nanodet;
use aicoach_vision::geometry::RotatedRect;
use proptest::prelude::*;

/// Any f32 at all, with the awkward ones over-represented.
fn any_value() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => -50.0f32..50.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => any::<f32>(),
    ]
}

fn values(max: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(any_value(), 0..max)
}

/// A letterbox transform like the detectors use, for frames of any shape.
fn to_frame() -> impl Strategy<Value = aicoach_vision::geometry::Affine> {
    (1u32..4000, 1u32..4000, prop::sample::select(vec![224usize, 256, 416]))
        .prop_map(|(w, h, size)| RotatedRect::letterbox(w, h).crop_to_frame(size))
}

proptest! {
    #[test]
    fn the_blazepose_detector_decoder_never_panics(
        // A real output is 2254 x 12 boxes and 2254 logits; anything from empty to too long.
        boxes in values(2254 * 12 + 50),
        logits in values(2300),
        to_frame in to_frame(),
        min_score in 0.0f32..1.0,
        max in 0usize..20,
    ) {
        let detections = detector::decode(&boxes, &logits, &anchors::anchors(), &to_frame, min_score, max);
        prop_assert!(detections.len() <= max.max(1));
        for d in &detections {
            prop_assert!((0.0..=1.0).contains(&d.score), "score {}", d.score);
            prop_assert!([d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h].iter().all(|v| v.is_finite()), "box {:?}", d.bbox);
            let _ = detector::roi(d);
        }
    }

    #[test]
    fn the_landmark_decoder_never_panics(raw in values(landmarks::OUTPUT_LEN + 20), flag in any_value(), to_frame in to_frame()) {
        if let Some(l) = landmarks::decode(&raw, flag, &to_frame) {
            prop_assert_eq!(l.keypoints.len(), landmarks::NUM_BODY_POINTS);
            prop_assert!(l.keypoints.iter().all(|k| k.x.is_finite() && k.y.is_finite()));
            let _ = l.next_roi();
        }
    }

    #[test]
    fn the_nanodet_decoder_never_panics(
        scores in prop::collection::vec(values(3000), 3),
        boxes in prop::collection::vec(values(3000), 3),
        to_frame in to_frame(),
        min_score in 0.0f32..1.0,
        max in 0usize..20,
    ) {
        let levels: Vec<nanodet::Level> = nanodet::STRIDES
            .iter()
            .zip(scores.iter().zip(&boxes))
            .map(|(&stride, (s, b))| nanodet::Level { stride, columns: 416 / stride, scores: s, boxes: b })
            .collect();
        for d in nanodet::decode(&levels, &to_frame, min_score, max) {
            prop_assert!(d.score.is_finite() && d.score >= min_score, "score {}", d.score);
            prop_assert!([d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h].iter().all(|v| v.is_finite()), "box {:?}", d.bbox);
        }
    }
}

/// The cases random search rarely hits: whole outputs of one awkward value, at full length.
#[test]
fn outputs_full_of_nan_or_infinity_decode_to_nothing_or_valid_detections() {
    let size = nanodet::input_size_for(640, 480);
    let to_frame = RotatedRect::letterbox_to(640, 480, size.0, size.1).crop_to_frame_sized(size.0, size.1);
    let cells = |stride| {
        let (c, r) = nanodet::grid(stride, size);
        c * r
    };
    for v in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MAX, 0.9] {
        let scores: Vec<Vec<f32>> =
            nanodet::STRIDES.iter().map(|&s| vec![v; cells(s) * nanodet::NUM_CLASSES]).collect();
        let boxes: Vec<Vec<f32>> = nanodet::STRIDES.iter().map(|&s| vec![v; cells(s) * nanodet::REG_VALUES]).collect();
        let levels: Vec<nanodet::Level> = nanodet::STRIDES
            .iter()
            .enumerate()
            .map(|(i, &stride)| nanodet::Level {
                stride,
                columns: nanodet::grid(stride, size).0,
                scores: &scores[i],
                boxes: &boxes[i],
            })
            .collect();
        for d in nanodet::decode(&levels, &to_frame, 0.3, 10) {
            assert!((0.0..=1.0).contains(&d.score), "{v}: score {}", d.score);
            assert!(d.bbox.w.is_finite() && d.bbox.h.is_finite(), "{v}: box {:?}", d.bbox);
        }
        let letterbox = RotatedRect::letterbox(640, 480).crop_to_frame(224);
        let boxes = vec![v; 2254 * 12];
        let logits = vec![v; 2254];
        for d in detector::decode(&boxes, &logits, &anchors::anchors(), &letterbox, 0.5, 10) {
            assert!((0.0..=1.0).contains(&d.score), "{v}: score {}", d.score);
            assert!(d.bbox.w.is_finite() && d.bbox.x.is_finite(), "{v}: box {:?}", d.bbox);
        }
        let raw = vec![v; landmarks::OUTPUT_LEN];
        if let Some(l) = landmarks::decode(&raw, v, &letterbox) {
            assert!(l.keypoints.iter().all(|k| k.x.is_finite() && k.y.is_finite()), "{v}: non-finite keypoints");
        }
    }
}
