#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Builds an exemplar library from good-form clips of one sport: analyses each video (report
# next to the library), then collects their angle tracks into LIBRARY_DIR/library.json.
# Usage: pipelines/exemplars.sh LIBRARY_DIR VIDEO...     (PROFILE, DETECTOR as for analyse.sh)
# Then: aicoachclassify exemplars=LIBRARY_DIR (or EXEMPLARS=LIBRARY_DIR pipelines/analyse.sh ...)
set -euo pipefail
source "$(dirname "$0")/env.sh"
LIBRARY=${1:?usage: $0 LIBRARY_DIR VIDEO...}; shift
[ $# -gt 0 ] || { echo "usage: $0 LIBRARY_DIR VIDEO..." >&2; exit 2; }
TRAIN="$REPO/target/release/aicoach-train"
[ -x "$TRAIN" ] || { echo "build first: pipelines/setup.sh" >&2; exit 1; }
mkdir -p "$LIBRARY/reports"
reports=()
for video in "$@"; do
  name=$(basename "${video%.*}")
  gst-launch-1.0 -q filesrc location="$video" ! decodebin ! $PREPARE ! $DECODE_QUEUE ! \
    aicoachdetect model="$DETECTOR" search-model="$SEARCH_DETECTOR" request-delay=$REQUEST_DELAY ! $DETECT_QUEUE ! aicoachtrack ! aicoachpose lookahead=4 ! $POSE_QUEUE ! \
    aicoachclassify profile="$PROFILE" report-location="$LIBRARY/reports/$name.jsonl" ! fakesink
  reports+=("$LIBRARY/reports/$name.jsonl=$video")
done
exec "$TRAIN" exemplars --out "$LIBRARY" "${reports[@]}"
