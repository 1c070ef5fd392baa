#!/usr/bin/env python3
"""A loopback OTLP/HTTP receiver for the tests of osprof's otlp:// driver (no OpenTelemetry
Collector can be installed on Debian). POST /v1/traces takes ExportTraceServiceRequest as
JSON and checks every body strictly against the OTLP JSON encoding
(opentelemetry-proto docs/specification.md, trace/common/resource .proto files):

  - Content-Type application/json (else 415); Content-Encoding gzip accepted
  - keys are lowerCamelCase field names; a snake_case spelling of a known field is an error
    (the proto3 JSON mapping would accept it, OTLP/JSON forbids it); unknown fields ignored
  - traceId 32 and spanId/parentSpanId 16 hex digits (not base64), not all zero
  - 64-bit integers (times, intValue) as decimal strings; 32-bit ones (flags, dropped*Count,
    status code, kind) as JSON numbers; enums as integers within their range
  - required: resource.attributes with a string service.name, span name, times, end >= start
  - AnyValue holds at most one of stringValue, boolValue, intValue, doubleValue, arrayValue,
    kvlistValue, bytesValue (base64)

A body that breaks a rule is answered 400 with a google.rpc.Status JSON naming the first
violation, as a collector answers; an accepted one 200 {"partialSuccess": {}} and its spans
are kept. Debug endpoints: GET /debug/spans (every accepted span with its resource and
scope), DELETE /debug/spans, GET /debug/stats (requests, rejections with their reasons, the
last request's headers),
POST /debug/fault (see loopback_http.py; "partial" refuses the last N spans of a body).
"""

import base64
import json
import os
import re
import sys
import threading
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback_http import LoopbackHandler, LoopbackServer, serve  # noqa: E402

HEX = re.compile(r"^[0-9a-fA-F]*$")
UINT64 = re.compile(r"^[0-9]{1,20}$")
INT64 = re.compile(r"^-?[0-9]{1,19}$")


class Invalid(Exception):
    pass


def camel_check(obj, where, known):
    """Rejects snake_case spellings of known fields; returns nothing."""
    if not isinstance(obj, dict):
        raise Invalid("%s must be an object" % where)
    for key in obj:
        if "_" in key:
            camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)
            raise Invalid("%s.%s: keys are lowerCamelCase in OTLP/JSON (%s)" % (where, key, camel)
                          if camel in known else "%s.%s: not an OTLP field name (snake_case)" % (where, key))


