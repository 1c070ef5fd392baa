#!/usr/bin/python3
"""Prints the Markdown table of one `osprof bench --sweep ... --json FILE` result, in the
format of TUNING.md's tables (so a new driver's sweep is pasted in as is).

  sweep_table.py SWEEP_JSON
"""
import json
import sys


def rate(v):
    return "%.2f M/s" % (v / 1e6) if v >= 1e6 else "%.1f k/s" % (v / 1e3) if v >= 1e3 else "%.0f /s" % v


def ns(v):
    return "%.1f µs" % (v / 1e3) if v >= 1e4 else "%.0f ns" % v


def main():
    doc = json.load(open(sys.argv[1]))
    setting = doc["sweep"]["setting"]
    print("| %s | written | offered | dropped | span p50 | span p99 | batches (avg size) | write p99 | peak RSS |"
          % setting)
    print("|---|---|---|---|---|---|---|---|---|")
    for value, run in zip(doc["sweep"]["values"], doc["runs"]):
        e, t, lat, b, m = run["events"], run["throughput"], run["emit_latency_ns"], run["backend"], run["memory"]
        avg = e["written"] / b["batches_written"] if b["batches_written"] else 0
        print("| %s | %s | %s | %.1f %% | %s | %s | %d (%.0f) | ≤ %d µs | %.0f MiB |" % (
            value, rate(t["written_events_per_s"]), rate(t["offered_events_per_s"]), 100 * e["drop_fraction"],
            ns(lat["p50"]), ns(lat["p99"]), b["batches_written"], avg, b["write_latency_p99_us"],
            m["peak_rss_kib"] / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
