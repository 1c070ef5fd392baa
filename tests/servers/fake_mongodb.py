#!/usr/bin/python3
"""A loopback MongoDB for the tests of osprof's mongodb:// driver (no MongoDB server can be
installed on Debian). It is not a database: Debian's python3-mockupdb parses and builds the wire
protocol messages (OP_MSG, and OP_QUERY/OP_REPLY for the legacy handshake) and python3-mongomock
keeps the data and answers the queries. What it serves, as MongoDB 5.0 (wire version 13)
documents it:

  hello / isMaster     standalone, or the primary of a one-member replica set (--replica-set);
                       maxBsonObjectSize 16 MiB, maxMessageSizeBytes 48,000,000,
                       maxWriteBatchSize 100,000; saslSupportedMechs
  saslStart/Continue   SCRAM-SHA-256 and SCRAM-SHA-1 (--user NAME:PASSWORD, in authSource
                       admin); a wrong password or unknown user: 18 AuthenticationFailed; any
                       other command before authenticating: 13 Unauthorized
  insert               ordered or not; per-document writeErrors: 11000 duplicate key, 2 BadValue
                       for a document over 16 MiB; a message with a document over 16 MiB + 16 KiB:
                       10334 BSONObjectTooLarge; more than 100,000 documents: 16 InvalidLength
  find, getMore, killCursors   filter, projection, sort, skip, limit, batchSize, singleBatch;
                       first batch 101 documents unless batchSize says otherwise
  update, delete, distinct, count, aggregate, createIndexes (85/86 on conflicting indexes),
  listIndexes (26 NamespaceNotFound), drop, dropDatabase, ping, buildInfo, endSessions
  anything else        59 CommandNotFound

Not modelled: storage engines, journaling, replication (write concerns are acknowledged at
once; w > 1 is not refused), sessions and transactions (lsid and txnNumber are ignored), query
plans and index use (mongomock scans), compression, OP_COMPRESSED, x509/LDAP/Kerberos auth.

Control (on any connection, no authentication needed):
  {osprofFault: [fault, ...]}   make the next commands fail, in order; each fault applies to
                                `command` (default "insert") and `count` times (default 1):
    {"kind": "error", "code": 91, "codeName": "ShutdownInProgress", "errmsg": "..."}
                                    answer ok: 0 with that error, executing nothing
    {"kind": "write_errors", "every": 3, "code": 121, "codeName": "...", "errmsg": "..."}
                                    every 3rd document of an insert is refused with that code
    {"kind": "write_concern_error"} execute, then answer with writeConcernError 64
    {"kind": "hangup", "when": "before" | "after"}
                                    close the connection before executing, or after executing
                                    without answering (the client cannot know it was stored)
    {"kind": "delay", "ms": 3000}   answer late (executing after the delay)
  {osprofStats: 1}              {"counts": {"db.coll": n, ...}, "commands": {...}, "connections": n}
  {osprofReset: 1}              drop all data, faults and counters

usage: fake_mongodb.py (--port N | --port-file FILE) [--user NAME:PASSWORD] [--replica-set NAME]
                       [--tls-cert PEM --tls-key PEM]
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys
import threading
import time
from collections import OrderedDict

import bson
import mockupdb
import mongomock
from bson import SON
from bson.objectid import ObjectId
from pymongo.errors import DuplicateKeyError, OperationFailure

MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
MAX_INTERNAL_BSON_SIZE = MAX_BSON_OBJECT_SIZE + 16 * 1024  # what mongod accepts on the wire
MAX_MESSAGE_SIZE = 48000000
MAX_WRITE_BATCH = 100000
FIRST_BATCH = 101
OP_REPLY, OP_QUERY, OP_MSG, OP_COMPRESSED = 1, 2004, 2013, 2012
MORE_TO_COME = 1 << 1
# Commands a client may send before authenticating (as mongod allows them).
NO_AUTH_COMMANDS = {"hello", "ismaster", "saslstart", "saslcontinue", "ping", "buildinfo", "endsessions",
                    "getnonce", "logout", "osproffault", "osprofstats", "osprofreset"}


class CommandError(Exception):
    def __init__(self, code, code_name, errmsg):
        super().__init__(errmsg)
        self.code, self.code_name, self.errmsg = code, code_name, errmsg

    def reply(self):
        return SON([("ok", 0.0), ("errmsg", self.errmsg), ("code", self.code), ("codeName", self.code_name)])


class Hangup(Exception):
    """Close the client's connection without answering."""


