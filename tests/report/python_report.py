#!/usr/bin/python3
"""OSProfiler's own report, for comparison with osprof's.

Reads stored events (one JSON text per line, in storage order) and feeds them to Debian's
python3-osprofiler exactly as its drivers' get_report() do (Driver._append_results, then
Driver._parse_results). Prints what `osprofiler trace show` prints for the chosen format:
  python_report.py json EVENTS   --json  (json.dumps(indent=2, separators=(",", ": ")))
  python_report.py dot EVENTS    --dot   (TraceCommands._create_dot_graph(...).source)
  python_report.py pdf EVENTS FILE   --dot --render-dot FILE (the graph's render(FILE,
                                     cleanup=True): Graphviz writes FILE.pdf)
"""
import json
import sys

from osprofiler.cmd import commands
from osprofiler.drivers import base


class StoredEvents(base.Driver):
    @classmethod
    def get_name(cls):
        return "stored-events"


def main():
    fmt, path = sys.argv[1], sys.argv[2]
    driver = StoredEvents("stored-events://")
    with open(path, encoding="utf-8") as events:
        for line in events:
            if not line.strip():
                continue
            n = json.loads(line)
            driver._append_results(n["trace_id"], n["parent_id"], n["name"], n["project"],
                                   n["service"], n["info"]["host"], n["timestamp"], n)
    report = driver._parse_results()
    if fmt == "json":
        sys.stdout.write(json.dumps(report, separators=(",", ": "), indent=2))
    elif fmt == "dot":
        sys.stdout.write(commands.TraceCommands()._create_dot_graph(report).source)
    elif fmt == "pdf":
        commands.TraceCommands()._create_dot_graph(report).render(sys.argv[3], cleanup=True)
    else:
        sys.exit("unknown format " + fmt)


if __name__ == "__main__":
    main()
