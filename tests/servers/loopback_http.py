"""What the loopback protocol servers of the test suite share (fake_elasticsearch.py,
otlp_receiver.py): a threading HTTP/1.1 server with keep-alive on 127.0.0.1, gzip request
bodies, the port written to a file once listening, and faults injected through a control
endpoint so tests can make the next requests fail in the ways real servers fail.

Faults (POST <control>/fault with a JSON object, or a list; they apply to data requests only, in
order; "path": "_bulk" limits one to requests whose path contains that text):
  {"kind": "status", "status": 429, "retry_after": 1, "count": N}   answer with that status
  {"kind": "slow", "delay_ms": 500, "count": N}                     answer late
  {"kind": "drop", "count": N}                                      read the request, close without answering
  {"kind": "item_status", "status": 429, "every": 2, "count": N}    (Elasticsearch) every 2nd _bulk item fails
  {"kind": "partial", "rejected": 3, "count": N}                    (OTLP) partial success, last 3 spans refused
"""

import argparse
import gzip
import json
import os
import socket
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.pending = []  # [dict], each with a remaining "count"

    def add(self, fault):
        fault = dict(fault)
        fault.setdefault("count", 1)
        with self.lock:
            self.pending.append(fault)

    def clear(self):
        with self.lock:
            self.pending.clear()

    def take(self, kinds, path=""):
        """The next fault of one of `kinds` (for `path`, when the fault names one), consuming one of its count."""
        with self.lock:
            for f in self.pending:
                if f["kind"] in kinds and f["count"] > 0 and f.get("path", "") in path:
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.pending.remove(f)
                    return dict(f)
        return None


class LoopbackHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "osprof-loopback/1"
    control_prefix = "/_osprof"  # overridden per server

    def log_message(self, fmt, *args):  # quiet: the tests print what matters
        pass

    # -- helpers

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(length) if length else b""
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
        elif encoding not in ("", "identity"):
            raise ValueError("unsupported Content-Encoding " + encoding)
        self.server.stats_add("gzip_requests" if encoding == "gzip" else "plain_requests")
        return data

    def send(self, status, body, content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def drop_connection(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # Applies a transport-level fault; True when the request was answered (or dropped).
    def apply_fault(self, error_body):
        f = self.server.faults.take(("status", "slow", "drop"), self.path)
        if f is None:
            return False
        self.server.stats_add("faults_applied")
        if f["kind"] == "slow":
            time.sleep(f.get("delay_ms", 1000) / 1000.0)
            return False
        if f["kind"] == "drop":
            self.drop_connection()
            return True
        headers = {}
        if "retry_after" in f:
            headers["Retry-After"] = str(f["retry_after"])
        self.send(f.get("status", 503), error_body(f.get("status", 503)), headers=headers)
        return True

    def handle_control(self, path, body):
        """Control endpoints common to both servers; False when `path` is not one."""
        if path == self.control_prefix + "/fault" and self.command == "POST":
            spec = json.loads(body or b"{}")
            for f in spec if isinstance(spec, list) else [spec]:
                self.server.faults.add(f)
            self.send(200, {"acknowledged": True})
            return True
        if path == self.control_prefix + "/faults" and self.command == "DELETE":
            self.server.faults.clear()
            self.send(200, {"acknowledged": True})
            return True
        if path == self.control_prefix + "/stats" and self.command == "GET":
            # Never hold the stats lock while taking the server's own (lock order: store, then stats).
            with self.server.lock:
                stats = dict(self.server.stats)
            stats.update(self.server.extra_stats())
            self.send(200, stats)
            return True
        return False


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, handler):
        super().__init__(("127.0.0.1", port), handler)
        self.faults = Faults()
        self.lock = threading.RLock()
        self.stats = {}

    def stats_add(self, key, n=1):
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + n

    def extra_stats(self):
        return {}


def serve(server_class, handler, description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--port-file", help="write the port here once listening")
    args = parser.parse_args()
    server = server_class(args.port, handler)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.replace(tmp, args.port_file)
    print("%s on 127.0.0.1:%d (pid %d)" % (description, server.server_address[1], os.getpid()), flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit("a library for fake_elasticsearch.py and otlp_receiver.py")
