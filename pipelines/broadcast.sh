#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Broadcaster example: the elements dropped into an existing graph between a decoder and a
# compositor. They take and give plain raw video (no conversion of their own) and carry their
# results as metadata, so the graph around them does not change: here the programme feed and
# the analysed feed go side by side into a compositor, then to the screen.
# Usage: pipelines/broadcast.sh VIDEO
set -euo pipefail
source "$(dirname "$0")/env.sh"
VIDEO=${1:?usage: $0 VIDEO}
SINK=${SINK:-autovideosink}
exec gst-launch-1.0 -e compositor name=mix sink_1::xpos=640 ! videoconvert ! $SINK \
  filesrc location="$VIDEO" ! decodebin ! $PREPARE ! videoscale ! video/x-raw,width=640,height=360 ! tee name=feed \
  feed. ! queue ! mix.sink_0 \
  feed. ! queue ! aicoachdetect model="$DETECTOR" search-model="$SEARCH_DETECTOR" ! aicoachtrack ! aicoachpose ! \
    aicoachclassify profile="$PROFILE" ! aicoachoverlay ! mix.sink_1
