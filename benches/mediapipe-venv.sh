#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# A throwaway Python venv with MediaPipe (the performance benchmark's peer), onnx and ONNX Runtime (for the
# compute floor), from PyPI, pinned. Made once; prints the venv's python on its last line.
#
# MediaPipe's wheel carries the full landmark model but downloads lite from Google at first
# use, which a machine without internet cannot. The lite model comes instead from the npm
# package our own lite model was converted from (@mediapipe/pose, pinned by sha256; its full
# model is byte-identical to the wheel's), so both sides run the same weights.
# Usage: benches/mediapipe-venv.sh [VENV_DIR]   (default /tmp/aicoach-mpvenv)
set -euo pipefail
VENV=${1:-/tmp/aicoach-mpvenv}
NPM_POSE=https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz
NPM_POSE_SHA256=8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84
if ! "$VENV/bin/python" -c "import mediapipe, onnx, onnxruntime" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q mediapipe==0.10.21 onnx==1.22.0 onnxruntime==1.32.0 >&2
fi
modules=$("$VENV/bin/python" -c "import mediapipe, os; print(os.path.join(os.path.dirname(mediapipe.__file__), 'modules', 'pose_landmark'))")
if [ ! -f "$modules/pose_landmark_lite.tflite" ]; then
  tmp=$(mktemp -d)
  curl -sSf -o "$tmp/pose.tgz" "$NPM_POSE"
  echo "$NPM_POSE_SHA256  $tmp/pose.tgz" | sha256sum -c --quiet
  tar xzf "$tmp/pose.tgz" -C "$tmp" package/pose_landmark_lite.tflite
  cp "$tmp/package/pose_landmark_lite.tflite" "$modules/"
  rm -rf "$tmp"
fi
echo "$VENV/bin/python"
