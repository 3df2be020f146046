#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Live camera to screen, never losing a frame to analysis. Every element reports its processing
# time in the latency, so the sink waits for it; when analysis falls behind anyway, the sink's
# QoS makes aicoachdetect and aicoachpose skip their work on late frames (the pose is carried
# along with the tracked box, marked as such, and not judged) until the video is on time. The
# queues are not leaky: no frame is dropped on the way. The refinement is causal (no
# lookahead).
# Usage: pipelines/live.sh [DEVICE]     (default /dev/video0; SOURCE="..." replaces v4l2src,
#        SINK="..." replaces the screen, e.g. "fakesink sync=true qos=true" to measure headless)
set -euo pipefail
source "$(dirname "$0")/env.sh"
SOURCE=${SOURCE:-v4l2src device=${1:-/dev/video0}}
SINK=${SINK:-autovideosink}
# A capture thread apart from the analysis; a few frames of room, never dropping one.
QUEUE="queue max-size-buffers=3 max-size-bytes=0 max-size-time=0"
# shellcheck disable=SC2086
exec gst-launch-1.0 -e $SOURCE ! $PREPARE ! $QUEUE ! \
  aicoachdetect model="$DETECTOR" search-model="$SEARCH_DETECTOR" ! aicoachtrack ! aicoachpose ! \
  aicoachclassify profile="$PROFILE" ! aicoachoverlay ! videoconvert ! $SINK
