#!/usr/bin/env python3
"""A peer on loopback that speaks just enough RESP to pass a client's handshake, then answers
every other command with a reply meant to exhaust the client: a 2^31-element array
(`--mode huge-array`), or an array whose elements never end (`--mode endless`); or that stops
answering in the middle of a trace (`--mode stall-mid-trace`: no legacy keys, a list of 5,000
events, its first page of 1,000, then silence on the same connection). Prints its port, then
serves until killed."""
import argparse
import socket
import threading


def commands(conn):
    """Yields each command the client sends, as a list of byte strings."""
    buf = b""

    def need(n):
        nonlocal buf
        while len(buf) < n:
            data = conn.recv(65536)
            if not data:
                raise EOFError
            buf += data

    def line():
        nonlocal buf
        while b"\r\n" not in buf:
            need(len(buf) + 1)
        head, _, buf = buf.partition(b"\r\n")
        return head

    while True:
        count = int(line()[1:])
        args = []
        for _ in range(count):
            size = int(line()[1:])
            need(size + 2)
            args.append(buf[:size])
            buf = buf[size + 2:]
        yield args


def serve(conn, mode):
    answered_a_page = False
    try:
        for args in commands(conn):
            cmd = args[0].upper()
            if cmd == b"PING":
                conn.sendall(b"+PONG\r\n")
            elif cmd == b"CLIENT":
                conn.sendall(b":7\r\n")
            elif cmd == b"ROLE":
                conn.sendall(b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n")
            elif cmd in (b"SELECT", b"AUTH"):
                conn.sendall(b"+OK\r\n")
            elif mode == "stall-mid-trace":
                if cmd == b"SCAN":
                    conn.sendall(b"*2\r\n$1\r\n0\r\n*0\r\n")
                elif cmd == b"LLEN":
                    conn.sendall(b":5000\r\n")
                elif cmd == b"LRANGE" and not answered_a_page:
                    answered_a_page = True
                    event = b'{"name": "p-start"}'
                    conn.sendall(b"*1000\r\n" + (b"$%d\r\n%s\r\n" % (len(event), event)) * 1000)
                # anything else: no answer, the connection kept open
            elif mode == "huge-array":
                conn.sendall(b"*2147483648\r\n")
                while True:
                    conn.sendall(b":1\r\n" * 16384)
            else:
                conn.sendall(b"*2\r\n$1\r\n0\r\n*100000\r\n")
                element = b"$1048576\r\n" + b"x" * 1048576 + b"\r\n"
                while True:
                    conn.sendall(element)
    except (OSError, EOFError, ValueError):
        return
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["huge-array", "endless", "stall-mid-trace"], required=True)
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args.mode), daemon=True).start()


if __name__ == "__main__":
    main()
