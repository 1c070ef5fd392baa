#!/usr/bin/python3
"""The messaging driver's numbers, all measured in one run on one rabbitmq-server (and one
redis-server for `osprof collect`'s Redis target), so every ratio compares like with like:

1. Emit latency per span (start + stop) with messaging:// and with null:// through the same
   harness (`osprof bench --rate R`, a rate both keep up with), rounds alternating.
2. Sustained throughput into RabbitMQ with publisher confirms and zero drops: `osprof bench
   --overflow block` until everything is confirmed; written / (load + drain).
3. Python OSProfiler's messaging notifier (Debian's python3-osprofiler + python3-oslo.messaging)
   on the same broker: spans as fast as it sends them, events per second.
4. `osprof collect` from a queue filled beforehand into SQLite and into Redis: stored events
   per second from its start until the last one was stored.

Writes a Markdown section (--markdown) and, with --benchmarks FILE, puts it in BENCHMARKS.md
between the markers `<!-- messaging-bench begin -->` and `<!-- messaging-bench end -->`
(added before "## Reproduce" the first time).

usage: messaging_bench.py [--build DIR] [--seconds S] [--rounds N] [--markdown FILE] [--benchmarks FILE]
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- messaging-bench begin -->", "<!-- messaging-bench end -->"


def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def bench(cli, cs, work, name, extra):
    out = os.path.join(work, name + ".json")
    subprocess.run([cli, "bench", "--connection-string", cs, "--json", out] + extra, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def cpu_s(pid):
    """CPU seconds (user + system, all threads) a process has used so far."""
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_s():
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def purge(rabbitmq, state, queue):
    subprocess.run(["bash", rabbitmq, "ctl", state, "purge_queue", queue], capture_output=True)


def python_notifier_rate(url, seconds):
    """Spans through Python OSProfiler's messaging notifier for `seconds`; events/s."""
    from oslo_config import cfg
    from osprofiler import initializer, notifier, opts, profiler
    conf = cfg.ConfigOpts()
    opts.set_defaults(conf, enabled=True, hmac_keys="SECRET_KEY", connection_string="messaging://")
    conf([], project="bench")
    notifier.clear_notifier_cache()
    initializer.init_from_conf(conf=conf, context={}, project="demo", service="api", host="vm", transport_url=url)
    profiler.init("SECRET_KEY")
    for i in range(50):  # connect and declare before timing
        profiler.start("db", {"db": {"statement": "SELECT 1", "params": i}})
        profiler.stop()
    spans = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for i in range(100):
            profiler.start("db", {"db": {"statement": "SELECT 1", "params": i}})
            profiler.stop()
        spans += 100
    elapsed = time.perf_counter() - t0
    return 2 * spans / elapsed, 2 * spans


def collect_rate(cli, source, target, expected, work, name):
    """Runs `osprof collect` until it has stored `expected` events; (events/s, stored, seconds)."""
    log = os.path.join(work, name + ".log")
    with open(log, "w") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen([cli, "collect", "--from", source, "--to", target, "--batch-size", "2048",
                              "--progress", "0.1"], stdout=subprocess.DEVNULL, stderr=err)
        stored, done_at = 0, None
        deadline = t0 + 300
        while time.perf_counter() < deadline and p.poll() is None:
            time.sleep(0.05)
            with open(log) as f:
                counts = re.findall(r"osprof collect: (\d+) stored", f.read())
            if counts:
                stored = int(counts[-1])
            if stored >= expected:
                done_at = time.perf_counter()
                break
        p.terminate()
        p.wait(timeout=60)
    if done_at is None:
        sys.exit("collect into %s stored %d of %d events (see %s)" % (name, stored, expected, log))
    # The progress line comes up to 0.1 s after the last store: a small underestimate of the rate.
    return expected / (done_at - t0), stored, done_at - t0


