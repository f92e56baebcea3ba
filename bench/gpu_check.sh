#!/usr/bin/env bash
# Checks and times Kiln's CUDA target on a GPU machine that has no compiler.
#
#   bench/gpu_check.sh prepare [--arch sm_90] [--out DIR] [MODEL...]
#       Here, with Kiln built: compiles each model (default: the reference
#       models that fit the device tool's 64 MiB transfer, see below) with
#       --target=cuda, unpacks its inputs, computes ONNX Runtime CPU outputs
#       as the expected ones, builds a two-input GEMM model, and writes
#       DIR/models.json (DIR defaults to .device/gpu-check, an ignored folder).
#   bench/gpu_check.sh device [--out DIR] [--runs N]
#       There: python3 bench/gpu_device.py DIR (numpy and PyTorch; the models
#       run through the C ABI with ctypes). Prints one JSON line per model:
#       match against ONNX Runtime, Kiln's median latency, PyTorch eager and
#       torch.compile latencies, and GEMM 4096^3 against torch.matmul.
#
# With no mode: device when nvidia-smi finds a GPU, else prepare.
# ResNet-50 (98 MiB of weights) and BERT-base (418 MiB) compile and pass
# ptxas here (test/e2e/cuda-reference-models.test) but do not fit the
# transfer: name them explicitly to prepare them for a machine they can
# reach another way. bert_base_1layer (BERT-base's layer shapes, one layer,
# 36 MiB) stands in for BERT-base, whose PyTorch times the device side
# measures too. The default set must stay under the 64 MiB transfer.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-}
if [[ "$MODE" == prepare || "$MODE" == device ]]; then
  shift
elif nvidia-smi -L >/dev/null 2>&1; then
  MODE=device
else
  MODE=prepare
fi

OUT="$REPO/.device/gpu-check"
ARCH=sm_90
RUNS=20
MODELS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --arch) ARCH=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    -*) echo "gpu_check.sh: unknown option $1" >&2; exit 2 ;;
    *) MODELS+=("$1"); shift ;;
  esac
done
[[ ${#MODELS[@]} -gt 0 ]] || MODELS=(mha_block bert_base_1layer mobilenet_v2)

if [[ "$MODE" == device ]]; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  exec python3 "$REPO/bench/gpu_device.py" "$OUT" --runs "$RUNS" --repo "$REPO"
fi

PY=${KILN_PYTHON:-/usr/bin/python3}
KILN_BIN=${KILN_BIN:-$REPO/build/bin}
MODELS_DIR=${KILN_MODELS_DIR:-/tmp/kiln-bench-models}
mkdir -p "$MODELS_DIR"
rm -rf "$OUT"
mkdir -p "$OUT"

entries=()
for name in "${MODELS[@]}"; do
  onnx="$MODELS_DIR/$name.onnx"
  if [[ ! -f "$onnx" ]]; then
    "$PY" "$REPO/python/kiln_models/export_models.py" "$MODELS_DIR" --only "$name"
  fi
  echo "== $name: compiling for $ARCH"
  "$KILN_BIN/kiln-compile" "$onnx" --target=cuda --gpu-arch="$ARCH" -o "$OUT/$name.so"
  rm -f "$OUT/$name.h"
  "$PY" "$REPO/python/kiln_models/npz_tools.py" unpack "$MODELS_DIR/$name.inputs.npz" \
    "$OUT/$name.inputs"
  node "$REPO/bench/ort_run.js" "$onnx" --inputs "$OUT/$name.inputs" \
    --output-dir "$OUT/$name.expected" --quiet
  entries+=("{\"name\": \"$name\", \"rtol\": 1e-2, \"atol\": 1e-3}")
done

echo "== gemm: a MatMul of two inputs (no weights to carry)"
"$PY" - "$OUT/gemm_inputs.onnx" <<'EOF'
import sys
import onnx
from onnx import TensorProto, helper

graph = helper.make_graph(
    [helper.make_node("MatMul", ["a", "b"], ["c"])], "gemm",
    [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["m", "k"]),
     helper.make_tensor_value_info("b", TensorProto.FLOAT, ["k", "n"])],
    [helper.make_tensor_value_info("c", TensorProto.FLOAT, ["m", "n"])])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
          sys.argv[1])
EOF
"$KILN_BIN/kiln-compile" "$OUT/gemm_inputs.onnx" --target=cuda --gpu-arch="$ARCH" \
  -o "$OUT/gemm_inputs.so"
rm -f "$OUT/gemm_inputs.h" "$OUT/gemm_inputs.onnx"

(IFS=,; echo "{\"arch\": \"$ARCH\", \"gemm\": 4096, \"torch_only\": [\"bert_base\"], \"models\": [${entries[*]}]}") \
  > "$OUT/models.json"
du -sh "$OUT"
echo "prepared $OUT; on the GPU machine: bash bench/gpu_check.sh device"
