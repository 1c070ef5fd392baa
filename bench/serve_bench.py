"""`osprof serve` on a big SQLite store: request latency per endpoint and the server's memory.
Writes a store of TRACES traces (OSProfiler's SQL layout, 4 to 10 events each, one in seven
failed, plus one 20,000-event trace) unless it exists, starts `osprof serve` on it, sends each
request REPEAT times over one keep-alive connection and prints a Markdown table.

usage: serve_bench.py OSPROF DB [TRACES] [REPEAT]"""
import http.client
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "serve"))
import store  # noqa: E402
from serve_util import Server  # noqa: E402


def build(db, count):
    started = time.monotonic()
    chunk = 5000
    for first in range(0, count, chunk):
        traces = [store.make_trace(n, n * 1_000_000, points=2 + n % 4, error=(n % 7 == 3))
                  for n in range(first, min(count, first + chunk))]
        store.write_sqlite(db, traces)
    store.write_sqlite(db, [store.make_trace(count, count * 1_000_000 + 5, points=10_000, service="bulk")])
    print("wrote %d traces in %.0f s" % (count + 1, time.monotonic() - started), file=sys.stderr)


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main():
    osprof, db = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    if not os.path.exists(db):
        build(db, count)
    big = store.make_trace(count, 0, points=2)[0]["base_id"]
    small = store.make_trace(count // 2, 0, points=2)[0]["base_id"]
    rows = subprocess.run(["sqlite3", db, "SELECT COUNT(*), COUNT(DISTINCT base_id) FROM data"], capture_output=True,
                          text=True).stdout.strip()
    server = Server(osprof, "sqlite:///" + db, "--timeout", "60")
    rss_start = status_kb(server.proc.pid, "VmRSS")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)

    def get(path):
        t = time.perf_counter()
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        return (time.perf_counter() - t) * 1000, r.status, len(body), body

    # A cursor half-way down the list: the page of traces 50,000 to 50,050.
    mid = store.make_trace(count // 2, (count // 2) * 1_000_000)[0]
    cursor = urllib.parse.quote("%s,%s" % (mid["timestamp"], mid["base_id"]), safe="")
    cases = [
        ("GET /api/health", "/api/health"),
        ("GET /api/traces (first page, 50 rows)", "/api/traces"),
        ("GET /api/traces?cursor=... (rows 50,001-50,050)", "/api/traces?cursor=" + cursor),
        ("GET /api/traces?limit=1000", "/api/traces?limit=1000"),
        ("GET /api/traces?error=true", "/api/traces?error=true"),
        ("GET /api/traces?service=scheduler", "/api/traces?service=scheduler"),
        ("GET /api/traces?q=ab (id prefix)", "/api/traces?q=ab"),
        ("GET /api/traces?since=...&until=... (one hour)", "/api/traces?since=2026-11-01T10&until=2026-11-01T11"),
        ("GET /api/traces/<id> (4 events)", "/api/traces/" + small),
        ("GET /api/traces/<id> (20,000 events)", "/api/traces/" + big),
        ("GET /api/traces/<id>/chrome (20,000 events)", "/api/traces/%s/chrome" % big),
        ("GET /traces/<id> (HTML, 20,000 events)", "/traces/" + big),
        ("GET / (the list page)", "/"),
    ]
    hwm_lists = None
    print("| request | status | bytes | median ms | p90 ms | max ms |")
    print("|---|---|---:|---:|---:|---:|")
    for label, path in cases:
        if hwm_lists is None and not path.startswith("/api/traces?") and path not in ("/api/health", "/api/traces"):
            hwm_lists = status_kb(server.proc.pid, "VmHWM")
        times = []
        for _ in range(repeat):
            ms, status, size, _ = get(path)
            times.append(ms)
        times.sort()
        p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
        print("| `%s` | %d | %d | %.1f | %.1f | %.1f |" % (label, status, size, statistics.median(times), p90, times[-1]))
    conn.close()
    hwm, rss = status_kb(server.proc.pid, "VmHWM"), status_kb(server.proc.pid, "VmRSS")
    server.stop()
    print()
    print("store: %s (rows, traces); server RSS at start %.1f MiB; peak %.1f MiB after the list requests, "
          "%.1f MiB after the whole run (RSS at its end %.1f MiB)"
          % (rows.replace("|", ", "), rss_start / 1024, hwm_lists / 1024, hwm / 1024, rss / 1024))
    # For comparison: the whole list at once, as `trace list --json` reads it.
    t = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", osprof, "trace", "list", "--json", "--connection-string",
                        "sqlite:///" + db, "--timeout", "300"], capture_output=True, text=True)
    print("`osprof trace list --json` (every trace at once): %.2f s, peak RSS %.1f MiB"
          % (time.monotonic() - t, int(r.stderr.strip().splitlines()[-1]) / 1024))


if __name__ == "__main__":
    main()
