#!/usr/bin/env bash
# Everything CI runs (.ci/run calls this): installs what is missing, builds, and runs the
# whole suite through CTest (the server tests start their own servers on loopback ports),
# then a build with only the embedded drivers (OSPROF_DRIVERS="null;sqlite") and its tests,
# the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer and the concurrency
# tests under ThreadSanitizer, each in its own build folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="$(nproc)"
"$root/tools/install-deps.sh" --test

step() { printf '\n== %s\n' "$*"; }

step "build (RelWithDebInfo) and run every test"
# -g1 (line tables, enough for a failure's stack trace) in the CI builds: full debug information
# of the Asio and Beast code is a third of the compile time.
lines_only="-g1"
cmake -S "$root" -B "$root/build/test" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOSPROF_BUILD_BENCH=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $lines_only -DNDEBUG" >/dev/null
cmake --build "$root/build/test" -j"$jobs"
ctest --test-dir "$root/build/test" --output-on-failure -j"$jobs"

step "OSPROF_DRIVERS=\"null;sqlite\": a build with the embedded drivers only, and its tests"
# Unoptimised and without debug information: this build checks the configuration and the tests,
# not speed.
cmake -S "$root" -B "$root/build/minimal" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
  -DOSPROF_DRIVERS="null;sqlite" -DOSPROF_BUILD_BENCH=OFF -DOSPROF_INSTALL=OFF >/dev/null
cmake --build "$root/build/minimal" -j"$jobs"
ctest --test-dir "$root/build/minimal" --output-on-failure -j"$jobs"

step "AddressSanitizer + UndefinedBehaviorSanitizer: unit and concurrency tests"
cmake -S "$root" -B "$root/build/asan" -DCMAKE_BUILD_TYPE=Debug -DOSPROF_SANITIZE="address;undefined" \
  -DCMAKE_CXX_FLAGS_DEBUG="-O0 $lines_only" \
  -DOSPROF_BUILD_BENCH=OFF -DOSPROF_BUILD_TOOLS=OFF -DOSPROF_INSTALL=OFF >/dev/null
cmake --build "$root/build/asan" -j"$jobs" --target osprof_asan_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$root/build/asan" --output-on-failure -j"$jobs" -L "unit|concurrency"

step "ThreadSanitizer: concurrency tests"
# The concurrency tests (the emitter's, the traced executor's) run on the embedded drivers and
# memory://: the network drivers are not compiled here.
cmake -S "$root" -B "$root/build/tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOSPROF_SANITIZE=thread \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 $lines_only -DNDEBUG" \
  -DOSPROF_DRIVERS="null;sqlite" -DOSPROF_BUILD_BENCH=OFF -DOSPROF_BUILD_TOOLS=OFF -DOSPROF_INSTALL=OFF >/dev/null
cmake --build "$root/build/tsan" -j"$jobs" --target osprof_tsan_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir "$root/build/tsan" --output-on-failure -j"$jobs" -L concurrency

step "all tests passed"
