#!/usr/bin/env bash
# Builds Kiln's libFuzzer targets (clang-22, ASan + UBSan) into
# ${FUZZ_BUILD_DIR:-build-fuzz} and runs each for ${FUZZ_SECONDS:-600}
# seconds on ${FUZZ_JOBS:-1} processes, starting from a seed corpus made
# from the test data. Crashes land in build-fuzz/findings/<target>/.
#   scripts/fuzz.sh [TARGET...]     (default: every target)
# Targets: tensor-files (kiln-run's .npy and TensorProto readers).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-600}
jobs=${FUZZ_JOBS:-1}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tensor-files)

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
PY
    ;;
  esac
}

for target in "${targets[@]}"; do
  corpus="$build_dir/corpus/$target"
  findings="$build_dir/findings/$target"
  seeds "$target" "$corpus"
  mkdir -p "$findings"
  echo "fuzz.sh: kiln-fuzz-$target for ${seconds}s"
  parallel=()
  [ "$jobs" -le 1 ] || parallel=(-jobs="$jobs" -workers="$jobs")
  "$build_dir/bin/kiln-fuzz-$target" "$corpus" -max_total_time="$seconds" \
    "${parallel[@]}" -artifact_prefix="$findings/" -print_final_stats=1 \
    2>&1 | tail -n 25
done
