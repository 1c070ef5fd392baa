#!/usr/bin/env bash
# Fresh Debian 12 machine to a first trace: installs what is missing, builds (Release),
# then runs `osprof demo` on the embedded default (the SQLite file osprof.db here).
# Extra arguments go to `osprof demo`, e.g. --connection-string redis://127.0.0.1:6379
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/install-deps.sh"
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DOSPROF_BUILD_TESTS=OFF \
  -DOSPROF_BUILD_BENCH=OFF >/dev/null
# Quiet unless the build fails: the compiler's output goes to a log shown only then.
log="$root/build/release/build.log"
cmake --build "$root/build/release" -j"$(nproc)" --target osprof_cli >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
exec "$root/build/release/tools/osprof/osprof" demo "$@"
