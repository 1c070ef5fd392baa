#!/usr/bin/python3
"""Checks that a run of bench/run-suite.sh produced well-formed results: every driver of
bench/drivers.sh has its latency rows, throughput and overload runs; every baseline is there;
every run accounts for each event (emitted == written + dropped); the stalled backend held no
more than its cap; BENCHMARKS.md has its sections and a row per driver.

  check_results.py DRIVERS_SH RESULTS_JSON BENCHMARKS_MD
"""
import json
import re
import sys

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def positive(v):
    return isinstance(v, (int, float)) and v > 0


def ordered(row, prefix=""):
    keys = [prefix + k for k in ("p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns")]
    values = [row.get(k) for k in keys]
    return all(isinstance(v, (int, float)) for v in values) and values == sorted(values) and values[0] > 0


def accounted(run):
    e = run["events"]
    return e["emitted"] == e["written"] + e["dropped"] and e["dropped"] == (
        e["dropped_queue_full"] + e["dropped_backend"] + e["dropped_shutdown"])


def main():
    drivers_sh, results_path, markdown_path = sys.argv[1:4]
    names = re.findall(r"^\s*'([a-z0-9_-]+)\|", open(drivers_sh).read(), re.M)
    check(names, "no driver lines found in %s" % drivers_sh)
    r = json.load(open(results_path))

    meta = r["meta"]
    for key in ("cpu_model", "kernel", "cpus"):
        check(meta["machine"].get(key), "machine.%s missing" % key)
    check(re.match(r"^[0-9.]+ [0-9.]+ [0-9.]+$", meta["load_average_before"]), "load average before missing")
    check(re.match(r"^[0-9.]+ [0-9.]+ [0-9.]+$", meta["load_average_after"]), "load average after missing")
    check(positive(meta["tsc_ghz"]), "tsc_ghz missing")

    b = r["baselines"]
    for key in ("empty_loop", "floor_clock_gettime", "floor_rdtsc", "no_profiler", "compiled_out"):
        check(b.get(key) and ordered(b[key]), "baseline %s missing or malformed: %r" % (key, b.get(key)))
    python = {row["driver"]: row for row in b["python"]}
    for key in ("none", "noop", "redis"):
        check(key in python and ordered(python[key]), "Python OSProfiler row %s missing or malformed" % key)

    by_name = {d["driver"]: d for d in r["drivers"]}
    check(sorted(by_name) == sorted(names), "drivers in results %s != drivers.sh %s" % (sorted(by_name), names))
    for name in names:
        d = by_name.get(name)
        if not d:
            continue
        for kind in ("span", "point"):
            row = d[kind]
            check(row and ordered(row), "%s: %s row missing or malformed" % (name, kind))
            if row:
                check(row["emitted"] > 0 and row["emitted"] == row["written"] + row["dropped"],
                      "%s: %s row does not account for its events: %r" % (name, kind, row))
        check(len(d["span_by_threads"]) >= 2, "%s: no producer-thread scaling rows" % name)
        for key, v in d["ratios"].items():
            check(positive(v), "%s: ratio %s is %r" % (name, key, v))
        t = d["throughput"]
        check(t is not None, "%s: no throughput" % name)
        if t:
            check(positive(t["zero_drop_events_per_s"]), "%s: zero-drop throughput is %r" % (name, t["zero_drop_events_per_s"]))
            check(t["zero_drop_held"], "%s: the overflow=block run dropped events or did not drain" % name)
            check(accounted(t["zero_drop_run"]), "%s: throughput run does not account for its events" % name)
            check(len(t["overload"]) >= 1, "%s: no overload run" % name)
            for o in t["overload"]:
                check(o["emitted"] > 0 and 0 <= o["drop_fraction"] <= 1, "%s: overload run malformed: %r" % (name, o))

    check(len(r["memory_stalled_backend"]) >= 1, "no stalled-backend memory run")
    for m in r["memory_stalled_backend"]:
        check(0 < m["max_held_events"] <= m["queue_capacity"],
              "stalled backend held %r events with a cap of %r" % (m["max_held_events"], m["queue_capacity"]))
        check(m["dropped_queue_full"] > 0, "the stalled backend's queue never filled: %r" % m)
        check(m["peak_rss_kib"] >= m["rss_start_kib"] > 0, "memory figures malformed: %r" % m)

    per_driver_goals = [g for g in r["goals"] if g["driver"] in names and not g.get("round_two")]
    check(len(per_driver_goals) == 3 * len(names), "expected 3 goals per driver")
    # throughput, p50, p99, warm, idle, beside another producer; 300 k/s; rate, speed, memory
    expected = {"null": 6, "sqlite": 1, "redis": 3}
    for name, n in expected.items():
        if name in names:
            got = [g for g in r["goals"] if g["driver"] == name and g.get("round_two")]
            check(len(got) == n, "expected %d round-two goals for %s, got %r" % (n, name, [g["goal"] for g in got]))
    for g in r["goals"]:
        check(isinstance(g["met"], bool) and g.get("value") is not None, "goal without a measurement: %r" % g)

    others = r["other_programs"]
    floor = others["sqlite_floor"]
    check(floor and len(floor["variants"]) == 5 and all(positive(v["rows_per_s"]) for v in floor["variants"]),
          "SQLite floor missing or malformed: %r" % floor)
    beside = others.get("beside_a_producer")
    check(beside and all(x["neighbour_spans"] > 0 and positive(x["span_p99_ns"]) for x in beside),
          "a producer beside another not measured: %r" % beside)
    turns = others.get("sqlite_turns")
    check(turns and all(positive(t["sqlite_alone_rows_per_s"]) and positive(t["osprof_events_per_s"]) and
                        t["osprof_dropped"] == 0 for t in turns),
          "SQLite in turns (alone, then sqlite:// with ?indexes=reading) not measured, or it dropped: %r" % turns)
    if "null" in names:
        runs = others["producers_null"]
        check([x["producers"] for x in runs] == [1, 2, 4] and all(positive(x["written_events_per_s"]) and
                                                                 x["dropped"] == 0 for x in runs),
              "null:// with 1, 2, 4 producers missing, or it dropped: %r" % runs)
    idle = others["idle"]
    check(idle and idle["wall_s"] > 0 and idle["cpu_s"] >= 0, "idle run missing or malformed: %r" % idle)
    if "redis" in names:
        check(sorted(others["redis_benchmark_lpush_per_s"]) == ["1", "50"] and
              all(positive(v) for v in others["redis_benchmark_lpush_per_s"].values()),
              "redis-benchmark figures missing: %r" % others["redis_benchmark_lpush_per_s"])
        turns = others.get("redis_turns") or []
        check(len(turns) >= 1 and all(positive(t["redis_benchmark_lpush_per_s"]) and positive(t["osprof_events_per_s"])
                                      for t in turns), "Redis rounds in turns missing: %r" % turns)
        reading = others["reading"]
        check(reading and reading["same_stats"] and positive(reading["speedup"]) and positive(reading["memory_ratio"]),
              "reading comparison missing, malformed or the reports differ: %r" % reading)
    check(len([g for g in r["goals"] if g["driver"] == "backend never answers"]) == len(r["memory_stalled_backend"]),
          "expected a memory goal per stalled-backend run")
    warm = {x["name"]: x for x in r["warm_google_benchmark"]}
    for name in ("BM_span_warm/null/", "BM_span_warm/null_no_info/", "BM_floor_warm/tsc", "BM_floor_warm/realtime",
                 "BM_one_record_floor_warm/info", "BM_one_record_floor_warm/no_info", "BM_span_no_profiler",
                 "BM_clock_gettime_realtime"):
        found = [x for n, x in warm.items() if n.startswith(name)]
        check(found and positive(found[0].get("ns")), "Google Benchmark row %s missing or failed: %r" % (name, found))

    md = open(markdown_path).read()
    for section in ("## Method", "## Summary", "## Goals", "## Emit latency", "## Warm and dense", "## Throughput",
                    "## Memory", "## Measured by other programs in this run", "## Several producers",
                    "## Reproduce"):
        check(section in md, "BENCHMARKS.md lacks %r" % section)
    for name in names:
        check(re.search(r"^\| `?%s" % re.escape(name), md, re.M), "BENCHMARKS.md has no summary row for %s" % name)
    summary = md.split("## Summary", 1)[-1].split("## Goals", 1)[0]
    rows = [l for l in summary.splitlines() if l.startswith("| ")][1:]  # after the header row
    check(len(rows) == len(names), "summary has %d rows for %d drivers" % (len(rows), len(names)))
    for row in rows:
        check(" – " not in row, "summary row has an empty cell: " + row)

    for f in failures:
        print("FAIL: " + f)
    print("%s: %d drivers, %d latency rows, %d failures" % (results_path, len(names), len(r["emit_latency_rows"]),
                                                           len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
