// SPDX-License-Identifier: MPL-2.0
//! Pre- and post-processing per frame: crops into model tensors from a 1280x720 frame, and the
//! decoders on real model outputs.

use aicoach_benches::synthetic_frame;
use aicoach_inference::blazepose::{anchors, detector, landmarks};
use aicoach_inference::models::Layout;
use aicoach_inference::preprocess::{Normalization, Shrink, crop_to_tensor, crop_to_tensor_with};
use aicoach_inference::{EngineKind, EngineOptions, ModelFile, ModelId, nanodet};
use aicoach_vision::image::{FrameView, PackedFormat, PackedView, YuvLayout, YuvView};
use aicoach_vision::{Point, RotatedRect};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const W: u32 = 1280;
const H: u32 = 720;

fn preprocessing(c: &mut Criterion) {
    // Figures from different CPUs are never one figure: the run names its CPU first.
    println!("cpu: {}", aicoach_benches::cpu_description());
    let frame = synthetic_frame(W, H);
    let view = PackedView::new(&frame, W, H, W as usize * 4, PackedFormat::Rgbx).unwrap();
    let mut g = c.benchmark_group("preprocess-1280x720");
    g.sample_size(30);
    let letterbox = RotatedRect::letterbox(W, H);
    g.bench_function("detector-224-letterbox", |b| {
        b.iter(|| crop_to_tensor(&view, black_box(&letterbox), 224, Layout::Nhwc, &Normalization::SIGNED_UNIT))
    });
    g.bench_function("nanodet-416-letterbox-nchw-bgr", |b| {
        b.iter(|| crop_to_tensor(&view, black_box(&letterbox), 416, Layout::Nchw, &Normalization::NANODET))
    });
    // An athlete about 500 px tall, leaning: the landmark crop.
    let roi = RotatedRect { center: Point::new(640.0, 360.0), width: 520.0, height: 520.0, rotation: 0.3 };
    g.bench_function("landmark-256-rotated", |b| {
        b.iter(|| crop_to_tensor(&view, black_box(&roi), 256, Layout::Nhwc, &Normalization::UNIT))
    });
    // The same crop from I420, what decoders hand the elements.
    let (y, uv) = (vec![120u8; (W * H) as usize], vec![128u8; (W * H / 4) as usize]);
    let yuv =
        YuvView::new(YuvLayout::I420, [&y, &uv, &uv], [W as usize, W as usize / 2, W as usize / 2], W, H).unwrap();
    let frame_view = FrameView::Yuv(yuv);
    g.bench_function("landmark-256-rotated-i420", |b| {
        b.iter(|| crop_to_tensor(&frame_view, black_box(&roi), 256, Layout::Nhwc, &Normalization::UNIT))
    });
    // What the pose models use (`Shrink::Smooth`).
    let smooth = |roi: &RotatedRect, size: usize| {
        crop_to_tensor_with(&frame_view, roi, (size, size), Layout::Nhwc, &Normalization::UNIT, Shrink::Smooth)
    };
    g.bench_function("landmark-256-rotated-i420-smooth", |b| b.iter(|| smooth(black_box(&roi), 256)));
    // An athlete about 350 px tall: the crop shrinks by 1.5, under the half-size copy's reach.
    let near = RotatedRect { width: 384.0, height: 384.0, ..roi };
    g.bench_function("landmark-256-rotated-i420-smooth-384", |b| b.iter(|| smooth(black_box(&near), 256)));
    g.bench_function("nanodet-416-letterbox-nchw-bgr-i420", |b| {
        b.iter(|| crop_to_tensor(&frame_view, black_box(&letterbox), 416, Layout::Nchw, &Normalization::NANODET))
    });
    // The body model's upright square around the athlete's box.
    let body = RotatedRect { center: Point::new(640.0, 360.0), width: 600.0, height: 600.0, rotation: 0.0 };
    g.bench_function("body-192-upright-i420", |b| {
        b.iter(|| crop_to_tensor(&frame_view, black_box(&body), 192, Layout::Nhwc, &Normalization::UNIT))
    });
    g.bench_function("body-192-upright-i420-smooth", |b| b.iter(|| smooth(black_box(&body), 192)));
    g.finish();
}

fn decoding(c: &mut Criterion) {
    // Real outputs: run each model once on a frame-sized crop, then time only the decoders.
    let frame = synthetic_frame(W, H);
    let view = PackedView::new(&frame, W, H, W as usize * 4, PackedFormat::Rgbx).unwrap();
    let options = EngineOptions::new(EngineKind::Tract, 1);
    let letterbox = RotatedRect::letterbox(W, H);
    let mut g = c.benchmark_group("decode");
    g.sample_size(50);

    let spec = ModelId::PoseDetector.spec();
    let mut engine = aicoach_inference::Engine::load(&ModelFile::bundled(spec.id), &options).unwrap();
    let input = crop_to_tensor(&view, &letterbox, 224, Layout::Nhwc, &Normalization::SIGNED_UNIT);
    let out = engine.run(&[(spec.input, &input.tensor)]).unwrap();
    let (boxes, logits) =
        (out.get("Identity").unwrap().as_f32().unwrap(), out.get("Identity_1").unwrap().as_f32().unwrap());
    let anchors = anchors::anchors();
    // Threshold 0 makes every anchor a candidate: the worst case for suppression.
    g.bench_function("blazepose-detector-all-anchors", |b| {
        b.iter(|| detector::decode(black_box(boxes), black_box(logits), &anchors, &input.to_frame, 0.0, 5))
    });

    let spec = ModelId::PoseLandmarkLite.spec();
    let mut engine = aicoach_inference::Engine::load(&ModelFile::bundled(spec.id), &options).unwrap();
    let roi = RotatedRect { center: Point::new(640.0, 360.0), width: 520.0, height: 520.0, rotation: 0.3 };
    let input = crop_to_tensor(&view, &roi, 256, Layout::Nhwc, &Normalization::UNIT);
    let out = engine.run(&[(spec.input, &input.tensor)]).unwrap();
    let raw = out.get("Identity").unwrap().as_f32().unwrap().to_vec();
    g.bench_function("blazepose-landmarks", |b| b.iter(|| landmarks::decode(black_box(&raw), 0.9, &input.to_frame)));

    let spec = ModelId::NanoDet.spec();
    let mut engine = aicoach_inference::Engine::load(&ModelFile::bundled(spec.id), &options).unwrap();
    let input = crop_to_tensor(&view, &letterbox, 416, Layout::Nchw, &Normalization::NANODET);
    let out = engine.run(&[(spec.input, &input.tensor)]).unwrap();
    let levels: Vec<_> = nanodet::STRIDES
        .iter()
        .enumerate()
        .map(|(i, &stride)| nanodet::Level {
            stride,
            columns: nanodet::grid(stride, (416, 416)).0,
            scores: out.0[i].1.as_f32().unwrap(),
            boxes: out.0[3 + i].1.as_f32().unwrap(),
        })
        .collect();
    g.bench_function("nanodet-threshold-0.05", |b| {
        b.iter(|| nanodet::decode(black_box(&levels), &input.to_frame, 0.05, 5))
    });
    g.finish();
}

criterion_group!(benches, preprocessing, decoding);
criterion_main!(benches);
