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