def auth_failed():
    return CommandError(18, "AuthenticationFailed", "Authentication failed.")


# ------------------------------------------------------------------ SCRAM (RFC 5802, RFC 7677)

class ScramUser:
    ITERATIONS = {"SCRAM-SHA-1": 10000, "SCRAM-SHA-256": 15000}  # mongod's defaults

    def __init__(self, name, password):
        self.name = name
        self.keys = {}
        for mechanism, iterations in self.ITERATIONS.items():
            digest = hashlib.sha1 if mechanism == "SCRAM-SHA-1" else hashlib.sha256
            # SCRAM-SHA-1 in MongoDB hashes the password as MONGODB-CR did; SHA-256 takes it as
            # is (SASLprep leaves ASCII unchanged).
            secret = (hashlib.md5(("%s:mongo:%s" % (name, password)).encode()).hexdigest()
                      if mechanism == "SCRAM-SHA-1" else password)
            salt = os.urandom(16 if mechanism == "SCRAM-SHA-1" else 28)
            salted = hashlib.pbkdf2_hmac(digest().name, secret.encode(), salt, iterations)
            client_key = hmac.new(salted, b"Client Key", digest).digest()
            self.keys[mechanism] = {
                "digest": digest, "salt": salt, "iterations": iterations,
                "stored_key": digest(client_key).digest(),
                "server_key": hmac.new(salted, b"Server Key", digest).digest(),
            }


def parse_scram(text):
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


class ScramConversation:
    def __init__(self, users, db, mechanism, payload):
        if mechanism not in ScramUser.ITERATIONS:
            raise CommandError(2, "BadValue", "Received authentication for mechanism %s which is not enabled" % mechanism)
        text = bytes(payload).decode()
        if not text.startswith("n,"):
            raise CommandError(17, "ProtocolError", "SCRAM: channel binding is not supported")
        self.client_first_bare = text.split(",", 2)[2]
        fields = parse_scram(self.client_first_bare)
        self.user_name = fields.get("n", "").replace("=2C", ",").replace("=3D", "=")
        user = users.get((db, self.user_name))
        self.mechanism = mechanism
        # An unknown user fails later, with the same error as a wrong password.
        self.keys = user.keys[mechanism] if user else None
        salt = self.keys["salt"] if self.keys else os.urandom(16)
        iterations = self.keys["iterations"] if self.keys else 10000
        self.nonce = fields.get("r", "") + base64.b64encode(os.urandom(24)).decode()
        self.server_first = "r=%s,s=%s,i=%d" % (self.nonce, base64.b64encode(salt).decode(), iterations)
        self.done = False

    def first(self):
        return self.server_first.encode()

    def final(self, payload):
        text = bytes(payload).decode()
        fields = parse_scram(text)
        without_proof = text[:text.rfind(",p=")]
        if self.keys is None or fields.get("r") != self.nonce or "p" not in fields:
            raise auth_failed()
        digest = self.keys["digest"]
        auth_message = ",".join([self.client_first_bare, self.server_first, without_proof]).encode()
        signature = hmac.new(self.keys["stored_key"], auth_message, digest).digest()
        proof = base64.b64decode(fields["p"])
        if len(proof) != len(signature):
            raise auth_failed()
        client_key = bytes(a ^ b for a, b in zip(proof, signature))
        if not hmac.compare_digest(digest(client_key).digest(), self.keys["stored_key"]):
            raise auth_failed()
        self.done = True
        server_signature = hmac.new(self.keys["server_key"], auth_message, digest).digest()
        return ("v=" + base64.b64encode(server_signature).decode()).encode()


# ------------------------------------------------------------------ the server

class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.pending = []

    def add(self, faults):
        with self.lock:
            for f in faults:
                f = dict(f)
                f.setdefault("count", 1)
                f.setdefault("command", "insert")
                self.pending.append(f)

    def take(self, command):
        with self.lock:
            for f in self.pending:
                if f["command"].lower() == command and f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.pending.remove(f)
                    return f
        return None

    def clear(self):
        with self.lock:
            self.pending.clear()


