#!/usr/bin/python3
"""osprof and Debian's python3-osprofiler on one SQL database, both ways (SQLite, PostgreSQL,
MariaDB), with Python OSProfiler's own SQL driver (osprofiler/drivers/sqlalchemy_driver.py on
python3-sqlalchemy, psycopg2 or pymysql).

1. Database A: Python's driver creates table `data` and writes a trace; osprof writes a trace
   into Python's table.
2. Database B: osprof creates the table and writes; Python writes into osprof's table.
3. The two tables are the same: columns, types, lengths, nullability, primary key and indexes
   (read back with SQLAlchemy's inspector).
4. Every trace is shown by `osprof trace show --json` and by Python's get_report(), and the two
   describe the same tree: points (trace ids), parents, names, start/finish offsets and
   durations in ms, exceptions, hosts, projects, services, the stored info, and the stats.
5. `osprof trace list` and Python's list_traces() find both traces of a database; osprof's
   `--error-trace` finds both (both have errors; Python's SQL driver has no error list).

Differences allowed, where osprof deliberately does otherwise (drivers/sql/README.md):
  - point names: Python cuts at the first '-'; compared after applying Python's rule.
  - sibling order: Python sorts by truncated ms in storage order; compared as sets.
  - meta.raw_payload: Python's SQL driver puts only the `data` column there ({"info": ...});
    osprof rebuilds the whole stored notification, as for every other backend. Compared: the
    info, and osprof's other members against the columns.
  - list: osprof shows each trace's first timestamp, newest first; Python the timestamp of the
    first row it meets. Compared: the sets, and osprof's times against the first events.

usage: sql_interop.py <server URL without database | sqlite:///<directory>> <osprof CLI> <osprof writer>
"""
import json
import os
import socket
import subprocess
import sys
import uuid

import sqlalchemy
from oslo_config import cfg
from osprofiler import initializer, notifier, opts, profiler
from osprofiler.drivers import sqlalchemy_driver

FAILURES = []
HOST = socket.gethostname()


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL: " + message, file=sys.stderr)


def run(args):
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit("%s failed (%d):\n%s%s" % (" ".join(args), done.returncode, done.stdout, done.stderr))
    return done.stdout


def new_database(server, name):
    """A new empty database on the server; its URL."""
    if server.startswith("sqlite"):
        path = os.path.join(server[len("sqlite:///"):], name + ".db")
        if os.path.exists(path):
            os.remove(path)
        return "sqlite:///" + path
    admin = server + ("/postgres" if server.startswith("postgresql") else "/")
    engine = sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text("DROP DATABASE IF EXISTS " + name))
        if server.startswith("mysql"):
            conn.execute(sqlalchemy.text("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"))
        else:
            conn.execute(sqlalchemy.text("CREATE DATABASE " + name))
    engine.dispose()
    return server + "/" + name


def python_driver(url):
    return sqlalchemy_driver.SQLAlchemyDriver(url, project="demo", service="py-api", host=HOST)


def python_writes(url):
    """One trace through Python OSProfiler's notifier (its SQL driver); its base id."""
    if url.startswith("sqlite"):
        # OSProfiler maps only the server schemes to its SQL driver; the class itself takes SQLite.
        notifier.set(python_driver(url).notify)
    else:
        conf = cfg.ConfigOpts()
        opts.set_defaults(conf, enabled=True, hmac_keys="SECRET_KEY", connection_string=url)
        conf([], project="interop")
        initializer.init_from_conf(conf=conf, context={}, project="demo", service="py-api", host=HOST)
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
                                                  "scheme": "http"}, "note": "caf\u00e9 \u2713"}):
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
    notifier.set(notifier._noop_notifier)
    return base_id


def python_name(name):
    return name.split("-")[0]


