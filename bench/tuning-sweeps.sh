#!/usr/bin/env bash
# The sweeps behind TUNING.md: `osprof bench --sweep` against null://, SQLite and a real
# redis-server started here, each writing its table (.txt), results (.json) and chart (.svg).
#
#   bench/tuning-sweeps.sh [--build DIR] [--out DIR] [--seconds S]
#
#   --build DIR   the CMake build directory with tools/osprof/osprof (default: build)
#   --out DIR     where the tables, JSON and charts go (default: bench/tuning)
#   --seconds S   load per sweep point (default 3)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build="build"; out="bench/tuning"; seconds=3
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "tuning-sweeps.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
cli="$(cd "$build" && pwd)/tools/osprof/osprof"
[[ -x "$cli" ]] || { echo "tuning-sweeps.sh: missing $cli" >&2; exit 1; }
mkdir -p "$out"
work="$(mktemp -d /tmp/osprof-tuning-XXXXXX)"
staller=""
cleanup() {
  [[ -n "$staller" ]] && kill "$staller" 2>/dev/null || true
  bash tests/servers/redis.sh stop "$work/redis" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
bash tests/servers/redis.sh start-single "$work/redis" >/dev/null
port="$(cat "$work/redis/port")"
redis="redis://127.0.0.1:$port"

# sweep <name> <connection string> <osprof bench options...>
sweep() {
  local name="$1" cs="$2"; shift 2
  echo "== $name" >&2
  redis-cli -p "$port" flushall >/dev/null
  "$cli" bench --connection-string "$cs" --duration "$seconds" "$@" \
    --svg "$out/$name.svg" --json "$out/$name.json" 2>/dev/null >"$out/$name.txt"
  sed -n '/^sweep of/,$p' "$out/$name.txt" >&2
}

echo "machine: $(nproc) vCPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)" | tee "$out/machine.txt" >&2

# 1. Batch size at saturation: one producer as fast as the emitter accepts, nothing dropped
#    (producers wait): the sustained rate each batch size gives.
for d in "null|null://" "sqlite|sqlite:///$work/batch.db" "redis|$redis"; do
  sweep "${d%%|*}-batch-size" "${d#*|}" --overflow block --block-timeout 60000 --sweep batch-size=16,64,256,1024,4096
done

# SQLite's own durability setting next to batch size (the driver's ?synchronous=, default normal).
sweep "sqlite-synchronous-off-batch-size" "sqlite:///$work/batch-sync-off.db?synchronous=off" \
  --overflow block --block-timeout 60000 --sweep batch-size=64,1024,4096

# 2. Flush interval at a low rate (2,000 events/s): how long events wait in partial batches
#    versus how many writes the backend sees.
for d in "sqlite|sqlite:///$work/flush.db" "redis|$redis"; do
  sweep "${d%%|*}-flush-interval" "${d#*|}" --rate 2000 --sweep flush-interval=10,50,200,1000
done

# 3. Queue capacity against backend stalls: 100,000 events/s while Redis freezes for 250 ms
#    every second (DEBUG SLEEP); the queue must hold rate x stall to lose nothing.
( while true; do redis-cli -p "$port" debug sleep 0.25 >/dev/null 2>&1 || true; sleep 0.75; done ) &
staller=$!
sweep "redis-queue-capacity-stalls" "$redis" --rate 100000 --overflow drop --duration $((seconds + 2)) \
  --sweep queue-capacity=4096,16384,65536,262144
kill "$staller" 2>/dev/null || true
wait "$staller" 2>/dev/null || true
staller=""

# 4. Producer threads on this machine's cores (the worker needs one too).
sweep "null-producers" "null://" --overflow block --block-timeout 60000 --sweep producers=1,2,4
sweep "redis-producers" "$redis" --overflow block --block-timeout 60000 --sweep producers=1,2,4
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
