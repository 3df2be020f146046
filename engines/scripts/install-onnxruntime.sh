#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Installs libonnxruntime.so for the ONNX Runtime backend from the `onnxruntime` wheel on PyPI
# (the only registry that carries a build of it), pinned by version and sha256.
# Usage: install-onnxruntime.sh [DEST]   (default: <repo>/.ort, where the engines look first)
set -euo pipefail
VERSION=1.32.0
WHEEL=onnxruntime-${VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl
SHA256=5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DEST=${1:-$REPO/.ort}
LIB=libonnxruntime.so.${VERSION}
if [ -f "$DEST/$LIB" ] && [ -f "$DEST/$WHEEL.sha256" ] && grep -q "$SHA256" "$DEST/$WHEEL.sha256"; then
  echo "onnxruntime $VERSION already in $DEST"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
  --platform manylinux_2_28_x86_64 -d "$tmp" "onnxruntime==$VERSION"
echo "$SHA256  $tmp/$WHEEL" | sha256sum -c --quiet - || { echo "onnxruntime wheel checksum mismatch" >&2; exit 1; }
mkdir -p "$DEST"
python3 - "$tmp/$WHEEL" "$DEST" "$LIB" <<'PY'
import sys, zipfile, os
whl, dest, lib = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    for name in (lib, "libonnxruntime_providers_shared.so"):
        with z.open(f"onnxruntime/capi/{name}") as src, open(os.path.join(dest, name), "wb") as out:
            out.write(src.read())
PY
echo "$SHA256  $WHEEL" > "$DEST/$WHEEL.sha256"
echo "installed $DEST/$LIB"
