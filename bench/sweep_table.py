#!/usr/bin/python3
"""Prints the Markdown table of one `osprof bench --sweep ... --json FILE` result, in the
format of TUNING.md's tables; or refreshes every table of a Markdown file between
`<!-- sweep NAME -->` and `<!-- end sweep -->` from DIR/NAME.json (bench/tuning-sweeps.sh's output).

  sweep_table.py SWEEP_JSON
  sweep_table.py --fill TUNING.md DIR
"""
import json
import os
import re
import sys


def rate(v):
    return "%.2f M/s" % (v / 1e6) if v >= 1e6 else "%.1f k/s" % (v / 1e3) if v >= 1e3 else "%.0f /s" % v


def ns(v):
    return "%.1f µs" % (v / 1e3) if v >= 1e4 else "%.0f ns" % v


def table(path):
    doc = json.load(open(path))
    setting = doc["sweep"]["setting"]
    lines = []
    print = lines.append
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
    return "\n".join(lines)


def fill(markdown_path, directory):
    text = open(markdown_path).read()
    pattern = re.compile(r"(<!-- sweep ([A-Za-z0-9_.-]+) -->\n).*?(<!-- end sweep -->)", re.S)
    text = pattern.sub(lambda m: m.group(1) + table(os.path.join(directory, m.group(2) + ".json")) + "\n" + m.group(3),
                       text)
    open(markdown_path, "w").write(text)


def main():
    if sys.argv[1] == "--fill":
        fill(sys.argv[2], sys.argv[3])
    else:
        sys.stdout.write(table(sys.argv[1]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
