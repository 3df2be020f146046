#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Prints the tracked athlete's box for every frame of a video.
# Usage: pipelines/track.sh VIDEO [aicoachdetect properties...]
#   e.g. pipelines/track.sh /usr/share/doc/opencv-doc/examples/data/vtest.avi model=nanodet
set -euo pipefail
source "$(dirname "$0")/env.sh"
VIDEO=${1:?usage: $0 VIDEO [aicoachdetect properties...]}; shift
exec gst-launch-1.0 -m filesrc location="$VIDEO" ! decodebin ! $PREPARE ! \
  aicoachdetect "$@" ! aicoachtrack post-messages=true ! fakesink
