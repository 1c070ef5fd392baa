#!/usr/bin/python3
"""The loopback MongoDB (tests/servers/fake_mongodb.py) refuses what a real server refuses where
the driver depends on it, with MongoDB's error codes, checked with pymongo and raw OP_MSG
messages (pymongo and libmongoc refuse oversized documents before sending them):

  a wrong password, an unknown user: 18 AuthenticationFailed; a command before
  authenticating: 13 Unauthorized; an unknown command: 59 CommandNotFound; a duplicate _id:
  11000 per document; a document over 16 MiB in an insert: 2 BadValue per document; over
  16 MiB + 16 KiB: 10334 BSONObjectTooLarge for the command; conflicting indexes: 85/86;
  listIndexes of a missing collection: 26 NamespaceNotFound.

usage: fake_mongodb_test.py
"""
import os
import socket
import struct
import subprocess
import sys
import time

import bson
import pymongo
from pymongo.errors import OperationFailure

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "servers", "fake_mongodb.py")
FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL: " + message, file=sys.stderr)


def start(*args):
    port_file = "/tmp/fake-mongodb-test-%d-%d.port" % (os.getpid(), len(args))
    if os.path.exists(port_file):
        os.remove(port_file)
    proc = subprocess.Popen(["/usr/bin/python3", SERVER, "--port-file", port_file] + list(args))
    for _ in range(200):
        if os.path.exists(port_file):
            with open(port_file) as f:
                port = int(f.read())
            os.remove(port_file)
            return proc, port
        time.sleep(0.05)
    proc.kill()
    sys.exit("fake_mongodb.py did not start")


def code_of(call):
    try:
        call()
    except OperationFailure as e:
        return e.code
    return None


def op_msg(sock, body, sequence_name=None, documents=()):
    """Sends one OP_MSG (body, and an optional document sequence); returns the reply document."""
    payload = struct.pack("<I", 0) + b"\x00" + bson.encode(body)
    if sequence_name:
        docs = b"".join(documents)
        ident = sequence_name.encode() + b"\x00"
        payload += b"\x01" + struct.pack("<i", 4 + len(ident) + len(docs)) + ident + docs
    sock.sendall(struct.pack("<iiii", 16 + len(payload), 1, 0, 2013) + payload)
    header = b""
    while len(header) < 16:
        header += sock.recv(16 - len(header))
    length = struct.unpack("<i", header[:4])[0]
    rest = b""
    while len(rest) < length - 16:
        rest += sock.recv(length - 16 - len(rest))
    return bson.decode(rest[5:])


def main():
    proc, port = start()
    auth_proc, auth_port = start("--user", "osprof:secret")
    try:
        client = pymongo.MongoClient("mongodb://127.0.0.1:%d" % port, serverSelectionTimeoutMS=5000)
        db = client.selftest
        db.c.insert_one({"_id": "x"})
        check(code_of(lambda: db.c.insert_one({"_id": "x"})) == 11000, "duplicate _id: 11000")
        check(code_of(lambda: db.command("noSuchCommand")) == 59, "unknown command: 59")
        check(code_of(lambda: db.command("listIndexes", "nothing")) == 26, "listIndexes of a missing collection: 26")
        db.c.create_index([("a", 1)], name="a_1")
        check(code_of(lambda: db.c.create_index([("b", 1)], name="a_1")) == 86, "same name, other keys: 86")
        check(code_of(lambda: db.c.create_index([("a", 1)], name="other")) == 85, "same keys, other name: 85")

        # Oversized documents, sent as a driver would without its own check.
        sock = socket.create_connection(("127.0.0.1", port))
        small = bson.encode({"_id": "ok-1"})
        over = bson.encode({"_id": "big", "blob": "x" * (16 * 1024 * 1024)})          # 16 MiB + a little
        huge = bson.encode({"_id": "huge", "blob": "x" * (16 * 1024 * 1024 + 20000)})  # over 16 MiB + 16 KiB
        reply = op_msg(sock, {"insert": "big", "ordered": False, "$db": "selftest"}, "documents",
                       [small, over, bson.encode({"_id": "ok-2"})])
        errors = reply.get("writeErrors", [])
        check(reply.get("ok") == 1 and reply.get("n") == 2 and len(errors) == 1 and errors[0]["index"] == 1
              and errors[0]["code"] == 2 and "object to insert too large" in errors[0]["errmsg"],
              "a document over 16 MiB: 2 BadValue for it alone, the others stored: %r" % reply)
        reply = op_msg(sock, {"insert": "big", "$db": "selftest"}, "documents", [huge])
        check(reply.get("ok") == 0 and reply.get("code") == 10334, "over 16 MiB + 16 KiB: 10334: %r" % reply)
        sock.close()
        check(db.big.count_documents({}) == 2, "only the two small documents were stored")

        good = pymongo.MongoClient("mongodb://osprof:secret@127.0.0.1:%d/?authSource=admin" % auth_port,
                                   serverSelectionTimeoutMS=5000)
        good.selftest.c.insert_one({"a": 1})
        check(good.selftest.c.count_documents({}) == 1, "the right password works")
        for url in ("mongodb://osprof:wrong@127.0.0.1:%d/?authSource=admin",
                    "mongodb://nobody:secret@127.0.0.1:%d/?authSource=admin"):
            bad = pymongo.MongoClient(url % auth_port, serverSelectionTimeoutMS=5000)
            check(code_of(lambda: bad.selftest.c.insert_one({"a": 1})) == 18, "%s: 18" % url.split("@")[0])
        anonymous = pymongo.MongoClient("mongodb://127.0.0.1:%d" % auth_port, serverSelectionTimeoutMS=5000)
        check(code_of(lambda: anonymous.selftest.c.insert_one({"a": 1})) == 13, "unauthenticated: 13")
    finally:
        proc.kill()
        auth_proc.kill()
    if FAILURES:
        sys.exit("%d check(s) failed" % len(FAILURES))
    print("fake_mongodb.py answers as MongoDB does for the checked cases")


if __name__ == "__main__":
    main()
