#!/usr/bin/python3
"""osprof and Debian's python3-osprofiler + python3-oslo.messaging on one real RabbitMQ.

1. The wire: one event published by Python's messaging notifier (oslo.messaging's Notifier,
   driver "messaging", topic "profiler") and one published by osprof arrive on the same
   exchange with the same routing key, the same AMQP properties and the same body keys in the
   same order; the exchange and queue that each side declares are the same.
2. A trace sent by Python's notifier: `osprof trace show --json` and Python's
   `osprofiler trace show --json --connection-string messaging:// --transport-url ...` print
   the same tree.
3. A trace sent by osprof: both CLIs print the same tree (so Python's notification listener,
   with its NotificationFilter on base_id, accepts what osprof publishes).
4. (with `osprof collect`) a trace made of events of both, collected into SQLite, is found by
   `osprof trace list` and shown whole.

Reading a trace takes its events off the queue, so each reader needs its own copy: the test
binds a second queue, osprof_copy.info, to the exchange with Python's routing key
(profiler.info); osprof reads that copy (topic=osprof_copy), Python reads profiler.info.

The reports are compared as the Redis interop test compares them (same points, parents,
offsets, exceptions, payloads, stats), allowing only osprof's documented fixes (names keep
their hyphens; siblings compared as sets).

usage: messaging_interop.py <broker state dir> <rabbitmq.sh> <osprof CLI> <osprof writer>
"""
import json
import os
import subprocess
import sys
import time
import uuid

import amqp
from oslo_config import cfg
from osprofiler import initializer, notifier, opts, profiler

FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL: " + message, file=sys.stderr)


def run(args, env=None):
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    if done.returncode != 0:
        sys.exit("%s failed (%d):\n%s%s" % (" ".join(args), done.returncode, done.stdout, done.stderr))
    return done.stdout


def channel(port):
    conn = amqp.Connection("127.0.0.1:%s" % port, userid="guest", password="guest", virtual_host="/")
    conn.connect()
    return conn, conn.channel()


def reset_queues(port):
    """profiler.info and its copy, empty; the copy bound with Python's routing key."""
    conn, ch = channel(port)
    ch.exchange_declare("openstack", "topic", durable=False, auto_delete=False)
    for queue in ("profiler.info", "osprof_copy.info"):
        ch.queue_declare(queue, durable=False, auto_delete=False)
        ch.queue_purge(queue)
    ch.queue_bind("osprof_copy.info", "openstack", "profiler.info")
    conn.close()


def take_one(port, queue):
    conn, ch = channel(port)
    msg = None
    for _ in range(100):
        msg = ch.basic_get(queue, no_ack=True)
        if msg is not None:
            break
        time.sleep(0.05)
    conn.close()
    return msg


def python_notifier(url):
    conf = cfg.ConfigOpts()
    opts.set_defaults(conf, enabled=True, hmac_keys="SECRET_KEY", connection_string="messaging://")
    conf([], project="interop")
    notifier.clear_notifier_cache()
    initializer.init_from_conf(conf=conf, context={}, project="demo", service="api", host="vm", transport_url=url)


def python_writes(url):
    python_notifier(url)
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
                "parent_id": node["parent_id"],
                "tree_parent": parent,
                "name": python_name(info["name"]),
                "project": info.get("project"),
                "service": info.get("service"),
                "host": info.get("host"),
                "started": info.get("started"),
                "finished": info.get("finished"),
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


def compare(label, py_json, cc_json, expected_points):
    py, cc = json.loads(py_json), json.loads(cc_json)
    check(py["info"] == cc["info"], "%s: total info differs: python %s, osprof %s" % (label, py["info"], cc["info"]))
    pp, cp = points(py), points(cc)
    check(len(cp) == expected_points, "%s: osprof shows %d points, expected %d" % (label, len(cp), expected_points))
    check(len(pp) == expected_points, "%s: python shows %d points, expected %d" % (label, len(pp), expected_points))
    check(set(pp) == set(cp), "%s: different points: only python %s, only osprof %s"
          % (label, sorted(set(pp) - set(cp)), sorted(set(cp) - set(pp))))
    for trace_id in sorted(set(pp) & set(cp)):
        for key in pp[trace_id]:
            check(pp[trace_id][key] == cp[trace_id][key], "%s: point %s (%s): %s differs: python %r, osprof %r"
                  % (label, trace_id, pp[trace_id]["name"], key, pp[trace_id][key], cp[trace_id][key]))
    check(python_stats(py) == python_stats(cc), "%s: stats differ: python %s, osprof %s"
          % (label, py["stats"], cc["stats"]))


def both_show(label, trace, url, osprof_cli, expected_points):
    cc_json = run([osprof_cli, "trace", "show", trace, "--connection-string", "messaging://?topic=osprof_copy",
                   "--transport-url", url, "--json"])
    py_json = run(["/usr/bin/osprofiler", "trace", "show", "--connection-string", "messaging://", "--transport-url", url,
                   "--json", trace])
    compare(label, py_json, cc_json, expected_points)


