#!/usr/bin/env bash
# Builds Kiln's libFuzzer targets (clang-22, ASan + UBSan) into
# ${FUZZ_BUILD_DIR:-build-fuzz} and runs each for ${FUZZ_SECONDS:-600}
# seconds on ${FUZZ_JOBS:-1} processes, starting from a seed corpus made
# from the test data. Crashes land in build-fuzz/findings/<target>/.
#   scripts/fuzz.sh [TARGET...]     (default: every target)
# Targets: tensor-files (kiln-run's .npy and TensorProto readers),
# onnx-binary and onnx-text (the ONNX importer on .onnx and .onnxtxt bytes),
# runtime-inputs (kiln_model_run's input checks, with a stand-in model).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-600}
jobs=${FUZZ_JOBS:-1}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tensor-files onnx-binary onnx-text runtime-inputs)

# libFuzzer and the sanitizer runtimes.
if ! dpkg -s libclang-rt-22-dev >/dev/null 2>&1; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get install -y -q libclang-rt-22-dev
fi

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD"
fi
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -G Ninja -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DKILN_BUILD_FUZZERS=ON "${launcher[@]}"
fi
cmake --build "$build_dir" --target $(printf 'kiln-fuzz-%s ' "${targets[@]}")

# Seeds: small valid files of every kind the target reads.
seeds() {
  local target=$1 dir=$2
  mkdir -p "$dir"
  case $target in
  tensor-files)
    /usr/bin/python3 - "$dir" <<'PY'
import sys, numpy as np
from onnx import numpy_helper
out = sys.argv[1]
arrays = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3),
          "i64": np.array([3, -1], np.int64), "u8": np.zeros((1, 2, 2), np.uint8),
          "f16": np.ones(3, np.float16), "b": np.array([True, False]),
          "scalar": np.float64(2.5)}
for name, a in arrays.items():
    np.save(f"{out}/{name}.npy", a)
    with open(f"{out}/{name}.pb", "wb") as f:
        f.write(numpy_helper.from_array(np.asarray(a)).SerializeToString())
# Sequences and optionals (SequenceProto, OptionalProto).
import onnx
seq = onnx.SequenceProto(elem_type=onnx.SequenceProto.TENSOR)
seq.tensor_values.extend([numpy_helper.from_array(arrays["f32"]),
                          numpy_helper.from_array(arrays["f32"][:1])])
opt = onnx.OptionalProto(elem_type=onnx.OptionalProto.SEQUENCE)
opt.sequence_value.CopyFrom(seq)
empty = onnx.OptionalProto(elem_type=onnx.OptionalProto.TENSOR)
for name, proto in (("seq", seq), ("opt_seq", opt), ("opt_empty", empty)):
    with open(f"{out}/{name}.pb", "wb") as f:
        f.write(proto.SerializeToString())
PY
    ;;
  onnx-binary)
    # Small models of the ONNX node tests, one per op family.
    local data=/usr/share/libonnx-testdata/data/node
    for test in test_add test_conv_with_strides_padding test_gather_0 \
      test_reshape_extended_dims test_if test_loop11 test_lstm_defaults \
      test_scatter_elements_with_axis test_slice test_resize_upsample_scales_linear \
      test_reduce_mean_keepdims_example test_matmul_2d test_softmax_axis_1 \
      test_quantizelinear test_gemm_default_scalar_bias \
      test_sequence_insert_at_front test_sequence_map_add_2_sequences \
      test_identity_opt test_if_opt test_loop13_seq test_unique_sorted_with_axis \
      test_stft test_roialign_aligned_true test_tfidfvectorizer_tf_uniandbigrams_skip5; do
      [ -f "$data/$test/model.onnx" ] && cp "$data/$test/model.onnx" "$dir/$test.onnx"
    done
    ;;
  onnx-text)
    cp examples/*.onnxtxt test/e2e/Inputs/*.onnxtxt "$dir/"
    ;;
  runtime-inputs)
    # Two inputs and one output the stand-in model accepts, and variations.
    printf '\x02\x01\x00\x02\x02\x03\x18\x00\x01\x01\x02\x10\x00\x00' > "$dir/valid"
    printf '\x02\x01\x00\x02\x04\x03\x18\x00\x01\x01\x02\x10\x00\x01' > "$dir/short"
    ;;
  esac
}

# Each target runs its time (or until its first finding); the script exits
# non-zero when any target found something.
status=0
for target in "${targets[@]}"; do
  corpus="$build_dir/corpus/$target"
  findings="$build_dir/findings/$target"
  log="$build_dir/logs/$target.log"
  seeds "$target" "$corpus"
  mkdir -p "$findings" "$(dirname "$log")"
  echo "fuzz.sh: kiln-fuzz-$target for ${seconds}s (log: $log)"
  parallel=()
  [ "$jobs" -le 1 ] || parallel=(-jobs="$jobs" -workers="$jobs")
  if ! "$build_dir/bin/kiln-fuzz-$target" "$corpus" \
      -max_total_time="$seconds" "${parallel[@]}" \
      -artifact_prefix="$findings/" -print_final_stats=1 > "$log" 2>&1; then
    echo "fuzz.sh: kiln-fuzz-$target found a problem; inputs in $findings"
    grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error' "$log" | head -n 5 || true
    status=1
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$log" || true
done
exit "$status"
