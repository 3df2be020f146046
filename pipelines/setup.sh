#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Sets up a Debian 12 machine for AI Coach and builds it, then analyses a video; with --test,
# runs the test suite instead.
#
#   pipelines/setup.sh [VIDEO]  install what is missing, build the workspace (release), analyse
#                               VIDEO (default: the pedestrian video of Debian's opencv-doc)
#                               into out/NAME.annotated.mp4 and out/NAME.jsonl
#   pipelines/setup.sh --test   the same set-up, then the whole test suite (what CI runs)
#
# Installs: Debian packages (GStreamer 1.22 development files and plugins, Debian's opencv-doc
# for its sample photos and video used by the tests, libclang for the TensorRT bindings'
# build-time check, Chromium for the report page's browser test, g++ for the CUDA kernel's
# source compiled for the CPU in the tests), and ONNX Runtime's library from its PyPI wheel (pinned by sha256) into
# .ort/. Rust itself must already be installed (rustup; 1.92 or newer).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
MODE=${1:-}

APT_PACKAGES=(pkg-config python3 python3-pip unzip
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav
  opencv-doc libclang1-14 libclang-common-14-dev chromium g++)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs) first" >&2; exit 1; }

echo "== ONNX Runtime library"
bash engines/scripts/install-onnxruntime.sh

case "$MODE" in
  --test)
    # A one-shot build gains nothing from incremental caches; they cost half a gigabyte of disk.
    export CARGO_INCREMENTAL=0
    echo "== formatting and lints"
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    echo "== layering: no two source files import each other"
    python3 .ci/import-circles.py engines/*/src plugins/*/src
    echo "== checking the TensorRT backend builds (no GPU needed to compile it)"
    cargo check -p aicoach-inference --features tensorrt
    echo "== the CUDA crop kernel's source, compiled for the CPU, against the CPU's crop (no GPU needed)"
    # Outside the workspace's tests (the feature is off there): a CPU filter the kernel did not
    # follow went unnoticed once.
    AICOACH_REQUIRE_CXX=1 cargo test -p aicoach-inference --features cuda --lib backend::cuda_preprocess
    echo "== tests"
    # The pipeline tests run the scripts with gst-launch-1.0, which loads the plugin's shared
    # library; cargo test builds only what the tests link, so build the library first.
    cargo build -p gst-plugin-aicoach
    log=$(mktemp)
    set +e
    # --no-fail-fast: one failing test binary must not hide the others' results.
    cargo test --workspace --no-fail-fast 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    # One closing line for the whole workspace (cargo prints one per test binary).
    awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
    rm -f "$log"
    echo "target/ holds $(du -sh target 2>/dev/null | cut -f1)"
    exit "$status"
    ;;
  -*) echo "usage: $0 [VIDEO | --test]" >&2; exit 2 ;;
  *)
    VIDEO=${MODE:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}
    [ -f "$VIDEO" ] || { echo "no such video: $VIDEO" >&2; exit 2; }
    echo "== building (release)"
    cargo build --release --workspace
    echo "== analysing $VIDEO"
    exec bash pipelines/analyse.sh "$VIDEO" out
    ;;
esac
