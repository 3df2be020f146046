#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Reference keypoints for the engine tests, computed with an independent runtime.

Runs the vendored BlazePose detector and landmark models with onnxruntime and PIL (none of our
Rust code) on a photo and writes the detector's best box and alignment points and each
landmark model's 33 keypoints in image pixels. The Rust tests check that our pre-processing,
backends and decoders land within a few pixels of these.

Usage: reference_keypoints.py IMAGE OUT.json   (needs: pip install onnxruntime numpy pillow)
"""
import json, math, os, sys
import numpy as np, onnxruntime as ort
from PIL import Image

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models")


def session(name):
    return ort.InferenceSession(os.path.join(MODELS, name + ".onnx"), providers=["CPUExecutionProvider"])


def anchors():
    strides, out, layer = [8, 16, 32, 32, 32], [], 0
    while layer < len(strides):
        n, s = 0, strides[layer]
        while layer < len(strides) and strides[layer] == s:
            n += 2
            layer += 1
        fm = math.ceil(224 / s)
        for y in range(fm):
            for x in range(fm):
                out += [((x + 0.5) / fm, (y + 0.5) / fm)] * n
    return np.array(out, np.float32)


def main(image_path, out_path):
    img = Image.open(image_path).convert("RGB")
    W, H = img.size
    S = max(W, H)
    padx, pady = (S - W) / 2, (S - H) / 2
    sq = Image.new("RGB", (S, S))
    sq.paste(img, (int(padx), int(pady)))
    x = (np.asarray(sq.resize((224, 224), Image.BILINEAR)).astype(np.float32) / 127.5 - 1.0)[None]
    reg, score = session("pose_detection").run(None, {"input_1": x})
    sc = 1 / (1 + np.exp(-np.clip(score[0, :, 0].astype(np.float64), -100, 100)))
    # MediaPipe's weighted suppression around the best detection: the score-weighted mean of
    # all detections whose face box overlaps the best one's by IoU > 0.3.
    A = anchors()
    raw = reg[0].astype(np.float64)
    cand = np.where(sc >= 0.5)[0]
    def decoded(i):
        a = A[i]
        vals = raw[i].copy()
        vals[0::2] = (vals[0::2] / 224 + a[0]) * S - padx
        vals[1::2] = (vals[1::2] / 224 + a[1]) * S - pady
        vals[2] = raw[i, 2] / 224 * S
        vals[3] = raw[i, 3] / 224 * S
        return vals
    def iou(u, v):
        ax0, ay0, ax1, ay1 = u[0] - u[2] / 2, u[1] - u[3] / 2, u[0] + u[2] / 2, u[1] + u[3] / 2
        bx0, by0, bx1, by1 = v[0] - v[2] / 2, v[1] - v[3] / 2, v[0] + v[2] / 2, v[1] + v[3] / 2
        inter = max(0, min(ax1, bx1) - max(ax0, bx0)) * max(0, min(ay1, by1) - max(ay0, by0))
        return inter / (u[2] * u[3] + v[2] * v[3] - inter)
    best = int(sc.argmax())
    top = decoded(best)
    cluster = [i for i in cand if iou(decoded(i), top) > 0.3]
    w = sc[cluster] / sc[cluster].sum()
    merged = sum(wi * decoded(i) for wi, i in zip(w, cluster))
    cx, cy = merged[0], merged[1]
    kps = [(merged[4 + 2 * k], merged[5 + 2 * k]) for k in range(4)]
    kps = [(float(p[0]), float(p[1])) for p in kps]
    (x0, y0), (x1, y1) = kps[0], kps[1]
    rot = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
    rot -= 2 * math.pi * math.floor((rot + math.pi) / (2 * math.pi))
    side = 2 * math.hypot(x1 - x0, y1 - y0) * 1.25
    c, s = math.cos(rot), math.sin(rot)
    k = side / 256
    M = (c * k, -s * k, 0.0, s * k, c * k, 0.0)
    M = (M[0], M[1], x0 - (M[0] * 128 + M[1] * 128), M[3], M[4], y0 - (M[3] * 128 + M[4] * 128))
    crop = img.transform((256, 256), Image.AFFINE, M, resample=Image.BILINEAR)
    xl = (np.asarray(crop).astype(np.float32) / 255.0)[None]
    report = {
        "image": os.path.basename(image_path),
        "size": [W, H],
        "detector": {"score": float(sc[best]), "face_center": [float(cx), float(cy)],
                     "face_box_size": [float(merged[2]), float(merged[3])], "cluster": len(cluster),
                     "keypoints": [[float(p[0]), float(p[1])] for p in kps]},
        "roi": {"center": [x0, y0], "side": side, "rotation": rot},
    }
    for variant in ("lite", "full"):
        lm, flag = session("pose_landmark_" + variant).run(["Identity", "Identity_1"], {"input_1": xl})
        lm = lm.reshape(39, 5)[:33]
        pts = [[float(M[0] * u + M[1] * v + M[2]), float(M[3] * u + M[4] * v + M[5])] for u, v in lm[:, :2]]
        vis = (1 / (1 + np.exp(-lm[:, 3]))).tolist()
        report[variant] = {"pose_score": float(flag[0, 0]), "keypoints": pts, "visibility": vis}
    with open(out_path, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps({k: report[k] for k in ("detector", "roi")}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
