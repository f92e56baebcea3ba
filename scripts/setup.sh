#!/usr/bin/env bash
# Installs every Debian package Kiln's build, tests and benchmarks need. Idempotent:
# packages already present are skipped, and apt-get update runs once only when
# something is missing.
set -euo pipefail

packages=(
  # toolchain and build
  cmake ninja-build ccache git
  clang-22 lld-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools libomp-22-dev
  # the sanitizer build of the test command (and scripts/fuzz.sh)
  libclang-rt-22-dev
  # ONNX, protobuf, test data
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  # tests and python
  libgtest-dev pybind11-dev python3-numpy python3-onnx python3-dev python3-pytest
  # build test models (digits for the trained accuracy tests)
  python3-torch python3-torchvision python3-sklearn
  # the HTML compile report draws graphs with Graphviz; its test renders the
  # page in a headless Chromium
  graphviz chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# Node.js runs ONNX Runtime (npm onnxruntime-node) for reference outputs and benchmarks.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends nodejs npm
fi

# ONNX Runtime for reference outputs and latency baselines: npm onnxruntime-node,
# pinned in bench/package-lock.json (its CPU library ships inside the package;
# ONNXRUNTIME_NODE_INSTALL=skip skips its optional GPU-binary download).
cd "$(dirname "$0")/.."
if [ ! -d bench/node_modules/onnxruntime-node ]; then
  echo "setup: installing onnxruntime-node into bench/node_modules (npm ci)"
  (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
else
  echo "setup: bench/node_modules/onnxruntime-node present"
fi
