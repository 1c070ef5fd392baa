"""The Python side of osprof's interop tests: Debian's python3-osprofiler doing what an
OpenStack service does, driven by the C++ tests (tests/propagation/interop_test.cpp).

Each command reads JSON lines (one case per line) from the file named by its argument and
writes one JSON line per case to stdout. Run with Debian's /usr/bin/python3.
"""

import http.client
import json
import sys

from osprofiler import profiler
from osprofiler import web


def cases(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")


def text(value):
    # 3.4.3 returns X-Trace-Info as bytes; HEAD returns str. The bytes on the wire are the same.
    return value.decode("ascii") if isinstance(value, bytes) else value


def sign(path):
    """web.get_trace_id_headers() after profiler.init(key, base_id, parent_id) and, optionally,
    a started point (then the callee's parent is that point)."""
    for case in cases(path):
        profiler.clean()
        profiler.init(case["key"], base_id=case["base"], parent_id=case["parent"])
        if case.get("start"):
            profiler.start("python-point")
        p = profiler.get()
        headers = web.get_trace_id_headers()
        emit({"info": text(headers.get(web.X_TRACE_INFO, "")), "hmac": headers.get(web.X_TRACE_HMAC, ""),
              "base": p.get_base_id(), "id": p.get_id()})
        profiler.clean()


def middleware(path):
    """The real WsgiMiddleware on headers given as bytes (hex), decoded as a WSGI server does
    (latin-1). Reports whether the app ran traced, and with what."""
    import webob

    seen = {}

    def app(environ, start_response):
        p = profiler.get()
        seen.clear()
        if p is not None:
            seen.update(base=p.get_base_id(), parent=p.get_parent_id(), key=p.hmac_key)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    for case in cases(path):
        mw = web.WsgiMiddleware(app, hmac_keys=case["keys"], enabled=True)
        headers = {}
        if case.get("info_hex") is not None:
            headers["X-Trace-Info"] = bytes.fromhex(case["info_hex"]).decode("latin-1")
        if case.get("hmac_hex") is not None:
            headers["X-Trace-HMAC"] = bytes.fromhex(case["hmac_hex"]).decode("latin-1")
        request = webob.Request.blank("/v2/servers?limit=1", headers=headers)
        seen.clear()
        try:
            response = request.get_response(mw)
            status = response.status_int
        except Exception as e:  # what the WSGI server would turn into a 500
            emit({"traced": False, "error": type(e).__name__ + ": " + str(e)})
            continue
        finally:
            profiler.clean()
        if status != 200:
            emit({"traced": False, "error": "status %d" % status})
        elif seen:
            emit({"traced": True, "base": seen["base"], "parent": seen["parent"], "key": seen["key"]})
        else:
            emit({"traced": False})


def rpc_import(path):
    """The server side of an oslo.messaging call: profiler.init(**trace_info)."""
    for case in cases(path):
        profiler.clean()
        try:
            profiler.init(**json.loads(case["json"]))
        except Exception as e:
            emit({"ok": False, "error": type(e).__name__})
            continue
        p = profiler.get()
        emit({"ok": True, "key": p.hmac_key, "base": p.get_base_id(), "id": p.get_id()})
        profiler.clean()


def rpc_export(path):
    """The client side: the trace_info that a ProfilerRequestContextSerializer puts in the
    context, serialized as the messaging layer does."""
    for case in cases(path):
        profiler.clean()
        profiler.init(case["key"], base_id=case["base"], parent_id=case["parent"])
        p = profiler.get()
        context = {"user_id": "u", "trace_info": {"hmac_key": p.hmac_key, "base_id": p.get_base_id(),
                                                  "parent_id": p.get_id()}}
        emit({"context": json.dumps(context), "trace_info": json.dumps(context["trace_info"])})
        profiler.clean()


def client(path):
    """A Python client (as keystoneauth does): a trace, a point, and a request carrying
    web.get_trace_id_headers()."""
    for case in cases(path):
        profiler.clean()
        profiler.init(case["key"])
        profiler.start("python-client")
        p = profiler.get()
        headers = {k: text(v) for k, v in web.get_trace_id_headers().items()}
        conn = http.client.HTTPConnection(case["host"], case["port"], timeout=30)
        conn.request("GET", case.get("path", "/"), headers=headers)
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        emit({"base": p.get_base_id(), "point": p.get_id(), "status": response.status, "body": body})
        conn.close()
        profiler.stop()
        profiler.clean()


if __name__ == "__main__":
    commands = {"sign": sign, "middleware": middleware, "rpc-import": rpc_import, "rpc-export": rpc_export,
                "client": client}
    commands[sys.argv[1]](sys.argv[2])
