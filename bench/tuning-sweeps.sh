#!/usr/bin/env bash
# The sweeps behind TUNING.md: `osprof bench --sweep` against null://, SQLite, a real
# redis-server, influxd and clickhouse-server started here, and the Elasticsearch and OTLP
# loopback servers in Python, each writing its table (.txt), results (.json) and chart (.svg).
#
#   bench/tuning-sweeps.sh [--build DIR] [--out DIR] [--seconds S] [--only D1,D2,...]
#
#   --build DIR   the CMake build directory with tools/osprof/osprof (default: build)
#   --out DIR     where the tables, JSON and charts go (default: bench/tuning)
#   --seconds S   load per sweep point (default 3)
#   --only LIST   only these drivers' sweeps (null, sqlite, redis, influxdb, clickhouse,
#                 elasticsearch, otlp; default all); only their servers are started
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build="build"; out="bench/tuning"; seconds=3; only="null,sqlite,redis,influxdb,clickhouse,elasticsearch,otlp"
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "tuning-sweeps.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for d in ${only//,/ }; do
  case "$d" in
    null|sqlite|redis|influxdb|clickhouse|elasticsearch|otlp) ;;
    *) echo "tuning-sweeps.sh: --only: unknown driver '$d'" >&2; exit 2 ;;
  esac
