// SPDX-License-Identifier: MPL-2.0
//! Latency of one inference per model, backend, thread count, pruned (the outputs the product
//! decodes) and unpruned (every output the converted file declares).
//!
//! `cargo bench -p aicoach-benches --bench models`; medians are in
//! `target/criterion/<group>/<id>/new/estimates.json` and printed by criterion.

use aicoach_benches::{cpu_backends, synthetic_input, synthetic_input_sized};
use aicoach_inference::models::MODELS;
use aicoach_inference::{Engine, EngineOptions, ModelFile};
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

fn models(c: &mut Criterion) {
    // Figures from different CPUs are never one figure: the run names its CPU first.
    println!("cpu: {}", aicoach_benches::cpu_description());
    for spec in MODELS {
        let mut group = c.benchmark_group(spec.name);
        group.sample_size(20).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
        let input = synthetic_input(spec);
        for kind in cpu_backends() {
            for threads in [1, 2] {
                for all_outputs in [false, true] {
                    let options = EngineOptions { kind, threads, all_outputs };
                    let mut engine = Engine::load(&ModelFile::bundled(spec.id), &options).unwrap();
                    let id = format!("{kind}/{}t/{}", threads, if all_outputs { "unpruned" } else { "pruned" });
                    group.bench_function(id, |b| b.iter(|| engine.run(&[(spec.input, &input)]).unwrap()));
                }
            }
        }
        group.finish();
    }
    // NanoDet as it runs on a 16:9 frame: fed the frame's aspect instead of a square.
    let spec = aicoach_inference::ModelId::NanoDet.spec();
    let size = aicoach_inference::nanodet::input_size_for(1280, 720);
    let input = synthetic_input_sized(spec, size);
    let mut group = c.benchmark_group(format!("{}-{}x{}", spec.name, size.0, size.1));
    group.sample_size(20).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    for kind in cpu_backends() {
        let options = EngineOptions { kind, threads: 1, all_outputs: false };
        let mut engine = Engine::load_sized(&ModelFile::bundled(spec.id), &options, Some(size)).unwrap();
        group.bench_function(format!("{kind}/1t/pruned"), |b| b.iter(|| engine.run(&[(spec.input, &input)]).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, models);
criterion_main!(benches);
