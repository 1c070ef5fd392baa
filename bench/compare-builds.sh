#!/usr/bin/env bash
# Compares two builds of osprof in one run: the span cost on the caller's thread (the burst
# method of emit_latency, one thread) and the sustained zero-drop throughput of `osprof bench`
# (one producer, overflow block), into null:// and sqlite://. The builds take turns, round after
# round, so that the load of this shared machine falls on both alike; the table gives each
# one's median over the rounds and the ratio. With bench/osprof_span_gbench in both builds, also
# the warm span (spans back to back, Google Benchmark).
#
#   bench/compare-builds.sh BASE_BUILD NEW_BUILD [--rounds N] [--out FILE.md]
#                           [--base-env VAR=VALUE]... [--new-env VAR=VALUE]...
#
# Each build directory needs osprof (tools/osprof/osprof) and bench/osprof_emit_latency. The
# same build with different settings compares options: `build build --base-env OSPROF_HOLD_STARTS=0`.
set -euo pipefail
base="$1"; new="$2"; shift 2
rounds=3; out=""
base_env=(); new_env=()
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --base-env) base_env+=("$2"); shift 2 ;;
    --new-env) new_env+=("$2"); shift 2 ;;
    *) echo "compare-builds.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d /tmp/osprof-compare-XXXXXX)"
trap 'rm -rf "$work"' EXIT

for r in $(seq 1 "$rounds"); do
  for side in base new; do
    dir=$([[ $side == base ]] && echo "$base" || echo "$new")
    if [[ $side == base ]]; then side_env=("${base_env[@]}"); else side_env=("${new_env[@]}"); fi
    echo "== round $r: $side" >&2
    env "${side_env[@]}" "$dir/bench/osprof_emit_latency" --connection-string null:// --connection-string "sqlite:///$work/lat-$side.db" \
      --bursts 1000 --burst-size 20 --pause-us 2000 --threads 1 --no-baselines \
      --json "$work/latency-$side-$r.json" >/dev/null 2>&1
    for cs in null:// "sqlite:///$work/tp-$side-$r.db"; do
      name=${cs%%:*}
      env "${side_env[@]}" "$dir/tools/osprof/osprof" bench --connection-string "$cs" --duration 3 --overflow block --block-timeout 60000 \
        --drain-timeout 120 --json "$work/throughput-$side-$name-$r.json" >/dev/null 2>&1
    done
    if [[ -x "$base/bench/osprof_span_gbench" && -x "$new/bench/osprof_span_gbench" ]]; then
      env "${side_env[@]}" "$dir/bench/osprof_span_gbench" --benchmark_filter='BM_span_warm' \
        --benchmark_out="$work/warm-$side-$r.json" --benchmark_out_format=json >/dev/null 2>&1
    fi
  done
done

/usr/bin/python3 - "$work" "$rounds" "$base ${base_env[*]}" "$new ${new_env[*]}" "$(cut -d' ' -f1-3 /proc/loadavg)" >"$work/table.md" <<'PY'
import json, os, statistics, sys
work, rounds, base, new, load = sys.argv[1], int(sys.argv[2]), sys.argv[3].strip(), sys.argv[4].strip(), sys.argv[5]
def lat(side, backend, key):
    vals = []
    for r in range(1, rounds + 1):
        for row in json.load(open(f"{work}/latency-{side}-{r}.json"))["rows"]:
            if row["kind"] == "span" and row["connection_string"].startswith(backend):
                vals.append(row[key])
    return statistics.median(vals)
def tp(side, backend):
    return statistics.median(json.load(open(f"{work}/throughput-{side}-{backend}-{r}.json"))["throughput"]["written_events_per_s"]
                             for r in range(1, rounds + 1))
print(f"Base: `{base}`; new: `{new}`; {rounds} rounds, alternating; medians; load average after: {load}.\n")
print("| measure | base | new | new / base |")
print("|---|---|---|---|")
for backend in ("null", "sqlite"):
    for key, label in (("p50_ns", "p50"), ("p99_ns", "p99")):
        b, n = lat("base", backend, key), lat("new", backend, key)
        print(f"| span {label}, {backend}:// | {b:.0f} ns | {n:.0f} ns | {n / b:.2f} |")
for backend in ("null", "sqlite"):
    b, n = tp("base", backend), tp("new", backend)
    print(f"| zero-drop throughput, {backend}:// | {b / 1e3:.0f} k events/s | {n / 1e3:.0f} k events/s | {n / b:.2f} |")
def warm(side):
    vals = []
    for r in range(1, rounds + 1):
        path = f"{work}/warm-{side}-{r}.json"
        if os.path.exists(path):
            # an inverted rate: seconds per span
            vals += [b["ns_per_span"] * 1e9 for b in json.load(open(path))["benchmarks"] if "ns_per_span" in b]
    return statistics.median(vals) if vals else None
if warm("base") is not None and warm("new") is not None:
    b, n = warm("base"), warm("new")
    print(f"| span back to back (warm), null:// | {b:.0f} ns | {n:.0f} ns | {n / b:.2f} |")
PY
cat "$work/table.md"
[[ -z "$out" ]] || cp "$work/table.md" "$out"
