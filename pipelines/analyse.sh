#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Analyses a video file: an annotated MP4 and the JSON Lines report. Any video that decodes:
# variable or mislabelled frame rates (time comes from the timestamps, which the MP4 keeps),
# rotation tags (turned upright), interlaced (deinterlaced), 10-bit (converted).
# Usage: pipelines/analyse.sh VIDEO [OUT_DIR]      (OUT_DIR defaults to out/)
# Environment: PROFILE (freestyle-aerials | ski-jumping | path.json), DETECTOR (nanodet |
# ssdlite | blazepose-detector), SEARCH_DETECTOR (ssdlite | nanodet | none: the second detector
# while the athlete is looked for), EXEMPLARS (an exemplar library folder).
set -euo pipefail
source "$(dirname "$0")/env.sh"
VIDEO=${1:?usage: $0 VIDEO [OUT_DIR]}
OUT=${2:-out}
mkdir -p "$OUT"
name=$(basename "${VIDEO%.*}")
# -e: an interrupt sends EOS, so the MP4 is finished and the report complete.
# The refinement looks 4 frames ahead: a file has no live latency to keep.
gst-launch-1.0 -e filesrc location="$VIDEO" ! decodebin ! $PREPARE ! $DECODE_QUEUE ! \
  aicoachdetect model="$DETECTOR" search-model="$SEARCH_DETECTOR" request-delay=$REQUEST_DELAY ! $DETECT_QUEUE ! aicoachtrack ! aicoachpose lookahead=4 ! $POSE_QUEUE ! \
  aicoachclassify profile="$PROFILE" report-location="$OUT/$name.jsonl" ${EXEMPLARS:+exemplars="$EXEMPLARS"} ! \
  aicoachoverlay ! videoconvert ! $H264 ! \
  $MP4MUX ! filesink location="$OUT/$name.annotated.mp4"
echo "wrote $OUT/$name.annotated.mp4 and $OUT/$name.jsonl"