def points(report, osprof_side):
    """trace_id -> the point's comparable facts."""
    out = {}

    def walk(nodes, parent):
        for node in nodes:
            info = node["info"]
            payloads = {}
            for key, value in info.items():
                if not key.startswith("meta.raw_payload."):
                    continue
                event = key[len("meta.raw_payload."):]
                if osprof_side:
                    # The whole notification: its columns must be the node's.
                    check(value.get("name") == event and value.get("trace_id") == node["trace_id"]
                          and value.get("parent_id") == node["parent_id"] and value.get("project") == info["project"]
                          and value.get("service") == info["service"] and len(value.get("timestamp", "")) == 26,
                          "osprof's stored event %s of %s lacks its columns: %s" % (event, node["trace_id"], value))
                    value = {"info": value.get("info")}
                payloads[event] = value
            out[node["trace_id"]] = {
                "parent_id": node["parent_id"],
                "tree_parent": parent,
                "name": python_name(info["name"]),
                "project": info.get("project"),
                "service": info.get("service"),
                "host": info.get("host"),
                "started": info.get("started"),
                "finished": info.get("finished"),
                "duration": None if info.get("finished") is None else info["finished"] - info["started"],
                "exception": info.get("exception"),
                "payloads": payloads,
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


def compare(label, py, cc, expected_points):
    check(py["info"] == cc["info"], "%s: total info differs: python %s, osprof %s" % (label, py["info"], cc["info"]))
    pp, cp = points(py, False), points(cc, True)
    check(len(cp) == expected_points, "%s: osprof shows %d points, expected %d" % (label, len(cp), expected_points))
    check(set(pp) == set(cp), "%s: different points: only python %s, only osprof %s"
          % (label, sorted(set(pp) - set(cp)), sorted(set(cp) - set(pp))))
    for trace_id in sorted(set(pp) & set(cp)):
        for key in pp[trace_id]:
            check(pp[trace_id][key] == cp[trace_id][key], "%s: point %s (%s): %s differs: python %r, osprof %r"
                  % (label, trace_id, pp[trace_id]["name"], key, pp[trace_id][key], cp[trace_id][key]))
    check(python_stats(py) == python_stats(cc), "%s: stats differ: python %s, osprof %s"
          % (label, py["stats"], cc["stats"]))


def schema(url):
    """The table as SQLAlchemy's inspector sees it."""
    engine = sqlalchemy.create_engine(url)
    inspector = sqlalchemy.inspect(engine)
    columns = [(c["name"], str(c["type"]), c["nullable"], c.get("autoincrement")) for c in inspector.get_columns("data")]
    indexes = sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes("data"))
    primary = inspector.get_pk_constraint("data")["constrained_columns"]
    engine.dispose()
    return {"columns": columns, "indexes": indexes, "primary key": primary}


def first_timestamps(url, base_ids):
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        out = {b: conn.execute(sqlalchemy.text("SELECT MIN(timestamp) FROM data WHERE base_id = :b"), {"b": b}).scalar()
               for b in base_ids}
    engine.dispose()
    return out


def check_database(label, url, traces, osprof_cli):
    """Both sides show and list every trace in `traces` ({base_id: points})."""
    for trace, count in traces.items():
        py = python_driver(url).get_report(trace)  # a new driver: get_report accumulates
        cc = json.loads(run([osprof_cli, "trace", "show", trace, "--connection-string", url, "--json"]))
        compare("%s, trace %s" % (label, trace), py, cc, count)
    py_list = {row["base_id"] for row in python_driver(url).list_traces(("base_id", "timestamp"))}
    check(py_list == set(traces), "%s: python's list_traces shows %s" % (label, sorted(py_list)))
    cc_rows = json.loads(run([osprof_cli, "trace", "list", "--connection-string", url, "--json"]))
    cc_list = {row["base_id"]: row["timestamp"] for row in cc_rows}
    check(cc_list == first_timestamps(url, traces), "%s: osprof lists %s" % (label, cc_list))
    check([row["base_id"] for row in cc_rows] == sorted(cc_list, key=lambda t: cc_list[t], reverse=True),
          "%s: osprof lists newest first" % label)
    cc_errors = json.loads(run([osprof_cli, "trace", "list", "--connection-string", url, "--error-trace", "--json"]))
    check({row["base_id"] for row in cc_errors} == set(traces),
          "%s: osprof trace list --error-trace shows %s" % (label, cc_errors))


def main():
    server, osprof_cli, writer = sys.argv[1], sys.argv[2], sys.argv[3]
    a = new_database(server, "osprof_interop_a")
    b = new_database(server, "osprof_interop_b")

    py_a = python_writes(a)                                  # Python creates A's table
    cc_a = run([writer, a, "5", HOST]).strip()               # osprof writes into it
    cc_b = run([writer, b, "2", HOST]).strip()               # osprof creates B's table
    py_b = python_writes(b)                                  # Python writes into it

    sa, sb = schema(a), schema(b)
    check(sa == sb, "the table Python made and the one osprof made differ:\n  python %s\n  osprof %s" % (sa, sb))
    check(len(sa["indexes"]) == 8 and sa["primary key"] == ["id"], "python's table: %s" % sa)

    check_database("database A (python's table)", a, {py_a: 6, cc_a: 11}, osprof_cli)
    check_database("database B (osprof's table)", b, {py_b: 6, cc_b: 8}, osprof_cli)

    if FAILURES:
        sys.exit("%d check(s) failed" % len(FAILURES))
    print("interop ok on %s: python traces %s %s, osprof traces %s %s" % (server.split(":")[0], py_a, py_b, cc_a, cc_b))


if __name__ == "__main__":
    main()