done
cli="$(cd "$build" && pwd)/tools/osprof/osprof"
[[ -x "$cli" ]] || { echo "tuning-sweeps.sh: missing $cli" >&2; exit 1; }
mkdir -p "$out"
work="$(mktemp -d /tmp/osprof-tuning-XXXXXX)"
staller=""
# wanted <driver>: whether --only selects it
wanted() { [[ ",$only," == *",$1,"* ]]; }
cleanup() {
  [[ -n "$staller" ]] && kill "$staller" 2>/dev/null || true
  [[ -d "$work/redis" ]] && bash tests/servers/redis.sh stop "$work/redis" >/dev/null 2>&1 || true
  [[ -d "$work/influxdb" ]] && bash tests/servers/influxdb.sh stop "$work/influxdb" >/dev/null 2>&1 || true
  [[ -d "$work/clickhouse" ]] && bash tests/servers/clickhouse.sh stop "$work/clickhouse" >/dev/null 2>&1 || true
  [[ -d "$work/elasticsearch" ]] && bash tests/servers/loopback.sh stop "$work/elasticsearch" >/dev/null 2>&1 || true
  [[ -d "$work/otlp" ]] && bash tests/servers/loopback.sh stop "$work/otlp" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
port=""; redis=""
if wanted redis; then
  bash tests/servers/redis.sh start-single "$work/redis" >/dev/null
  port="$(cat "$work/redis/port")"
  redis="redis://127.0.0.1:$port"
fi

# sweep <name> <connection string> <osprof bench options...>; the name starts with the driver's.
sweep() {
  local name="$1" cs="$2"; shift 2
  wanted "${name%%-*}" || return 0
  echo "== $name" >&2
  [[ -n "$port" ]] && redis-cli -p "$port" flushall >/dev/null
  "$cli" bench --connection-string "$cs" --duration "$seconds" "$@" \
    --svg "$out/$name.svg" --json "$out/$name.json" 2>/dev/null >"$out/$name.txt"
  sed -n '/^sweep of/,$p' "$out/$name.txt" >&2
}

# The machine and its load during the run: machine.txt for a full run, machine-D1-D2.txt for --only.
machine="$out/machine.txt"
[[ "$only" == "null,sqlite,redis,influxdb,clickhouse,elasticsearch,otlp" ]] || machine="$out/machine-${only//,/-}.txt"
echo "machine: $(nproc) vCPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)" | tee "$machine" >&2

# 1. Batch size at saturation: one producer as fast as the emitter accepts, nothing dropped
#    (producers wait): the sustained rate each batch size gives.
for d in "null|null://" "sqlite|sqlite:///$work/batch.db" "redis|$redis"; do
  sweep "${d%%|*}-batch-size" "${d#*|}" --overflow block --block-timeout 60000 --sweep batch-size=16,64,256,1024,4096
done

# SQLite's own durability setting next to batch size (the driver's ?synchronous=, default normal).
sweep "sqlite-synchronous-off-batch-size" "sqlite:///$work/batch-sync-off.db?synchronous=off" \
  --overflow block --block-timeout 60000 --sweep batch-size=64,1024,4096
# And with only the two indexes reading uses (the driver's ?indexes=reading, default all).
sweep "sqlite-reading-indexes-batch-size" "sqlite:///$work/batch-reading.db?indexes=reading" \
  --overflow block --block-timeout 60000 --sweep batch-size=512,1024,4096,16384

# 2. Flush interval at a low rate (2,000 events/s): how long events wait in partial batches
#    versus how many writes the backend sees.
for d in "sqlite|sqlite:///$work/flush.db" "redis|$redis"; do
  sweep "${d%%|*}-flush-interval" "${d#*|}" --rate 2000 --sweep flush-interval=10,50,200,1000
done

# 3. Queue capacity against backend stalls: 100,000 events/s while Redis freezes for 250 ms
#    every second (DEBUG SLEEP); the queue must hold rate x stall to lose nothing.
if wanted redis; then
  ( while true; do redis-cli -p "$port" debug sleep 0.25 >/dev/null 2>&1 || true; sleep 0.75; done ) &
  staller=$!
  sweep "redis-queue-capacity-stalls" "$redis" --rate 100000 --overflow drop --duration $((seconds + 2)) \
    --sweep queue-capacity=4096,16384,65536,262144
  kill "$staller" 2>/dev/null || true
  wait "$staller" 2>/dev/null || true
  staller=""
fi

# 4. Producer threads on this machine's cores (the worker needs one too).
sweep "null-producers" "null://" --overflow block --block-timeout 60000 --sweep producers=1,2,4
sweep "redis-producers" "$redis" --overflow block --block-timeout 60000 --sweep producers=1,2,4

# 5. The HTTP drivers against real servers: InfluxDB 1.6 (influxd) and ClickHouse 18.16, each
#    fresh. Batch size at saturation, then the same with gzip request bodies (?gzip=true).
if wanted influxdb; then
  bash tests/servers/influxdb.sh start-fresh "$work/influxdb" >/dev/null
  influxdb="influxdb://127.0.0.1:$(cat "$work/influxdb/port")/bench"
  sweep "influxdb-batch-size" "$influxdb" --overflow block --block-timeout 60000 \
    --sweep batch-size=256,1024,4096,16384
  sweep "influxdb-gzip-batch-size" "$influxdb?gzip=true" --overflow block --block-timeout 60000 \
    --sweep batch-size=1024,4096
  bash tests/servers/influxdb.sh stop "$work/influxdb" >/dev/null 2>&1 || true
fi
# ClickHouse makes a MergeTree part per INSERT: batches far beyond the default 512, so the queue
# (default 65536) is raised to hold several of the largest batches. The flush interval sets how
# many parts per second a modest rate (20,000 events/s) makes when batches cannot fill.
if wanted clickhouse; then
  bash tests/servers/clickhouse.sh start-fresh "$work/clickhouse" >/dev/null
  clickhouse="clickhouse://127.0.0.1:$(cat "$work/clickhouse/port")/default"
  sweep "clickhouse-batch-size" "$clickhouse" --overflow block --block-timeout 60000 --queue-capacity 262144 \
    --sweep batch-size=512,4096,16384,65536
  sweep "clickhouse-gzip-batch-size" "$clickhouse?gzip=true" --overflow block --block-timeout 60000 \
    --queue-capacity 262144 --sweep batch-size=4096,16384
  sweep "clickhouse-flush-interval" "$clickhouse" --rate 20000 --batch-size 65536 --queue-capacity 262144 \
    --duration $((seconds + 3)) --sweep flush-interval=200,1000,5000
  bash tests/servers/clickhouse.sh stop "$work/clickhouse" >/dev/null 2>&1 || true
fi

# 6. Elasticsearch and OTLP against their loopback servers in Python (no real Elasticsearch or
#    collector here): the throughput is the Python server's limit, not the driver's, so only a
#    short batch-size sweep each, to show where the loopback server saturates.
if wanted elasticsearch; then
  bash tests/servers/loopback.sh start tests/servers/fake_elasticsearch.py "$work/elasticsearch" >/dev/null
  sweep "elasticsearch-loopback-batch-size" \
    "elasticsearch://127.0.0.1:$(cat "$work/elasticsearch/port")?index=bench-events&error_index=bench-errors" \
    --overflow block --block-timeout 60000 --duration 2 --sweep batch-size=64,512,4096
  bash tests/servers/loopback.sh stop "$work/elasticsearch" >/dev/null 2>&1 || true
fi
if wanted otlp; then
  bash tests/servers/loopback.sh start tests/servers/otlp_receiver.py "$work/otlp" >/dev/null
  sweep "otlp-loopback-batch-size" "otlp://127.0.0.1:$(cat "$work/otlp/port")" \
    --overflow block --block-timeout 60000 --duration 2 --sweep batch-size=64,512,4096
  bash tests/servers/loopback.sh stop "$work/otlp" >/dev/null 2>&1 || true
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$machine" >&2
