#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Camera -> H.265 -> TCP: the original GStreamer script, on the h265direct module.

Sends every access unit with a 4-byte big-endian length in front (h265direct-receiver -l
PORT takes it) and prints the bandwidth once a second. Ctrl+C stops it.

    examples/stream_tcp.py 192.168.1.10:5005 -d /dev/video0
    examples/stream_tcp.py 127.0.0.1:5005 --pattern --frames 300
"""
import argparse
import signal
import socket
import sys
import time

import h265direct

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("target", help="HOST:PORT of the receiver")
ap.add_argument("-d", "--device", default="/dev/video0", help="V4L2 capture device")
ap.add_argument("--pattern", action="store_true", help="built-in test pattern, no camera")
ap.add_argument("-s", "--size", default="640x480")
ap.add_argument("-r", "--fps", default="30")
ap.add_argument("-b", "--bitrate", default=1000, help="kbit/s")
ap.add_argument("--frames", default=0, help="stop after N frames (0: no limit)")
args = ap.parse_args()
host, _, port = args.target.rpartition(":")


def fail(message, code):
    print(message, file=sys.stderr)
    sys.exit(code)


try:
    source = {"pattern": True} if args.pattern else {"device": args.device}
    engine = h265direct.Engine(**source, size=args.size, fps=args.fps, bitrate=args.bitrate,
                               frames=args.frames, quiet=True)
    sock = socket.create_connection((host, int(port)))
except h265direct.Error as e:  # a bad option: the program's message and exit code
    fail(f"h265direct: error: {e}", e.exit_code)
except (OSError, ValueError) as e:
    fail(f"stream_tcp: cannot connect to {args.target}: {e}", 8)
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda *_: engine.stop())

start, sent = time.monotonic(), 0
try:
    for au in engine:
        sock.sendall(len(au).to_bytes(4, "big") + au.data)
        sent += len(au)
        now = time.monotonic()
        if now - start >= 1.0:
            print(f"[Bandwidth] ~{sent * 8 / 1000 / (now - start):.0f} kbps over last "
                  f"{now - start:.2f}s", flush=True)
            start, sent = now, 0
except h265direct.Error as e:  # the camera, file or encoder failed
    fail(f"h265direct: error: {e}", e.exit_code)
except OSError as e:
    fail(f"stream_tcp: sending to {args.target} failed: {e}", 8)
finally:
    sock.close()
