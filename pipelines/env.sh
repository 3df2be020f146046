# SPDX-License-Identifier: MPL-2.0
# Sourced by the pipeline scripts: the release build's plugin on GStreamer's path.
# AICOACH_PLUGIN_DIR overrides where the plugin is (the tests point it at their debug build).
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PLUGIN_DIR=${AICOACH_PLUGIN_DIR:-$REPO/target/release}
export GST_PLUGIN_PATH="$PLUGIN_DIR${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
[ -f "$PLUGIN_DIR/libgstaicoach.so" ] || { echo "build first: pipelines/setup.sh" >&2; exit 1; }
# The person detector: nanodet finds people of any size; blazepose-detector wants them large.
DETECTOR=${DETECTOR:-nanodet}
PROFILE=${PROFILE:-freestyle-aerials}
# Queues for file analysis: decoding, detection and the rest then run in their own streaming
# threads and share the cores (the detector's occasional long frames overlap with pose
# estimation). Not leaky: a file loses no frames. The short one in front of the tracker keeps
# its re-detection requests at most two frames late. benches/pipeline.rs measures the gain.
DECODE_QUEUE="queue max-size-buffers=4 max-size-bytes=0 max-size-time=0"
DETECT_QUEUE="queue max-size-buffers=2 max-size-bytes=0 max-size-time=0"
