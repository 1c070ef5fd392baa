#!/usr/bin/env python3
"""A loopback Elasticsearch for the tests of osprof's elasticsearch:// driver: the part of the
REST API the driver (and Python OSProfiler's driver, on elasticsearch-py 7) uses, answering as
Elasticsearch documents it (no Elasticsearch can be installed on Debian). It plays 8.x by
default, or the version given with --es-version (5.6.16, 6.8.23, 7.17.9, 8.11.0,
opensearch-1.3.14, opensearch-2.11.1, ...) where versions differ in what they take and answer:

  mapping types   5.x: typed mappings, several types an index, _type required in _bulk;
                  6.x: typed mappings (include_type_name=false: typeless), one type an index,
                  _type required in _bulk; 7.x and OpenSearch 1: typeless (typed with
                  include_type_name=true), _type optional in _bulk, `_doc` meaning the
                  index's type, typed endpoints (POST /<index>/<type>, /<index>/<type>/_search)
                  still there and a typed search seeing its type's documents only; 8.x and
                  OpenSearch 2: no types anywhere
  date_nanos      7.0 and later, and OpenSearch; not in 5.x/6.x
  hits.total      a number before 7.0 (-1 with track_total_hits false); {value, relation}
                  from 7.0 and in OpenSearch (absent with track_total_hits false)
  track_total_hits  6.0 and later, OpenSearch; 5.x refuses the key
  GET /           version.number, build_flavor, OpenSearch's distribution, the tagline, and
                  X-Elastic-Product from 7.14 (what elasticsearch-py 7.17 checks)
  index exists    index_already_exists_exception in 5.x, resource_already_exists_exception later
  _bulk items     _type in 5.x/6.x (the item's), "_doc" in 7.x and OpenSearch 1, none later


  GET /                                cluster info
  PUT /<index>                         create with mappings; resource_already_exists_exception
  HEAD|GET|DELETE /<index>, GET /<index>/_mapping
  POST /_bulk, /<index>/_bulk          NDJSON index/create actions, per-item results and
                                       "errors"; final newline required; _type by version
  POST /<index>/<type>, /<index>/_doc  one document, as elasticsearch-py 7's index() sends it
  POST|GET /<index>/_search            query: match_all, term, terms, match, bool (filter,
                                       must, must_not); sort (_doc, fields, asc/desc); size,
                                       from, the 10,000 result window; _source filtering;
                                       search_after; ?scroll=; aggs: terms (size, order by
                                       _count, _key or a sub-aggregation), min, max, top_hits
  POST|GET /_search/scroll, DELETE /_search/scroll
  POST /<index>/_refresh

Mappings as Elasticsearch applies them: explicit types (keyword, text, date, date_nanos,
long, boolean, object with enabled:false), dynamic mapping of new fields (date detection,
text with a .keyword subfield, objects), conflicts answered with mapper_parsing_exception,
term queries on text fields matching analysed tokens only, and text fields refused for
sorting and aggregations. Not modelled: shards, replicas, the refresh interval (everything
is searchable at once), scoring (hits come in index order unless sorted), security.

Control: POST /_osprof/fault (see loopback_http.py), GET /_osprof/stats.
"""

import base64
import datetime
import json
import os
import re
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback_http import LoopbackHandler, LoopbackServer, serve  # noqa: E402

MAX_RESULT_WINDOW = 10000
INDEX_NAME = re.compile(r'^[^A-Z\\/*?"<>| ,#:_\-+][^A-Z\\/*?"<>| ,#:]*$')
DATE_OPTIONAL_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$")


class Flavor:
    """The server's product and version, and what follows from them (see the file comment)."""

    def __init__(self, spec):
        self.opensearch = spec.startswith("opensearch-")
        self.number = spec[len("opensearch-"):] if self.opensearch else spec
        parts = (self.number.split(".") + ["0", "0"])[:3]
        self.major, self.minor = int(parts[0]), int(parts[1])
        es = not self.opensearch
        self.types_required = es and self.major < 7
        self.multiple_types = es and self.major < 6
        self.types_allowed = (es and self.major < 8) or (self.opensearch and self.major < 2)
        self.typeless_default = not self.types_required
        self.date_nanos = self.opensearch or self.major >= 7
        self.total_as_object = self.opensearch or self.major >= 7
        self.track_total_hits = self.opensearch or self.major >= 6
        self.exists_type = "index_already_exists_exception" if es and self.major < 6 else \
            "resource_already_exists_exception"

    def info(self, headers):
        if self.opensearch:
            return {"name": "osprof-loopback", "cluster_name": "loopback",
                    "version": {"distribution": "opensearch", "number": self.number, "build_type": "tar",
                                "minimum_wire_compatibility_version": "7.10.0"},
                    "tagline": "The OpenSearch Project: https://opensearch.org/"}
        if (self.major, self.minor) >= (7, 14):
            headers["X-Elastic-Product"] = "Elasticsearch"
        version = {"number": self.number, "build_type": "tar", "minimum_wire_compatibility_version": "5.6.0"}
        if (self.major, self.minor) >= (6, 3):
            version["build_flavor"] = "default"
        return {"name": "osprof-loopback", "cluster_name": "loopback", "version": version,
                "tagline": "You Know, for Search"}

    def total(self, n, tracked=True):
        if self.total_as_object:
            return {"value": n, "relation": "eq"} if tracked else None
        return n if tracked else -1


