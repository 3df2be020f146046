# SPDX-License-Identifier: MPL-2.0
"""MediaPipe's own Python pose pipeline on every frame of a video: the performance benchmark's
peer. `solutions.pose` runs the same BlazePose lite (complexity 0) and full (1) models as we
do, with its own detector, tracking and smoothing, on XNNPACK.

    python benches/mediapipe_peer.py VIDEO --complexity {0,1} --out FILE.jsonl [--frames N]

Decodes with OpenCV (as MediaPipe's own examples do), times decode + pose end to end, prints
one JSON line (fps, pose and decode ms per frame, CPU use, peak memory) and writes one line per
frame shaped like our report's frame lines: {"type": "frame", "index", "time",
"keypoints": {name: [x_px, y_px, visibility]} or null}. Run it in the venv
benches/mediapipe-venv.sh makes.
"""
import argparse
import json
import resource
import time

import cv2
import mediapipe as mp

NAMES = [landmark.name.lower() for landmark in mp.solutions.pose.PoseLandmark]


def percentile(values, q):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q + 0.999999) - 1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("video")
    parser.add_argument("--complexity", type=int, choices=[0, 1], default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--frames", type=int, default=0, help="stop after N frames (0: all)")
    args = parser.parse_args()

    capture = cv2.VideoCapture(args.video)
    if not capture.isOpened():
        raise SystemExit(f"cannot open {args.video}")
    fps_in = capture.get(cv2.CAP_PROP_FPS) or 30.0
    pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=args.complexity,
                                  smooth_landmarks=True, enable_segmentation=False)
    decode_ms, pose_ms, with_pose, index = [], [], 0, 0
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    with open(args.out, "w") as out:
        while not args.frames or index < args.frames:
            t0 = time.perf_counter()
            ok, bgr = capture.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            t1 = time.perf_counter()
            result = pose.process(rgb)
            t2 = time.perf_counter()
            decode_ms.append((t1 - t0) * 1e3)
            pose_ms.append((t2 - t1) * 1e3)
            height, width = rgb.shape[:2]
            keypoints = None
            if result.pose_landmarks:
                with_pose += 1
                keypoints = {name: [round(l.x * width, 1), round(l.y * height, 1), round(l.visibility, 3)]
                             for name, l in zip(NAMES, result.pose_landmarks.landmark)}
            out.write(json.dumps({"type": "frame", "index": index, "time": round(index / fps_in, 4),
                                  "keypoints": keypoints}) + "\n")
            index += 1
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage.ru_utime - usage0.ru_utime) + (usage.ru_stime - usage0.ru_stime)
    print(json.dumps({
        "tool": "mediapipe", "version": mp.__version__, "complexity": args.complexity,
        "frames": index, "frames_with_pose": with_pose, "fps": round(index / wall, 2),
        "pose_ms_mean": round(sum(pose_ms) / max(1, len(pose_ms)), 2),
        "pose_ms_p95": round(percentile(pose_ms, 0.95), 2),
        "decode_ms_mean": round(sum(decode_ms) / max(1, len(decode_ms)), 2),
        "cpu_percent": round(cpu / wall * 100, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
