#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Prints the tracked athlete's box for every frame of a video.
# Usage: pipelines/track.sh VIDEO [aicoachdetect properties...]
#   e.g. pipelines/track.sh /usr/share/doc/opencv-doc/examples/data/vtest.avi model=nanodet
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VIDEO=${1:?usage: $0 VIDEO [aicoachdetect properties...]}; shift
export GST_PLUGIN_PATH="$REPO/target/release${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
[ -f "$REPO/target/release/libgstaicoach.so" ] || { echo "build first: pipelines/setup.sh" >&2; exit 1; }
exec gst-launch-1.0 -m filesrc location="$VIDEO" ! decodebin ! videoconvert ! \
  aicoachdetect "$@" ! aicoachtrack post-messages=true ! fakesink
