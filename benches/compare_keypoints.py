# SPDX-License-Identifier: MPL-2.0
"""How far our keypoints are from MediaPipe's on the same frames, so a speed win is not bought
with worse keypoints.

    python3 benches/compare_keypoints.py OURS.jsonl THEIRS.jsonl

OURS is an aicoachclassify report, THEIRS what benches/mediapipe_peer.py wrote; frames pair by
order. Over frames where both found a pose, for keypoints both are confident about
(confidence/visibility >= 0.5), the distance divided by the box size (the larger side of the
box around MediaPipe's keypoints on that frame). Each side follows one person of its own
choosing: a frame whose median distance is over half a box is counted as a different person
and left out of the statistics. Prints one JSON line: mean, median and p95, over all 33
keypoints and over the 12 body joints (shoulders to ankles).
"""
import json
import sys

BODY = ["left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
CONFIDENT = 0.5
DIFFERENT_PERSON = 0.5


def frames(path):
    out = []
    with open(path) as f:
        for line in f:
            try:
                value = json.loads(line)
            except ValueError:
                break  # a report cut short: stop at its last whole line
            if value.get("type") == "frame":
                out.append(value)
    return out


def stats(values):
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {"n": len(ordered), "mean": round(sum(ordered) / len(ordered), 4),
            "median": round(ordered[len(ordered) // 2], 4),
            "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 4)}


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    ours, theirs = frames(sys.argv[1]), frames(sys.argv[2])
    every, body = [], []
    both = only_ours = only_theirs = different = 0
    for a, b in zip(ours, theirs):
        ka, kb = a.get("keypoints"), b.get("keypoints")
        if ka and kb:
            both += 1
        elif ka:
            only_ours += 1
            continue
        elif kb:
            only_theirs += 1
            continue
        else:
            continue
        xs = [p[0] for p in kb.values()]
        ys = [p[1] for p in kb.values()]
        size = max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
        frame = {}
        for name, (x, y, c) in kb.items():
            if name in ka and c >= CONFIDENT and ka[name][2] >= CONFIDENT:
                frame[name] = ((ka[name][0] - x) ** 2 + (ka[name][1] - y) ** 2) ** 0.5 / size
        if not frame:
            continue
        if sorted(frame.values())[len(frame) // 2] > DIFFERENT_PERSON:
            different += 1
            continue
        every.extend(frame.values())
        body.extend(d for name, d in frame.items() if name in BODY)
    body_stats = stats(body)
    print(json.dumps({
        "frames_ours": len(ours), "frames_theirs": len(theirs), "frames_compared": both,
        "only_ours": only_ours, "only_theirs": only_theirs, "different_person": different,
        "all_33": stats(every), "body_12": body_stats,
        "within_5_percent": body_stats.get("mean", 1.0) < 0.05,
    }))


if __name__ == "__main__":
    main()