def fmt_rate(r):
    return "%.1fk events/s" % (r / 1000) if r < 1e6 else "%.2fM events/s" % (r / 1e6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--latency-rate", type=int, default=5000)
    ap.add_argument("--collect-events", type=int, default=30000)
    ap.add_argument("--markdown")
    ap.add_argument("--benchmarks")
    args = ap.parse_args()
    cli = os.path.join(os.path.abspath(args.build), "tools", "osprof", "osprof")
    rabbitmq = os.path.join(ROOT, "tests", "servers", "rabbitmq.sh")
    redis = os.path.join(ROOT, "tests", "servers", "redis.sh")
    work = tempfile.mkdtemp(prefix="osprof-messaging-bench-")
    rmq, rds = os.path.join(work, "rabbitmq"), os.path.join(work, "redis")
    load_before = open("/proc/loadavg").read().split()[:3]
    started = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    sh(["bash", rabbitmq, "start", rmq])
    try:
        sh(["bash", redis, "start-single", rds])
        port = open(os.path.join(rmq, "port")).read().strip()
        redis_port = open(os.path.join(rds, "port")).read().strip()
        url = "rabbit://guest:guest@127.0.0.1:%s/" % port
        rabbit_version = sh(["dpkg-query", "-W", "-f", "${Version}", "rabbitmq-server"]).strip()

        print("== emit latency: messaging:// and null://, %d rounds" % args.rounds, file=sys.stderr)
        lat = {"null": [], "messaging": []}
        for r in range(args.rounds):
            for name, cs in (("null", "null://"), ("messaging", url + "?topic=bench_latency")):
                d = bench(cli, cs, work, "latency-%s-%d" % (name, r),
                          ["--duration", str(args.seconds), "--rate", str(args.latency_rate)])
                if d["events"]["dropped"] != 0:
                    sys.exit("%s dropped %d events at %d events/s" % (name, d["events"]["dropped"], args.latency_rate))
                lat[name].append(d)
            purge(rabbitmq, rmq, "bench_latency.info")

        def med(name, key):
            v = sorted(d["emit_latency_ns"][key] for d in lat[name])
            return v[len(v) // 2]

        print("== throughput into RabbitMQ (confirms, zero drops)", file=sys.stderr)
        tp = []
        beam = open(os.path.join(rmq, "rabbit.pid")).read().strip()
        for batch in (512, 2048):
            beam0, own0 = cpu_s(beam), children_cpu_s()
            d = bench(cli, url + "?topic=bench_tp", work, "throughput-%d" % batch,
                      ["--duration", str(args.seconds), "--overflow", "block", "--block-timeout", "60000",
                       "--drain-timeout", "120", "--batch-size", str(batch)])
            if d["events"]["dropped"] != 0 or not d["drained"]:
                sys.exit("throughput run dropped %d events" % d["events"]["dropped"])
            n = d["events"]["written"]
            d["cpu_us_per_event"] = {"broker": (cpu_s(beam) - beam0) * 1e6 / n,
                                     "osprof": (children_cpu_s() - own0) * 1e6 / n}
            tp.append((batch, d))
            purge(rabbitmq, rmq, "bench_tp.info")
        best_batch, best = max(tp, key=lambda x: x[1]["throughput"]["written_events_per_s"])
        osprof_rate = best["throughput"]["written_events_per_s"]

        print("== Python OSProfiler's messaging notifier", file=sys.stderr)
        py_rate, py_events = python_notifier_rate(url, args.seconds)
        purge(rabbitmq, rmq, "profiler.info")

        print("== osprof collect into SQLite and Redis", file=sys.stderr)
        collects = []
        for name, target in (("sqlite", "sqlite:///" + os.path.join(work, "collect.db")),
                             ("redis", "redis://127.0.0.1:%s" % redis_port)):
            # About collect_events events (osprof bench runs for a time); the count is what it wrote.
            fill_json = os.path.join(work, "fill-%s.json" % name)
            subprocess.run([cli, "bench", "--connection-string", url + "?topic=bench_collect", "--duration",
                            "%.3f" % (args.collect_events / 20000.0), "--rate", "20000", "--overflow", "block",
                            "--block-timeout", "60000", "--drain-timeout", "120", "--batch-size", "2048",
                            "--json", fill_json], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(fill_json) as f:
                queued = json.load(f)["events"]["written"]
            rate, stored, took = collect_rate(cli, url + "?topic=bench_collect", target, queued, work, "collect-" + name)
            collects.append((name, rate, queued, took))
            purge(rabbitmq, rmq, "bench_collect.info")
    finally:
        subprocess.run(["bash", rabbitmq, "stop", rmq], capture_output=True)
        subprocess.run(["bash", redis, "stop", rds], capture_output=True)
    load_after = open("/proc/loadavg").read().split()[:3]

    null_p50, null_p99, null_mean = med("null", "p50"), med("null", "p99"), med("null", "mean")
    mq_p50, mq_p99, mq_mean = med("messaging", "p50"), med("messaging", "p99"), med("messaging", "mean")
    L = []
    L.append("## Messaging (RabbitMQ)")
    L.append("")
    L.append("Generated by `bench/messaging_bench.py` on %s: rabbitmq-server %s on loopback, one producer, every "
             "number from this one run (load average before %s, after %s; the machine is shared)."
             % (started, rabbit_version, " ".join(load_before), " ".join(load_after)))
    L.append("Kept in `bench/sections/messaging.md` (`--markdown`), which the report of `bench/run-suite.sh` "
             "includes; `--benchmarks BENCHMARKS.md` also replaces it in place.")
    L.append("")
    L.append("| measure | result |")
    L.append("|---|---|")
    L.append("| emit latency per span (start + stop), `osprof bench --rate %d`, median of %d rounds: messaging:// | "
             "p50 %.0f ns, p99 %.0f ns, mean %.0f ns |" % (args.latency_rate, args.rounds, mq_p50, mq_p99, mq_mean))
    L.append("| the same, null:// | p50 %.0f ns, p99 %.0f ns, mean %.0f ns |" % (null_p50, null_p99, null_mean))
    L.append("| messaging / null (goal: within 1.5x; percentiles come from `osprof bench`'s histogram, whose buckets "
             "are ~6 %% apart, so closer values read as equal) | p50 %.2fx, p99 %.2fx, mean %.2fx |"
             % (mq_p50 / null_p50, mq_p99 / null_p99, mq_mean / null_mean))
    for batch, d in tp:
        L.append("| sustained throughput into RabbitMQ, publisher confirms, zero drops, batch %d | %s (%d events, "
                 "write latency avg %.1f ms per batch; CPU per event: broker %.0f us, osprof process %.0f us) |"
                 % (batch, fmt_rate(d["throughput"]["written_events_per_s"]), d["events"]["written"],
                    d["backend"]["write_latency_avg_us"] / 1000, d["cpu_us_per_event"]["broker"],
                    d["cpu_us_per_event"]["osprof"]))
    L.append("| Python OSProfiler's messaging notifier (oslo.messaging, no confirms), same broker | %s (%d events) |"
             % (fmt_rate(py_rate), py_events))
    L.append("| osprof (best batch, %d) / Python | %.1fx |" % (best_batch, osprof_rate / py_rate))
    broker_us = best["cpu_us_per_event"]["broker"]
    L.append("| goal: 100,000 events/s into RabbitMQ with confirms | %s; the broker used %.0f us of CPU per event, "
             "so one core of it takes at most %s |"
             % ("met" if osprof_rate >= 100000 else "**not met** (%s)" % fmt_rate(osprof_rate), broker_us,
                fmt_rate(1e6 / broker_us)))
    for name, rate, queued, took in collects:
        L.append("| `osprof collect`, messaging → %s (%d queued events, batch 2048) | %s (%.1f s) |"
                 % ({"sqlite": "SQLite", "redis": "Redis"}[name], queued, fmt_rate(rate), took))
    L.append("")
    section = "\n".join(L)
    print(section)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(section + "\n")
    if args.benchmarks:
        with open(args.benchmarks) as f:
            text = f.read()
        block = BEGIN + "\n" + section + END
        heading = "## Messaging (RabbitMQ)\n"
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        elif heading in text:  # as bench/run-suite.sh's report includes it, from bench/sections
            at = text.index(heading)
            after = text.find("\n## ", at + len(heading))
            text = text[:at] + section.rstrip() + "\n" + (text[after:] if after >= 0 else "")
        else:
            at = text.index("## Reproduce")
            text = text[:at] + block + "\n\n" + text[at:]
        with open(args.benchmarks, "w") as f:
            f.write(text)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
