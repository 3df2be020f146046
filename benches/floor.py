# SPDX-License-Identifier: MPL-2.0
"""Each model's compute floor on this machine: its multiply-adds, by kind of layer, against the
GFLOP/s this machine reaches on that kind of layer, and how far the measured time is from it.

    python benches/floor.py [--models DIR] [--measured lite=2.4 full=4.9 ...]

The graphs are pruned to the outputs the product reads (as the engines do when loading).
Achievable GFLOP/s is measured with ONNX Runtime on one thread (the product's CPU backend and
thread budget) on synthetic layers shaped like the models' own: dense 3x3 convolutions,
pointwise (1x1) convolutions and depthwise convolutions (MatMul/Gemm taken at the pointwise
rate); the other ops (activations, adds, pads, reshapes) are listed with their output sizes as a
note and left out of the floor. Without --measured, each model is also timed here with ONNX
Runtime on one thread. Run it in the venv benches/mediapipe-venv.sh makes (onnx, onnxruntime).
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, shape_inference, utils

# name: (file, outputs the product reads), as in engines/inference/src/models.rs
MODELS = {
    "detector": ("pose_detection.onnx", ["Identity", "Identity_1"]),
    "lite": ("pose_landmark_lite.onnx", ["Identity", "Identity_1"]),
    "full": ("pose_landmark_full.onnx", ["Identity", "Identity_1"]),
    "nanodet": ("nanodet_m_416.onnx", ["Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0",
                                       "Identity_4:0", "Identity_5:0"]),
}


def session(model_bytes):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def median_ms(sess, feeds, min_seconds=1.0):
    for _ in range(3):
        sess.run(None, feeds)
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_seconds or len(times) < 10:
        t = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def static_input(model):
    """Fixes symbolic dimensions (the batch) to 1 so shapes can be inferred."""
    for i in model.graph.input:
        for d in i.type.tensor_type.shape.dim:
            if not d.dim_value:
                d.dim_value = 1
    return model


def pruned(path, outputs):
    model = static_input(onnx.load(path))
    inputs = [i.name for i in model.graph.input if i.name not in {x.name for x in model.graph.initializer}]
    model = utils.Extractor(model).extract_model(inputs, outputs)
    return shape_inference.infer_shapes(model)


def dims(value_info):
    return [d.dim_value for d in value_info.type.tensor_type.shape.dim]


def count_macs(model):
    shapes = {v.name: dims(v) for v in list(model.graph.value_info) + list(model.graph.output) + list(model.graph.input)}
    shapes.update({t.name: list(t.dims) for t in model.graph.initializer})
    macs = {"dense": 0, "pointwise": 0, "depthwise": 0, "matmul": 0}
    other = {}
    for node in model.graph.node:
        if node.op_type in ("Conv", "ConvTranspose"):
            weight = shapes[node.input[1]]
            out = shapes.get(node.output[0])
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            if not out or 0 in out:
                raise SystemExit(f"no shape for {node.output[0]}")
            kernel = int(np.prod(weight[2:]))
            if node.op_type == "Conv":
                per_output = weight[1] * kernel  # weight: [Cout, Cin/group, kh, kw]
                count = int(np.prod(out)) * per_output
            else:
                count = int(np.prod(shapes[node.input[0]])) * weight[1] * kernel
            # Conv weight: [Cout, Cin/group, kh, kw]; ConvTranspose: [Cin, Cout/group, kh, kw]
            cin = weight[0] if node.op_type == "ConvTranspose" else weight[1] * group
            kind = "depthwise" if group > 1 and group == cin else "pointwise" if kernel == 1 else "dense"
            macs[kind] += count
        elif node.op_type in ("MatMul", "Gemm"):
            a, b = shapes.get(node.input[0]), shapes.get(node.input[1])
            if a and b:
                macs["matmul"] += int(np.prod(a[:-1])) * a[-1] * b[-1]
        else:  # a note: count and output elements (M) of the ops without multiply-adds
            count, elements = other.get(node.op_type, (0, 0.0))
            out = shapes.get(node.output[0]) if node.output else None
            other[node.op_type] = (count + 1, elements + (int(np.prod(out)) / 1e6 if out and 0 not in out else 0.0))
    return macs, other


def conv_graph(cin, cout, size, kernel, group):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, size, size])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = np.random.default_rng(0).standard_normal((cout, cin // group, kernel, kernel)).astype(np.float32) * 0.05
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=group, pads=[kernel // 2] * 4)
    graph = helper.make_graph([node], "layer", [x], [y], [onnx.numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    macs = size * size * cout * (cin // group) * kernel * kernel
    return model.SerializeToString(), macs, np.random.default_rng(1).standard_normal((1, cin, size, size)).astype(np.float32)


def achievable_gflops():
    """GFLOP/s per kind of layer, the best of a few shapes like the models' (64-128x64-128
    maps, 24-128 channels)."""
    shapes = {
        "dense": [(24, 24, 64, 3, 1), (48, 48, 32, 3, 1), (32, 64, 64, 3, 1)],
        "pointwise": [(48, 48, 64, 1, 1), (96, 96, 32, 1, 1), (192, 192, 16, 1, 1)],
        "depthwise": [(48, 48, 64, 3, 48), (96, 96, 32, 5, 96), (192, 192, 16, 3, 192)],
    }
    out = {}
    for kind, variants in shapes.items():
        best = 0.0
        for cin, cout, size, kernel, group in variants:
            graph, macs, x = conv_graph(cin, cout, size, kernel, group)
            ms = median_ms(session(graph), {"x": x}, 0.5)
            best = max(best, 2 * macs / (ms * 1e-3) / 1e9)
        out[kind] = best
    out["matmul"] = out["pointwise"]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--models", default=os.path.join(here, "..", "engines", "models"))
    parser.add_argument("--measured", nargs="*", default=[], help="name=ms, e.g. lite=2.4")
    args = parser.parse_args()
    measured = {k: float(v) for k, v in (m.split("=") for m in args.measured)}

    gflops = achievable_gflops()
    print("achievable GFLOP/s, ONNX Runtime 1 thread: " + ", ".join(f"{k} {v:.1f}" for k, v in gflops.items()))
    print(f"{'model':<9} {'MMAC dense/pointwise/depthwise/matmul':>40} {'floor ms':>9} {'measured ms':>12} {'x floor':>8}")
    for name, (file, outputs) in MODELS.items():
        model = pruned(os.path.join(args.models, file), outputs)
        macs, other = count_macs(model)
        floor_ms = sum(2 * macs[k] / (gflops[k] * 1e9) for k in macs) * 1e3
        if name in measured:
            ms, source = measured[name], "given"
        else:
            sess = session(model.SerializeToString())
            weights = {t.name for t in model.graph.initializer}
            feeds = {i.name: np.random.default_rng(2).random(dims(i), dtype=np.float32)
                     for i in model.graph.input if i.name not in weights}
            ms, source = median_ms(sess, feeds), "onnxruntime 1 thread, here"
        split = "/".join(f"{macs[k] / 1e6:.0f}" for k in ("dense", "pointwise", "depthwise", "matmul"))
        print(f"{name:<9} {split:>40} {floor_ms:>9.2f} {ms:>12.2f} {ms / floor_ms:>8.1f}")
        print(f"{'':<9} other ops (count, M output elements), not in the floor: " +
              ", ".join(f"{op} {n} {e:.2f}" for op, (n, e) in sorted(other.items(), key=lambda kv: -kv[1][1])))
        print(json.dumps({"model": name, "mmac": {k: round(v / 1e6, 1) for k, v in macs.items()},
                          "mmac_total": round(sum(macs.values()) / 1e6, 1), "floor_ms": round(floor_ms, 3),
                          "measured_ms": round(ms, 3), "measured_by": source, "times_floor": round(ms / floor_ms, 2),
                          "other_ops": {op: {"count": n, "m_elements": round(e, 2)} for op, (n, e) in sorted(other.items())}}))


if __name__ == "__main__":
    main()