FLAVOR = Flavor("8.11.0")


class EsError(Exception):
    def __init__(self, status, type_, reason, **extra):
        super().__init__(reason)
        self.status, self.type, self.reason, self.extra = status, type_, reason, extra

    def body(self):
        cause = dict({"type": self.type, "reason": self.reason}, **self.extra)
        return {"error": dict(cause, root_cause=[cause]), "status": self.status}


def parse_date_nanos(text):
    """Epoch nanoseconds of a strict_date_optional_time text, or None."""
    if not isinstance(text, str):
        return None
    m = DATE_OPTIONAL_TIME.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    try:
        dt = datetime.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                               tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    nanos = int((frac or "").ljust(9, "0"))
    offset = 0
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        z = zone[1:].replace(":", "")
        offset = sign * (int(z[:2]) * 3600 + int(z[2:]) * 60)
    return (int(dt.timestamp()) - offset) * 1_000_000_000 + nanos


def tokens(text):
    return [t for t in re.split(r"[^0-9a-z]+", str(text).lower()) if t]


# ---------------------------------------------------------------- mappings

def dynamic_type(value):
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "long"}
    if isinstance(value, float):
        return {"type": "float"}
    if isinstance(value, dict):
        return {"type": "object", "properties": {}}
    if isinstance(value, str):
        if parse_date_nanos(value) is not None and "T" in value:
            return {"type": "date"}
        return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    return None


def apply_mapping(properties, doc, prefix=""):
    """Checks `doc` against `properties`, adding dynamic fields. Raises EsError (400)."""
    for key, value in doc.items():
        path = prefix + key
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v is None:
                continue
            m = properties.get(key)
            if m is None:
                m = dynamic_type(v)
                if m is None:
                    continue
                properties[key] = m
            t = m.get("type", "object")
            if t == "object":
                if m.get("enabled", True) is False:
                    continue
                if not isinstance(v, dict):
                    raise EsError(400, "mapper_parsing_exception",
                                  "object mapping for [%s] tried to parse field [%s] as object, but found a concrete value"
                                  % (path, key))
                apply_mapping(m.setdefault("properties", {}), v, path + ".")
            elif isinstance(v, dict):
                raise EsError(400, "mapper_parsing_exception",
                              "failed to parse field [%s] of type [%s] in document" % (path, t))
            elif t in ("date", "date_nanos"):
                if parse_date_nanos(v) is None:
                    raise EsError(400, "mapper_parsing_exception",
                                  "failed to parse field [%s] of type [%s] in document" % (path, t))
            elif t == "long" and not (isinstance(v, int) or (isinstance(v, str) and re.fullmatch(r"-?\d+", v))):
                raise EsError(400, "mapper_parsing_exception",
                              "failed to parse field [%s] of type [long] in document" % path)


def field_mapping(properties, field):
    """(mapping, subfield) for a dotted field name, or (None, None) when unmapped."""
    parts = field.split(".")
    props = properties
    m = None
    for i, part in enumerate(parts):
        m = props.get(part)
        if m is None:
            return None, None
        if i + 1 < len(parts):
            if m.get("type", "object") == "object":
                if m.get("enabled", True) is False:
                    return None, None
                props = m.get("properties", {})
            elif "fields" in m and i + 2 == len(parts) and parts[-1] in m["fields"]:
                return m, parts[-1]
            else:
                return None, None
    return m, None


def field_values(doc, field, mapping, subfield):
    parts = field.split(".")
    if subfield:
        parts = parts[:-1]
    cur = [doc]
    for p in parts:
        nxt = []
        for c in cur:
            if isinstance(c, dict) and p in c:
                v = c[p]
                nxt.extend(v if isinstance(v, list) else [v])
        cur = nxt
    return [v for v in cur if v is not None]


def doc_value(mapping, subfield, value):
    """The value a field holds in doc values (sorting, aggregations, term on exact fields)."""
    t = mapping["fields"][subfield]["type"] if subfield else mapping.get("type")
    if t in ("date", "date_nanos"):
        return parse_date_nanos(value)
    if t == "keyword":
        return value if isinstance(value, str) else json.dumps(value)
    return value


# ---------------------------------------------------------------- storage

