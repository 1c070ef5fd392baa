#!/usr/bin/python3
"""Reading one big trace: osprof's `trace show --json` against Python OSProfiler's
`osprofiler trace show --json`, on the same Redis data, in the same run.

Python OSProfiler itself (Debian's python3-osprofiler, its Redis driver) writes a trace of
N events (a root and N/2 - 1 traced calls), then each CLI prints it N_RUNS times: the best
wall time and its peak RSS (the child's own rusage) are kept. Both outputs are parsed and
compared: the figures only count if both printed the same trace.

With --base OTHER_OSPROF_CLI, another build of osprof reads the same trace in the same run
(the three programs take turns, run after run), to compare two builds.

usage: read_vs_python.py OSPROF_CLI REDIS_URL [--events N] [--runs R] [--base OSPROF_CLI] [--json FILE]"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

WRITER = r"""
import sys, uuid
from oslo_config import cfg
from osprofiler import initializer, opts, profiler
conf = cfg.ConfigOpts()
opts.set_defaults(conf, enabled=True, hmac_keys="SECRET_KEY", connection_string=sys.argv[1])
conf([], project="bench")
initializer.init_from_conf(conf=conf, context={}, project="demo", service="api", host="vm")
base = str(uuid.uuid4())
profiler.init("SECRET_KEY", base_id=base)

@profiler.trace("point")
def point(i):
    return i

with profiler.Trace("root"):
    for i in range(int(sys.argv[2]) // 2 - 1):
        point(i)
print(base)
"""


def measure(cmd, runs, out_path):
    """Best wall time over `runs` and that run's peak RSS (wait4's rusage of that child)."""
    best = None
    for _ in range(runs):
        with open(out_path, "w") as out:
            started = time.monotonic()
            child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.monotonic() - started
            err = child.stderr.read()
            child.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("read_vs_python: %s failed: %s" % (cmd[0], err.decode(errors="replace")[-300:]))
        run = {"wall_s": wall, "peak_rss_kib": usage.ru_maxrss}
        if best is None or run["wall_s"] < best["wall_s"]:
            best = run
    best["output_bytes"] = os.path.getsize(out_path)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("osprof")
    ap.add_argument("redis_url")
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--base", help="another osprof build, measured in turn with the first")
    ap.add_argument("--json")
    args = ap.parse_args()

    trace = subprocess.run(["/usr/bin/python3", "-c", WRITER, args.redis_url, str(args.events)],
                           check=True, capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as d:
        programs = {"python": ["/usr/bin/osprofiler", "trace", "show", "--connection-string", args.redis_url, "--json", trace],
                    "osprof": [args.osprof, "trace", "show", trace, "--connection-string", args.redis_url, "--json"]}
        if args.base:
            programs["base"] = [args.base, "trace", "show", trace, "--connection-string", args.redis_url, "--json"]
        best = {}
        for _ in range(args.runs):  # in turns: a slow moment of the machine hits each program alike
            for name, cmd in programs.items():
                run = measure(cmd, 1, os.path.join(d, name + ".json"))
                if name not in best or run["wall_s"] < best[name]["wall_s"]:
                    best[name] = run
        python, osprof = best["python"], best["osprof"]
        def stats(name):
            with open(os.path.join(d, name + ".json")) as f:
                return json.load(f)["stats"]
        same_events = all(stats(name) == stats("python") for name in programs)
    result = {
        "events": args.events, "trace": trace, "runs": args.runs, "python": python, "osprof": osprof,
        "same_stats": same_events,
        "speedup": python["wall_s"] / osprof["wall_s"],
        "memory_ratio": python["peak_rss_kib"] / osprof["peak_rss_kib"],
    }
    print("trace show --json of %d events: Python %.2f s, %.1f MiB; osprof %.2f s, %.1f MiB: %.1fx faster, %.1fx less memory" % (
        args.events, python["wall_s"], python["peak_rss_kib"] / 1024, osprof["wall_s"], osprof["peak_rss_kib"] / 1024,
        result["speedup"], result["memory_ratio"]))
    if args.base:
        base = best["base"]
        result["base"] = base
        result["base_speedup"] = python["wall_s"] / base["wall_s"]
        result["base_memory_ratio"] = python["peak_rss_kib"] / base["peak_rss_kib"]
        print("base build: %.3f s, %.1f MiB: %.1fx faster, %.1fx less memory; this build %.3f s" % (
            base["wall_s"], base["peak_rss_kib"] / 1024, result["base_speedup"], result["base_memory_ratio"],
            osprof["wall_s"]))
    if not same_events:
        print("read_vs_python: the two reports' stats differ", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0 if same_events else 1


if __name__ == "__main__":
    sys.exit(main())
