#!/usr/bin/python3
"""Python OSProfiler (Debian's python3-osprofiler) doing osprof's benchmark span, with the same
burst method as bench/burst_harness.hpp: time a burst of K spans, record the average per span,
busy-wait between bursts, repeat; percentiles over the burst averages.

A span is profiler.start("db", {"db": {"statement": "SELECT 1", "params": i}}) + profiler.stop(),
with the default no-op notifier and, given --redis URL, with OSProfiler's Redis driver (two
synchronous LPUSH per span on the caller's thread); given --sql URL (repeatable), with its SQL
driver on that database (two INSERTs, each committed, per span).

  python_osprofiler.py [--bursts N] [--burst-size K] [--pause-us P] [--redis URL] [--sql URL]... [--json FILE]
"""
import argparse
import json
import platform
import sys
import time


def percentiles(samples):
    v = sorted(samples)
    if not v:
        return {}
    at = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    return {"p50_ns": at(0.50), "p90_ns": at(0.90), "p99_ns": at(0.99), "p999_ns": at(0.999),
            "max_ns": v[-1], "mean_ns": sum(v) / len(v), "samples": len(v)}


def bursts(args, span, warmup):
    clock = time.perf_counter_ns
    out = []
    for b in range(-warmup, args.bursts):
        t0 = clock()
        for i in range(args.burst_size):
            span(i)
        t1 = clock()
        if b >= 0:
            out.append((t1 - t0) / args.burst_size)
        until = clock() + int(args.pause_us * 1000)
        while clock() < until:
            pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bursts", type=int, default=2000)
    ap.add_argument("--burst-size", type=int, default=20)
    ap.add_argument("--pause-us", type=float, default=1000)
    ap.add_argument("--redis-bursts", type=int, default=0, help="bursts with Redis (default: bursts / 5)")
    ap.add_argument("--redis", help="redis://host:port: also measure OSProfiler's Redis driver")
    ap.add_argument("--sql", action="append", default=[],
                    help="postgresql://... or mysql+pymysql://...: also measure OSProfiler's SQL driver there")
    ap.add_argument("--json")
    args = ap.parse_args()

    from osprofiler import notifier, profiler
    import osprofiler

    def span(i):
        profiler.start("db", {"db": {"statement": "SELECT 1", "params": i}})
        profiler.stop()

    warmup = max(1, min(100, args.bursts // 10))
    rows = []
    profiler.clean()
    rows.append(dict(case="Python OSProfiler span, not initialised", kind="python", driver="none",
                     **percentiles(bursts(args, span, warmup))))
    profiler.init("SECRET_KEY")
    rows.append(dict(case="Python OSProfiler span, no-op notifier", kind="python", driver="noop",
                     **percentiles(bursts(args, span, warmup))))
    if args.redis:
        from oslo_config import cfg
        from osprofiler import initializer, opts
        conf = cfg.ConfigOpts()
        opts.set_defaults(conf, enabled=True, hmac_keys="SECRET_KEY", connection_string=args.redis)
        conf([], project="bench")
        initializer.init_from_conf(conf=conf, context={}, project="bench", service="python", host="bench")
        profiler.clean()
        profiler.init("SECRET_KEY")
        redis_args = argparse.Namespace(**vars(args))
        redis_args.bursts = args.redis_bursts or max(1, args.bursts // 5)
        rows.append(dict(case="Python OSProfiler span, Redis driver", kind="python", driver="redis",
                         **percentiles(bursts(redis_args, span, max(1, warmup // 5)))))
        notifier.set(lambda *a, **k: None)
    for url in args.sql:
        from osprofiler.drivers import sqlalchemy_driver
        driver = sqlalchemy_driver.SQLAlchemyDriver(url, project="bench", service="python", host="bench")
        notifier.set(driver.notify)
        profiler.clean()
        profiler.init("SECRET_KEY")
        sql_args = argparse.Namespace(**vars(args))
        sql_args.bursts = args.redis_bursts or max(1, args.bursts // 5)
        scheme = url.split(":", 1)[0].split("+", 1)[0]
        rows.append(dict(case="Python OSProfiler span, SQL driver (%s)" % scheme, kind="python", driver=scheme,
                         **percentiles(bursts(sql_args, span, max(1, warmup // 5)))))
        notifier.set(lambda *a, **k: None)
    profiler.clean()

    for r in rows:
        print("%-48s p50 %9.0f  p90 %9.0f  p99 %9.0f  p99.9 %9.0f  max %10.0f ns" %
              (r["case"], r["p50_ns"], r["p90_ns"], r["p99_ns"], r["p999_ns"], r["max_ns"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": platform.python_version(),
                       "osprofiler": getattr(osprofiler, "__version__", "unknown"),
                       "method": "bursts of %d spans timed with perf_counter_ns, %.0f us busy-wait between bursts"
                                 % (args.burst_size, args.pause_us),
                       "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
