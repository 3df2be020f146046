# SPDX-License-Identifier: MPL-2.0
# Sourced by the pipeline scripts: the release build's plugin on GStreamer's path.
# AICOACH_PLUGIN_DIR overrides where the plugin is (the tests point it at their debug build).
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PLUGIN_DIR=${AICOACH_PLUGIN_DIR:-$REPO/target/release}
export GST_PLUGIN_PATH="$PLUGIN_DIR${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
[ -f "$PLUGIN_DIR/libgstaicoach.so" ] || { echo "build first: pipelines/setup.sh" >&2; exit 1; }
# The person detector: nanodet finds people of any size; blazepose-detector wants them large.
DETECTOR=${DETECTOR:-nanodet}
# The second detector, joining the first on the first frame and while the athlete is looked for
# (files only: a live stream cannot wait for two): NanoDet-m scores some large, clear people
# under its threshold (a sprinter alone on the track at 0.36 to 0.41) of whom the pedestrian SSD
# is sure, and the SSD misses small people NanoDet finds. `none` leaves it out.
SEARCH_DETECTOR=${SEARCH_DETECTOR:-ssdlite}
PROFILE=${PROFILE:-freestyle-aerials}
# Queues for file analysis: decoding, detection and the rest then run in their own streaming
# threads and share the cores (the detector's occasional long frames overlap with pose
# estimation). Not leaky: a file loses no frames. The one in front of the tracker is short, so
# the detector runs at most three frames ahead of it. benches/pipeline.rs measures the gain.
DECODE_QUEUE="queue max-size-buffers=4 max-size-bytes=0 max-size-time=0"
DETECT_QUEUE="queue max-size-buffers=2 max-size-bytes=0 max-size-time=0"
# After the pose estimator: the report and the drawing (and the encoder behind them) work on one
# frame while the models work on the next (openpose 720p into x264: 38.6 -> 43.4 fps, AMD EPYC 2 cores).
POSE_QUEUE="queue max-size-buffers=2 max-size-bytes=0 max-size-time=0"
# With that queue the detector is up to three frames ahead of the tracker when it asks for a
# detection: run it on the fourth frame after the one the tracker asked on, whatever the
# threads' timing, so the same file gives the same analysis on every run.
REQUEST_DELAY=4
# What every input goes through before analysis, so the models and the output see what a viewer
# would: any pixel format the deinterlacer cannot take (10-bit, say) converted, interlaced video
# (broadcast 1080i) deinterlaced to one frame per field, and phone video turned upright by its
# rotation tag (decoders leave it sideways). Progressive, upright 8-bit video passes untouched.
PREPARE="videoconvert ! deinterlace ! videoflip video-direction=auto ! videoconvert"
# Constant quality: a bitrate is divided by the caps' frame rate, and a web clip labelled
# 90000/1 then gets a uniform grey picture. Quality needs no rate; timestamps pass through.
# The encoder feeds the muxer directly: h264parse would reset every frame's duration from the
# stream's timing header, 1 ns in a clip that claims 1000000000/1, and mp4mux would then give
# the last frame no time on the track (players drop it).
H264="x264enc pass=qual quantizer=21 speed-preset=veryfast tune=zerolatency"
# A fixed track timescale: mp4mux takes it from the caps' frame rate otherwise, and a clip whose
# caps say 1000000000/1 (what qtdemux reports for some variable-rate files) overflows it into an
# unplayable file. 1/90000 s is the usual video clock; timestamps keep their spacing.
MP4MUX="mp4mux trak-timescale=90000"
