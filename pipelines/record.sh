#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Edge-box session recorder: one pipeline records the untouched camera stream, the annotated
# stream and the report side by side. Stop it with Ctrl-C: gst-launch-1.0 -e turns the
# interrupt into EOS, so both MP4 files are finished and the report gets its summary. The
# MP4s are also fragmented every second, so even a killed recorder leaves playable files.
# Usage: pipelines/record.sh OUT_DIR [DEVICE]    (SOURCE="..." replaces v4l2src)
set -euo pipefail
source "$(dirname "$0")/env.sh"
OUT=${1:?usage: $0 OUT_DIR [DEVICE]}
mkdir -p "$OUT"
SOURCE=${SOURCE:-v4l2src device=${2:-/dev/video0}}
stamp=$(date +%Y%m%d-%H%M%S)
ENCODE="videoconvert ! x264enc tune=zerolatency speed-preset=veryfast key-int-max=30 ! h264parse ! mp4mux fragment-duration=1000"
# The analysis branch may drop frames when it cannot keep up; the raw recording never does.
# shellcheck disable=SC2086
exec gst-launch-1.0 -e $SOURCE ! videoconvert ! tee name=camera \
  camera. ! queue ! $ENCODE ! filesink location="$OUT/$stamp.camera.mp4" \
  camera. ! queue leaky=downstream max-size-buffers=2 max-size-bytes=0 max-size-time=0 ! \
    aicoachdetect model="$DETECTOR" ! aicoachtrack ! aicoachpose ! \
    aicoachclassify profile="$PROFILE" report-location="$OUT/$stamp.jsonl" ! aicoachoverlay ! \
    queue ! $ENCODE ! filesink location="$OUT/$stamp.annotated.mp4"