class Connection:
    def __init__(self, number):
        self.number = number
        self.user = None
        self.sasl = {}


class Server:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()  # mongomock is not thread safe: one command at a time
        self.client = mongomock.MongoClient()
        self.users = {}
        if args.user:
            name, password = args.user.split(":", 1)
            self.users[("admin", name)] = ScramUser(name, password)
        self.faults = Faults()
        self.cursors = {}
        self.next_cursor = 1000
        self.next_connection = 1
        self.command_counts = {}
        self.sasl_conversations = 0
        self.me = None
        self.started = datetime.datetime.utcnow()

    # ---- dispatch

    def execute(self, conn, db, cmd, sizes):
        name = next(iter(cmd))
        lname = name.lower()
        with self.lock:
            self.command_counts[lname] = self.command_counts.get(lname, 0) + 1
        if self.users and conn.user is None and lname not in NO_AUTH_COMMANDS:
            raise CommandError(13, "Unauthorized", "command %s requires authentication" % name)
        handler = getattr(self, "cmd_" + lname, None)
        if handler is None:
            raise CommandError(59, "CommandNotFound", "no such command: '%s'" % name)
        fault = self.faults.take(lname) if not lname.startswith("osprof") else None
        if fault is not None:
            kind = fault["kind"]
            if kind == "error":
                raise CommandError(fault.get("code", 8000), fault.get("codeName", "UnknownError"),
                                   fault.get("errmsg", "injected failure"))
            if kind == "hangup" and fault.get("when", "before") == "before":
                raise Hangup()
            if kind == "delay":
                time.sleep(fault.get("ms", 1000) / 1000.0)
        with self.lock:
            reply = handler(conn, db, cmd, sizes, fault)
        if fault is not None and fault["kind"] == "hangup":
            raise Hangup()
        if fault is not None and fault["kind"] == "write_concern_error":
            reply["writeConcernError"] = SON([("code", 64), ("codeName", "WriteConcernFailed"),
                                              ("errmsg", "waiting for replication timed out"),
                                              ("errInfo", {"wtimeout": True})])
        return reply

    def collection(self, db, cmd):
        name = cmd[next(iter(cmd))]
        if not isinstance(name, str) or not name:
            raise CommandError(73, "InvalidNamespace", "collection name has invalid type %s" % type(name).__name__)
        return self.client[db][name]

    def ns(self, db, cmd):
        return "%s.%s" % (db, cmd[next(iter(cmd))])

    # ---- handshake and auth

    def hello(self, conn, cmd, legacy_name):
        reply = SON()
        if cmd.get("helloOk"):
            reply["helloOk"] = True
        reply["isWritablePrimary" if legacy_name == "hello" else "ismaster"] = True
        if self.args.replica_set:
            reply["setName"] = self.args.replica_set
            reply["setVersion"] = 1
            reply["hosts"] = [self.me]
            reply["primary"] = self.me
            reply["me"] = self.me
            reply["secondary"] = False
            reply["electionId"] = ObjectId("7fffffff0000000000000001")
        reply["maxBsonObjectSize"] = MAX_BSON_OBJECT_SIZE
        reply["maxMessageSizeBytes"] = MAX_MESSAGE_SIZE
        reply["maxWriteBatchSize"] = MAX_WRITE_BATCH
        reply["localTime"] = datetime.datetime.utcnow()
        reply["logicalSessionTimeoutMinutes"] = 30
        reply["connectionId"] = conn.number
        reply["minWireVersion"] = 0
        reply["maxWireVersion"] = 13
        reply["readOnly"] = False
        mechs = cmd.get("saslSupportedMechs")
        if isinstance(mechs, str) and "." in mechs:
            db, user = mechs.split(".", 1)
            if (db, user) in self.users:
                reply["saslSupportedMechs"] = ["SCRAM-SHA-1", "SCRAM-SHA-256"]
        reply["ok"] = 1.0
        return reply

    def cmd_hello(self, conn, db, cmd, sizes, fault):
        return self.hello(conn, cmd, "hello")

    def cmd_ismaster(self, conn, db, cmd, sizes, fault):
        return self.hello(conn, cmd, "ismaster")

    def cmd_saslstart(self, conn, db, cmd, sizes, fault):
        self.sasl_conversations += 1
        conversation = ScramConversation(self.users, db, cmd.get("mechanism"), cmd.get("payload", b""))
        conn.sasl[self.sasl_conversations] = conversation
        return SON([("conversationId", self.sasl_conversations), ("done", False),
                    ("payload", bson.Binary(conversation.first())), ("ok", 1.0)])

    def cmd_saslcontinue(self, conn, db, cmd, sizes, fault):
        conversation = conn.sasl.get(cmd.get("conversationId"))
        if conversation is None:
            raise CommandError(17, "ProtocolError", "No SASL session state found")
        if conversation.done:
            # The client's empty last step (without skipEmptyExchange).
            del conn.sasl[cmd.get("conversationId")]
            conn.user = conversation.user_name
            return SON([("conversationId", cmd["conversationId"]), ("done", True), ("payload", bson.Binary(b"")),
                        ("ok", 1.0)])
        try:
            final = conversation.final(cmd.get("payload", b""))
        except CommandError:
            del conn.sasl[cmd.get("conversationId")]
            raise
        skip_empty = bool((cmd.get("options") or {}).get("skipEmptyExchange"))
        if skip_empty:
            del conn.sasl[cmd.get("conversationId")]
            conn.user = conversation.user_name
        return SON([("conversationId", cmd["conversationId"]), ("done", skip_empty),
                    ("payload", bson.Binary(final)), ("ok", 1.0)])

    def cmd_logout(self, conn, db, cmd, sizes, fault):
        conn.user = None
        return SON([("ok", 1.0)])

    def cmd_ping(self, conn, db, cmd, sizes, fault):
        return SON([("ok", 1.0)])

    def cmd_buildinfo(self, conn, db, cmd, sizes, fault):
        return SON([("version", "5.0.0"), ("gitVersion", "osprof-loopback"), ("versionArray", [5, 0, 0, 0]),
                    ("maxBsonObjectSize", MAX_BSON_OBJECT_SIZE), ("ok", 1.0)])

    def cmd_endsessions(self, conn, db, cmd, sizes, fault):
        return SON([("ok", 1.0)])

    # ---- writes

    def cmd_insert(self, conn, db, cmd, sizes, fault):
        coll = self.collection(db, cmd)
        docs = cmd.get("documents") or []
        doc_sizes = sizes.get("documents") or [len(bson.encode(d)) for d in docs]
        if not docs or len(docs) > MAX_WRITE_BATCH:
            raise CommandError(16, "InvalidLength",
                               "Write batch sizes must be between 1 and %d. Got %d operations." % (MAX_WRITE_BATCH, len(docs)))
        ordered = cmd.get("ordered", True)
        inserted, errors = 0, []
        every = fault.get("every", 1) if fault is not None and fault["kind"] == "write_errors" else 0
        for i, doc in enumerate(docs):
            error = None
            if every and i % every == every - 1:
                error = (fault.get("code", 121), fault.get("errmsg", "Document failed validation"))
            elif doc_sizes[i] > MAX_BSON_OBJECT_SIZE:
                error = (2, "object to insert too large. size in bytes: %d, max size: %d" % (doc_sizes[i], MAX_BSON_OBJECT_SIZE))
            else:
                try:
                    coll.insert_one(doc)
                    inserted += 1
                except DuplicateKeyError:
                    key = doc.get("_id")
                    error = (11000, 'E11000 duplicate key error collection: %s.%s index: _id_ dup key: { _id: %s }'
                             % (db, coll.name, bson.json_util.dumps(key)))
            if error is not None:
                errors.append(SON([("index", i), ("code", error[0]), ("errmsg", error[1])]))
                if ordered:
                    break
        reply = SON([("n", inserted)])
        if errors:
            reply["writeErrors"] = errors
        reply["ok"] = 1.0
        return reply

    def cmd_update(self, conn, db, cmd, sizes, fault):
        coll = self.collection(db, cmd)
        matched = modified = 0
        upserted, errors = [], []
        for i, u in enumerate(cmd.get("updates") or []):
            q, spec = u.get("q", {}), u.get("u", {})
            upsert, multi = bool(u.get("upsert")), bool(u.get("multi"))
            try:
                operators = isinstance(spec, dict) and spec and all(k.startswith("$") for k in spec)
                if not operators:
                    if multi:
                        raise CommandError(9, "FailedToParse", "multi update is not supported for replacement-style update")
                    r = coll.replace_one(q, spec, upsert=upsert)
                elif multi:
                    r = coll.update_many(q, spec, upsert=upsert)
                else:
                    r = coll.update_one(q, spec, upsert=upsert)
            except (OperationFailure, CommandError) as e:
                errors.append(SON([("index", i), ("code", getattr(e, "code", 2) or 2), ("errmsg", str(e))]))
                if cmd.get("ordered", True):
                    break
                continue
            matched += r.matched_count
            modified += r.modified_count
            if r.upserted_id is not None:
                upserted.append(SON([("index", i), ("_id", r.upserted_id)]))
        reply = SON([("n", matched + len(upserted)), ("nModified", modified)])
        if upserted:
            reply["upserted"] = upserted
        if errors:
            reply["writeErrors"] = errors
        reply["ok"] = 1.0
        return reply

    def cmd_delete(self, conn, db, cmd, sizes, fault):
        coll = self.collection(db, cmd)
        n = 0
        for d in cmd.get("deletes") or []:
            if d.get("limit", 0) == 1:
                n += coll.delete_one(d.get("q", {})).deleted_count
            else:
                n += coll.delete_many(d.get("q", {})).deleted_count
        return SON([("n", n), ("ok", 1.0)])

    # ---- reads

    def cursor_reply(self, ns, results, batch_size, single_batch=False, first=True):
        if batch_size is None or batch_size <= 0:
            batch_size = FIRST_BATCH if first else len(results)
        batch, rest = results[:batch_size], results[batch_size:]
        cursor_id = 0
        if rest and not single_batch:
            self.next_cursor += 1
            cursor_id = self.next_cursor
            self.cursors[cursor_id] = (ns, rest)
        return SON([("cursor", SON([("firstBatch" if first else "nextBatch", batch), ("id", bson.int64.Int64(cursor_id)),
                                    ("ns", ns)])), ("ok", 1.0)])

    def cmd_find(self, conn, db, cmd, sizes, fault):
        coll = self.collection(db, cmd)
        cursor = coll.find(cmd.get("filter") or {}, cmd.get("projection") or None)
        if cmd.get("sort"):
            cursor = cursor.sort(list(cmd["sort"].items()))
        if cmd.get("skip"):
            cursor = cursor.skip(cmd["skip"])
        limit = cmd.get("limit") or 0
        single = bool(cmd.get("singleBatch")) or limit < 0
        if limit:
            cursor = cursor.limit(abs(limit))
        results = list(cursor)
        return self.cursor_reply(self.ns(db, cmd), results, cmd.get("batchSize"), single)

    def cmd_getmore(self, conn, db, cmd, sizes, fault):
        cursor_id = int(cmd["getMore"])
        entry = self.cursors.pop(cursor_id, None)
        if entry is None:
            raise CommandError(43, "CursorNotFound", "cursor id %d not found" % cursor_id)
        ns, rest = entry
        batch_size = cmd.get("batchSize") or len(rest)
        batch, rest = rest[:batch_size], rest[batch_size:]
        if rest:
            self.cursors[cursor_id] = (ns, rest)
        return SON([("cursor", SON([("nextBatch", batch), ("id", bson.int64.Int64(cursor_id if rest else 0)),
                                    ("ns", ns)])), ("ok", 1.0)])

    def cmd_killcursors(self, conn, db, cmd, sizes, fault):
        killed = []
        for cursor_id in cmd.get("cursors") or []:
            if self.cursors.pop(int(cursor_id), None) is not None:
                killed.append(cursor_id)
        return SON([("cursorsKilled", killed), ("cursorsNotFound", []), ("cursorsAlive", []), ("cursorsUnknown", []),
                    ("ok", 1.0)])

    def cmd_distinct(self, conn, db, cmd, sizes, fault):
        coll = self.collection(db, cmd)
        return SON([("values", coll.distinct(cmd["key"], cmd.get("query") or {})), ("ok", 1.0)])

    def cmd_count(self, conn, db, cmd, sizes, fault):
        coll = self.collection(db, cmd)
        return SON([("n", coll.count_documents(cmd.get("query") or {})), ("ok", 1.0)])

    def cmd_aggregate(self, conn, db, cmd, sizes, fault):
        coll = self.collection(db, cmd)
        if "cursor" not in cmd and not cmd.get("explain"):
            raise CommandError(9, "FailedToParse", "The 'cursor' option is required, except for aggregate with the explain argument")
        try:
            results = list(coll.aggregate(cmd.get("pipeline") or []))
        except (NotImplementedError, OperationFailure) as e:
            raise CommandError(40324, "Location40324", "Unrecognized pipeline stage or operator: %s" % e)
        return self.cursor_reply(self.ns(db, cmd), results, (cmd.get("cursor") or {}).get("batchSize"))

    # ---- indexes and collections

    def index_specs(self, coll):
        specs = []
        for name, info in coll.index_information().items():
            spec = SON([("v", 2), ("key", SON(info["key"])), ("name", name)])
            if info.get("unique"):
                spec["unique"] = True
            specs.append(spec)
        return specs

    def cmd_createindexes(self, conn, db, cmd, sizes, fault):
        coll = self.collection(db, cmd)
        existed = coll.name in self.client[db].list_collection_names()
        before = self.index_specs(coll) if existed else [SON([("v", 2), ("key", SON([("_id", 1)])), ("name", "_id_")])]
        for spec in cmd.get("indexes") or []:
            key, name = list(spec["key"].items()), spec.get("name")
            if not name:
                raise CommandError(9, "FailedToParse", "Error in specification %s :: caused by :: The 'name' field is a required property of an index specification" % dict(spec))
            for old in before:
                if old["name"] == name and list(old["key"].items()) != key:
                    raise CommandError(86, "IndexKeySpecsConflict",
                                       "An existing index has the same name as the requested index. "
                                       "When index names are not specified, they are auto generated and can cause "
                                       "conflicts. Please refer to our documentation. Requested index: %s, existing index: %s"
                                       % (dict(spec), dict(old)))
                if old["name"] != name and list(old["key"].items()) == key:
                    raise CommandError(85, "IndexOptionsConflict",
                                       "Index already exists with a different name: %s" % old["name"])
            if not any(old["name"] == name for old in before):
                coll.create_index(key, name=name, unique=bool(spec.get("unique")))
        after = self.index_specs(coll)
        reply = SON([("createdCollectionAutomatically", not existed), ("numIndexesBefore", len(before)),
                     ("numIndexesAfter", len(after))])
        if len(after) == len(before):
            reply["note"] = "all indexes already exist"
        reply["ok"] = 1.0
        return reply

    def cmd_listindexes(self, conn, db, cmd, sizes, fault):
        coll = self.collection(db, cmd)
        if coll.name not in self.client[db].list_collection_names():
            raise CommandError(26, "NamespaceNotFound", "ns does not exist: %s" % self.ns(db, cmd))
        return self.cursor_reply(self.ns(db, cmd), self.index_specs(coll), (cmd.get("cursor") or {}).get("batchSize"))

    def cmd_drop(self, conn, db, cmd, sizes, fault):
        coll = self.collection(db, cmd)
        if coll.name not in self.client[db].list_collection_names():
            raise CommandError(26, "NamespaceNotFound", "ns not found")
        coll.drop()
        return SON([("ns", self.ns(db, cmd)), ("ok", 1.0)])

    def cmd_dropdatabase(self, conn, db, cmd, sizes, fault):
        self.client.drop_database(db)
        return SON([("dropped", db), ("ok", 1.0)])

    # ---- control

    def cmd_osproffault(self, conn, db, cmd, sizes, fault):
        faults = cmd["osprofFault"]
        self.faults.add(faults if isinstance(faults, list) else [faults])
        return SON([("ok", 1.0)])

    def cmd_osprofstats(self, conn, db, cmd, sizes, fault):
        counts = SON()
        for db_name in self.client.list_database_names():
            for coll_name in self.client[db_name].list_collection_names():
                counts["%s.%s" % (db_name, coll_name)] = self.client[db_name][coll_name].count_documents({})
        return SON([("counts", counts), ("commands", SON(sorted(self.command_counts.items()))),
                    ("connections", self.next_connection - 1), ("openCursors", len(self.cursors)), ("ok", 1.0)])

    def cmd_osprofreset(self, conn, db, cmd, sizes, fault):
        for db_name in self.client.list_database_names():
            self.client.drop_database(db_name)
        self.faults.clear()
        self.cursors.clear()
        self.command_counts.clear()
        return SON([("ok", 1.0)])


