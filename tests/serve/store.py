"""Traces for the serve tests, written in OSProfiler's storage layouts (the SQL table `data`,
the Redis lists `osprofiler_opt:<base_id>` and flags `osprofiler_error:<base_id>`), exactly as
Python OSProfiler's drivers store them, so the server reads what any OSProfiler writer leaves."""
import datetime
import hashlib
import json
import sqlite3
import uuid

EPOCH = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)


def ts(us):
    return (EPOCH + datetime.timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%f")


def make_trace(n, start_us, points=3, error=False, service=None, project="nova", host=None):
    """A trace of `points` points: a root and its children, one after another. With `error`,
    the last child's stop event carries etype/message. Returns (summary, events)."""
    base_id = str(uuid.UUID(bytes=hashlib.md5(b"trace %d" % n).digest(), version=4))  # deterministic
    service = service or ("api" if n % 3 else "scheduler")
    host = host or "host%d" % (n % 2)
    events = []
    ids = [str(uuid.UUID(int=(n << 32) | i, version=4)) for i in range(points)]
    names = ["wsgi"] + ["db%d" % i for i in range(1, points)]

    def event(name, trace_id, parent, us, info):
        info = dict(info)
        info["host"] = host
        return {"name": name, "base_id": base_id, "trace_id": trace_id, "parent_id": parent,
                "timestamp": ts(us), "info": info, "project": project, "service": service}

    end = start_us + 10 * points + 5
    events.append(event("wsgi-start", ids[0], base_id, start_us, {"request": {"path": "/x%d" % n}}))
    for i in range(1, points):
        s = start_us + 10 * i
        events.append(event(names[i] + "-start", ids[i], ids[0], s, {"db": {"statement": "SELECT %d" % i}}))
        stop_info = {}
        if error and i == points - 1:
            stop_info = {"etype": "RuntimeError", "message": "failed %d" % n}
        events.append(event(names[i] + "-stop", ids[i], ids[0], s + 5, stop_info))
    events.append(event("wsgi-stop", ids[0], base_id, end, {}))
    summary = {"base_id": base_id, "timestamp": ts(start_us), "points": points, "error": error,
               "service": service, "project": project, "host": host, "events": len(events)}
    return summary, events


def write_sqlite(path, traces):
    db = sqlite3.connect(path)
    db.executescript("""
CREATE TABLE IF NOT EXISTS data (
  id INTEGER NOT NULL, timestamp VARCHAR(26), base_id VARCHAR(255), parent_id VARCHAR(255),
  trace_id VARCHAR(255), project VARCHAR(255), host VARCHAR(255), service VARCHAR(255),
  name VARCHAR(255), data JSON, PRIMARY KEY (id));
CREATE INDEX IF NOT EXISTS ix_data_timestamp ON data (timestamp);
CREATE INDEX IF NOT EXISTS ix_data_base_id ON data (base_id);
CREATE INDEX IF NOT EXISTS ix_data_parent_id ON data (parent_id);
CREATE INDEX IF NOT EXISTS ix_data_trace_id ON data (trace_id);
CREATE INDEX IF NOT EXISTS ix_data_project ON data (project);
CREATE INDEX IF NOT EXISTS ix_data_host ON data (host);
CREATE INDEX IF NOT EXISTS ix_data_service ON data (service);
CREATE INDEX IF NOT EXISTS ix_data_name ON data (name);
""")
    rows = []
    for _, events in traces:
        for e in events:
            # OSProfiler's SQL driver: the columns, and the rest JSON-encoded into a JSON string.
            data = json.dumps(json.dumps({"info": e["info"]}))
            rows.append((e["timestamp"], e["base_id"], e["parent_id"], e["trace_id"], e["project"],
                         e["info"]["host"], e["service"], e["name"], data))
    db.executemany("INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data)"
                   " VALUES (?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()


def write_redis(client, traces):
    pipe = client.pipeline(transaction=False)
    for summary, events in traces:
        key = "osprofiler_opt:" + summary["base_id"]
        for e in events:  # one LPUSH per event, as OSProfiler does: the list is newest first
            pipe.lpush(key, json.dumps(e))
        if summary["error"]:
            pipe.set("osprofiler_error:" + summary["base_id"],
                     json.dumps({"base_id": summary["base_id"], "timestamp": events[-1]["timestamp"]}))
    pipe.execute()


def standard_set(count=120, every_error=7):
    """`count` traces one second apart, every `every_error`-th one failed, plus one that
    starts at the same microsecond as another (the cursor must keep both)."""
    traces = [make_trace(n, n * 1_000_000, points=2 + n % 4, error=(n % every_error == 3)) for n in range(count)]
    traces.append(make_trace(count, (count - 1) * 1_000_000, points=2))
    return traces


def write_postgresql(conn, traces):
    """The table Python's SQLAlchemy driver makes on PostgreSQL (drivers/postgresql/README.md)."""
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS data")
    cur.execute("""CREATE TABLE data (
  id SERIAL NOT NULL, timestamp VARCHAR(26), base_id VARCHAR(255), parent_id VARCHAR(255),
  trace_id VARCHAR(255), project VARCHAR(255), host VARCHAR(255), service VARCHAR(255),
  name VARCHAR(255), data JSON, PRIMARY KEY (id))""")
    for column in ("timestamp", "base_id", "parent_id", "trace_id", "project", "host", "service", "name"):
        cur.execute("CREATE INDEX ix_data_%s ON data (%s)" % (column, column))
    rows = []
    for _, events in traces:
        for e in events:
            rows.append((e["timestamp"], e["base_id"], e["parent_id"], e["trace_id"], e["project"],
                         e["info"]["host"], e["service"], e["name"], json.dumps(json.dumps({"info": e["info"]}))))
    cur.executemany("INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data)"
                    " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
    conn.commit()


def write_mysql(conn, traces):
    """The table Python's SQLAlchemy driver makes on MariaDB/MySQL (drivers/sql/sql_layout.cpp)."""
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS data")
    cur.execute("""CREATE TABLE data (
  id INTEGER NOT NULL AUTO_INCREMENT, timestamp VARCHAR(26), base_id VARCHAR(255), parent_id VARCHAR(255),
  trace_id VARCHAR(255), project VARCHAR(255), host VARCHAR(255), service VARCHAR(255),
  name VARCHAR(255), data JSON, PRIMARY KEY (id))""")
    for column in ("timestamp", "base_id", "parent_id", "trace_id", "project", "host", "service", "name"):
        cur.execute("CREATE INDEX ix_data_%s ON data (%s)" % (column, column))
    rows = []
    for _, events in traces:
        for e in events:
            rows.append((e["timestamp"], e["base_id"], e["parent_id"], e["trace_id"], e["project"],
                         e["info"]["host"], e["service"], e["name"], json.dumps(json.dumps({"info": e["info"]}))))
    cur.executemany("INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data)"
                    " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
    conn.commit()
