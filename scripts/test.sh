#!/usr/bin/env bash
# Installs what Kiln needs, builds it and runs every test: the lit suite
# (dialect, importer, error and model tests) and the GoogleTest unit tests.
# Ends with one line "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build_dir=${BUILD_DIR:-build}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
/usr/lib/llvm-22/bin/lit -sv "$build_dir/test" 2>&1 | tee "$log" || status=$?
count() { sed -n "s/^ *$1 *: *\([0-9]*\).*/\1/p" "$log" | tail -n 1; }
passed=$(count Passed); failed=$(count Failed); unexpected=$(count "Unexpectedly Passed")
passed=${passed:-0}; failed=$(( ${failed:-0} + ${unexpected:-0} ))

"$build_dir/bin/KilnUnitTests" --gtest_brief=1 2>&1 | tee "$log" || status=$?
unit_passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log")
unit_failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log")
passed=$(( passed + ${unit_passed:-0} )); failed=$(( failed + ${unit_failed:-0} ))

echo "tests: $passed passed, $failed failed"
exit "$status"
