#!/usr/bin/env bash
# Installs what Kiln needs, builds it and runs every test (the lit suite:
# dialect, importer, error and model tests). Ends with "lit: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build_dir=${BUILD_DIR:-build}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
/usr/lib/llvm-22/bin/lit -sv "$build_dir/test" 2>&1 | tee "$log" || status=$?
count() { sed -n "s/^ *$1 *: *\([0-9]*\)/\1/p" "$log" | tail -n 1; }
passed=$(count Passed); failed=$(count Failed)
unexpected=$(count "Unexpectedly Passed")
echo "lit: ${passed:-0} passed, $(( ${failed:-0} + ${unexpected:-0} )) failed"
exit "$status"