class Index:
    def __init__(self, name, mappings, types=()):
        self.name = name
        self.properties = mappings.get("properties", {})
        self.docs = {}  # _id -> (source text, parsed, seq_no, version)
        self.doc_types = {}  # _id -> its mapping type (versions with types)
        self.types = list(types)  # the mapping types, in creation order
        self.seq = 0
        self.uuid = uuid.uuid4().hex[:22]

    def resolve_type(self, requested):
        """The type a write goes to (None: no types), or an EsError as the version answers."""
        if not FLAVOR.types_allowed:
            return None
        if requested is None or requested == "_doc":
            if requested is None and FLAVOR.types_required:
                raise EsError(400, "action_request_validation_exception", "Validation Failed: 1: type is missing;")
            # 6.8 and 7.x: _doc stands for the index's one type, whatever its name.
            requested = self.types[0] if self.types and not FLAVOR.multiple_types else "_doc"
        if requested not in self.types:
            if self.types and not FLAVOR.multiple_types:
                raise EsError(400, "illegal_argument_exception",
                              "Rejecting mapping update to [%s] as the final mapping would have more than 1 type: "
                              "[%s, %s]" % (self.name, self.types[0], requested))
            self.types.append(requested)
        return requested


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.indices = {}
        self.scrolls = {}  # id -> {"hits": [...], "pos": int, "size": int, "expires": t, "total": int}

    def index_for_write(self, name):
        idx = self.indices.get(name)
        if idx is None:
            check_index_name(name)
            idx = self.indices[name] = Index(name, {})
        return idx

    def resolve(self, expr, ignore_unavailable=False):
        out = []
        for name in expr.split(","):
            if name in ("_all", "*"):
                out.extend(self.indices.values())
            elif "*" in name:
                rx = re.compile("^" + re.escape(name).replace("\\*", ".*") + "$")
                out.extend(i for n, i in self.indices.items() if rx.match(n))
            elif name in self.indices:
                out.append(self.indices[name])
            elif not ignore_unavailable:
                raise EsError(404, "index_not_found_exception", "no such index [%s]" % name,
                              **{"resource.type": "index_or_alias", "resource.id": name, "index": name})
        return out


def check_mapping(mapping):
    """A typeless mapping body: its root keys and its field types as this version knows them."""
    unknown = [k for k in mapping if k not in ("properties", "dynamic", "_source", "date_detection")]
    if unknown:
        # A type name where a typeless body is expected (8.x, or 7.x without include_type_name).
        raise EsError(400, "mapper_parsing_exception",
                      "Root mapping definition has unsupported parameters:  [%s : %s]"
                      % (unknown[0], json.dumps(mapping[unknown[0]])))
    for field, m in mapping.get("properties", {}).items():
        if m.get("type") == "date_nanos" and not FLAVOR.date_nanos:
            raise EsError(400, "mapper_parsing_exception",
                          "No handler for type [date_nanos] declared on field [%s]" % field)
        if "nanos" in m.get("format", "") and not FLAVOR.date_nanos:
            raise EsError(400, "mapper_parsing_exception",
                          "Invalid format: [%s]: Unknown pattern letter: t" % m["format"])


def check_index_name(name):
    if not INDEX_NAME.match(name) or name != name.lower():
        raise EsError(400, "invalid_index_name_exception",
                      "Invalid index name [%s], must be lowercase and not contain \\, /, *, ?, \", <, >, |, space, ',', #" % name,
                      index=name)


# ---------------------------------------------------------------- queries

def compile_query(q, idx):
    if not q or "match_all" in q:
        return lambda d: True
    if len(q) != 1:
        raise EsError(400, "parsing_exception", "[query] malformed query, expected [END_OBJECT] but found [FIELD_NAME]")
    (kind, body), = q.items()
    if kind == "bool":
        def clauses(name):
            c = body.get(name, [])
            return [compile_query(x, idx) for x in (c if isinstance(c, list) else [c])]
        must = clauses("must") + clauses("filter")
        must_not = clauses("must_not")
        should = clauses("should")
        return lambda d: (all(f(d) for f in must) and not any(f(d) for f in must_not)
                          and (not should or any(f(d) for f in should) or bool(must)))
    if kind in ("term", "terms", "match"):
        if len(body) != 1:
            raise EsError(400, "parsing_exception", "[%s] query doesn't support multiple fields" % kind)
        (field, spec), = body.items()
        if kind == "term" and isinstance(spec, dict):
            spec = spec.get("value")
        if kind == "match" and isinstance(spec, dict):
            spec = spec.get("query")
        wanted = spec if kind == "terms" else [spec]
        if not isinstance(wanted, list):
            raise EsError(400, "parsing_exception", "[terms] query does not support [%s]" % field)
        mapping, sub = field_mapping(idx.properties, field)
        if mapping is None:
            return lambda d: False
        t = mapping["fields"][sub]["type"] if sub else mapping.get("type")
        if t == "text" and kind != "match":
            # A term query on an analysed field compares with its tokens, never the whole text.
            wanted_set = set(str(w) for w in wanted)
            return lambda d: any(set(tokens(v)) & wanted_set for v in field_values(d, field, mapping, sub))
        if t == "text":
            wanted_tokens = set(tokens(spec))
            return lambda d: any(set(tokens(v)) & wanted_tokens for v in field_values(d, field, mapping, sub))
        if t in ("date", "date_nanos"):
            wanted_set = set(parse_date_nanos(w) for w in wanted)
        else:
            wanted_set = set(w if isinstance(w, str) else json.dumps(w) for w in wanted)
        return lambda d: any(doc_value(mapping, sub, v) in wanted_set for v in field_values(d, field, mapping, sub))
    raise EsError(400, "parsing_exception", "unknown query [%s]" % kind)


