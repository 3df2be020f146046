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
ENCODE="videoconvert ! $H264 key-int-max=30 ! $MP4MUX fragment-duration=1000"
# Neither branch drops a frame. When analysis cannot keep up with a live camera, aicoachdetect
# and aicoachpose skip their work on frames that fall behind the clock (the pose is carried
# along with the tracked box, marked as such, and not judged), so the annotated recording keeps
# every frame and the camera is never held up.
# shellcheck disable=SC2086
exec gst-launch-1.0 -e $SOURCE ! $PREPARE ! tee name=camera \
  camera. ! queue ! $ENCODE ! filesink location="$OUT/$stamp.camera.mp4" \
  camera. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=1000000000 ! \
    aicoachdetect model="$DETECTOR" search-model="$SEARCH_DETECTOR" ! aicoachtrack ! aicoachpose ! \
    aicoachclassify profile="$PROFILE" report-location="$OUT/$stamp.jsonl" ! aicoachoverlay ! \
    queue ! $ENCODE ! filesink location="$OUT/$stamp.annotated.mp4"
