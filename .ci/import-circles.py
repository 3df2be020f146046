#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Fails when two source files of one crate import each other (`crate::a` / `super::a` paths,
outside `#[cfg(test)]`). Crates cannot form cycles (cargo refuses); this keeps modules one-way too.

Usage: import-circles.py SRC_DIR...   (each a crate's `src/`; binaries in `src/bin` are skipped)
"""
import os
import re
import sys


def module_of(root, path):
    parts = os.path.relpath(path, root)[:-3].split(os.sep)
    return tuple(parts[:-1]) if parts[-1] in ("mod", "lib") else tuple(parts)


def imports(root, path, modules):
    me = module_of(root, path)
    parent = me if path.endswith("mod.rs") or path.endswith("lib.rs") else me[:-1]
    text = open(path, encoding="utf-8").read().split("#[cfg(test)]")[0]
    found = set()
    for kind, rest in re.findall(r"\b(crate|super)((?:::\{[^}]*\}|::[a-z_][a-z0-9_]*)+)", text):
        base = () if kind == "crate" else parent[:-1] if path.endswith("mod.rs") else parent
        names = re.findall(r"::([a-z_][a-z0-9_]*)", rest.split("::{")[0])
        heads = [base + tuple(names)]
        if "::{" in rest:
            inner = rest.split("::{", 1)[1]
            heads += [base + tuple(names) + (n,) for n in re.findall(r"[a-z_][a-z0-9_]*", inner)]
        for target in heads:
            while target and target not in modules:
                target = target[:-1]
            if target and target != me:
                found.add(target)
    return me, found


def main():
    circles = 0
    for root in sys.argv[1:]:
        files = [
            os.path.join(d, f)
            for d, _, names in os.walk(root)
            for f in names
            if f.endswith(".rs") and os.sep + "bin" not in d[len(root):]
        ]
        modules = {module_of(root, f): f for f in files}
        graph = dict(imports(root, f, modules) for f in files)
        for a, targets in graph.items():
            for b in targets:
                if a < b and a in graph.get(b, ()):
                    print(f"{modules[a]} and {modules[b]} import each other")
                    circles += 1
    print(f"import circles: {circles}")
    return 1 if circles else 0


if __name__ == "__main__":
    sys.exit(main())
