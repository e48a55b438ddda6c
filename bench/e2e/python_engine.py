#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The `python` contender of the end-to-end comparison (compare.py): h265direct's Python
module on its callback path, doing what examples/stream_tcp.py does. Raw YUYV frames from
stdin, as fast as they come; every access unit goes to a Python callback that sends it with
the 4-byte big-endian length framing on a TCP socket (TCP_NODELAY, as the program's output).

    /usr/bin/python3 bench/e2e/python_engine.py --module-dir build/python -s 640x480 -r 30 \
        -b 1000 --keyint 60 --port 5005 < clip.yuyv
"""

import argparse
import socket
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module-dir", required=True, help="the folder holding h265direct/")
    ap.add_argument("-s", "--size", default="640x480")
    ap.add_argument("-r", "--fps", default="30")
    ap.add_argument("-b", "--bitrate", default="1000")
    ap.add_argument("--keyint", default="60")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    sys.path.insert(0, args.module_dir)
    import h265direct

    engine = h265direct.Engine(input="-", pixel_format="YUYV", size=args.size, fps=args.fps,
                               no_pace=True, bitrate=args.bitrate, keyint=args.keyint,
                               quiet=True)
    sock = socket.create_connection(("127.0.0.1", args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    send = sock.sendall

    def on_access_unit(au):
        send(len(au).to_bytes(4, "big") + au.data)

    engine.on_access_unit(on_access_unit)
    engine.run()
    sock.close()


if __name__ == "__main__":
    main()
