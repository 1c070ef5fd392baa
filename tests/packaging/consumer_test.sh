#!/usr/bin/env bash
# Installs this build of osprof into a scratch prefix, then builds and runs a consumer
# project against it with find_package() (all components, then the sqlite component only),
# with pkg-config, and through add_subdirectory(). The consumer registers a backend of its own
# (myqueue://) and reads a trace back from it through the report API.
set -euo pipefail
source_dir="$1"
build_dir="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null

if [[ -x "$work/prefix/bin/osprof" ]]; then
  echo "-- the installed osprof finds its driver modules (exit 1 when one does not load)"
  "$work/prefix/bin/osprof" drivers >/dev/null
fi

echo "-- find_package(osprof CONFIG)"
cmake -S "$source_dir/tests/cmake_consumer" -B "$work/by-package" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/by-package" -j2 >/dev/null
"$work/by-package/consumer" "$work/package.db"
test "$(sqlite3 "$work/package.db" 'select count(*) from data')" = 2
"$work/by-package/beast_consumer"

echo "-- find_package(osprof CONFIG COMPONENTS sqlite)"
cmake -S "$source_dir/tests/cmake_consumer" -B "$work/by-component" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DOSPROF_COMPONENTS=sqlite -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/by-component" -j2 >/dev/null
"$work/by-component/consumer" "$work/component.db"
test "$(sqlite3 "$work/component.db" 'select count(*) from data')" = 2

echo "-- pkg-config"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/x86_64-linux-gnu/pkgconfig"
pkg-config --exists osprof osprof-drivers
g++ -O1 -DOSPROF_CONSUMER_ALL_DRIVERS "$source_dir/tests/cmake_consumer/main.cpp" \
  "$source_dir/tests/cmake_consumer/myqueue_driver.cpp" -o "$work/by-pkgconfig" \
  $(pkg-config --cflags osprof-drivers) $(pkg-config --libs --static osprof-drivers)
"$work/by-pkgconfig" "$work/pkgconfig.db"

echo "-- add_subdirectory(osprof)"
# The embedded drivers only, unoptimised: this compiles osprof from source a second time, and
# what it checks is how a parent project takes it in, not the drivers (the package above has them).
cmake -S "$source_dir/tests/cmake_consumer" -B "$work/by-subdirectory" -DOSPROF_SOURCE_DIR="$source_dir" \
  -DOSPROF_DRIVERS="null;sqlite" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
  -DCMAKE_CXX_COMPILER_LAUNCHER="${CMAKE_CXX_COMPILER_LAUNCHER:-}" >/dev/null
# A subproject gets no tests, benchmarks, tools or install rules unless it asks.
if grep -q "osprof_core_test\|osprof_cli" "$work/by-subdirectory/Makefile" 2>/dev/null; then
  echo "add_subdirectory() built osprof's tests or tools" >&2
  exit 1
fi
cmake --build "$work/by-subdirectory" -j2 >/dev/null
"$work/by-subdirectory/consumer" "$work/subdirectory.db"
echo "consumer builds: ok"
