#!/usr/bin/env bash
# bench/run-suite.sh --smoke end to end: the pipeline runs every driver of bench/drivers.sh and
# produces well-formed results (tests/bench/check_results.py). It checks the shape and the
# accounting of the results, not performance.
#
#   suite_smoke_test.sh <source-dir> <build-dir>
set -euo pipefail
src="${1:?source dir}"
build="${2:?build dir}"
out="$(mktemp -d /tmp/osprof-bench-smoke-XXXXXX)"
trap 'rm -rf "$out"' EXIT
"$src/bench/run-suite.sh" --smoke --no-build --build "$build" --out "$out"
/usr/bin/python3 "$src/tests/bench/check_results.py" "$src/bench/drivers.sh" "$out/results.json" "$out/BENCHMARKS.md"
