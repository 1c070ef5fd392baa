#!/usr/bin/python3
"""osprof and Debian's python3-osprofiler (its MongoDB driver, on python3-pymongo) on one
loopback MongoDB (tests/servers/fake_mongodb.py), both ways:

1. Python OSProfiler writes a trace (filter_error_trace on); `osprofiler trace show --json`
   and `osprof trace show --json` print it.
2. osprof (the emitter, mongodb://) writes a trace; both CLIs print it.
3. `trace list` and `trace list --error-trace` of both CLIs find both traces.

The two reports must describe the same tree: the same points, parents, names, start/finish
offsets and durations in ms, exceptions, hosts, projects, services, stored events, and the
same stats. Allowed differences are osprof's documented fixes (src/report/README.md): point
names (Python cuts at the first '-': compared after applying Python's rule to osprof's) and
sibling order (Python: truncated ms in storage order; compared as sets).

usage: mongodb_interop.py <port> <osprof CLI> <osprof writer>
"""
import json
import subprocess
import sys
import uuid

import pymongo
from oslo_config import cfg
from osprofiler import initializer, opts, profiler

FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL: " + message, file=sys.stderr)


def run(args):
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit("%s failed (%d):\n%s%s" % (" ".join(args), done.returncode, done.stdout, done.stderr))
    return done.stdout


def python_writes(url):
    conf = cfg.ConfigOpts()
    opts.set_defaults(conf, enabled=True, hmac_keys="SECRET_KEY", connection_string=url)
    conf([], project="interop")
    conf.set_override("filter_error_trace", True, group="profiler")
    initializer.init_from_conf(conf=conf, context={}, project="demo", service="api", host="vm")
    base_id = str(uuid.uuid4())
    profiler.init("SECRET_KEY", base_id=base_id)

    @profiler.trace("db", hide_result=False)
    def db_get(instance, deleted=False):
        return {"id": instance, "status": "ACTIVE"}

    @profiler.trace("rpc")
    def rpc_call():
        return db_get(42, deleted=False)

    @profiler.trace_cls("driver")
    class Driver(object):
        def spawn(self, name):
            raise RuntimeError("boom: cannot spawn " + name)

    with profiler.Trace("wsgi", info={"request": {"path": "/v2.1/servers", "query": "", "method": "POST",
                                                  "scheme": "http"}}):
        rpc_call()
        with profiler.Trace("image-cache"):
            pass
        try:
            Driver().spawn("vm1")
        except RuntimeError:
            pass
        try:
            with profiler.Trace("ctx"):
                raise ValueError("bad value")
        except ValueError:
            pass
    profiler.clean()
    return base_id


def python_name(name):
    return name.split("-")[0]


def points(report):
    out = {}

    def walk(nodes, parent):
        for node in nodes:
            info = node["info"]
            payloads = {k[len("meta.raw_payload."):]: v for k, v in info.items() if k.startswith("meta.raw_payload.")}
            out[node["trace_id"]] = {
                "parent_id": node["parent_id"], "tree_parent": parent, "name": python_name(info["name"]),
                "project": info.get("project"), "service": info.get("service"), "host": info.get("host"),
                "started": info.get("started"), "finished": info.get("finished"),
                "exception": info.get("exception"), "payloads": payloads,
                "children": sorted(c["trace_id"] for c in node.get("children", [])),
            }
            walk(node.get("children", []), node["trace_id"])

    walk(report["children"], None)
    return out


def python_stats(report):
    merged = {}
    for name, s in report["stats"].items():
        m = merged.setdefault(python_name(name), {"count": 0, "duration": 0})
        m["count"] += s["count"]
        m["duration"] += s["duration"]
    return merged


