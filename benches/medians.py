#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Prints the median of every criterion benchmark under target/criterion as a table.

Usage: benches/medians.py [GROUP_PREFIX]   (after `cargo bench -p aicoach-benches`)
"""
import json, pathlib, sys

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
prefix = sys.argv[1] if len(sys.argv) > 1 else ""
rows = []
for est in sorted(root.glob("**/new/estimates.json")):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    if not bench["full_id"].startswith(prefix):
        continue
    e = json.loads(est.read_text())
    rows.append((bench["full_id"], e["median"]["point_estimate"] / 1e6))
width = max((len(r[0]) for r in rows), default=10)
for name, ms in rows:
    print(f"{name:<{width}}  {ms:9.3f} ms")