def require_doc_values(idx, field, purpose):
    mapping, sub = field_mapping(idx.properties, field)
    if mapping is None:
        return None, None
    t = mapping["fields"][sub]["type"] if sub else mapping.get("type")
    if t == "text" or t == "object":
        raise EsError(400, "illegal_argument_exception",
                      "Text fields are not optimised for operations that require per-document field data like "
                      "aggregations and sorting, so these operations are disabled by default. Please use a keyword "
                      "field instead. Alternatively, set fielddata=true on [%s] in order to load field data by "
                      "uninverting the inverted index. Note that this can use significant memory." % field)
    return mapping, sub


def sort_spec(sort):
    out = []
    for s in sort if isinstance(sort, list) else [sort]:
        if isinstance(s, str):
            out.append((s, "asc" if s != "_score" else "desc"))
        else:
            (field, order), = s.items()
            if isinstance(order, dict):
                order = order.get("order", "asc")
            out.append((field, order))
    return out


def sort_key_fn(spec, indices):
    fns = []
    for field, order in spec:
        if field == "_doc":
            fns.append((lambda hit: hit["_doc"], order))
            continue
        mapping = None
        for idx in indices:
            m, sub = require_doc_values(idx, field, "sorting")
            if m is not None:
                mapping = (m, sub)
        if mapping is None:
            raise EsError(400, "query_shard_exception", "No mapping found for [%s] in order to sort on" % field)
        m, sub = mapping

        def value(hit, field=field, m=m, sub=sub, order=order):
            vals = [doc_value(m, sub, v) for v in field_values(hit["_parsed"], field, m, sub)]
            vals = [v for v in vals if v is not None]
            if not vals:
                return None
            return min(vals) if order == "asc" else max(vals)
        fns.append((value, order))
    return fns


class Reverse:
    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        return other.v < self.v

    def __eq__(self, other):
        return self.v == other.v


def sorted_hits(hits, fns):
    def key(hit):
        k = []
        for fn, order in fns:
            v = fn(hit)
            missing = v is None  # missing values sort last either way
            k.append((missing, Reverse(v) if order == "desc" and not missing else (v if not missing else 0)))
        return k
    for hit in hits:
        hit["sort"] = [fn(hit) for fn, _ in fns]
    return sorted(hits, key=key)


# ---------------------------------------------------------------- aggregations

