"""API tests of `osprof serve` against a real backend: paging, filters, reports as
`trace show` prints them, errors (400/404/405/413/431/503), the server going on after bad
requests, auth, and a backend that is down or never answers.

usage: api_test.py OSPROF sqlite DIR
       api_test.py OSPROF redis REDIS_PORT
       api_test.py OSPROF postgresql PG_PORT
       api_test.py OSPROF mysql MARIADB_PORT"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store  # noqa: E402
from serve_util import Server, check, finish  # noqa: E402


def all_pages(server, query, limit):
    rows, cursor, pages = [], None, 0
    while True:
        path = "/api/traces?limit=%d%s%s" % (limit, query, "&cursor=" + cursor if cursor else "")
        status, body = server.json(path)
        if not check(status == 200, "%s -> %s %s" % (path, status, body)):
            return rows, pages
        pages += 1
        check(len(body["traces"]) <= limit, "page longer than limit")
        rows += body["traces"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows, pages
        check(len(body["traces"]) == limit, "a page before the last is full")
        cursor = __import__("urllib.parse").parse.quote(cursor, safe="")
        if pages > 1000:
            check(False, "paging does not end")
            return rows, pages


def newest_first(rows):
    keys = [(r["timestamp"], r["base_id"]) for r in rows]
    return keys == sorted(keys, reverse=True)


def main():
    osprof, kind, where = sys.argv[1], sys.argv[2], sys.argv[3]
    traces = store.standard_set()
    expected = {s["base_id"]: s for s, _ in traces}
    if kind == "sqlite":
        path = os.path.join(where, "serve_api.db")
        if os.path.exists(path):
            os.remove(path)
        store.write_sqlite(path, traces)
        cs = "sqlite:///" + path
    elif kind == "postgresql":
        import psycopg2
        # A database of its own on the suite's server (tests/servers/postgresql.sh).
        admin = psycopg2.connect(host="127.0.0.1", port=int(where), user="osprof", password="osprof-secret",
                                 dbname="traces")
        admin.autocommit = True
        admin.cursor().execute("DROP DATABASE IF EXISTS osprof_serve_test")
        admin.cursor().execute("CREATE DATABASE osprof_serve_test")
        admin.close()
        conn = psycopg2.connect(host="127.0.0.1", port=int(where), user="osprof", password="osprof-secret",
                                dbname="osprof_serve_test")
        store.write_postgresql(conn, traces)
        conn.close()
        cs = "postgresql://osprof:osprof-secret@127.0.0.1:%s/osprof_serve_test" % where
    elif kind == "mysql":
        import pymysql
        admin = pymysql.connect(host="127.0.0.1", port=int(where), user="osprof", password="osprof-secret",
                                database="traces", autocommit=True)
        admin.cursor().execute("DROP DATABASE IF EXISTS osprof_serve_test")
        admin.cursor().execute("CREATE DATABASE osprof_serve_test CHARACTER SET utf8mb4")
        admin.close()
        conn = pymysql.connect(host="127.0.0.1", port=int(where), user="osprof", password="osprof-secret",
                               database="osprof_serve_test")
        store.write_mysql(conn, traces)
        conn.close()
        cs = "mysql://osprof:osprof-secret@127.0.0.1:%s/osprof_serve_test" % where
    else:
        import redis
        client = redis.Redis(host="127.0.0.1", port=int(where), db=5)
        client.flushdb()
        store.write_redis(client, traces)
        cs = "redis://127.0.0.1:%s/5" % where

    server = Server(osprof, cs)
    try:
        check("loopback only" in server.banner, "the banner says it is on loopback: " + server.banner)
        status, body = server.json("/api/health")
        check(status == 200 and body["status"] == "ok", "health: %s %s" % (status, body))

        # Paging: every trace exactly once, newest first, in full pages.
        rows, pages = all_pages(server, "", 50)
        ids = [r["base_id"] for r in rows]
        check(len(ids) == len(set(ids)), "no trace twice across pages")
        check(set(ids) == set(expected), "every stored trace listed: %d of %d" % (len(set(ids)), len(expected)))
        check(pages == (len(expected) + 49) // 50, "pages: %d" % pages)
        check(newest_first(rows), "newest first across pages")
        for r in rows:
            e = expected[r["base_id"]]
            check(r["timestamp"] == e["timestamp"], "start of %s" % r["base_id"])
            check(r.get("error") == e["error"], "error flag of %s: %s" % (r["base_id"], r.get("error")))
            check(r.get("events") == e["events"], "events of %s: %s" % (r["base_id"], r.get("events")))
            check(r.get("name") == "wsgi" and r.get("service") == e["service"], "first point of %s" % r["base_id"])
        status, body = server.json("/api/traces")
        check(status == 200 and len(body["traces"]) == 50 and body["limit"] == 50, "default limit 50")

        # The same list as `trace list --json`.
        cli = json.loads(subprocess.run([osprof, "trace", "list", "--json", "--connection-string", cs],
                                        capture_output=True, text=True, check=True).stdout)
        check([r["base_id"] for r in cli] == [r["base_id"] for r in rows] or
              sorted((r["timestamp"], r["base_id"]) for r in cli) == sorted((r["timestamp"], r["base_id"]) for r in rows),
              "the pages hold what trace list --json lists")

        # Filters.
        errs, _ = all_pages(server, "&error=true", 7)
        check(set(r["base_id"] for r in errs) == {i for i, e in expected.items() if e["error"]},
              "error=true: the failed traces, %d" % len(errs))
        check(newest_first(errs), "error=true newest first")
        since, until = store.ts(20_000_000), store.ts(30_000_000)
        ranged, _ = all_pages(server, "&since=%s&until=%s" % (since, until), 4)
        check(set(r["base_id"] for r in ranged) ==
              {i for i, e in expected.items() if since <= e["timestamp"] < until}, "since/until: %d rows" % len(ranged))
        one = sorted(expected)[5]
        status, body = server.json("/api/traces?limit=1000&q=" + one[:2])
        check(status == 200 and [r["base_id"] for r in body["traces"]] ==
              sorted([i for i in expected if i.startswith(one[:2])], key=lambda i: (expected[i]["timestamp"], i), reverse=True),
              "q= id prefix: %s" % (body and [r["base_id"] for r in body["traces"]]))
        status, body = server.json("/api/traces?service=scheduler&limit=1000")
        if kind != "redis":
            check(status == 200 and {r["base_id"] for r in body["traces"]} ==
                  {i for i, e in expected.items() if e["service"] == "scheduler"}, "service= filter")
            status, body = server.json("/api/traces?name=db3&host=host1&limit=1000")
            check(status == 200 and {r["base_id"] for r in body["traces"]} ==
                  {i for i, e in expected.items() if e["points"] >= 4 and e["host"] == "host1"}, "name= and host= filters")
            status, body = server.json("/api/traces?project=glance")
            check(status == 200 and body["traces"] == [], "project= filter, nothing matches")
        else:
            check(status == 400 and "cannot filter" in body["error"], "redis: a field filter is a 400: %s %s" % (status, body))

        # One trace: the report `trace show --json` prints, and Chrome trace events.
        failed = next(i for i, e in expected.items() if e["error"])
        status, report = server.json("/api/traces/" + failed)
        shown = json.loads(subprocess.run([osprof, "trace", "show", failed, "--json", "--connection-string", cs],
                                          capture_output=True, text=True, check=True).stdout)
        check(status == 200 and report == shown, "GET /api/traces/<id> is trace show --json")
        status, chrome = server.json("/api/traces/%s/chrome" % failed)
        cli_chrome = json.loads(subprocess.run([osprof, "trace", "show", failed, "--chrome", "--connection-string", cs],
                                               capture_output=True, text=True, check=True).stdout)
        check(status == 200 and chrome == cli_chrome, "GET /api/traces/<id>/chrome is trace show --chrome")
        status, headers, page = server.request("/traces/" + failed)
        check(status == 200 and headers.get("Content-Type", "").startswith("text/html") and failed.encode() in page
              and b'href="/"' in page, "GET /traces/<id>: the HTML report with a link back")

        # Errors, as JSON with their status.
        status, body = server.json("/api/traces/00000000-0000-4000-8000-000000000000")
        check(status == 404 and "not found" in body["error"], "unknown trace: 404 %s" % body)
        for bad in ["/api/traces/not-a-uuid", "/api/traces?limit=0", "/api/traces?limit=abc", "/api/traces?limit=5000",
                    "/api/traces?cursor=nocomma", "/api/traces?since=yesterday", "/api/traces?q=xyz%3C",
                    "/api/traces?error=maybe", "/api/traces?color=red"]:
            status, body = server.json(bad)
            check(status == 400 and body and body["status"] == 400 and body["error"], "%s -> 400: %s %s" % (bad, status, body))
        status, body = server.json("/api/nothing")
        check(status == 404, "unknown API path: 404")
        status, _, _ = server.request("/traces/not-a-uuid")
        check(status == 400, "trace page with a bad id: 400")
        status, _, _ = server.request("/traces/00000000-0000-4000-8000-000000000000")
        check(status == 404, "trace page of an unknown trace: 404")
        status, headers, _ = server.request("/api/traces", method="POST", body=b"{}")
        check(status == 405 and "GET" in headers.get("Allow", ""), "POST: 405 (read-only)")
        status, headers, body = server.request("/api/traces?limit=3", method="HEAD")
        check(status == 200 and body == b"" and int(headers.get("Content-Length", "0")) > 0, "HEAD")

        # Oversized or malformed requests get their status, and the server goes on.
        reply = server.raw(b"GET /api/traces HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        check(reply.startswith(b"HTTP/1.1 431"), "oversized headers: 431, got %r" % reply[:40])
        reply = server.raw(b"GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000)
        check(reply.startswith(b"HTTP/1.1 413"), "oversized body: 413, got %r" % reply[:40])
        reply = server.raw(b"GARBAGE\x01\x02 / HTTP/9\r\n\r\n")
        check(reply.startswith(b"HTTP/1.1 400"), "malformed request: 400, got %r" % reply[:40])
        reply = server.raw(b"GET /api/traces?limit=0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        check(reply.startswith(b"HTTP/1.1 400"), "malformed chunked body: 400, got %r" % reply[:40])
        status, body = server.json("/api/health")
        check(status == 200, "still serving after bad requests")

        # Keep-alive: several requests on one connection.
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for _ in range(3):
            conn.request("GET", "/api/traces?limit=2")
            r = conn.getresponse()
            r.read()
            check(r.status == 200 and r.getheader("Connection", "").lower() != "close", "keep-alive request")
        conn.close()

        # Many clients at once: reads queue for the backend's readers, every request is answered.
        paths = ["/api/traces?limit=20", "/api/traces/" + failed, "/api/traces?error=true&limit=5", "/api/health",
                 "/traces/" + failed, "/api/traces/%s/chrome" % failed]
        statuses = []

        def client(k):
            for i in range(12):
                statuses.append(server.request(paths[(k + i) % len(paths)])[0])

        clients = [threading.Thread(target=client, args=(k,)) for k in range(16)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(60)
        check(len(statuses) == 16 * 12 and set(statuses) == {200},
              "16 clients at once: %d answers, statuses %s" % (len(statuses), sorted(set(statuses))))

        # The web UI's files are in the binary.
        for path, kind_ in [("/", "text/html"), ("/assets/app.js", "text/javascript"), ("/assets/style.css", "text/css")]:
            status, headers, _ = server.request(path)
            check(status == 200 and headers.get("Content-Type", "").startswith(kind_), "asset " + path)
    finally:
        rc = server.stop()
        check(rc == 0, "SIGTERM: exit 0 within the grace period, got %s" % rc)

    # Auth: a bearer token, or basic credentials.
    server = Server(osprof, cs, "--token", "s3cret")
    try:
        status, headers, _ = server.request("/api/traces")
        check(status == 401 and headers.get("WWW-Authenticate") == "Bearer", "no token: 401")
        status, _, _ = server.request("/api/traces", headers={"Authorization": "Bearer wrong"})
        check(status == 401, "wrong token: 401")
        status, _, _ = server.request("/api/traces", headers={"Authorization": "Bearer s3cret"})
        check(status == 200, "token: 200")
    finally:
        server.stop()
    server = Server(osprof, cs, env={"OSPROF_SERVE_BASIC_AUTH": "ann:pw"})
    try:
        import base64
        status, headers, _ = server.request("/")
        check(status == 401 and headers.get("WWW-Authenticate", "").startswith("Basic"), "no credentials: 401")
        good = "Basic " + base64.b64encode(b"ann:pw").decode()
        status, _, _ = server.request("/", headers={"Authorization": good})
        check(status == 200, "basic credentials: 200")
    finally:
        server.stop()

    # A backend that is down: 503 with the reason, quickly, and no password in it.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    down = "redis://:hunter2@127.0.0.1:%d/0" % dead_port if kind == "redis" else "sqlite:///" + os.path.join(where, "serve_api.db")
    if kind == "sqlite":
        # A database file that is not there (yet): the server starts, and says why it cannot read.
        server = Server(osprof, "sqlite:///" + os.path.join(where, "missing.db"))
        try:
            status, body = server.json("/api/traces")
            check(status == 503 and "does not exist" in body["error"], "missing database: 503 %s" % body)
            status, body = server.json("/api/health")
            check(status == 503 and body["status"] == "unavailable", "health with a missing database: 503")
        finally:
            server.stop()
    if kind == "redis":
        server = Server(osprof, down, "--timeout", "3")
        try:
            started = time.monotonic()
            status, headers, data = server.request("/api/traces")
            check(status == 503 and b"hunter2" not in data and b"***" in data, "backend down: 503 without the password: %s" % data)
            check(time.monotonic() - started < 5, "backend down: answered within the timeout")
            status, body = server.json("/api/health")
            check(status == 503 and body["status"] == "unavailable", "health when down: 503")
        finally:
            server.stop()

    # A backend that accepts and never answers: 503 after --timeout, and other requests are
    # served meanwhile.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    held = []
    stop = threading.Event()

    def hold():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    if kind == "redis":
        server = Server(osprof, "redis://127.0.0.1:%d/0?timeout_ms=60000" % silent.getsockname()[1], "--timeout", "2")
        try:
            result = {}

            def slow():
                started = time.monotonic()
                result["status"], _, result["body"] = server.request("/api/traces")
                result["took"] = time.monotonic() - started

            waiting = threading.Thread(target=slow)
            waiting.start()
            time.sleep(0.3)
            started = time.monotonic()
            status, _, _ = server.request("/assets/app.js")
            check(status == 200 and time.monotonic() - started < 0.5, "other requests served while a read waits")
            waiting.join(10)
            check(result.get("status") == 503 and b"no answer" in result.get("body", b"") and result["took"] < 4,
                  "silent backend: 503 after the timeout: %s" % result)
            # SIGTERM while a request waits: it still gets its answer, then the server exits 0.
            result.clear()
            waiting = threading.Thread(target=slow)
            waiting.start()
            time.sleep(0.5)
            server.proc.send_signal(signal.SIGTERM)
            waiting.join(10)
            check(result.get("status") == 503, "a request in progress at SIGTERM is answered: %s" % result)
            check(server.proc.wait(timeout=15) == 0, "exit 0 after the request in progress")
        finally:
            if server.proc.poll() is None:
                server.stop()
    stop.set()
    t.join()
    finish("serve api test (%s)" % kind)


if __name__ == "__main__":
    main()
