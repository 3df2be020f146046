#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Frames per second of the whole five-element pipeline, per inference backend, on the release
# build: decode, aicoachdetect (NanoDet), aicoachtrack, aicoachpose (lite), aicoachclassify,
# aicoachoverlay, into fakesink as fast as it goes. Decoding is included, as a user pays it.
# Usage: benches/pipeline_fps.sh VIDEO [ENGINE...]    (engines default: cpu onnxruntime)
set -euo pipefail
source "$(dirname "$0")/../pipelines/env.sh"
VIDEO=${1:?usage: $0 VIDEO [ENGINE...]}; shift
ENGINES=("${@:-cpu}"); [ $# -gt 0 ] || ENGINES=(cpu onnxruntime)
(cd "$REPO" && cargo build --release -q -p aicoach-benches --bin pipeline-bench)
echo "cpu: $("$REPO/target/release/pipeline-bench" --cpu)"
frames=$(gst-launch-1.0 -v filesrc location="$VIDEO" ! decodebin ! videoconvert ! fakesink silent=false 2>/dev/null | grep -c "chain" || true)
echo "$VIDEO: $frames frames"
for engine in "${ENGINES[@]}"; do
  start=$(date +%s.%N)
  gst-launch-1.0 -q filesrc location="$VIDEO" ! decodebin ! videoconvert ! \
    aicoachdetect model=nanodet engine="$engine" ! aicoachtrack ! aicoachpose engine="$engine" ! \
    aicoachclassify ! aicoachoverlay ! fakesink sync=false
  end=$(date +%s.%N)
  awk -v e="$engine" -v s="$start" -v t="$end" -v n="$frames" \
    'BEGIN { printf "%-12s %6.2f s  %6.1f fps\n", e, t - s, n / (t - s) }'
done
