#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""An RTSP server that answers a publisher's ANNOUNCE with a reason phrase holding terminal
controls (ESC, a UTF-8 C1 CSI, DEL), for the publish tests' log hygiene check.

  hostile_rtsp_server.py PORT

OPTIONS is answered 200; every other method 403 with that reason. Prints "ready" on stderr once
listening.
"""
import re
import socket
import sys

REASON = b"\x1b[2J\xc2\x9b\x7fGo away"

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(4)
print("ready", file=sys.stderr, flush=True)
while True:
    conn, _ = listener.accept()
    pending = b""
    while True:
        data = conn.recv(65536)
        if not data:
            break
        pending += data
        while b"\r\n\r\n" in pending:
            head, pending = pending.split(b"\r\n\r\n", 1)
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            if length:
                pending = pending[int(length.group(1)):]
            cseq = re.search(rb"(?i)cseq: *(\d+)", head)
            cseq = cseq.group(1) if cseq else b"0"
            if head.startswith(b"OPTIONS "):
                conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: " + cseq +
                             b"\r\nPublic: OPTIONS, ANNOUNCE, SETUP, RECORD\r\n\r\n")
            else:
                conn.sendall(b"RTSP/1.0 403 " + REASON + b"\r\nCSeq: " + cseq + b"\r\n\r\n")
    conn.close()
