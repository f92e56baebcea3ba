#!/usr/bin/env bash
# Sets up and builds Kiln, then compiles the bundled example
# (examples/tiny_cnn.onnxtxt, a small CNN classifier with a dynamic batch dim)
# into a shared library and runs it on random images of two batch sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build_dir=${BUILD_DIR:-build}
bin=$build_dir/bin
out=$build_dir/demo
mkdir -p "$out"

echo "== kiln-compile examples/tiny_cnn.onnxtxt -o $out/tiny_cnn.so"
"$bin/kiln-compile" examples/tiny_cnn.onnxtxt -o "$out/tiny_cnn.so" -v
echo "== the model's C header ($out/tiny_cnn.h) describes it:"
sed -n '1,8p' "$out/tiny_cnn.h"
for batch in 1 4; do
  echo "== kiln-run on a random batch of $batch (outputs in $out/batch$batch/)"
  "$bin/kiln-run" "$out/tiny_cnn.so" --random-inputs --shape "image:${batch}x1x8x8" \
    --output-dir "$out/batch$batch" --bench 20
done
/usr/bin/python3 -c "import numpy as np; p = np.load('$out/batch4/probs.npy'); print('probabilities of batch 4:'); print(p.round(3)); print('rows sum to 1:', bool(np.allclose(p.sum(1), 1)))"
echo "== the same model at the kiln-dialect stage (kiln-compile --emit=kiln):"
"$bin/kiln-compile" examples/tiny_cnn.onnxtxt --emit=kiln \
  --mlir-elide-elementsattrs-if-larger=8 --mlir-elide-resource-strings-if-larger=64