# ------------------------------------------------------------------ the wire

def recv_exact(sock, n):
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise ConnectionError("closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def sequence_sizes(body):
    """The size of each document in each OP_MSG document sequence, by identifier."""
    sizes = {}
    flags = struct.unpack_from("<I", body)[0]
    end = len(body) - (4 if flags & 1 else 0)
    pos = 4
    while pos < end:
        kind = body[pos]
        pos += 1
        size = struct.unpack_from("<i", body, pos)[0]
        if kind == 1:
            ident_end = body.index(b"\x00", pos + 4)
            identifier = body[pos + 4:ident_end].decode()
            at, seq = ident_end + 1, []
            while at < pos + size:
                n = struct.unpack_from("<i", body, at)[0]
                seq.append(n)
                at += n
            sizes[identifier] = seq
        pos += size
    return sizes


def serve_connection(server, sock, address):
    with server.lock:
        conn = Connection(server.next_connection)
        server.next_connection += 1
    try:
        if server.args.tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(server.args.tls_cert, server.args.tls_key)
            sock.settimeout(10)
            sock = context.wrap_socket(sock, server_side=True)
            sock.settimeout(None)
        while True:
            header = recv_exact(sock, 16)
            length, request_id, _, opcode = struct.unpack("<iiii", header)
            if length < 16 or length > MAX_MESSAGE_SIZE:
                return  # mongod closes the connection: "message msgLen ... is invalid"
            body = recv_exact(sock, length - 16)
            if opcode not in (OP_MSG, OP_QUERY):
                return  # OP_COMPRESSED and the legacy opcodes: not served
            request = mockupdb.OPCODES[opcode].unpack(body, sock, None, request_id)
            sizes = sequence_sizes(body) if opcode == OP_MSG else {}
            if opcode == OP_QUERY:
                if not isinstance(request, mockupdb.Command):
                    reply = CommandError(5739101, "Location5739101", "OP_QUERY is no longer supported").reply()
                    sock.sendall(mockupdb.OpReply(reply).reply_bytes(request))
                    continue
                db = request.namespace
            else:
                db = request.doc.get("$db", "admin")
            cmd = request.doc
            if any(n > MAX_INTERNAL_BSON_SIZE for seq in sizes.values() for n in seq):
                big = max(n for seq in sizes.values() for n in seq)
                reply = CommandError(10334, "BSONObjectTooLarge",
                                     "BSONObj size: %d (0x%X) is invalid. Size must be between 0 and %d(16MB) "
                                     "First element: insert: \"%s\"" % (big, big, MAX_INTERNAL_BSON_SIZE, cmd.get("insert", ""))).reply()
            else:
                try:
                    reply = server.execute(conn, db, cmd, sizes)
                except CommandError as e:
                    reply = e.reply()
                except Hangup:
                    return
                except Exception as e:  # a bug here, or a query mongomock cannot answer
                    print("fake_mongodb: %r failed: %r" % (next(iter(cmd), "?"), e), file=sys.stderr)
                    reply = CommandError(1, "InternalError", "fake_mongodb: %s" % e).reply()
            if opcode == OP_MSG:
                if request.flags & MORE_TO_COME:
                    continue  # w: 0, the client waits for no answer
                sock.sendall(mockupdb.OpMsgReply(reply).reply_bytes(request))
            else:
                sock.sendall(mockupdb.OpReply(reply).reply_bytes(request))
    except (ConnectionError, OSError, ssl.SSLError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--user", help="NAME:PASSWORD: require SCRAM authentication (authSource admin)")
    parser.add_argument("--replica-set", help="answer as the primary of a one-member replica set of this name")
    parser.add_argument("--tls-cert", help="PEM certificate (chain): serve TLS only")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = parser.parse_args()
    server = Server(args)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    port = listener.getsockname()[1]
    server.me = "127.0.0.1:%d" % port
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    while True:
        sock, address = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve_connection, args=(server, sock, address), daemon=True).start()


if __name__ == "__main__":
    main()
