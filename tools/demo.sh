#!/usr/bin/env bash
# Fresh Debian 12 machine to a first trace: installs what is missing, builds (Release),
# then runs `osprof demo` on the embedded default (the SQLite file osprof.db here).
# Extra arguments go to `osprof demo`, e.g. --connection-string redis://127.0.0.1:6379
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/install-deps.sh"
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DOSPROF_BUILD_TESTS=OFF \
  -DOSPROF_BUILD_BENCH=OFF >/dev/null
cmake --build "$root/build/release" -j"$(nproc)" --target osprof_cli >/dev/null
exec "$root/build/release/tools/osprof/osprof" demo "$@"