def run_aggs(aggs, hits, indices):
    out = {}
    for name, spec in (aggs or {}).items():
        sub = spec.get("aggs") or spec.get("aggregations")
        kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
        if len(kinds) != 1:
            raise EsError(400, "parsing_exception", "Expected one aggregation type in [%s]" % name)
        kind = kinds[0]
        body = spec[kind]
        if kind == "terms":
            field = body["field"]
            mapping = None
            for idx in indices:
                m, s = require_doc_values(idx, field, "aggregations")
                if m is not None:
                    mapping = (m, s)
            buckets = {}
            if mapping:
                for hit in hits:
                    seen = set()
                    for v in field_values(hit["_parsed"], field, *mapping):
                        v = doc_value(mapping[0], mapping[1], v)
                        if v in seen:
                            continue
                        seen.add(v)
                        buckets.setdefault(v, []).append(hit)
            rows = []
            for key, members in buckets.items():
                b = {"key": key, "doc_count": len(members)}
                b.update(run_aggs(sub, members, indices))
                rows.append(b)
            order = body.get("order", {"_count": "desc"})
            orders = order if isinstance(order, list) else [order]
            rows.sort(key=lambda b: b["key"])  # ties: by key, ascending
            for o in reversed(orders):
                (by, direction), = o.items()

                def metric(b, by=by):
                    if by == "_count":
                        return b["doc_count"]
                    if by in ("_key", "_term"):
                        return b["key"]
                    agg = b.get(by.split(".")[0])
                    if agg is None or "value" not in agg:
                        raise EsError(400, "aggregation_execution_exception",
                                      "Invalid aggregation order path [%s]" % by)
                    v = agg["value"]
                    return float("-inf") if v is None else v
                rows.sort(key=metric, reverse=(direction == "desc"))
            size = int(body.get("size", 10))
            out[name] = {"doc_count_error_upper_bound": 0,
                         "sum_other_doc_count": sum(b["doc_count"] for b in rows[size:]),
                         "buckets": rows[:size]}
        elif kind in ("min", "max"):
            field = body["field"]
            values = []
            for idx in indices:
                m, s = require_doc_values(idx, field, "aggregations")
                if m is None:
                    continue
                t = m["fields"][s]["type"] if s else m.get("type")
                if t not in ("date", "date_nanos", "long", "integer", "float", "double"):
                    raise EsError(400, "illegal_argument_exception",
                                  "Field [%s] of type [%s] is not supported for aggregation [%s]" % (field, t, kind))
                for hit in hits:
                    for v in field_values(hit["_parsed"], field, m, s):
                        dv = doc_value(m, s, v)
                        if dv is not None:
                            # Dates aggregate at millisecond resolution, date_nanos included.
                            values.append(float(dv // 1_000_000) if t in ("date", "date_nanos") else float(dv))
                        out.setdefault("_types", set()).add(t)
            out.pop("_types", None)
            if values:
                v = min(values) if kind == "min" else max(values)
                agg = {"value": v}
                agg["value_as_string"] = datetime.datetime.fromtimestamp(
                    v / 1000.0, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                out[name] = agg
            else:
                out[name] = {"value": None}
        elif kind == "top_hits":
            chosen = list(hits)
            if "sort" in body:
                chosen = sorted_hits(chosen, sort_key_fn(sort_spec(body["sort"]), indices))
            size = int(body.get("size", 3))
            out[name] = {"hits": {"total": FLAVOR.total(len(hits)), "max_score": None,
                                  "hits": [render_hit(h, body.get("_source"), "sort" in body) for h in chosen[:size]]}}
        else:
            raise EsError(400, "parsing_exception", "Unknown aggregation type [%s]" % kind)
    return out


def filter_source(parsed, fields):
    if fields is True or fields is None:
        return None
    if fields is False:
        return {}
    if isinstance(fields, str):
        fields = [fields]
    if isinstance(fields, dict):
        fields = fields.get("includes", [])
    out = {}
    for f in fields:
        if f in parsed:
            out[f] = parsed[f]
    return out


def render_hit(hit, source_fields, with_sort):
    r = {"_index": hit["_index"], "_id": hit["_id"], "_score": None}
    filtered = filter_source(hit["_parsed"], source_fields)
    r["_source"] = RawJson(hit["_source"]) if filtered is None else filtered
    if with_sort:
        r["sort"] = hit["sort"]
    return r


class RawJson:
    """A stored _source, written back byte for byte as Elasticsearch does."""

    def __init__(self, text):
        self.text = text


def dumps(value):
    if isinstance(value, RawJson):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


# ---------------------------------------------------------------- HTTP

def duration_seconds(text):
    m = re.fullmatch(r"(\d+)(d|h|m|s|ms|micros|nanos)", text or "")
    if not m:
        raise EsError(400, "illegal_argument_exception", "failed to parse setting [scroll] with value [%s] as a time value" % text)
    n, unit = int(m.group(1)), m.group(2)
    return n * {"d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001, "micros": 1e-6, "nanos": 1e-9}[unit]


class Handler(LoopbackHandler):
    control_prefix = "/_osprof"

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def dispatch(self):
        url = urlsplit(self.path)
        path = unquote(url.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            body = self.read_body()
        except Exception as e:  # noqa: BLE001
            self.send(400, EsError(400, "parse_exception", "cannot read the body: %s" % e).body())
            return
        if self.handle_control(path, body):
            return
        self.server.stats_add("requests")
        fault_types = {400: "illegal_argument_exception", 429: "es_rejected_execution_exception",
                       503: "unavailable_shards_exception"}
        if self.apply_fault(lambda status: EsError(status, fault_types.get(status, "exception"), "injected fault").body()):
            return
        self.reply_headers = {}
        try:
            if body and self.command in ("POST", "PUT") and not self.headers.get("Content-Type", "").startswith(
                    ("application/json", "application/x-ndjson")):
                raise EsError(406, "content_type_header_exception",
                              "Content-Type header [%s] is not supported" % self.headers.get("Content-Type", ""))
            status, answer = self.route(path, params, body)
        except EsError as e:
            status, answer = e.status, e.body()
        except (ValueError, KeyError, TypeError) as e:
            status, answer = 400, EsError(400, "parsing_exception", "%s: %s" % (type(e).__name__, e)).body()
        self.send(status, answer if isinstance(answer, str) else dumps(answer), headers=self.reply_headers)

    def route(self, path, params, body):
        store = self.server.store
        parts = [p for p in path.split("/") if p]
        m = self.command
        with store.lock:
            if not parts:
                return 200, FLAVOR.info(self.reply_headers)
            if parts == ["_bulk"] and m in ("POST", "PUT"):
                return self.bulk(None, body)
            if parts == ["_search", "scroll"]:
                return self.scroll(params, body)
            if len(parts) == 2 and parts[1] == "_bulk" and m in ("POST", "PUT"):
                return self.bulk(parts[0], body)
            if len(parts) == 2 and parts[1] == "_search" and m in ("GET", "POST"):
                return self.search(parts[0], params, body)
            if len(parts) == 2 and parts[1] == "_refresh" and m == "POST":
                n = len(store.resolve(parts[0], params.get("ignore_unavailable") == "true"))
                return 200, {"_shards": {"total": n, "successful": n, "failed": 0}}
            if len(parts) == 2 and parts[1] == "_mapping" and m == "GET":
                return self.index_op(parts[0], body, params)
            if len(parts) == 3 and parts[2] == "_search" and m in ("GET", "POST") and FLAVOR.types_allowed:
                return self.search(parts[0], params, body, doc_type=parts[1])
            if len(parts) in (2, 3) and m in ("POST", "PUT") and not parts[0].startswith("_") and (
                    parts[1] == "_doc" or (FLAVOR.types_allowed and not parts[1].startswith("_"))):
                return self.index_doc(parts[0], parts[1], parts[2] if len(parts) == 3 else None, body)
            if len(parts) == 1 and not parts[0].startswith("_"):
                return self.index_op(parts[0], body, params)
        raise EsError(405 if parts and not parts[0].startswith("_") else 400, "illegal_argument_exception",
                      "no handler found for uri [%s] and method [%s]" % (path, m))

    def index_op(self, name, body, params):
        store = self.server.store
        if self.command == "PUT":
            check_index_name(name)
            if name in store.indices:
                raise EsError(400, FLAVOR.exists_type,
                              "index [%s/%s] already exists" % (name, store.indices[name].uuid), index=name)
            spec = json.loads(body) if body else {}
            mappings = spec.get("mappings", {})
            types = []
            typed = FLAVOR.types_allowed and params.get(
                "include_type_name", "false" if FLAVOR.typeless_default else "true") == "true"
            if typed and mappings:
                # {"mappings": {"<type>": {"properties": ...}}}: one type (several in 5.x).
                if len(mappings) > 1 and not FLAVOR.multiple_types:
                    raise EsError(400, "illegal_argument_exception",
                                  "Rejecting mapping update to [%s] as the final mapping would have more than 1 "
                                  "type: %s" % (name, list(mappings)))
                merged = {}
                for type_name, m in mappings.items():
                    check_mapping(m)
                    merged.update(m.get("properties", {}))
                    types.append(type_name)
                mappings = {"properties": merged}
            else:
                check_mapping(mappings)
            store.indices[name] = Index(name, mappings, types)
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
        idx = store.resolve(name)[0]
        if self.command == "DELETE":
            del store.indices[idx.name]
            return 200, {"acknowledged": True}
        return 200, {idx.name: {"mappings": self.mappings_of(idx, params), "settings": {}}}

    def mappings_of(self, idx, params):
        typed = FLAVOR.types_allowed and params.get(
            "include_type_name", "false" if FLAVOR.typeless_default else "true") == "true"
        if typed:
            return {t: {"properties": idx.properties} for t in idx.types}
        return {"properties": idx.properties}

    def bulk(self, default_index, body):
        store = self.server.store
        text = body.decode("utf-8")
        if not text.endswith("\n"):
            raise EsError(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
        lines = text.split("\n")[:-1]
        items, errors = [], False
        injected = self.server.faults.take(("item_status",))
        i = 0
        action_no = 0
        started = time.time()
        while i < len(lines):
            if not lines[i].strip():
                i += 1
                continue
            action_no += 1
            action = json.loads(lines[i])
            if not isinstance(action, dict) or len(action) != 1:
                raise EsError(400, "illegal_argument_exception", "Malformed action/metadata line [%d]" % (i + 1))
            (op, meta), = action.items()
            if op not in ("index", "create"):
                raise EsError(400, "illegal_argument_exception",
                              "Malformed action/metadata line [%d], expected one of [create, delete, index, update] "
                              "but found [%s]" % (i + 1, op))
            known = ("_index", "_id", "routing", "pipeline", "require_alias") + (("_type",) if FLAVOR.types_allowed else ())
            for key in meta:
                if key not in known:
                    raise EsError(400, "illegal_argument_exception",
                                  "Action/metadata line [%d] contains an unknown parameter [%s]" % (i + 1, key))
            if i + 1 >= len(lines):
                raise EsError(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
            source = lines[i + 1]
            i += 2
            index_name = meta.get("_index", default_index)
            if index_name is None:
                raise EsError(400, "action_request_validation_exception", "Validation Failed: 1: index is missing;")
            doc_id = meta.get("_id") or base64.urlsafe_b64encode(uuid.uuid4().bytes[:15]).decode()
            if FLAVOR.types_required and "_type" not in meta:
                raise EsError(400, "action_request_validation_exception",
                              "Validation Failed: %d: type is missing;" % action_no)
            result = {"_index": index_name}
            if FLAVOR.types_allowed:
                result["_type"] = meta.get("_type", "_doc") if FLAVOR.types_required else "_doc"
            result["_id"] = doc_id
            try:
                if injected and action_no % int(injected.get("every", 1)) == 0:
                    status = int(injected.get("status", 429))
                    raise EsError(status, "es_rejected_execution_exception" if status == 429 else "mapper_parsing_exception",
                                  "injected item fault")
                idx = store.index_for_write(index_name)
                doc_type = idx.resolve_type(meta.get("_type", "_doc"))
                try:
                    parsed = json.loads(source)
                except ValueError as e:
                    raise EsError(400, "mapper_parsing_exception", "failed to parse: %s" % e)
                if not isinstance(parsed, dict):
                    raise EsError(400, "mapper_parsing_exception", "failed to parse, document is empty")
                props = json.loads(json.dumps(idx.properties))
                apply_mapping(props, parsed)
                idx.properties = props
                existing = idx.docs.get(doc_id)
                if existing and op == "create":
                    raise EsError(409, "version_conflict_engine_exception",
                                  "[%s]: version conflict, document already exists" % doc_id)
                idx.seq += 1
                version = existing[3] + 1 if existing else 1
                # Reindexing an id keeps its place in index order, as _doc order would roughly.
                idx.docs[doc_id] = (source, parsed, existing[2] if existing else idx.seq, version)
                idx.doc_types[doc_id] = doc_type
                result.update({"_version": version, "result": "updated" if existing else "created",
                               "_shards": {"total": 2, "successful": 1, "failed": 0},
                               "_seq_no": idx.seq, "_primary_term": 1, "status": 200 if existing else 201})
                self.server.stats_add("bulk_items_stored")
            except EsError as e:
                errors = True
                result.update({"status": e.status, "error": dict({"type": e.type, "reason": e.reason}, **e.extra)})
                self.server.stats_add("bulk_items_failed")
            items.append({op: result})
        self.server.stats_add("bulk_requests")
        return 200, {"took": int((time.time() - started) * 1000), "errors": errors, "items": items}

    def index_doc(self, index_name, type_name, doc_id, body):
        """One document (POST /<index>/<type>[/<id>], /<index>/_doc), as elasticsearch-py 7's index()."""
        store = self.server.store
        idx = store.index_for_write(index_name)
        doc_type = idx.resolve_type(type_name)
        source = body.decode("utf-8")
        try:
            parsed = json.loads(source)
        except ValueError as e:
            raise EsError(400, "mapper_parsing_exception", "failed to parse: %s" % e)
        if not isinstance(parsed, dict):
            raise EsError(400, "mapper_parsing_exception", "failed to parse, document is empty")
        props = json.loads(json.dumps(idx.properties))
        apply_mapping(props, parsed)
        idx.properties = props
        doc_id = doc_id or base64.urlsafe_b64encode(uuid.uuid4().bytes[:15]).decode()
        existing = idx.docs.get(doc_id)
        idx.seq += 1
        version = existing[3] + 1 if existing else 1
        idx.docs[doc_id] = (source, parsed, existing[2] if existing else idx.seq, version)
        idx.doc_types[doc_id] = doc_type
        result = {"_index": index_name}
        if FLAVOR.types_allowed:
            result["_type"] = doc_type if FLAVOR.types_required else "_doc"
        result.update({"_id": doc_id, "_version": version, "result": "updated" if existing else "created",
                       "_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": idx.seq, "_primary_term": 1})
        self.server.stats_add("documents_indexed")
        return (200 if existing else 201), result

    def search(self, index_expr, params, body, doc_type=None):
        store = self.server.store
        spec = json.loads(body) if body else {}
        tracked = spec.get("track_total_hits", True)
        if "track_total_hits" in spec and not FLAVOR.track_total_hits:
            raise EsError(400, "parsing_exception", "Unknown key for a VALUE_BOOLEAN in [track_total_hits].")
        if tracked is False and params.get("scroll"):
            raise EsError(400, "action_request_validation_exception",
                          "Validation Failed: 1: disabling [track_total_hits] is not allowed in a scroll context;")
        indices = store.resolve(index_expr, params.get("ignore_unavailable") == "true")
        size = int(params.get("size", spec.get("size", 10)))
        from_ = int(params.get("from", spec.get("from", 0)))
        scroll = params.get("scroll")
        if from_ + size > MAX_RESULT_WINDOW:
            raise EsError(400, "illegal_argument_exception",
                          "Result window is too large, from + size must be less than or equal to: [%d] but was [%d]. "
                          "See the scroll api for a more efficient way to request large data sets. This limit can be "
                          "set by changing the [index.max_result_window] index level setting."
                          % (MAX_RESULT_WINDOW, from_ + size))
        if scroll and from_:
            raise EsError(400, "action_request_validation_exception",
                          "Validation Failed: 1: using [from] is not allowed in a scroll context;")
        hits = []
        for idx in indices:
            match = compile_query(spec.get("query"), idx)
            # A typed search sees its type's documents only (`_doc`: the index's one type).
            wanted_type = None
            if doc_type is not None:
                wanted_type = idx.types[0] if doc_type == "_doc" and idx.types else doc_type
            for doc_id, (source, parsed, seq, _version) in sorted(idx.docs.items(), key=lambda kv: kv[1][2]):
                if wanted_type is not None and idx.doc_types.get(doc_id) != wanted_type:
                    continue
                if match(parsed):
                    hits.append({"_index": idx.name, "_id": doc_id, "_source": source, "_parsed": parsed,
                                 "_doc": seq})
        with_sort = "sort" in spec
        if with_sort:
            fns = sort_key_fn(sort_spec(spec["sort"]), indices)
            hits = sorted_hits(hits, fns)
        if "search_after" in spec:
            if not with_sort:
                raise EsError(400, "illegal_argument_exception", "search_after requires a sort")
            if from_:
                raise EsError(400, "illegal_argument_exception",
                              "[from] parameter must be set to 0 when [search_after] is used")
            after = spec["search_after"]
            orders = [o for _, o in sort_spec(spec["sort"])]

            def beyond(hit):
                for v, a, order in zip(hit["sort"], after, orders):
                    if v == a:
                        continue
                    if v is None:
                        return True
                    return v > a if order == "asc" else v < a
                return False
            hits = [h for h in hits if beyond(h)]
        aggs = run_aggs(spec.get("aggs") or spec.get("aggregations"), hits, indices)
        source_fields = spec.get("_source")
        answer = {"took": 1, "timed_out": False,
                  "_shards": {"total": len(indices), "successful": len(indices), "skipped": 0, "failed": 0}}
        page = hits[from_:from_ + size]
        if scroll:
            keep = duration_seconds(scroll)
            scroll_id = base64.b64encode(uuid.uuid4().bytes).decode()
            store.scrolls[scroll_id] = {"hits": hits, "pos": size, "size": size, "expires": time.time() + keep,
                                        "source": source_fields, "sort": with_sort,
                                        "indices": [i.name for i in indices]}
            answer["_scroll_id"] = scroll_id
            self.server.stats_add("scrolls_opened")
        answer["hits"] = {"total": FLAVOR.total(len(hits), tracked is not False), "max_score": None,
                          "hits": [render_hit(h, source_fields, with_sort) for h in page]}
        if answer["hits"]["total"] is None:
            del answer["hits"]["total"]
        if aggs:
            answer["aggregations"] = aggs
        self.server.stats_add("searches")
        return 200, answer

    def scroll(self, params, body):
        store = self.server.store
        spec = json.loads(body) if body else {}
        now = time.time()
        for sid in [s for s, ctx in store.scrolls.items() if ctx["expires"] < now]:
            del store.scrolls[sid]
        if self.command == "DELETE":
            ids = spec.get("scroll_id", params.get("scroll_id", []))
            ids = ids if isinstance(ids, list) else [ids]
            freed = 0
            for sid in ids:
                if sid == "_all":
                    freed += len(store.scrolls)
                    store.scrolls.clear()
                elif store.scrolls.pop(sid, None) is not None:
                    freed += 1
            return (200 if freed or not ids else 404), {"succeeded": True, "num_freed": freed}
        sid = spec.get("scroll_id", params.get("scroll_id"))
        ctx = store.scrolls.get(sid)
        if ctx is None:
            raise EsError(404, "search_context_missing_exception", "No search context found for id [%s]" % sid)
        if "scroll" in spec or "scroll" in params:
            ctx["expires"] = now + duration_seconds(spec.get("scroll", params.get("scroll")))
        page = ctx["hits"][ctx["pos"]:ctx["pos"] + ctx["size"]]
        ctx["pos"] += ctx["size"]
        self.server.stats_add("scroll_pages")
        return 200, {"_scroll_id": sid, "took": 1, "timed_out": False,
                     "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                     "hits": {"total": FLAVOR.total(len(ctx["hits"])), "max_score": None,
                              "hits": [render_hit(h, ctx["source"], ctx["sort"]) for h in page]}}


class FakeElasticsearch(LoopbackServer):
    def __init__(self, port, handler):
        super().__init__(port, handler)
        self.store = Store()

    def extra_stats(self):
        with self.store.lock:
            by_index = {}
            for ctx in self.store.scrolls.values():
                for name in ctx["indices"]:
                    by_index[name] = by_index.get(name, 0) + 1
            return {"open_scrolls": len(self.store.scrolls), "open_scrolls_by_index": by_index,
                    "indices": {n: len(i.docs) for n, i in self.store.indices.items()}}


if __name__ == "__main__":
    import argparse
    versions = argparse.ArgumentParser(add_help=False)
    versions.add_argument("--es-version", default="8.11.0")
    known, rest = versions.parse_known_args()
    sys.argv = sys.argv[:1] + rest
    FLAVOR = Flavor(known.es_version)
    sys.exit(serve(FakeElasticsearch, Handler,
                   "fake %s %s" % ("OpenSearch" if FLAVOR.opensearch else "Elasticsearch", FLAVOR.number)))
