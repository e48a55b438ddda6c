#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The reference of the end-to-end comparison: the Python + GStreamer camera script that
h265direct replaces, reproduced from its description (docs/benchmarks.md, "The reference"),
with the camera replaced by raw YUYV frames read from stdin.

    /usr/bin/python3 bench/e2e/reference.py -s 640x480 -r 30 -b 1000 --keyint 60 \
        --port 5005 [--format I420] [--live] < clip.yuyv

Pipeline, as the script builds it (v4l2src replaced by appsrc):

    appsrc ! video/x-raw,width=W,height=H,framerate=R/1 ! videoconvert
      [! video/x-raw,format=I420]   (only with --format I420; as written it negotiates Y444)
      ! x265enc bitrate=B tune=zerolatency speed-preset=ultrafast key-int-max=K
      ! h265parse ! appsink name=appsink emit-signals=true max-buffers=1 drop=true

What it keeps from the script:
- appsink keeps its default sync=true: each access unit reaches the callback only when the
  pipeline clock reaches its timestamp plus the pipeline latency. That is what the script
  measures. With --live the source behaves like v4l2src: a live source that timestamps each
  frame when it delivers it and reports one frame period of latency, so appsink holds each
  access unit until about one frame period after its capture. Without --live (the unpaced,
  maximum-throughput runs) the source is not live and reports no latency, so the sync never
  holds a frame: timestamps are taken at delivery and are already due.
