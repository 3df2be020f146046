#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# The soak run (not in CI): the whole analysis, report included, on a real clip looped until at
# least MINUTES of video have gone through, with resident memory sampled every 250 ms. Prints
# the memory timeline and the slope over the second half of the run (warm-up excluded).
# Usage: benches/soak.sh [VIDEO] [MINUTES]   (defaults: opencv-doc's vtest.avi, 30)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VIDEO=${1:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}
MINUTES=${2:-30}
cd "$REPO"
cargo build --release -q -p aicoach-benches --bin pipeline-bench
echo "cpu: $(target/release/pipeline-bench --cpu)"
# The clip's length: its frames over the frame rate of its decoded caps.
seconds=$(python3 - "$VIDEO" <<'PY'
import re, subprocess, sys
out = subprocess.run(["gst-launch-1.0", "-v", "filesrc", f"location={sys.argv[1]}", "!", "decodebin", "!",
                      "fakesink", "silent=false", "sync=false"], capture_output=True, text=True).stdout
frames = out.count("chain")
rate = re.search(r"framerate=\(fraction\)(\d+)/(\d+)", out)
print(frames * int(rate.group(2)) / int(rate.group(1)) if rate and frames else 0)
PY
)
[ "$seconds" != 0 ] || { echo "cannot read the length of $VIDEO" >&2; exit 1; }
loops=$(awk -v s="$seconds" -v m="$MINUTES" 'BEGIN { l = int(m * 60 / s) + 1; print (l < 1 ? 1 : l) }')
echo "soak: $VIDEO ($seconds s) x $loops loops = at least $MINUTES min of video"
report=$(mktemp --suffix=.jsonl)
target/release/pipeline-bench "$VIDEO" --split --loops "$loops" --report "$report" --label soak
echo "report: $(wc -l < "$report") lines, last: $(tail -c 200 "$report")"
rm -f "$report"
