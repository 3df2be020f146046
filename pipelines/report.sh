#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# The session report page: analyses a video into a self-contained folder to open in a browser
# from disk (no network, no server): index.html, the annotated video, a thumbnail of each bad
# pose, angle plots and, with an exemplar library, good-form clips beside the athlete's.
# Usage: pipelines/report.sh VIDEO [OUT_DIR]     (OUT_DIR defaults to out/NAME-report)
# Environment: PROFILE, DETECTOR, EXEMPLARS as for analyse.sh.
set -euo pipefail
source "$(dirname "$0")/env.sh"
VIDEO=${1:?usage: $0 VIDEO [OUT_DIR]}
[ -f "$VIDEO" ] || { echo "no such video: $VIDEO" >&2; exit 2; }
name=$(basename "${VIDEO%.*}")
OUT=${2:-out/$name-report}
PAGE=${AICOACH_PAGE:-$REPO/target/release/aicoach-page}
[ -x "$PAGE" ] || { echo "build first: pipelines/setup.sh (no $PAGE)" >&2; exit 1; }
mkdir -p "$OUT"
frames="$OUT/.frames"
rm -rf "$frames" && mkdir -p "$frames"
# H.264 High in MP4 plays in Chromium and Firefox from disk. The second branch saves a small
# JPEG of every annotated frame, numbered like the report's frame lines, so the page can show
# each bad pose's worst frame; the page keeps the ones it uses.
gst-launch-1.0 -e -q filesrc location="$VIDEO" ! decodebin ! $PREPARE ! $DECODE_QUEUE ! \
  aicoachdetect model="$DETECTOR" search-model="$SEARCH_DETECTOR" request-delay=$REQUEST_DELAY ! $DETECT_QUEUE ! aicoachtrack ! aicoachpose lookahead=4 ! $POSE_QUEUE ! \
  aicoachclassify profile="$PROFILE" report-location="$OUT/report.jsonl" ${EXEMPLARS:+exemplars="$EXEMPLARS"} ! \
  aicoachoverlay ! tee name=t \
  t. ! queue ! videoconvert ! $H264 ! video/x-h264,profile=high ! \
    $MP4MUX faststart=true ! filesink location="$OUT/annotated.mp4" \
  t. ! queue ! videoscale ! video/x-raw,width=320,pixel-aspect-ratio=1/1 ! videoconvert ! jpegenc quality=80 ! \
    multifilesink location="$frames/%06d.jpg"
"$PAGE" --report "$OUT/report.jsonl" --video annotated.mp4 --frames "$frames" --title "$(basename "$VIDEO")" "$OUT" |
  while IFS=$'\t' read -r kind source dest; do
    [ "$kind" = exemplar ] || continue
    if [ ! -f "$source" ]; then
      echo "warning: exemplar video $source is missing: its comparison will not play" >&2
      continue
    fi
    mkdir -p "$(dirname "$OUT/$dest")"
    gst-launch-1.0 -q filesrc location="$source" ! decodebin ! $PREPARE ! videoscale ! \
      video/x-raw,width=640,pixel-aspect-ratio=1/1 ! videoconvert ! \
      $H264 ! video/x-h264,profile=high ! \
      $MP4MUX faststart=true ! filesink location="$OUT/$dest"
  done
rm -rf "$frames"
echo "wrote $OUT/index.html"
