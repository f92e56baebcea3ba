#!/usr/bin/env bash
# Sets up and builds Kiln, then runs it on the bundled example
# (examples/tiny_cnn.onnxtxt): import into the kiln dialect, fix the dynamic
# batch dim, and fold/refine shapes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build_dir=${BUILD_DIR:-build}
model=examples/tiny_cnn.onnxtxt

echo "== kiln-translate --import-onnx $model"
"$build_dir/bin/kiln-translate" --import-onnx "$model" \
  --mlir-elide-resource-strings-if-larger=64 -o "$build_dir/tiny_cnn.mlir"
cat "$build_dir/tiny_cnn.mlir"
echo "== with --input-shape image:1x1x8x8, canonicalized"
"$build_dir/bin/kiln-translate" --import-onnx "$model" --input-shape image:1x1x8x8 |
  "$build_dir/bin/kiln-opt" --canonicalize --kiln-infer-shapes \
    --mlir-elide-elementsattrs-if-larger=8 --mlir-elide-resource-strings-if-larger=64
