"""Starting and stopping `osprof serve` for the tests, and HTTP requests to it."""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return condition


def finish(name):
    if FAILURES:
        print("%s: %d check(s) failed" % (name, len(FAILURES)), file=sys.stderr)
        sys.exit(1)
    print("%s: all checks passed" % name)


class Server:
    """`osprof serve` on a free loopback port; its URL comes from the line it prints."""

    def __init__(self, osprof, connection_string, *args, env=None):
        cmd = [osprof, "serve", "--connection-string", connection_string, "--listen", "127.0.0.1:0", *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, **(env or {})))
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            raise RuntimeError("osprof serve did not say where it listens: %r %s" % (line, err))
        self.banner = line
        self.port = int(m.group(1))

    def request(self, path, method="GET", headers=None, body=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return r.status, dict(r.getheaders()), data
        finally:
            conn.close()

    def json(self, path, **kw):
        status, headers, data = self.request(path, **kw)
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        return status, body

    def raw(self, payload, timeout=10):
        """Sends bytes as they are; returns what comes back until the server closes."""
        import socket
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            s.sendall(payload)
            out = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                out += chunk
            return out
        finally:
            s.close()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        return rc

    def log(self):
        return self.proc.stderr.read() if self.proc.poll() is not None else ""
