#!/usr/bin/env bash
# The benchmark suite in one command: starts the servers the drivers need (bench/drivers.sh),
# measures emit latency per driver against the baselines (empty loop, the queue floor, no
# profiler, compiled out, Python OSProfiler), sustained zero-drop throughput and the drop rate
# beyond it, and memory with a backend that never answers; prints a summary, writes the
# results as JSON and generates BENCHMARKS.md.
#
#   bench/run-suite.sh [--smoke] [--build DIR] [--out DIR] [--no-build]
#
#   --build DIR  the CMake build directory (default: build); the needed targets are built
#                there first (-j2) unless --no-build
#   --out DIR    where BENCHMARKS.md and results.json go (default: the repository root for
#                BENCHMARKS.md and bench/results.json; with --smoke a new temporary directory)
#   --smoke      tiny counts, well under a minute: checks the pipeline, not performance
#
# The machine may be shared: every ratio compares numbers taken in the same run.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
smoke=0
build="build"
out=""
do_build=1
while (($#)); do
  case "$1" in
    --smoke) smoke=1; shift ;;
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-suite.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
build="$(cd "$build" && pwd)"
python=/usr/bin/python3  # Debian's interpreter: python3-osprofiler lives there

if ((do_build)); then
  cmake --build "$build" -j2 --target osprof_cli osprof_emit_latency osprof_span_gbench osprof_sqlite_floor \
    osprof_idle_cpu >/dev/null
fi
cli="$build/tools/osprof/osprof"
latency="$build/bench/osprof_emit_latency"
gbench="$build/bench/osprof_span_gbench"
sqlite_floor="$build/bench/osprof_sqlite_floor"
idle_cpu="$build/bench/osprof_idle_cpu"
for f in "$cli" "$latency" "$gbench" "$sqlite_floor" "$idle_cpu"; do
  [[ -x "$f" ]] || { echo "run-suite.sh: missing $f (configure with -DOSPROF_BUILD_BENCH=ON)" >&2; exit 1; }
done

work="$(mktemp -d /tmp/osprof-suite-XXXXXX)"
chmod 755 "$work"  # PostgreSQL runs as user postgres and must reach its directory in here
if [[ -z "$out" ]]; then
  if ((smoke)); then out="$work/out"; json_out="$out/results.json"; md_out="$out/BENCHMARKS.md"
  else json_out="$root/bench/results.json"; md_out="$root/BENCHMARKS.md"; fi
else
  json_out="$out/results.json"; md_out="$out/BENCHMARKS.md"
fi
mkdir -p "$(dirname "$json_out")" "$(dirname "$md_out")"

# Sizes: full run (a few minutes) or smoke (seconds).
if ((smoke)); then
  lat_args=(--bursts 40 --burst-size 5 --pause-us 200 --threads 1,2 --neighbour-rates 100000)
  py_args=(--bursts 20 --burst-size 5 --pause-us 200 --redis-bursts 4)
  gbench_min_time=0.01
  tp_seconds=0.3; over_seconds=0.3; mem_seconds=0.5; mem_caps=(4096); mem_rate=50000
  overloads=(2)
  floor_rows=2000; rb_events=20000; read_events=200; read_runs=1; idle_seconds=1; redis_turns=1
  sqlite_turns=1; sqlite_turn_seconds=0.3
else
  # Bursts of 20 spans every ~2 ms (Quill's method): 20,000 events/s, below what every
  # backend here takes, so the timed events are written, not dropped. Then the one-thread span
  # again beside a second producer at 100 k and 1 M spans/s (null:// only).
  lat_args=(--bursts 2000 --burst-size 20 --pause-us 2000 --threads 1,2,4 --neighbour-rates 100000,1000000)
  py_args=(--bursts 1000 --burst-size 20 --pause-us 2000 --redis-bursts 200)
  gbench_min_time=0.5
  tp_seconds=4; over_seconds=3; mem_seconds=3; mem_caps=(16384 65536 262144); mem_rate=400000
  overloads=(1.5 3)
  floor_rows=200000; rb_events=2000000; read_events=20000; read_runs=5; idle_seconds=60; redis_turns=3
  sqlite_turns=3; sqlite_turn_seconds=2
fi

# ---- servers
source "$root/bench/drivers.sh"
names=(); strings=(); stops=(); extras=()
pids_to_kill=()
cleanup() {
  local i
  for i in "${!stops[@]}"; do
    [[ "${stops[$i]}" == "-" ]] || (eval "${stops[$i]}" >/dev/null 2>&1 || true)
  done
  for p in "${pids_to_kill[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work/drivers"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for line in "${bench_drivers[@]}"; do
  IFS='|' read -r name cs start stop extra <<<"$line"
  name="$(echo "$name" | xargs)"; cs="$(echo "$cs" | xargs)"; start="$(echo "$start" | xargs)"; stop="$(echo "$stop" | xargs)"
  dir="$work/drivers/$name"
  mkdir -p "$dir"
  port=""
  if [[ "$start" != "-" ]]; then
    echo "== starting the $name server" >&2
    eval "$start" >"$dir/start.log" 2>&1 || { cat "$dir/start.log" >&2; echo "run-suite.sh: cannot start $name" >&2; exit 1; }
    [[ -f "$dir/port" ]] && port="$(head -1 "$dir/port")"
  fi
  names+=("$name"); strings+=("$(eval "echo \"$cs\"")"); stops+=("$(eval "echo \"$stop\"")"); extras+=("$extra")
done
redis_cs=""
sql_args=()  # Python OSProfiler's SQL driver on the SQL servers of the run
for i in "${!names[@]}"; do
  [[ "${names[$i]}" == redis ]] && redis_cs="${strings[$i]}"
  [[ "${names[$i]}" == postgresql || "${names[$i]}" == mysql ]] && sql_args+=(--sql "${strings[$i]}")
done

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "== load average before: $load_before" >&2

# ---- 1. Python OSProfiler (same burst method)
echo "== Python OSProfiler baseline" >&2
"$python" "$root/bench/python_osprofiler.py" "${py_args[@]}" ${redis_cs:+--redis "$redis_cs"} "${sql_args[@]}" \
  --json "$work/python.json" >"$work/python.txt"

# ---- 2. emit latency: baselines and every driver
echo "== emit latency" >&2
lat_cs=()
for cs in "${strings[@]}"; do lat_cs+=(--connection-string "$cs"); done
"$latency" "${lat_args[@]}" "${lat_cs[@]}" --json "$work/latency.json" >"$work/latency.txt" 2>"$work/latency.log"

# ---- 2b. warm, dense span costs and primitives (Google Benchmark)
echo "== warm spans and primitives (Google Benchmark)" >&2
"$gbench" --benchmark_min_time="$gbench_min_time" --benchmark_out="$work/gbench.json" \
  --benchmark_out_format=json >"$work/gbench.txt" 2>"$work/gbench.log"

# ---- 3. throughput: zero drops (overflow block), then offered beyond it (overflow drop)
number() { "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }
for i in "${!names[@]}"; do
  name="${names[$i]}"; cs="${strings[$i]}"
  read -r -a extra <<<"${extras[$i]}"
  ((smoke)) && extra=()  # smoke runs are short already
  echo "== throughput: $name" >&2
  "$cli" bench --connection-string "$cs" --duration "$tp_seconds" --overflow block --block-timeout 60000 \
    --drain-timeout 120 "${extra[@]}" --json "$work/throughput-$name.json" >"$work/throughput-$name.txt" 2>/dev/null
  max="$(number "$work/throughput-$name.json" "throughput['written_events_per_s']")"
  for f in "${overloads[@]}"; do
    rate="$(awk -v m="$max" -v f="$f" 'BEGIN {printf "%.0f", m * f}')"
    echo "== overload: $name at ${f}x ($rate events/s)" >&2
    "$cli" bench --connection-string "$cs" --duration "$over_seconds" --rate "$rate" --overflow drop \
      --drain-timeout 120 "${extra[@]}" --json "$work/overload-$name-$f.json" >"$work/overload-$name-$f.txt" 2>/dev/null
  done
done

# ---- 3b. several producers into null:// (zero drops): what the worker and the cores allow
for n in 2 4; do
  echo "== throughput: null, $n producers" >&2
  "$cli" bench --connection-string null:// --duration "$tp_seconds" --producers "$n" --overflow block --block-timeout 60000 \
    --drain-timeout 120 --json "$work/producers-$n.json" >"$work/producers-$n.txt" 2>/dev/null
done

# ---- 4. memory with a backend that never answers: the queue fills to its cap and stays there
echo "== memory with a stalled backend" >&2
"$python" "$root/bench/stalled_server.py" "$work/stalled.port" &
pids_to_kill+=($!)
for _ in $(seq 1 100); do [[ -s "$work/stalled.port" ]] && break; sleep 0.05; done
stalled_cs="redis://127.0.0.1:$(head -1 "$work/stalled.port")"
for cap in "${mem_caps[@]}"; do
  "$cli" bench --connection-string "$stalled_cs" --duration "$mem_seconds" --rate "$mem_rate" --overflow drop \
    --queue-capacity "$cap" --drain-timeout 0 --json "$work/memory-$cap.json" >"$work/memory-$cap.txt" 2>/dev/null ||
    [[ -s "$work/memory-$cap.json" ]]  # a backend that never answers stores nothing: bench exits 1, as it should
done

# ---- 5. what other programs measure, in this run: SQLite alone, redis-benchmark, reading one
# big trace against Python OSProfiler, an idle emitter
echo "== SQLite alone (no osprof code) into OSProfiler's table" >&2
"$sqlite_floor" --rows "$floor_rows" --batch 512 --dir "$work" --json "$work/sqlite-floor.json" >"$work/sqlite-floor.txt"
# The SQLite goal: osprof with the high-rate settings (drivers/sqlite/README.md: ?indexes=reading,
# batches of 4096) against SQLite alone writing as many rows of the same shape the same way, in
# turns, each into a new file: on this shared machine a single run moved by a third between
# suite runs.
for round in $(seq 1 "$sqlite_turns"); do
  echo "== SQLite in turns, round $round: sqlite:// with ?indexes=reading and batches of 4096, then SQLite alone" >&2
  "$cli" bench --connection-string "sqlite:///$work/reading-indexes.db?indexes=reading" --batch-size 4096 \
    --duration "$sqlite_turn_seconds" --overflow block --block-timeout 60000 --drain-timeout 120 \
    --json "$work/sqlite-turn-$round.json" >/dev/null 2>&1
  rm -f "$work/reading-indexes.db" "$work/reading-indexes.db-wal" "$work/reading-indexes.db-shm"
  "$sqlite_floor" --variant reading --rows "$(number "$work/sqlite-turn-$round.json" "events['written']")" \
    --batch 4096 --points-per-trace 100 --dir "$work" --json "$work/sqlite-turn-floor-$round.json" >/dev/null
done
if [[ -n "$redis_cs" ]]; then
  redis_port="${redis_cs##*:}"
  echo "== redis-benchmark -P 512 -t lpush -d 300 on the same redis-server" >&2
  lpush_rate() {  # clients -> LPUSH/s
    redis-benchmark -p "$redis_port" -P 512 -t lpush -n "$rb_events" -d 300 -c "$1" --csv 2>/dev/null |
      awk -F'","' '/^"LPUSH/ {print int($2)}'
  }
  for clients in 1 50; do
    redis-cli -p "$redis_port" flushall >/dev/null
    echo "$clients $(lpush_rate "$clients")" >>"$work/redis-benchmark.txt"
  done
  # The Redis goal compares the two, so they are measured in turns, each into an emptied
  # server: a single pair minutes apart moved by half between runs on this shared machine.
  for round in $(seq 1 "$redis_turns"); do
    echo "== Redis in turns, round $round: redis-benchmark, then osprof bench" >&2
    redis-cli -p "$redis_port" flushall >/dev/null
    reference="$(lpush_rate 50)"
    redis-cli -p "$redis_port" flushall >/dev/null
    "$cli" bench --connection-string "$redis_cs" --duration "$tp_seconds" --overflow block --block-timeout 60000 \
      --drain-timeout 120 --json "$work/redis-turn-$round.json" >/dev/null 2>&1
    echo "$round $reference $(number "$work/redis-turn-$round.json" "throughput['written_events_per_s']")" \
      >>"$work/redis-turns.txt"
  done
  echo "== reading one trace: osprof trace show against Python OSProfiler's" >&2
  redis-cli -p "$redis_port" flushall >/dev/null
  "$python" "$root/bench/read_vs_python.py" "$cli" "$redis_cs" --events "$read_events" --runs "$read_runs" \
    --json "$work/read.json" >"$work/read.txt"
fi
echo "== an idle emitter for ${idle_seconds} s" >&2
"$idle_cpu" --seconds "$idle_seconds" --json "$work/idle.json" >"$work/idle.txt"

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== load average after: $load_after" >&2

# ---- 5. results.json, BENCHMARKS.md, summary
driver_args=()
for i in "${!names[@]}"; do driver_args+=(--driver "${names[$i]}=${strings[$i]}"); done
"$python" "$root/bench/make_report.py" --work "$work" --json "$json_out" --markdown "$md_out" \
  --load-before "$load_before" --load-after "$load_after" --started "$started" \
  --mode "$( ((smoke)) && echo smoke || echo full)" --stalled "$stalled_cs" --build-dir "$build" \
  --command "bench/run-suite.sh$( ((smoke)) && echo ' --smoke')" --history "$(dirname "$json_out")/results-history.jsonl" \
  "${driver_args[@]}"
echo "results: $json_out" >&2
echo "report:  $md_out" >&2
