#!/usr/bin/env bash
# Configures and builds Kiln (Release, clang-22, Ninja, ccache when present)
# into ${BUILD_DIR:-build}; KILN_CMAKE_ARGS adds CMake options on the first
# configure (e.g. -DKILN_SANITIZE=address,undefined). Run scripts/setup.sh
# first.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths below the checkout hash as relative ones, so that every clone
  # (CI's fresh ones included) shares the cache.
  export CCACHE_BASEDIR="$PWD"
fi
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -G Ninja -S . -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    "${launcher[@]}" ${KILN_CMAKE_ARGS:-}
fi
cmake --build "$build_dir"
