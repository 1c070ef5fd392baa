#!/usr/bin/python3
"""Python OSProfiler's SQL driver (osprofiler/drivers/sqlalchemy_driver.py, from Debian's
python3-osprofiler, on python3-sqlalchemy) on a SQLite file, for osprof's interop test.

  python_sql_peer.py write URL [ID]  traces a request with Python's profiler into URL (the
                                     driver constructed directly: Python's get_driver() maps
                                     no sqlite:// scheme to it), as trace ID if given (any
                                     string, as profiler.init() takes it); prints the base id
  python_sql_peer.py report URL ID   Python's report of trace ID, normalized (below)
  python_sql_peer.py list URL        the base ids Python's driver lists, sorted, one a line
  python_sql_peer.py normalize FILE  the same normalization of a report osprof printed (--json)

Normalized: every node as [name, project, service, host, trace_id, parent_id, started,
finished, exception, [children]] plus the stats, as JSON. The raw payloads are left out:
Python's SQL reader hands on the row's `data` column only, osprof the whole notification.
"""
import json
import socket
import sys

from osprofiler import notifier, profiler
from osprofiler.drivers.sqlalchemy_driver import SQLAlchemyDriver


def driver(url):
    return SQLAlchemyDriver(url, project="pyproj", service="pyapi", host=socket.gethostname())


def write(url, base_id=None):
    d = driver(url)
    notifier.set(d.notify)
    profiler.init("K", base_id=base_id)
    base = profiler.get().get_base_id()
    with profiler.Trace("wsgi", info={"request": {"path": "/v2/servers", "query": "", "method": "POST",
                                                  "scheme": "http"}}):
        with profiler.Trace("db", info={"db": {"statement": "SELECT 1", "params": {}}}):
            pass
        try:
            with profiler.Trace("driver"):
                raise RuntimeError("no valid host was found")
        except RuntimeError:
            pass
    profiler.clean()
    print(base)


def normalize(report):
    def node(n):
        i = n["info"]
        return [i["name"], i.get("project"), i.get("service"), i.get("host"), n["trace_id"], n["parent_id"],
                i.get("started"), i.get("finished"), i.get("exception"), [node(c) for c in n["children"]]]
    return json.dumps({"info": report["info"], "children": [node(c) for c in report["children"]],
                       "stats": report["stats"]}, sort_keys=True, indent=1)


def main():
    cmd = sys.argv[1]
    if cmd == "write":
        write(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif cmd == "report":
        print(normalize(driver(sys.argv[2]).get_report(sys.argv[3])))
    elif cmd == "list":
        # 3.4.3's list_traces() needs the fields (None raises TypeError).
        for row in sorted(t["base_id"] for t in driver(sys.argv[2]).list_traces(("base_id", "timestamp"))):
            print(row)
    elif cmd == "normalize":
        with open(sys.argv[2], encoding="utf-8") as f:
            print(normalize(json.load(f)))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
