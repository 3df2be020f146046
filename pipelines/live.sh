#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Live camera to screen. Leaky queues drop frames in front of a slow stage rather than build
# latency; the refinement is causal (no lookahead).
# Usage: pipelines/live.sh [DEVICE]     (default /dev/video0; SOURCE="..." replaces v4l2src)
set -euo pipefail
source "$(dirname "$0")/env.sh"
SOURCE=${SOURCE:-v4l2src device=${1:-/dev/video0}}
LEAKY="queue leaky=downstream max-size-buffers=1 max-size-bytes=0 max-size-time=0"
# shellcheck disable=SC2086
exec gst-launch-1.0 -e $SOURCE ! videoconvert ! $LEAKY ! \
  aicoachdetect model="$DETECTOR" ! aicoachtrack ! $LEAKY ! aicoachpose ! \
  aicoachclassify profile="$PROFILE" ! aicoachoverlay ! $LEAKY ! videoconvert ! autovideosink sync=false
