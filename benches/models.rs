// SPDX-License-Identifier: MPL-2.0
//! Latency of one inference per model, backend, thread count, pruned (the outputs the product
//! decodes) and unpruned (every output the converted file declares).
//!
//! `cargo bench -p aicoach-benches --bench models`; medians are in
//! `target/criterion/<group>/<id>/new/estimates.json` and printed by criterion.

use aicoach_benches::{cpu_backends, synthetic_input};
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
}

criterion_group!(benches, models);
criterion_main!(benches);
