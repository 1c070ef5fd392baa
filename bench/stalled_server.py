#!/usr/bin/python3
"""A backend that never answers: accepts TCP connections on loopback, reads and discards what
arrives, and never replies. Writes its port to the file given, then serves until killed.

  stalled_server.py PORT_FILE
"""
import socket
import sys
import threading


def drain(conn):
    with conn:
        while conn.recv(65536):
            pass


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    with open(sys.argv[1], "w") as f:
        f.write("%d\n" % listener.getsockname()[1])
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