- It connects once before starting; if that fails it prints a hint and runs without sending.
  A send error is printed and ignored. Every access unit is sent as a 4-byte big-endian
  length followed by its bytes, in one sendall() on a default socket (Nagle's algorithm on).
- One line per frame on stdout, and a bandwidth line once a second.
- Its bus watch is attached to a main loop that never runs.

What differs, for the benchmark only:
- The frames come from stdin: a reader thread reads each whole frame and pushes it into
  appsrc (one copy into a GStreamer buffer, which v4l2src's mmap capture does not make).
- At the end of the input it sends end-of-stream, waits for it, and exits (the script runs
  until Ctrl+C).
"""

import argparse
import os
import socket
import struct
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-s", "--size", default="640x480", help="WxH of the raw YUYV frames")
    ap.add_argument("-r", "--fps", type=int, default=30)
    ap.add_argument("-b", "--bitrate", type=int, default=1000, help="x265enc bitrate, kbit/s")
    ap.add_argument("--keyint", type=int, default=0, help="x265enc key-int-max (0 = x265's 250)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5005)
    ap.add_argument("--format", default="", help="force this format before x265enc (I420)")
    ap.add_argument("--live", action="store_true", help="behave like v4l2src (live source)")
    ap.add_argument("--source-only", action="store_true",
                    help="appsrc ! fakesink: what reading stdin into GStreamer costs alone")
    return ap.parse_args()


def main():
    args = parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    frame_bytes = width * height * 2
    Gst.init(None)

    forced = f"video/x-raw,format={args.format} ! " if args.format else ""
    encode = (
        f"videoconvert ! {forced}x265enc bitrate={args.bitrate} tune=zerolatency "
        f"speed-preset=ultrafast key-int-max={args.keyint} ! h265parse ! "
        "appsink name=appsink emit-signals=true max-buffers=1 drop=true"
    )
    if args.source_only:
        encode = "fakesink sync=false"
    pipeline = Gst.parse_launch(
        f"appsrc name=src ! video/x-raw,width={width},height={height},"
        f"framerate={args.fps}/1 ! {encode}"
    )
    src = pipeline.get_by_name("src")
    # The fields v4l2src always sets. interlace-mode matters: without it videoconvert
    # fixates YUY2 -> x265enc to Y42B (4:2:2); with it, as from a camera, to Y444 (4:4:4).
    src.set_property(
        "caps",
        Gst.Caps.from_string(
            f"video/x-raw,format=YUY2,width={width},height={height},framerate={args.fps}/1,"
            "pixel-aspect-ratio=1/1,interlace-mode=progressive"
        ),
    )
    src.set_property("format", Gst.Format.TIME)
    # Live: basesrc stamps each buffer with the running time when it hands it on, as v4l2src
    # does. Not live: the reader stamps it with the running time when it was read (basesrc's
    # own stamping leaves the prerolled first buffer without one, which x265enc mishandles).
    src.set_property("do-timestamp", args.live)
    src.set_property("is-live", args.live)
    src.set_property("block", True)
    src.set_property("max-bytes", frame_bytes)
    if args.live:
        # v4l2src reports one frame period of minimum latency.
        src.set_property("min-latency", Gst.SECOND // args.fps)

    sock = None
    try:
        sock = socket.create_connection((args.host, args.port))
    except OSError as e:
        print(f"[TCP] Could not connect to {args.host}:{args.port} ({e}); is the receiver "
              "running? Continuing without sending.")

    window = {"start": time.time(), "bytes": 0}

    def on_new_sample(sink):
        sample = sink.emit("pull-sample")
        if sample is None:
            return Gst.FlowReturn.OK
        buf = sample.get_buffer()
        st = sample.get_caps().get_structure(0)
        _, num, den = st.get_fraction("framerate")
        data = buf.extract_dup(0, buf.get_size())
        if sock is not None:
            try:
                sock.sendall(struct.pack(">I", len(data)) + data)
            except OSError as e:
                print(f"[TCP] Send error: {e}")
        pts = buf.pts / Gst.SECOND if buf.pts != Gst.CLOCK_TIME_NONE else 0.0
        print(f"[Frame] Time: {pts:.3f} | Resolution: {st.get_value('width')}x"
              f"{st.get_value('height')} | Framerate: {num}/{den} | Encoded Bytes: {len(data)}")
        window["bytes"] += len(data)
        now = time.time()
        if now - window["start"] >= 1.0:
            span = now - window["start"]
            print(f"[Bandwidth] ~{window['bytes'] * 8 / span / 1000:.0f} kbps over last "
                  f"{span:.2f}s")
            window["start"], window["bytes"] = now, 0
        return Gst.FlowReturn.OK

    if not args.source_only:
        pipeline.get_by_name("appsink").connect("new-sample", on_new_sample)

    loop = GLib.MainLoop()  # never run, as in the script

    def on_message(_bus, message, _loop):
        if message.type == Gst.MessageType.ERROR:
            err, dbg = message.parse_error()
            print(f"[GStreamer] Error: {err} {dbg}")
        return True

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message, loop)

    last = {"pts": -1}

    def stamp():
        pts = 0
        clock = pipeline.get_clock()
        if clock is not None and pipeline.get_state(0)[1] == Gst.State.PLAYING:
            pts = max(0, clock.get_time() - pipeline.get_base_time())
        last["pts"] = max(pts, last["pts"] + 1)
        return last["pts"]

    def reader():
        frame = bytearray(frame_bytes)
        view = memoryview(frame)
        while True:
            have = 0
            while have < frame_bytes:
                n = os.readv(0, [view[have:]])
                if n == 0:
                    break
                have += n
            if have < frame_bytes:
                break
            buf = Gst.Buffer.new_wrapped(bytes(frame))
            if not args.live:
                buf.pts = stamp()
            if src.emit("push-buffer", buf) != Gst.FlowReturn.OK:
                break
        src.emit("end-of-stream")

    pipeline.set_state(Gst.State.PLAYING)
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join()
    msg = bus.timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    rc = 0
    if msg is None or msg.type == Gst.MessageType.ERROR:
        print("[GStreamer] no end-of-stream: " + (str(msg.parse_error()) if msg else "timeout"),
              file=sys.stderr)
        rc = 1
    pipeline.set_state(Gst.State.NULL)
    if sock is not None:
        sock.close()
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