def check_int(value, where, bits=32, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("%s must be a JSON number (a %d-bit field), not %r" % (where, bits, value))
    if low is not None and value < low or high is not None and value > high:
        raise Invalid("%s=%d is out of range [%s, %s]" % (where, value, low, high))


def check_u64_string(value, where):
    if not isinstance(value, str) or not UINT64.match(value) or int(value) >= 2 ** 64:
        raise Invalid("%s must be a decimal string (a 64-bit field), not %r" % (where, value))
    return int(value)


def check_hex(value, where, digits, required=True):
    if value is None or value == "":
        if required:
            raise Invalid("%s is required" % where)
        return None
    if not isinstance(value, str) or len(value) != digits or not HEX.match(value):
        raise Invalid("%s must be %d hex digits, not %r" % (where, digits, value))
    if int(value, 16) == 0:
        raise Invalid("%s must not be all zeros" % where)
    return value.lower()


ANY_KINDS = ("stringValue", "boolValue", "intValue", "doubleValue", "arrayValue", "kvlistValue", "bytesValue")


def check_any(v, where):
    camel_check(v, where, ANY_KINDS)
    present = [k for k in ANY_KINDS if k in v]
    if len(present) > 1:
        raise Invalid("%s holds %s: an AnyValue has one" % (where, " and ".join(present)))
    if not present:
        return None
    k = present[0]
    x = v[k]
    if k == "stringValue" and not isinstance(x, str):
        raise Invalid("%s.stringValue must be a string" % where)
    if k == "boolValue" and not isinstance(x, bool):
        raise Invalid("%s.boolValue must be true or false" % where)
    if k == "intValue":
        if not isinstance(x, str) or not INT64.match(x) or not -2 ** 63 <= int(x) < 2 ** 63:
            raise Invalid("%s.intValue must be a decimal string (int64), not %r" % (where, x))
        return int(x)
    if k == "doubleValue" and (isinstance(x, bool) or not isinstance(x, (int, float))):
        raise Invalid("%s.doubleValue must be a number" % where)
    if k == "bytesValue":
        try:
            return base64.b64decode(x, validate=True)
        except (ValueError, TypeError):
            raise Invalid("%s.bytesValue must be base64" % where)
    if k == "arrayValue":
        camel_check(x, where + ".arrayValue", ("values",))
        return [check_any(item, "%s.arrayValue.values[%d]" % (where, i)) for i, item in enumerate(x.get("values", []))]
    if k == "kvlistValue":
        camel_check(x, where + ".kvlistValue", ("values",))
        return check_attributes(x.get("values", []), where + ".kvlistValue.values")
    return x


def check_attributes(attrs, where):
    if not isinstance(attrs, list):
        raise Invalid("%s must be an array of KeyValue" % where)
    out = {}
    for i, kv in enumerate(attrs):
        w = "%s[%d]" % (where, i)
        camel_check(kv, w, ("key", "value"))
        if not isinstance(kv.get("key"), str) or not kv["key"]:
            raise Invalid("%s.key must be a non-empty string" % w)
        if kv["key"] in out:
            raise Invalid("%s.key %r appears twice (attribute keys are unique)" % (w, kv["key"]))
        out[kv["key"]] = check_any(kv.get("value", {}), w + ".value")
    return out


SPAN_FIELDS = ("traceId", "spanId", "traceState", "parentSpanId", "flags", "name", "kind", "startTimeUnixNano",
               "endTimeUnixNano", "attributes", "droppedAttributesCount", "events", "droppedEventsCount", "links",
               "droppedLinksCount", "status")


def check_span(s, where):
    camel_check(s, where, SPAN_FIELDS)
    span = {"traceId": check_hex(s.get("traceId"), where + ".traceId", 32),
            "spanId": check_hex(s.get("spanId"), where + ".spanId", 16),
            "parentSpanId": check_hex(s.get("parentSpanId"), where + ".parentSpanId", 16, required=False)}
    if not isinstance(s.get("name"), str) or not s["name"]:
        raise Invalid("%s.name is required" % where)
    span["name"] = s["name"]
    kind = s.get("kind", 0)
    check_int(kind, where + ".kind", 32, 0, 5)
    span["kind"] = kind
    for f in ("flags", "droppedAttributesCount", "droppedEventsCount", "droppedLinksCount"):
        if f in s:
            check_int(s[f], where + "." + f, 32, 0, 2 ** 32 - 1)
    start = check_u64_string(s.get("startTimeUnixNano"), where + ".startTimeUnixNano")
    end = check_u64_string(s.get("endTimeUnixNano"), where + ".endTimeUnixNano")
    if start == 0 or end < start:
        raise Invalid("%s: times must be set and endTimeUnixNano >= startTimeUnixNano" % where)
    span["startTimeUnixNano"], span["endTimeUnixNano"] = start, end
    span["attributes"] = check_attributes(s.get("attributes", []), where + ".attributes")
    events = []
    for i, e in enumerate(s.get("events", [])):
        w = "%s.events[%d]" % (where, i)
        camel_check(e, w, ("timeUnixNano", "name", "attributes", "droppedAttributesCount"))
        t = check_u64_string(e.get("timeUnixNano"), w + ".timeUnixNano")
        if not isinstance(e.get("name"), str) or not e["name"]:
            raise Invalid("%s.name is required" % w)
        events.append({"timeUnixNano": t, "name": e["name"],
                       "attributes": check_attributes(e.get("attributes", []), w + ".attributes")})
    span["events"] = events
    if "status" in s:
        st = s["status"]
        camel_check(st, where + ".status", ("message", "code"))
        check_int(st.get("code", 0), where + ".status.code", 32, 0, 2)
        if "message" in st and not isinstance(st["message"], str):
            raise Invalid("%s.status.message must be a string" % where)
        span["status"] = {"code": st.get("code", 0), "message": st.get("message", "")}
    else:
        span["status"] = {"code": 0, "message": ""}
    return span


def check_request(body):
    camel_check(body, "request", ("resourceSpans",))
    spans = []
    rs_list = body.get("resourceSpans", [])
    if not isinstance(rs_list, list):
        raise Invalid("resourceSpans must be an array")
    for i, rs in enumerate(rs_list):
        w = "resourceSpans[%d]" % i
        camel_check(rs, w, ("resource", "scopeSpans", "schemaUrl"))
        res = rs.get("resource")
        if res is None:
            raise Invalid("%s.resource is required" % w)
        camel_check(res, w + ".resource", ("attributes", "droppedAttributesCount"))
        resource = check_attributes(res.get("attributes", []), w + ".resource.attributes")
        if not isinstance(resource.get("service.name"), str) or not resource["service.name"]:
            raise Invalid("%s.resource.attributes must hold service.name as a string" % w)
        for j, ss in enumerate(rs.get("scopeSpans", [])):
            ws = "%s.scopeSpans[%d]" % (w, j)
            camel_check(ss, ws, ("scope", "spans", "schemaUrl"))
            scope = ss.get("scope", {})
            camel_check(scope, ws + ".scope", ("name", "version", "attributes", "droppedAttributesCount"))
            for k, s in enumerate(ss.get("spans", [])):
                span = check_span(s, "%s.spans[%d]" % (ws, k))
                span["resource"] = resource
                span["scope"] = {"name": scope.get("name", ""), "version": scope.get("version", "")}
                spans.append(span)
    return spans


class Handler(LoopbackHandler):
    control_prefix = "/debug"

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def status_body(self, code, message):
        # google.rpc.Status: code 3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE.
        return {"code": {400: 3, 429: 8, 503: 14}.get(code, 13), "message": message}

    def dispatch(self):
        path = urlsplit(self.path).path
        try:
            body = self.read_body()
        except Exception as e:  # noqa: BLE001
            self.send(400, self.status_body(400, "cannot read the body: %s" % e))
            return
        if self.handle_control(path, body):
            return
        srv = self.server
        if path == "/debug/spans":
            with srv.lock:
                if self.command == "DELETE":
                    srv.spans.clear()
                    self.send(200, {"acknowledged": True})
                else:
                    self.send(200, {"spans": srv.spans})
            return
        if path != "/v1/traces":
            self.send(404, self.status_body(404, "no such path " + path))
            return
        if self.command != "POST":
            self.send(405, self.status_body(405, "POST only"))
            return
        srv.stats_add("requests")
        with srv.lock:
            srv.last_headers = {k.lower(): v for k, v in self.headers.items()}
        if self.apply_fault(lambda status: self.status_body(status, "injected fault")):
            return
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            srv.reject("Content-Type must be application/json, not %r" % self.headers.get("Content-Type"))
            self.send(415, self.status_body(400, "unsupported Content-Type"))
            return
        try:
            spans = check_request(json.loads(body))
        except (ValueError, Invalid) as e:
            srv.reject(str(e))
            self.send(400, self.status_body(400, str(e)))
            return
        partial = srv.faults.take(("partial",))
        rejected = min(len(spans), int(partial.get("rejected", 1))) if partial else 0
        with srv.lock:
            srv.spans.extend(spans[:len(spans) - rejected])
            srv.stats["spans_accepted"] = srv.stats.get("spans_accepted", 0) + len(spans) - rejected
            srv.stats["spans_rejected"] = srv.stats.get("spans_rejected", 0) + rejected
        if rejected:
            self.send(200, {"partialSuccess": {"rejectedSpans": str(rejected),
                                               "errorMessage": "%d spans refused (injected)" % rejected}})
        else:
            self.send(200, {"partialSuccess": {}})


class OtlpReceiver(LoopbackServer):
    def __init__(self, port, handler):
        super().__init__(port, handler)
        self.spans = []
        self.rejections = []
        self.last_headers = {}

    def reject(self, why):
        with self.lock:
            self.stats["invalid_bodies"] = self.stats.get("invalid_bodies", 0) + 1
            self.rejections.append(why)

    def extra_stats(self):
        with self.lock:
            return {"rejections": list(self.rejections), "spans_stored": len(self.spans),
                    "last_headers": dict(self.last_headers)}


if __name__ == "__main__":
    sys.exit(serve(OtlpReceiver, Handler, "loopback OTLP/HTTP receiver"))
