#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# The performance benchmark, one command: the whole analysis on real videos (decode, five
# elements, fakesink; and into x264/MP4), lite and full, with each element's mean and p95 time,
# CPU use and peak memory; MediaPipe's own Python pose pipeline on the same frames as a peer
# (fps ratio and keypoint agreement); and each model's compute floor.
# Usage: benches/perf.sh [VIDEO...]   (default: ../shared/data/openpose/video.avi and
#        sports2d/demo.mp4 where present, else opencv-doc's vtest.avi)
# Environment: MPVENV (MediaPipe venv, default /tmp/aicoach-mpvenv; made on first use from PyPI),
#              SKIP_PEER=1 to leave MediaPipe out. Not a test: run it on a quiet machine.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
DATA=${AICOACH_DATA:-$REPO/../shared/data}
if [ $# -gt 0 ]; then
  VIDEOS=("$@")
else
  VIDEOS=()
  for v in "$DATA/openpose/video.avi" "$DATA/sports2d/demo.mp4"; do [ -f "$v" ] && VIDEOS+=("$v"); done
  [ ${#VIDEOS[@]} -gt 0 ] || VIDEOS=(/usr/share/doc/opencv-doc/examples/data/vtest.avi)
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
if [ $# -eq 0 ] && [ -f "$DATA/openpose/video.avi" ]; then
  # The issue's second size: the first clip scaled to 1920x1080 (H.264, as a camera gives it).
  gst-launch-1.0 -q filesrc location="$DATA/openpose/video.avi" ! decodebin ! videoconvert ! videoscale ! \
    video/x-raw,format=I420,width=1920,height=1080 ! x264enc speed-preset=veryfast ! h264parse ! mp4mux ! \
    filesink location="$OUT/openpose-1920x1080.mp4"
  VIDEOS+=("$OUT/openpose-1920x1080.mp4")
fi

echo "== building (release)"
cargo build --release -q -p gst-plugin-aicoach -p aicoach-benches --bin pipeline-bench
BENCH=target/release/pipeline-bench
# Figures from different CPUs are never one figure: the run names its CPU and SIMD flags first.
echo "== cpu: $($BENCH --cpu)"

if [ "${SKIP_PEER:-}" != 1 ]; then
  PY=$(bash benches/mediapipe-venv.sh "${MPVENV:-/tmp/aicoach-mpvenv}" | tail -1)
fi

for video in "${VIDEOS[@]}"; do
  echo "== $video"
  for model in lite full; do
    # Both thread layouts and the encoding variant, each printed; the split one is the headline.
    $BENCH "$video" --model "$model" --report "$OUT/ours-$model.jsonl" --label "$model one-thread" 2>&1 >/dev/null
    $BENCH "$video" --model "$model" --split --label "$model split" 2>&1 >/dev/null
    $BENCH "$video" --model "$model" --split --encode --label "$model split x264" 2>&1 >/dev/null
    # The ratio compares medians of three runs each: single runs vary by 10 % here.
    ours=$(for run in 1 2 3; do $BENCH "$video" --model "$model" --split 2>/dev/null; done |
      python3 -c 'import json,sys,statistics; print(statistics.median(json.loads(l)["fps"] for l in sys.stdin))')
    if [ "${SKIP_PEER:-}" != 1 ]; then
      complexity=$([ "$model" = lite ] && echo 0 || echo 1)
      theirs=$(for run in 1 2 3; do
          GLOG_minloglevel=2 "$PY" benches/mediapipe_peer.py "$video" --complexity "$complexity" --out "$OUT/mp-$model.jsonl" 2>/dev/null
        done | tee >(cat >&2) | python3 -c 'import json,sys,statistics; print(statistics.median(json.loads(l)["fps"] for l in sys.stdin))')
      awk -v o="$ours" -v t="$theirs" -v m="$model" 'BEGIN { printf "%s: ours %.1f fps / MediaPipe %.1f fps = %.2fx (medians of 3)\n", m, o, t, o / t }'
      echo "keypoints, ours vs MediaPipe ($model): $(python3 benches/compare_keypoints.py "$OUT/ours-$model.jsonl" "$OUT/mp-$model.jsonl")"
    fi
  done
done

if [ "${SKIP_PEER:-}" != 1 ]; then
  echo "== compute floor (multiply-adds per model against this machine's GFLOP/s)"
  "$PY" benches/floor.py --models engines/inference/models
fi
