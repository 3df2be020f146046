#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# The performance benchmark on an NVIDIA GPU: builds with the TensorRT backend and runs the
# whole pipeline with engine=tensorrt, lite and full, printing fps and per-element times (the
# same pipeline-bench as benches/perf.sh). Fails with a clear message where the GPU, CUDA or
# TensorRT is missing, and says what it skipped.
# Usage: benches/gpu.sh [VIDEO]   (default ../shared/data/openpose/video.avi, else vtest.avi)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
VIDEO=${1:-$REPO/../shared/data/openpose/video.avi}
[ -f "$VIDEO" ] || VIDEO=/usr/share/doc/opencv-doc/examples/data/vtest.avi

fail() { echo "gpu.sh: $*" >&2; exit 1; }
command -v nvidia-smi >/dev/null || fail "no nvidia-smi: this machine has no NVIDIA driver (no GPU run possible)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader ||
  fail "nvidia-smi finds no GPU"
ldconfig -p | grep -q 'libcuda\.so' || fail "no libcuda.so: install the NVIDIA driver's CUDA library"
if ldconfig -p | grep -q 'libnvinfer\.so' || [ -n "${AICOACH_TENSORRT_LIB:-}" ]; then
  tensorrt=yes
else
  tensorrt=no
fi

echo "== building (release, TensorRT backend)"
cargo build --release -q -p gst-plugin-aicoach -p aicoach-benches --features aicoach-engines/tensorrt

# The engines' own check of the GPU path (device, TensorRT version, engine build on a model).
echo "== TensorRT backend tests"
cargo test --release -q -p aicoach-engines --features tensorrt tensorrt -- --nocapture

if [ "$tensorrt" = no ]; then
  echo "skipped: the pipeline with engine=tensorrt (no libnvinfer.so; set AICOACH_TENSORRT_LIB to a TensorRT 11 library)"
  echo "skipped: a CUDA pre-processing path (crops run on the CPU; there is no CUDA kernel for them yet)"
  exit 0
fi
for model in lite full; do
  echo "== $model, engine=tensorrt (first run builds and caches the TensorRT engines)"
  target/release/pipeline-bench "$VIDEO" --model "$model" --engine tensorrt --split --label "gpu $model" 2>&1 >/dev/null
  target/release/pipeline-bench "$VIDEO" --model "$model" --engine tensorrt --split --label "gpu $model" 2>&1 >/dev/null
done
echo "skipped: a CUDA pre-processing path (crops run on the CPU; there is no CUDA kernel for them yet)"
