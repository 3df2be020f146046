// SPDX-License-Identifier: MPL-2.0
//! Inputs shared by the benchmarks.

use aicoach_inference::models::ModelSpec;
use aicoach_inference::tensor::ElementType;
use aicoach_inference::{EngineKind, Tensor};

/// A smooth deterministic image-like tensor for `spec`'s input (values in 0..1).
pub fn synthetic_input(spec: &ModelSpec) -> Tensor {
    synthetic_input_sized(spec, (spec.input_size, spec.input_size))
}

/// [`synthetic_input`] of `cols` x `rows` pixels (for a model fed another size).
pub fn synthetic_input_sized(spec: &ModelSpec, (cols, rows): (usize, usize)) -> Tensor {
    let shape = spec.input_shape_sized(cols, rows);
    let n: usize = shape.iter().product();
    let wave = (0..n).map(|i| (i as f32 * 0.0137).sin() * 0.5 + 0.5);
    match spec.input_type {
        ElementType::F32 => Tensor::f32(shape, wave.collect()).unwrap(),
        // MoveNet takes pixel values as integers.
        ElementType::I32 => Tensor::i32(shape, wave.map(|v| (v * 255.0) as i32).collect()).unwrap(),
    }
}

/// A 1280x720 RGBx frame with some structure, like a decoded camera frame.
pub fn synthetic_frame(width: u32, height: u32) -> Vec<u8> {
    let mut data = vec![0u8; (width * height * 4) as usize];
    for (i, px) in data.chunks_exact_mut(4).enumerate() {
        let (x, y) = (i as u32 % width, i as u32 / width);
        px[0] = (x % 256) as u8;
        px[1] = (y % 256) as u8;
        px[2] = ((x + y) % 256) as u8;
    }
    data
}

/// The backends to measure: tract always; ONNX Runtime where its library is installed, with a
/// note on stderr where it is not (so a missing row is explained, not silent).
pub fn cpu_backends() -> Vec<EngineKind> {
    let mut kinds = vec![EngineKind::Tract];
    let probe = aicoach_inference::Engine::load(
        &aicoach_inference::ModelFile::bundled(aicoach_inference::ModelId::PoseDetector),
        &aicoach_inference::EngineOptions::new(EngineKind::OnnxRuntime, 1),
    );
    match probe {
        Ok(_) => kinds.push(EngineKind::OnnxRuntime),
        Err(e) => eprintln!("skipping onnxruntime: {e}"),
    }
    kinds
}

/// The CPU's model name and the SIMD extensions that decide kernel speed (from
/// /proc/cpuinfo), e.g. "AMD EPYC 7B13 (avx2 fma; no avx512f) x2": figures from machines with
/// different extensions are never compared as one.
pub fn cpu_description() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let model = field("model name").unwrap_or_else(|| "unknown CPU".into());
    let flags = field("flags").unwrap_or_default();
    let flags: Vec<&str> = flags.split_whitespace().collect();
    let wanted =
        ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_tile"];
    let have: Vec<&str> = wanted.iter().copied().filter(|w| flags.contains(w)).collect();
    let lacking: Vec<&str> = ["avx2", "fma", "avx512f"].into_iter().filter(|w| !flags.contains(w)).collect();
    let cores = info.lines().filter(|l| l.starts_with("processor")).count();
    let lacking = if lacking.is_empty() { String::new() } else { format!("; no {}", lacking.join(" ")) };
    format!("{model} ({}{lacking}) x{cores}", have.join(" "))
}
