# SPDX-License-Identifier: MPL-2.0
"""How far our keypoints are from MediaPipe's on the same frames, so a speed win is not bought
with worse keypoints.

    python3 benches/compare_keypoints.py OURS.jsonl THEIRS.jsonl

OURS is an aicoachclassify report, THEIRS what benches/mediapipe_peer.py wrote; frames pair by
order (the n-th frame line of each), and their times are checked: a pair more than half a frame
apart is reported on stderr, telling a constant offset (a stream start time one decoder keeps
and the other drops: pairing still holds) from frames dropped or added on one side (pairing is
off from there). Over frames where both found a pose, for keypoints both are confident about
(confidence/visibility >= 0.5), the distance divided by the box size (the larger side of the
box around MediaPipe's keypoints on that frame). Each side follows one person of its own
choosing: a frame whose median distance is over half a box is counted as a different person
and left out of the statistics. Prints one JSON line: mean, median and p95, over all 33
keypoints and over the 12 body joints (shoulders to ankles), and the time check. Exits 0 unless an
input cannot be read.
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


def time_check(pairs):
    """Whether paired frames' times agree within half a frame (THEIRS' median step)."""
    times = [(a.get("time"), b.get("time")) for a, b in pairs]
    times = [(x, y) for x, y in times if isinstance(x, (int, float)) and isinstance(y, (int, float))]
    if len(times) < 2:
        return {"agree": None}
    steps = sorted(y2 - y1 for (_, y1), (_, y2) in zip(times, times[1:]))
    half = steps[len(steps) // 2] / 2
    offsets = sorted(x - y for x, y in times)
    offset = offsets[len(offsets) // 2]
    apart = sum(abs(x - y) > half for x, y in times)
    drift = sum(abs(x - y - offset) > half for x, y in times)
    if apart:
        why = (f"{drift} pairs stay apart after removing it: frames dropped or added on one side, "
               "pairing by order is wrong from there") if drift else \
            "a constant offset (a stream start time one decoder keeps): pairing by order holds"
        print(f"compare_keypoints: times disagree by more than half a frame ({half:.4f} s) on {apart} of "
              f"{len(times)} pairs; median offset ours - theirs {offset:+.4f} s; {why}", file=sys.stderr)
    return {"agree": apart == 0, "frame_s": round(2 * half, 4), "offset_s": round(offset, 4),
            "pairs_apart": apart, "pairs_apart_after_offset": drift}


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
    times = time_check(list(zip(ours, theirs)))
    if len(ours) != len(theirs):
        print(f"compare_keypoints: {len(ours)} frame lines against {len(theirs)}; "
              f"the last {abs(len(ours) - len(theirs))} are not compared", file=sys.stderr)
    print(json.dumps({
        "frames_ours": len(ours), "frames_theirs": len(theirs), "frames_compared": both,
        "only_ours": only_ours, "only_theirs": only_theirs, "different_person": different,
        "all_33": stats(every), "body_12": body_stats,
        "within_5_percent": body_stats.get("mean", 1.0) < 0.05, "time": times,
    }))


if __name__ == "__main__":
    main()