def compare(label, py_json, cc_json, expected_points):
    py, cc = json.loads(py_json), json.loads(cc_json)
    check(py["info"] == cc["info"], "%s: total info differs: python %s, osprof %s" % (label, py["info"], cc["info"]))
    pp, cp = points(py), points(cc)
    check(len(cp) == expected_points, "%s: osprof shows %d points, expected %d" % (label, len(cp), expected_points))
    check(set(pp) == set(cp), "%s: different points: only python %s, only osprof %s"
          % (label, sorted(set(pp) - set(cp)), sorted(set(cp) - set(pp))))
    for trace_id in sorted(set(pp) & set(cp)):
        for key in pp[trace_id]:
            check(pp[trace_id][key] == cp[trace_id][key], "%s: point %s (%s): %s differs: python %r, osprof %r"
                  % (label, trace_id, pp[trace_id]["name"], key, pp[trace_id][key], cp[trace_id][key]))
    check(python_stats(py) == python_stats(cc), "%s: stats differ: python %s, osprof %s" % (label, py["stats"], cc["stats"]))


def listed(text):
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and len(cells[0]) == 36 and cells[0] != "base_id":
            rows[cells[0]] = cells[1]
    return rows


def main():
    port, osprof_cli, writer = sys.argv[1], sys.argv[2], sys.argv[3]
    url = "mongodb://127.0.0.1:%s" % port  # both default to database "osprofiler"
    client = pymongo.MongoClient(url, serverSelectionTimeoutMS=10000)
    client.drop_database("osprofiler")
    db = client.osprofiler

    py_trace = python_writes(url)
    cc_trace = run([writer, url, "5"]).strip()
    check(db.profiler.count_documents({"base_id": py_trace}) == 12, "python's trace has 12 events")
    check(db.profiler.count_documents({"base_id": cc_trace}) == 22, "osprof's trace has 22 events")
    flags = {d["base_id"]: d["timestamp"] for d in db.profiler_error.find({}, {"_id": 0})}
    check(set(flags) == {py_trace, cc_trace}, "both traces carry the error flag: %s" % flags)
    # osprof flags a trace with its latest error's time, as Python's repeated upserts leave it.
    last_error = max(e["timestamp"] for e in db.profiler.find({"base_id": cc_trace, "info.etype": {"$exists": True}}))
    check(flags.get(cc_trace) == last_error, "osprof's flag holds the latest error: %s, expected %s"
          % (flags.get(cc_trace), last_error))

    for label, trace, count in (("python-written", py_trace, 6), ("osprof-written", cc_trace, 11)):
        py_json = run(["/usr/bin/osprofiler", "trace", "show", "--connection-string", url, "--json", trace])
        cc_json = run([osprof_cli, "trace", "show", trace, "--connection-string", url, "--json"])
        compare(label, py_json, cc_json, count)

    # trace list: both show each trace's first event (Python: distinct, then the earliest).
    first = {t: db.profiler.find({"base_id": t}).sort("timestamp")[0]["timestamp"] for t in (py_trace, cc_trace)}
    py_list = listed(run(["/usr/bin/osprofiler", "trace", "list", "--connection-string", url]))
    cc_rows = json.loads(run([osprof_cli, "trace", "list", "--connection-string", url, "--json"]))
    cc_list = {row["base_id"]: row["timestamp"] for row in cc_rows}
    check(py_list == first, "osprofiler trace list shows %s, expected %s" % (py_list, first))
    check(cc_list == first, "osprof trace list shows %s, expected %s" % (cc_list, first))
    check([row["base_id"] for row in cc_rows] == sorted(cc_list, key=lambda t: cc_list[t], reverse=True),
          "osprof lists newest first")
    py_errors = listed(run(["/usr/bin/osprofiler", "trace", "list", "--connection-string", url, "--error-trace", "1"]))
    cc_errors = json.loads(run([osprof_cli, "trace", "list", "--connection-string", url, "--error-trace", "--json"]))
    check(py_errors == flags, "osprofiler trace list --error-trace shows %s, expected %s" % (py_errors, flags))
    check({row["base_id"]: row["timestamp"] for row in cc_errors} == first,
          "osprof trace list --error-trace shows %s (each trace's start), expected %s" % (cc_errors, first))

    if FAILURES:
        sys.exit("%d check(s) failed" % len(FAILURES))
    print("interop ok: python trace %s, osprof trace %s" % (py_trace, cc_trace))


if __name__ == "__main__":
    main()