def wire(port, url, writer):
    """One event from each side, taken off the queue raw."""
    reset_queues(port)
    python_notifier(url)
    profiler.init("SECRET_KEY")
    with profiler.Trace("one"):
        pass
    profiler.clean()
    py_msg = take_one(port, "profiler.info")
    reset_queues(port)
    run([writer, url, "0"])
    cc_msg = take_one(port, "profiler.info")
    reset_queues(port)
    check(py_msg is not None and cc_msg is not None, "wire: a message from each side")
    if py_msg is None or cc_msg is None:
        return
    for key in ("exchange", "routing_key"):
        check(py_msg.delivery_info[key] == cc_msg.delivery_info[key], "wire: %s: python %r, osprof %r"
              % (key, py_msg.delivery_info[key], cc_msg.delivery_info[key]))
    check(py_msg.properties == cc_msg.properties, "wire: properties: python %r, osprof %r"
          % (py_msg.properties, cc_msg.properties))
    py_body, cc_body = json.loads(py_msg.body), json.loads(cc_msg.body)
    check(list(py_body) == list(cc_body), "wire: body keys: python %s, osprof %s" % (list(py_body), list(cc_body)))
    check(py_body["priority"] == cc_body["priority"] == "INFO", "wire: priority %r" % cc_body["priority"])
    # Each side's own host and service: vm/api for Python, cpp-host/osprof-api for the writer.
    check((py_body["publisher_id"], py_body["event_type"]) == ("vm", "profiler.api"), "wire: python %s" % py_body)
    check((cc_body["publisher_id"], cc_body["event_type"]) == ("cpp-host", "profiler.osprof-api"),
          "wire: osprof publisher_id/event_type %r/%r" % (cc_body["publisher_id"], cc_body["event_type"]))
    check(list(py_body["payload"]) == list(cc_body["payload"]), "wire: payload keys: python %s, osprof %s"
          % (list(py_body["payload"]), list(cc_body["payload"])))
    check(len(cc_body["_unique_id"]) == 32 and len(cc_body["message_id"]) == 36, "wire: ids %s" % cc_body)


def declarations(rabbitmq_sh, state):
    out = run(["bash", rabbitmq_sh, "ctl", state, "list_queues", "name", "durable", "auto_delete", "arguments"])
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines() if "\t" in line}
    return rows


def main():
    state, rabbitmq_sh, osprof_cli, writer = sys.argv[1:5]
    port = open(os.path.join(state, "port")).read().strip()
    url = "rabbit://guest:guest@127.0.0.1:%s/" % port

    # The queue as Python's notifier declares it, then as osprof does (fresh each time).
    conn, ch = channel(port)
    ch.queue_delete("profiler.info")
    conn.close()
    python_notifier(url)
    profiler.init("SECRET_KEY")
    with profiler.Trace("declare"):
        pass
    profiler.clean()
    py_decl = declarations(rabbitmq_sh, state).get("profiler.info")
    conn, ch = channel(port)
    ch.queue_delete("profiler.info")
    ch.exchange_delete("openstack")
    conn.close()
    run([writer, url, "0"])
    cc_decl = declarations(rabbitmq_sh, state).get("profiler.info")
    check(py_decl is not None and py_decl == cc_decl, "queue declared as python %s, osprof %s" % (py_decl, cc_decl))

    wire(port, url, writer)

    reset_queues(port)
    py_trace = python_writes(url)
    both_show("python-sent", py_trace, url, osprof_cli, 6)

    reset_queues(port)
    cc_trace = run([writer, url, "5"]).strip()
    both_show("osprof-sent", cc_trace, url, osprof_cli, 11)

    if len(sys.argv) > 5:
        collect_mixed(sys.argv[5], url, osprof_cli, writer, port)

    if FAILURES:
        sys.exit("%d check(s) failed" % len(FAILURES))
    print("interop ok: python trace %s, osprof trace %s" % (py_trace, cc_trace))


def collect_mixed(workdir, url, osprof_cli, writer, port):
    """Python and osprof events of one trace, collected into SQLite, then listed and shown."""
    reset_queues(port)
    db = os.path.join(workdir, "collected.db")
    if os.path.exists(db):
        os.remove(db)
    python_notifier(url)
    base_id = str(uuid.uuid4())
    profiler.init("SECRET_KEY", base_id=base_id)
    with profiler.Trace("wsgi", info={"request": {"path": "/", "query": "", "method": "GET", "scheme": "http"}}):
        trace_info = {"base_id": base_id, "parent_id": profiler.get().get_id()}
        # The C++ side continues the trace (as an RPC callee would), through its writer.
        env = dict(os.environ, OSPROF_INTEROP_BASE_ID=trace_info["base_id"],
                   OSPROF_INTEROP_PARENT_ID=trace_info["parent_id"])
        run([writer, url, "2"], env=env)
    profiler.clean()
    collector = subprocess.Popen([osprof_cli, "collect", "--from", url, "--to", "sqlite:///" + db],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    listed = []
    while time.time() < deadline:
        time.sleep(0.5)
        if not os.path.exists(db):
            continue
        out = subprocess.run([osprof_cli, "trace", "list", "--connection-string", "sqlite:///" + db, "--json"],
                             capture_output=True, text=True)
        if out.returncode == 0:
            listed = [row["base_id"] for row in json.loads(out.stdout)]
            report = json.loads(run([osprof_cli, "trace", "show", base_id, "--connection-string", "sqlite:///" + db,
                                     "--json"])) if base_id in listed else None
            if report is not None and len(points(report)) == 1 + 8:
                break
    collector.terminate()
    _, err = collector.communicate(timeout=30)
    check(collector.returncode == 0, "collect exits 0 on SIGTERM, got %s: %s" % (collector.returncode, err))
    check(listed == [base_id], "osprof trace list of the collected store shows %s, expected [%s]" % (listed, base_id))
    report = json.loads(run([osprof_cli, "trace", "show", base_id, "--connection-string", "sqlite:///" + db, "--json"]))
    services = {p["service"] for p in points(report).values()}
    check(len(points(report)) == 9, "collected trace has %d points, expected 9" % len(points(report)))
    check(services == {"api", "osprof-api"}, "collected trace's services: %s" % services)


if __name__ == "__main__":
    main()
