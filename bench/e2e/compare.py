#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""End-to-end comparison: h265direct against the Python + GStreamer script it replaces,
gst-launch-1.0, and the encoder alone. One command; Python 3 standard library only (the
reference itself runs under the system python3 with python3-gi).

    bench/e2e/compare.py              # builds build/ if needed; everything, 3 repetitions
    bench/e2e/compare.py --quick      # 90 frames, 1 repetition: a smoke test
    bench/e2e/compare.py --inputs motion480 --modes paced --contenders h265direct,floor --reps 1
    bench/e2e/compare.py --micro-only # only the Google Benchmark programs (bench/*_bench)

Options: --build DIR (default build), --work DIR (inputs and results, default
DIR/bench-e2e), --frames N (300), --reps N (3), --inputs, --modes, --contenders (comma
lists; defaults: all), --no-micro, --append (add to the runs in results.json), --report-only
(rewrite results.md from results.json), --self-test (check the stream splitting against
ffprobe). It prints one line per run and writes
WORK/results.json (every run's figures), WORK/results.md (the tables of docs/benchmarks.md)
and WORK/micro/*.json (Google Benchmark output).

Contenders (same input, same settings: ultrafast, zerolatency, same ABR bitrate, same
keyframe interval, 4:2:0 unless stated; each sends to a receiver in this program over TCP):
  ref444      bench/e2e/reference.py as the script is written (videoconvert negotiates Y444)
  refI420     the same with format=I420 forced before x265enc
  gstlaunch   gst-launch-1.0 fdsrc ! rawvideoparse ! videoconvert ! I420 ! x265enc ! h265parse
              ! tcpclientsink sync=false (Annex-B stream, split into access units here)
  h265direct  h265direct --input - --no-pace -t 127.0.0.1:PORT (length framing)
  python      the Python module, callback path (bench/e2e/python_engine.py): the same engine
              options, each access unit sent from a Python callback with sendall() (length
              framing); needs the module built (BUILD/python)
  floor       build/bench/x265_floor: libx265 alone on pre-converted I420, length framing
  prefetch    (only on request) the floor with a thread reading the next frame meanwhile
  inline      (only on request) h265direct --no-convert-thread: read+convert on the engine thread
  epoll       (only on request) h265direct --io epoll: the network output on the epoll backend
  publish-srt (only on request) h265direct -t as above plus --publish srt:// to a local FFmpeg
              SRT listener (MPEG-TS, discarded): the cost of publishing, against h265direct
  publish-rtsp (only on request) the same with --publish rtsp:// to FFmpeg listening for RTSP
              RECORD (-rtsp_flags listen)
  rtsp-tcp    (only on request) h265direct -t as above plus --rtsp 127.0.0.1:PORT, with one
              FFmpeg client pulling over RTSP (RTP interleaved on TCP) from when the server
              listens (its log: WORK/logs/rtsp-client-*.log): the cost of the RTSP server

Method (docs/benchmarks.md explains it at length):
- Inputs are made once: raw YUYV clips with motion (ffmpeg testsrc2, rotating, with temporal
  noise) at 640x480 and 1280x720, and h265direct's own test pattern (build/bench/dump_frames,
  the engine's pattern source) at both sizes; the floor reads the same frames converted to
  I420 beforehand by the engine's own converter (dump_frames --i420).
- A feeder (this program) writes the raw frames into a pipe that is the contender's stdin
  and records, on CLOCK_MONOTONIC, when it starts writing each frame. Frame 0 is written at
  start; "paced" then waits for the first byte at the receiver and writes frame i at
  1/30 s * i after that; "unpaced" writes frames back to back as fast as the pipe takes them.
- The receiver (this program) records the arrival time of every recv() chunk and its byte
  offset; an access unit arrives when the chunk holding its last byte arrives (length
  framing: from the prefix; Annex-B: by splitting the stream into access units afterwards).
  Latency of frame i = arrival of access unit i - feed time of frame i (matched by order;
  frame 0, which includes start-up, is left out).
- CPU time (user+sys) and peak RSS come from wait4() on the contender; "steady" CPU per
  frame from /proc/PID/stat sampled when the first and the last access unit arrive.
"""

import argparse
import bisect
import fcntl
import json
import mmap
import os
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SYSTEM_PYTHON = "/usr/bin/python3"  # the one with python3-gi
FPS = 30
KEYINT = 60  # 2 s, h265direct's default
BITRATE = {480: 1000, 720: 2000}  # kbit/s; 1000 is what the script uses at 640x480
CLK_TCK = os.sysconf("SC_CLK_TCK")

INPUTS = {
    "motion480": ("motion", 640, 480),
    "motion720": ("motion", 1280, 720),
    "pattern480": ("pattern", 640, 480),
    "pattern720": ("pattern", 1280, 720),
}
MODES = ["paced", "unpaced"]
CONTENDERS = ["ref444", "refI420", "gstlaunch", "h265direct", "python", "floor"]
LABELS = {
    "ref444": "reference script, as written (4:4:4)",
    "refI420": "reference script, I420 forced",
    "gstlaunch": "gst-launch-1.0 + tcpclientsink (I420)",
    "h265direct": "h265direct -t (length framing)",
    "python": "Python module, callback + sendall (length framing)",
    "floor": "encoder alone (libx265 on I420)",
    "prefetch": "encoder alone, next frame read during encoding (experiment)",
    "inline": "h265direct --no-convert-thread",
    "epoll": "h265direct -t, epoll backend (--io epoll)",
    "publish-srt": "h265direct -t + --publish srt:// (FFmpeg listener)",
    "publish-rtsp": "h265direct -t + --publish rtsp:// (FFmpeg listening)",
    "rtsp-tcp": "h265direct -t + --rtsp, one FFmpeg client over TCP",
}
# only when asked for with --contenders
EXTRA_CONTENDERS = ["prefetch", "inline", "epoll", "publish-srt", "publish-rtsp", "rtsp-tcp"]


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------
# Inputs


def make_inputs(args, names):
    os.makedirs(args.work, exist_ok=True)
    made = {}
    tool = os.path.join(args.build, "bench", "dump_frames")
    for name in names:
        kind, w, h = INPUTS[name]
        yuyv = os.path.join(args.work, f"{name}-{args.frames}.yuyv")
        i420 = os.path.join(args.work, f"{name}-{args.frames}.i420")
        if not os.path.exists(yuyv):
            tmp = yuyv + ".tmp"
            if kind == "motion":
                # Whole-picture motion (a slow rotation back and forth), moving parts of its
                # own, and temporal noise like a camera's: every block changes every frame.
                src = (f"testsrc2=size={w}x{h}:rate={FPS},"
                       f"rotate=a=PI/8*sin(2*PI*t/4):c=gray,noise=alls=6:allf=t")
                run_checked(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", src,
                             "-frames:v", str(args.frames), "-pix_fmt", "yuyv422",
                             "-f", "rawvideo", tmp])
            else:
                with open(tmp, "wb") as out:
                    run_checked([tool, "-s", f"{w}x{h}", "-f", "YUYV", "-n", str(args.frames)],
                                stdout=out)
            os.rename(tmp, yuyv)
        if not os.path.exists(i420):
            # The engine's own converter, so that the floor encodes the very pictures
            # h265direct gives x265.
            with open(i420 + ".tmp", "wb") as out:
                run_checked([tool, "-s", f"{w}x{h}", "-f", "YUYV", "-n", str(args.frames),
                             "--input", yuyv, "--i420"], stdout=out)
            os.rename(i420 + ".tmp", i420)
        made[name] = {"name": name, "kind": kind, "width": w, "height": h, "yuyv": yuyv,
                      "i420": i420, "bitrate": BITRATE[h]}
    return made


def run_checked(cmd, **kw):
    r = subprocess.run(cmd, **kw)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}")


# ---------------------------------------------------------------------------------------
# Contenders


def port_bound(port, tcp):
    """Whether a local socket is bound to port: TCP listening, or UDP (/proc/net)."""
    for table in (("tcp", "tcp6") if tcp else ("udp", "udp6")):
        try:
            with open(f"/proc/net/{table}") as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[1].endswith(f":{port:04X}") and (not tcp or fields[3] == "0A"):
                        return True
        except OSError:
            pass
    return False


def free_port():
    """A local TCP port free right now (bound, read, released)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def publish_server(name):
    """A local FFmpeg server for a publish contender, taking the stream and discarding it;
    returns (process, the URL to publish to) once it listens."""
    port = free_port()
    if name == "publish-srt":
        url, source, opts = f"srt://127.0.0.1:{port}", f"srt://127.0.0.1:{port}?mode=listener", []
    else:
        url = source = f"rtsp://127.0.0.1:{port}/bench"
        opts = ["-rtsp_flags", "listen"]
    proc = subprocess.Popen(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error"] + opts +
                            ["-i", source, "-c", "copy", "-f", "null", "-"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    end = time.monotonic() + 20
    while not port_bound(port, name != "publish-srt"):
        if time.monotonic() > end or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"{name}: the FFmpeg server did not start")
        time.sleep(0.01)
    return proc, url


def rtsp_client(port, logpath, started):
    """Once h265direct's RTSP server listens on port, one FFmpeg client pulling the stream
    over TCP and discarding it; the process goes into `started`."""
    end = time.monotonic() + 20
    while not port_bound(port, True):
        if time.monotonic() > end:
            return
        time.sleep(0.01)
    with open(logpath, "wb") as logfile:
        started.append(subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-rtsp_transport", "tcp", "-i",
             f"rtsp://127.0.0.1:{port}/", "-c", "copy", "-f", "null", "-"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=logfile))


def contender_cmd(args, name, inp, mode, port, publish_url=None, rtsp_port=None):
    """(argv, input file, framing, transport) of one contender."""
    w, h, b = inp["width"], inp["height"], inp["bitrate"]
    size = f"{w}x{h}"
    if name in ("ref444", "refI420", "refsource"):
        cmd = [SYSTEM_PYTHON, os.path.join(HERE, "reference.py"), "-s", size, "-r", str(FPS),
               "-b", str(b), "--keyint", str(KEYINT), "--port", str(port)]
        if name == "refI420":
            cmd += ["--format", "I420"]
        if name == "refsource":
            cmd += ["--source-only"]
        if mode == "paced":
            cmd += ["--live"]
        return cmd, inp["yuyv"], "length", "tcp"
    if name == "gstlaunch":
        # fdsrc reads up to a frame per read (its 4 KiB default would push hundreds of tiny
        # buffers per frame); sync=false: the feeder paces, and a user's live camera pipeline
        # would otherwise hold each frame for the pipeline latency as appsink does.
        cmd = ["gst-launch-1.0", "-q", "fdsrc", "fd=0", f"blocksize={w * h * 2}", "!",
               "rawvideoparse", f"width={w}", f"height={h}", "format=yuy2",
               f"framerate={FPS}/1", "!", "videoconvert", "!", "video/x-raw,format=I420", "!",
               "x265enc", f"bitrate={b}", "tune=zerolatency", "speed-preset=ultrafast",
               f"key-int-max={KEYINT}", "!", "h265parse", "!", "tcpclientsink",
               "host=127.0.0.1", f"port={port}", "sync=false"]
        return cmd, inp["yuyv"], "annexb", "tcp"
    if name in ("h265direct", "inline", "epoll", "publish-srt", "publish-rtsp", "rtsp-tcp"):
        cmd = [os.path.join(args.build, "h265direct"), "--input", "-",
               "--pixel-format", "YUYV", "-s", size, "-r", str(FPS), "--no-pace", "-b", str(b),
               "--keyint", str(KEYINT), "-q"]
        if name == "inline":
            cmd.append("--no-convert-thread")
        if name == "epoll":
            cmd += ["--io", "epoll"]
        if publish_url:
            cmd += ["--publish", publish_url]
        if rtsp_port:
            cmd += ["--rtsp", f"127.0.0.1:{rtsp_port}"]
        if args.h265direct_stdout:
            # Before the TCP output exists: the Annex-B stream on stdout, read like a socket.
            return cmd + ["-o", "-"], inp["yuyv"], "annexb", "stdout"
        return cmd + ["-t", f"127.0.0.1:{port}", "--framing", "length"], inp["yuyv"], \
            "length", "tcp"
    if name == "python":
        cmd = [SYSTEM_PYTHON, os.path.join(HERE, "python_engine.py"), "--module-dir",
               os.path.join(args.build, "python"), "-s", size, "-r", str(FPS), "-b", str(b),
               "--keyint", str(KEYINT), "--port", str(port)]
        return cmd, inp["yuyv"], "length", "tcp"
    if name in ("floor", "prefetch"):
        cmd = [os.path.join(args.build, "bench", "x265_floor"), "-s", size, "-r", str(FPS),
               "-b", str(b), "--keyint", str(KEYINT), "-t", f"127.0.0.1:{port}"]
        if name == "prefetch":
            cmd.append("--prefetch")
        return cmd, inp["i420"], "length", "tcp"
    raise ValueError(name)


def proc_cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            rest = f.read().rsplit(b")", 1)[1].split()
        return int(rest[11]) + int(rest[12])
    except (OSError, IndexError, ValueError):
        return None


def frame_bytes_of(path, inp):
    w, h = inp["width"], inp["height"]
    return w * h * 2 if path.endswith(".yuyv") else w * h * 3 // 2


def run_one(args, name, inp, mode, keep_stream=None):
    """Runs one contender on one input; returns its raw observations."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    server, publish_url = (None, None)
    if name.startswith("publish-"):
        server, publish_url = publish_server(name)
    rtsp_port = free_port() if name == "rtsp-tcp" else None
    cmd, path, framing, transport = contender_cmd(args, name, inp, mode, port, publish_url,
                                                  rtsp_port)

    fbytes = frame_bytes_of(path, inp)
    with open(path, "rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    nframes = min(args.frames, len(data) // fbytes)
    view = memoryview(data)

    rfd, wfd = os.pipe()
    try:
        fcntl.fcntl(wfd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass
    os.set_blocking(wfd, False)
    errpath = os.path.join(args.work, "logs", f"{name}-{inp['name']}-{mode}.stderr")
    os.makedirs(os.path.dirname(errpath), exist_ok=True)
    errfile = open(errpath, "wb")

    # The contender runs under rusage_exec, which reports its pid at once and its wait4()
    # figures at the end on `info`.
    info_r, info_w = os.pipe()
    launcher = os.path.join(args.build, "bench", "rusage_exec")
    t_spawn = time.monotonic_ns()
    proc = subprocess.Popen([launcher, str(info_w)] + cmd, stdin=rfd,
                            stdout=subprocess.PIPE if transport == "stdout" else subprocess.DEVNULL,
                            stderr=errfile, close_fds=True, pass_fds=(info_w,))
    os.close(rfd)
    os.close(info_w)
    info = os.fdopen(info_r, "r")
    rtsp_clients, rtsp_thread = [], None
    if rtsp_port:
        rtsp_log = os.path.join(args.work, "logs", f"rtsp-client-{inp['name']}-{mode}.log")
        rtsp_thread = threading.Thread(target=rtsp_client,
                                       args=(rtsp_port, rtsp_log, rtsp_clients))
        rtsp_thread.start()
    first = info.readline().split()
    pid = int(first[1]) if len(first) == 2 and first[0] == "pid" else proc.pid

    sel = selectors.DefaultSelector()
    conn = None
    if transport == "tcp":
        sel.register(listener, selectors.EVENT_READ, "accept")
    else:
        stream_fd = proc.stdout.fileno()
        os.set_blocking(stream_fd, False)
        sel.register(stream_fd, selectors.EVENT_READ, "data")
    received = bytearray()
    chunk_t, chunk_end, chunk_cpu = [], [], []
    feed_t = []
    cur, cur_off = 0, 0  # the frame being written, bytes of it written
    writing = False  # wfd registered for writing
    feeding_open = True
    period = 1_000_000_000 // FPS
    t_go = None
    paced = mode == "paced"
    deadline = t_spawn + int((args.timeout + nframes / FPS * 3) * 1e9)
    stream_done = False
    timed_out = False

    def due(i):
        """When frame i may be written; None while waiting for the first byte."""
        if i == 0 or not paced:
            return 0
        if t_go is None:
            return None
        return t_go + (i - 1) * period

    def close_feed():
        nonlocal feeding_open, writing
        if writing:
            sel.unregister(wfd)
            writing = False
        os.close(wfd)
        feeding_open = False

    while True:
        now = time.monotonic_ns()
        if now > deadline:
            timed_out = True
            break
        timeout = 0.2
        if feeding_open and not writing:
            if paced and t_go is None and cur > 0 and now - t_spawn > 10e9:
                t_go = now  # no first byte after 10 s: pace from here on
            d = due(cur)
            if d is not None and now >= d:
                sel.register(wfd, selectors.EVENT_WRITE, "feed")
                writing = True
                timeout = 0
            elif d is not None:
                timeout = (d - now) / 1e9
        events = sel.select(timeout)
        for key, _ in events:
            tag = key.data
            if tag == "feed":
                if len(feed_t) == cur:
                    feed_t.append(time.monotonic_ns())
                try:
                    n = os.write(wfd, view[cur * fbytes + cur_off:(cur + 1) * fbytes])
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    close_feed()
                    continue
                cur_off += n
                if cur_off == fbytes:
                    cur, cur_off = cur + 1, 0
                    if cur == nframes:
                        close_feed()
                    else:
                        d = due(cur)
                        if d is None or d > time.monotonic_ns():
                            sel.unregister(wfd)
                            writing = False
            elif tag == "accept":
                c, _ = listener.accept()
                if conn is None:
                    conn = c
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ, "data")
                else:
                    c.close()
            elif tag == "data":
                try:
                    if transport == "tcp":
                        chunk = conn.recv(1 << 20)
                    else:
                        chunk = os.read(key.fd, 1 << 20)
                except BlockingIOError:
                    continue
                t = time.monotonic_ns()
                if not chunk:
                    sel.unregister(key.fd)
                    stream_done = True
                    continue
                if t_go is None and paced:
                    t_go = t + period
                received += chunk
                chunk_t.append(t)
                chunk_end.append(len(received))
                chunk_cpu.append(proc_cpu_ticks(pid))
        if stream_done and (not feeding_open or proc.poll() is not None):
            break
        if conn is None and transport == "tcp" and proc.poll() is not None:
            break  # exited without connecting

    if timed_out:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    if feeding_open:
        close_feed()
    proc.wait()
    fields = info.read().split()
    info.close()
    ru = dict(zip(fields[0::2], (int(v) for v in fields[1::2])))
    if proc.stdout:
        proc.stdout.close()
    t_exit = time.monotonic_ns()
    sel.close()
    if conn is not None:
        conn.close()
    listener.close()
    if server is not None:
        server.terminate()
        server.wait()
    if rtsp_thread is not None:
        rtsp_thread.join()
        for client in rtsp_clients:
            client.terminate()
            client.wait()
        if not rtsp_clients:
            log(f"{name}: the RTSP client could not start")
    errfile.close()
    view.release()
    data.close()

    if framing == "length":
        aus = split_length(received)
    else:
        aus = split_annexb(received)
    if keep_stream:
        with open(keep_stream, "wb") as out:
            for s, e, p in aus:
                out.write(received[p:e])
    keys = [is_irap(received, p, e) for _, e, p in aus]
    return {
        "au_key": keys,
        "contender": name, "input": inp["name"], "mode": mode, "frames_fed": len(feed_t),
        "frames": nframes, "rc": ru.get("status", proc.returncode), "timed_out": timed_out,
        "t_spawn": t_spawn, "t_exit": t_exit, "feed_t": feed_t,
        "au": [(p, e) for _, e, p in aus],  # payload start, end offsets
        "chunk_t": chunk_t, "chunk_end": chunk_end, "chunk_cpu": chunk_cpu,
        "utime": ru.get("utime_us", 0) / 1e6, "stime": ru.get("stime_us", 0) / 1e6,
        "maxrss_kb": ru.get("maxrss_kb", 0),
        "stderr": errpath, "bytes": len(received),
    }


def is_irap(buf, start, end):
    """Whether the first slice of the access unit in buf[start:end] is IDR/CRA/BLA."""
    i = buf.find(b"\x00\x00\x01", start, end)
    while 0 <= i < end - 4:
        t = (buf[i + 3] >> 1) & 0x3F
        if t < 32:
            return 16 <= t <= 23
        i = buf.find(b"\x00\x00\x01", i + 3, end)
    return False


def split_length(buf):
    """[(frame start, frame end, payload start)] of a 4-byte big-endian length stream."""
    aus, pos = [], 0
    while pos + 4 <= len(buf):
        n = int.from_bytes(buf[pos:pos + 4], "big")
        if pos + 4 + n > len(buf):
            break
        aus.append((pos, pos + 4 + n, pos + 4))
        pos += 4 + n
    return aus


def split_annexb(buf):
    """[(start, end, start)] of the access units of an HEVC Annex-B stream."""
    nals = []  # (start of the start code, NAL header offset)
    i = buf.find(b"\x00\x00\x01")
    while i >= 0:
        start = i - 1 if i > 0 and buf[i - 1] == 0 else i
        nals.append((start, i + 3))
        i = buf.find(b"\x00\x00\x01", i + 3)
    starts = []
    have_vcl = False
    for start, hdr in nals:
        if hdr + 2 >= len(buf):
            continue
        t = (buf[hdr] >> 1) & 0x3F
        if t < 32:  # VCL
            first_slice = buf[hdr + 2] & 0x80
            if first_slice and (have_vcl or not starts):
                if not starts or have_vcl:
                    starts.append(start)
            have_vcl = True
        elif t in (32, 33, 34, 35, 39) or 41 <= t <= 44 or 48 <= t <= 55:
            if have_vcl or not starts:
                starts.append(start)
                have_vcl = False
    aus = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(buf)
        aus.append((s, e, s))
    return aus


# ---------------------------------------------------------------------------------------
# Figures


def percentile(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def figures(raw):
    n_au = len(raw["au"])
    n = min(n_au, raw["frames_fed"])
    ct, ce = raw["chunk_t"], raw["chunk_end"]
    arrival = []
    for _, end in raw["au"][:n]:
        k = bisect.bisect_left(ce, end)
        arrival.append(ct[k])
    res = {"contender": raw["contender"], "input": raw["input"], "mode": raw["mode"],
           "access_units": n_au, "frames": raw["frames"], "rc": raw["rc"],
           "timed_out": raw["timed_out"]}
    cpu = raw["utime"] + raw["stime"]
    res["cpu_ms_per_frame"] = cpu * 1000 / max(1, raw["frames"])
    res["sys_ms_per_frame"] = raw["stime"] * 1000 / max(1, raw["frames"])
    res["rss_mb"] = raw["maxrss_kb"] / 1024
    res["ttfb_ms"] = (ct[0] - raw["t_spawn"]) / 1e6 if ct else None
    if n >= 2:
        span = arrival[-1] - arrival[0]
        res["fps"] = (n - 1) * 1e9 / span if span > 0 else None
        lat = [(arrival[i] - raw["feed_t"][i]) / 1e6 for i in range(1, n)]
        # Unpaced, frames wait in the pipe behind each other: that is queueing, not latency.
        key = "lat" if raw["mode"] == "paced" else "queued_lat"
        res["latencies_ms"] = [round(v, 3) for v in lat]
        res["au_bytes"] = [e - p for p, e in raw["au"][:n]]
        res[key + "_p50_ms"] = percentile(lat, 50)
        res[key + "_p99_ms"] = percentile(lat, 99)
        res[key + "_max_ms"] = max(lat)
        if raw["mode"] == "paced":
            # Keyframes (IRAP access units, about every KEYINT frames) cost more to encode and
            # send: 1 in 60 frames is more than 1%, so p99 is a keyframe's latency; show both
            # kinds apart.
            keys = raw["au_key"]
            key_lat = [lat[i - 1] for i in range(1, n) if keys[i]]
            other = [lat[i - 1] for i in range(1, n) if not keys[i]]
            res["keyframes"] = sum(1 for i in range(1, n) if keys[i])
            res["lat_key_p50_ms"] = percentile(key_lat, 50)
            res["lat_other_p99_ms"] = percentile(other, 99)
        # Steady CPU: between the chunks that completed the first and the last access unit.
        k0 = bisect.bisect_left(ce, raw["au"][0][1])
        k1 = bisect.bisect_left(ce, raw["au"][n - 1][1])
        c0, c1 = raw["chunk_cpu"][k0], raw["chunk_cpu"][k1]
        if c0 is not None and c1 is not None and n > 1:
            res["cpu_steady_ms_per_frame"] = (c1 - c0) * 1000 / CLK_TCK / (n - 1)
    skip = 2 * FPS
    if n > skip:
        payload = sum(e - p for p, e in raw["au"][skip:n])
        res["kbps"] = payload * 8 / ((n - skip) / FPS) / 1000
    return res


def run_micro(args):
    outdir = os.path.join(args.work, "micro")
    os.makedirs(outdir, exist_ok=True)
    benchdir = os.path.join(args.build, "bench")
    results = {}
    for name in sorted(os.listdir(benchdir)) if os.path.isdir(benchdir) else []:
        path = os.path.join(benchdir, name)
        if not name.endswith("_bench") or not os.access(path, os.X_OK):
            continue
        out = os.path.join(outdir, name + ".json")
        log(f"micro: {name}")
        r = subprocess.run([path, "--benchmark_format=json", f"--benchmark_out={out}",
                            "--benchmark_out_format=json"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=900)
        if r.returncode != 0:
            log(f"micro: {name} failed: {r.stderr.decode(errors='replace')[-500:]}")
            continue
        with open(out) as f:
            results[name] = json.load(f)
    return results


# ---------------------------------------------------------------------------------------
# Tables

METRICS = [
    ("fps", "fps", "{:.0f}"),
    ("cpu_ms_per_frame", "CPU ms/frame", "{:.2f}"),
    ("cpu_steady_ms_per_frame", "CPU steady ms/frame", "{:.2f}"),
    ("sys_ms_per_frame", "of which system ms/frame", "{:.2f}"),
    ("rss_mb", "peak RSS MB", "{:.0f}"),
    ("ttfb_ms", "first byte ms", "{:.0f}"),
    ("kbps", "kbit/s", "{:.0f}"),
    ("lat_p50_ms", "latency p50 ms", "{:.1f}"),
    ("lat_p99_ms", "latency p99 ms", "{:.1f}"),
    ("lat_key_p50_ms", "keyframes' latency p50 ms", "{:.1f}"),
    ("lat_other_p99_ms", "other frames' latency p99 ms", "{:.1f}"),
]


def metrics_for(mode):
    """Unpaced runs have no latency (frames queue in the pipe)."""
    return [m for m in METRICS if mode == "paced" or not m[0].startswith("lat")]


def fmt(v, f):
    return "–" if v is None else f.format(v)


def median_or_none(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def tables(results, args):
    lines = []
    groups = {}
    for r in results:
        groups.setdefault((r["input"], r["mode"]), []).append(r)
    for (inp, mode), runs in sorted(groups.items(), key=lambda kv: (list(INPUTS).index(kv[0][0]), MODES.index(kv[0][1]))):
        reps = sorted({r["rep"] for r in runs})
        metrics = metrics_for(mode)
        lines.append(f"\n#### {inp}, {mode} ({INPUTS[inp][1]}x{INPUTS[inp][2]}, "
                     f"{BITRATE[INPUTS[inp][2]]} kbit/s, keyint {KEYINT}, {args.frames} frames, "
                     f"median of {len(reps)})\n")
        names = [c for c in CONTENDERS + EXTRA_CONTENDERS
                 if any(r["contender"] == c for r in runs)]
        lines.append("| contender | " + " | ".join(m[1] for m in metrics) + " |")
        lines.append("|---|" + "---|" * len(metrics))
        by = {(r["contender"], r["rep"]): r for r in runs}
        for c in names:
            cells = []
            for key, _, f in metrics:
                cells.append(fmt(median_or_none([by[(c, k)].get(key) for k in reps
                                                 if (c, k) in by]), f))
            bad = [r for r in runs if r["contender"] == c and (r["rc"] != 0 or r["timed_out"]
                                                              or r["access_units"] != r["frames"])]
            note = " ⚠" if bad else ""
            lines.append(f"| {LABELS[c]}{note} | " + " | ".join(cells) + " |")
        # The Python module against the program it wraps, when both ran.
        for base in ("ref444", "floor") + (("h265direct",) if "python" in names else ()):
            if base not in names:
                continue
            lines.append(f"\nRatios to {LABELS[base]}, same run (median over repetitions):\n")
            lines.append("| contender | " + " | ".join(m[1] for m in metrics) + " |")
            lines.append("|---|" + "---|" * len(metrics))
            for c in names:
                if c == base:
                    continue
                cells = []
                for key, _, _ in metrics:
                    ratios = []
                    for k in reps:
                        a, b = by.get((c, k), {}).get(key), by.get((base, k), {}).get(key)
                        if a is not None and b:
                            ratios.append(a / b)
                    cells.append(fmt(median_or_none(ratios), "{:.2f}×"))
                lines.append(f"| {LABELS[c]} | " + " | ".join(cells) + " |")
        warn = [r for r in runs if r["rc"] != 0 or r["timed_out"]
                or r["access_units"] != r["frames"]]
        for r in warn:
            lines.append(f"\n⚠ {r['contender']} rep {r['rep']}: rc {r['rc']}, "
                         f"{r['access_units']} access units for {r['frames']} frames"
                         + (", timed out" if r["timed_out"] else ""))
    return "\n".join(lines) + "\n"


def target_table(results):
    """h265direct against each issue-5 target, per input and mode (median of the per-
    repetition ratios, the reference and the floor taken from the same repetition)."""
    by = {}
    for r in results:
        by[(r["input"], r["mode"], r["contender"], r["rep"])] = r

    def ratio(inp, mode, key, base, fn=None, who="h265direct"):
        vals = []
        for (i, m, c, k), r in by.items():
            if (i, m, c) != (inp, mode, who):
                continue
            b = by.get((inp, mode, base, k))
            if b is None or r.get(key) is None or not b.get(key):
                continue
            vals.append(fn(r, b) if fn else r[key] / b[key])
        return median_or_none(vals)

    def own(inp, mode, fn):
        vals = [fn(r) for (i, m, c, k), r in by.items()
                if (i, m, c) == (inp, mode, "h265direct")]
        return median_or_none([v for v in vals if v is not None])

    rows = []
    combos = sorted({(r["input"], r["mode"]) for r in results},
                    key=lambda im: (list(INPUTS).index(im[0]), MODES.index(im[1])))
    for inp, mode in combos:
        req = BITRATE[INPUTS[inp][2]]
        checks = [
            ("CPU/frame ≤ 1.03× floor", ratio(inp, mode, "cpu_ms_per_frame", "floor"), 1.03,
             "le", ratio(inp, mode, "cpu_steady_ms_per_frame", "floor")),
            ("CPU/frame ≤ 0.75× reference", ratio(inp, mode, "cpu_ms_per_frame", "ref444"), 0.75,
             "le", ratio(inp, mode, "cpu_steady_ms_per_frame", "ref444")),
            ("peak RSS ≤ 1.1× floor", ratio(inp, mode, "rss_mb", "floor"), 1.1, "le", None),
            ("peak RSS ≤ 0.55× reference", ratio(inp, mode, "rss_mb", "ref444"), 0.55, "le",
             None),
            ("first byte ≤ 0.5× reference", ratio(inp, mode, "ttfb_ms", "ref444"), 0.5, "le",
             None),
            ("bitrate within ±5% of requested", own(inp, mode, lambda r: r.get("kbps") and
                                                    r["kbps"] / req), (0.95, 1.05), "in", None),
        ]
        if mode == "paced":
            checks += [
                ("latency p50 ≤ 0.5× reference", ratio(inp, mode, "lat_p50_ms", "ref444"), 0.5,
                 "le", None),
                ("latency p50 ≤ floor's p50 + 2 ms",
                 ratio(inp, mode, "lat_p50_ms", "floor",
                       lambda r, b: r["lat_p50_ms"] - b["lat_p50_ms"]), 2.0, "le_ms", None),
                ("latency p99 ≤ 2× p50", own(inp, mode, lambda r: r.get("lat_p99_ms") and
                                            r["lat_p99_ms"] / r["lat_p50_ms"]), 2.0, "le",
                 None),
            ]
        else:
            checks.append(("throughput ≥ floor", ratio(inp, mode, "fps", "floor"), 1.0, "ge",
                           None))
        # The Python module's callback path (the `python` contender) against the program.
        checks += [
            ("Python module: CPU/frame ≤ 1.05× h265direct",
             ratio(inp, mode, "cpu_ms_per_frame", "h265direct", who="python"), 1.05, "le",
             ratio(inp, mode, "cpu_steady_ms_per_frame", "h265direct", who="python")),
        ]
        for name, v, lim, how, extra in checks:
            if v is None:
                continue
            if how == "in":
                ok = lim[0] <= v <= lim[1]
            elif how == "ge":
                ok = v >= lim
            else:
                ok = v <= lim
            shown = f"{v:+.1f} ms" if how == "le_ms" else f"{v:.2f}×"
            if extra is not None:
                shown += f" (steady {extra:.2f}×)"
            rows.append(f"| {inp} {mode} | {name} | {shown} | {'yes' if ok else '**no**'} |")
    return ("\n| input | target | h265direct | met |\n|---|---|---|---|\n" + "\n".join(rows)
            + "\n")


def micro_table(micro):
    lines = ["\n| program | benchmark | time/iter | CPU/iter | throughput |", "|---|---|---|---|---|"]
    for prog, data in sorted(micro.items()):
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            unit = b.get("time_unit", "ns")
            thr = []
            if "bytes_per_second" in b:
                thr.append(f"{b['bytes_per_second'] / 1e6:.0f} MB/s")
            if "items_per_second" in b:
                thr.append(f"{b['items_per_second']:.0f} items/s")
            lines.append(f"| {prog} | {b['name']} | {b['real_time']:.3g} {unit} | "
                         f"{b['cpu_time']:.3g} {unit} | {', '.join(thr)} |")
    return "\n".join(lines) + "\n"


def machine_info():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""
    cpu = {}
    for line in out(["lscpu"]).splitlines():
        k, _, v = line.partition(":")
        cpu[k.strip()] = v.strip()
    pkgs = out(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "libx265-199",
                "libswscale6", "liburing2", "gstreamer1.0-plugins-bad", "libgstreamer1.0-0",
                "python3-gi", "ffmpeg", "libbenchmark1debian"])
    osname = ""
    try:
        with open("/etc/os-release") as f:
            osname = dict(l.rstrip().split("=", 1) for l in f if "=" in l).get(
                "PRETTY_NAME", "").strip('"')
    except OSError:
        pass
    lines = [f"- CPU: {cpu.get('Model name', '?')}, {cpu.get('CPU(s)', '?')} CPUs "
             f"({cpu.get('Hypervisor vendor', 'bare metal')} guest), L2 {cpu.get('L2 cache', '?')}",
             f"- OS: {osname}, kernel {os.uname().release}",
             f"- Packages: " + ", ".join(pkgs.splitlines()),
             f"- Memory: {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB"]
    return "\n".join(lines) + "\n"


def ensure_built(args):
    needed = [os.path.join(args.build, "h265direct"),
              os.path.join(args.build, "python", "h265direct", "__init__.py")] + [
        os.path.join(args.build, "bench", t) for t in ("x265_floor", "rusage_exec", "dump_frames")]
    if all(os.path.exists(p) for p in needed):
        return
    log(f"building in {args.build} (Release-like RelWithDebInfo, no tests)")
    run_checked(["cmake", "-S", ROOT, "-B", args.build, "-DH265D_BUILD_TESTS=OFF"])
    run_checked(["cmake", "--build", args.build, "-j2"])


def probe(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "stream=profile,pix_fmt,width,height", "-of", "csv=p=0", "-f", "hevc",
                        path], capture_output=True, text=True)
    return r.stdout.strip() or r.stderr.strip()[-200:]


def self_test(args):
    """Checks the stream splitting and the statistics against ffmpeg/ffprobe."""
    os.makedirs(args.work, exist_ok=True)
    path = os.path.join(args.work, "selftest.h265")
    run_checked(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                 "testsrc2=size=320x240:rate=30", "-frames:v", "45", "-c:v", "libx265",
                 "-x265-params", "log-level=error:keyint=20:repeat-headers=1", "-f", "hevc", path])
    with open(path, "rb") as f:
        buf = f.read()
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=size,flags",
                        "-of", "csv=p=0", "-f", "hevc", path], capture_output=True, text=True)
    packets = [line.split(",") for line in r.stdout.split()]
    expected = len(packets)
    expected_keys = [i for i, (_, flags) in enumerate(packets) if "K" in flags]
    aus = split_annexb(buf)
    failures = []
    if len(aus) != expected:
        failures.append(f"Annex-B split: {len(aus)} access units, ffprobe counts {expected}")
    if b"".join(buf[p:e] for _, e, p in aus) != buf[aus[0][0]:]:
        failures.append("Annex-B split: the access units do not tile the stream")
    keys = [is_irap(buf, p, e) for _, e, p in aus]
    if [i for i, k in enumerate(keys) if k] != expected_keys:
        failures.append(f"keyframes at {[i for i, k in enumerate(keys) if k]}, ffprobe says "
                        f"{expected_keys}")
    # FFmpeg's parser gives the zero_byte of a 4-byte start code to the access unit before
    # it; here it belongs to the one it starts (as in the Annex-B syntax). Same totals, and
    # every access unit between the first and the last the same size.
    sizes = [e - p for _, e, p in aus]
    theirs = [int(size) for size, _ in packets]
    if sizes[1:-1] != theirs[1:-1] or sum(sizes) != sum(theirs):
        failures.append("access unit sizes differ from ffprobe's packet sizes")
    framed = b"".join(len(buf[p:e]).to_bytes(4, "big") + buf[p:e] for _, e, p in aus)
    back = split_length(framed + b"\x00\x00")  # a trailing partial prefix is ignored
    if [framed[p:e] for _, e, p in back] != [buf[p:e] for _, e, p in aus]:
        failures.append("length split does not give the access units back")
    if percentile(list(range(1, 101)), 50) != 50 or percentile(list(range(1, 101)), 99) != 99:
        failures.append("nearest-rank percentile")
    if percentile([5.0], 99) != 5.0:
        failures.append("percentile of one value")
    for f in failures:
        log("FAIL " + f)
    log(f"self-test: {len(aus)} access units, {sum(keys)} keyframes, "
        f"{'failed' if failures else 'ok'}")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description="h265direct end-to-end comparison",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--inputs", default=",".join(INPUTS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--contenders", default=",".join(CONTENDERS))
    ap.add_argument("--timeout", type=float, default=30.0, help="extra seconds per run")
    ap.add_argument("--quick", action="store_true", help="90 frames, 1 repetition")
    ap.add_argument("--no-micro", action="store_true")
    ap.add_argument("--micro-only", action="store_true")
    ap.add_argument("--self-test", action="store_true",
                    help="check the stream splitting against ffprobe and exit")
    ap.add_argument("--append", action="store_true",
                    help="add to the runs already in results.json (same --frames)")
    ap.add_argument("--report-only", action="store_true",
                    help="only rewrite results.md from results.json (e.g. after an interrupted run)")
    ap.add_argument("--h265direct-stdout", action="store_true",
                    help="read h265direct's stream from its stdout (-o -) instead of TCP")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if args.quick:
        args.frames, args.reps = 90, 1
    args.work = os.path.abspath(args.work or os.path.join(args.build, "bench-e2e"))
    os.makedirs(args.work, exist_ok=True)

    if args.self_test:
        return self_test(args)
    if not args.report_only:
        ensure_built(args)
    micro = {}
    if (not args.no_micro or args.micro_only) and not args.report_only:
        micro = run_micro(args)
        with open(os.path.join(args.work, "micro.md"), "w") as f:
            f.write(micro_table(micro))
        log(micro_table(micro))
    if args.micro_only:
        return 0

    if args.report_only:
        with open(os.path.join(args.work, "results.json")) as f:
            saved = json.load(f)
        args.frames = saved["frames"]
        report(args, saved["runs"], saved.get("source_costs", {}),
               {(c, i, m): p for c, i, m, p in saved.get("checked", [])})
        return 0
    inputs = make_inputs(args, [i for i in args.inputs.split(",") if i])
    contenders = [c for c in args.contenders.split(",") if c]
    for c in contenders:
        if c not in CONTENDERS + EXTRA_CONTENDERS:
            sys.exit(f"unknown contender {c} ({', '.join(CONTENDERS)})")
    results = []
    checked = {}
    source_costs = {}
    if args.append and os.path.exists(os.path.join(args.work, "results.json")):
        with open(os.path.join(args.work, "results.json")) as f:
            saved = json.load(f)
        if saved["frames"] == args.frames:
            results = saved["runs"]
            source_costs = saved.get("source_costs", {})
            checked = {(c, i, m): p for c, i, m, p in saved.get("checked", [])}
    for inp_name, inp in inputs.items():
        for mode in [m for m in args.modes.split(",") if m]:
            if mode == "unpaced" and "ref444" in contenders:
                raw = run_one(args, "refsource", inp, mode)
                source_costs[inp_name] = (raw["utime"] + raw["stime"]) * 1000 / raw["frames"]
                log(f"{inp_name:10} {mode:7} refsource  cpu_ms_per_frame="
                    f"{source_costs[inp_name]:.2f} rss_mb={raw['maxrss_kb'] / 1024:.0f}")
            for rep in range(args.reps):
                # Rotate the order so that no contender always runs first (cold caches) or
                # last.
                order = contenders[rep % len(contenders):] + contenders[:rep % len(contenders)]
                for c in order:
                    if c == "prefetch" and mode == "paced":
                        continue  # a throughput experiment
                    keep = None
                    if rep == 0:
                        keep = os.path.join(args.work, "streams", f"{c}-{inp_name}-{mode}.h265")
                        os.makedirs(os.path.dirname(keep), exist_ok=True)
                    raw = run_one(args, c, inp, mode, keep_stream=keep)
                    fig = figures(raw)
                    fig["rep"] = rep
                    if keep:
                        fig["probe"] = probe(keep)
                        checked[(c, inp_name, mode)] = fig["probe"]
                    results.append(fig)
                    log(f"{inp_name:10} {mode:7} rep {rep} {c:10} "
                        + " ".join(f"{k}={fmt(fig.get(k), f)}" for k, _, f in METRICS)
                        + f" au={fig['access_units']}/{fig['frames']} rc={fig['rc']}"
                        + (f" [{fig['probe']}]" if keep else ""))
                    save(args, results, source_costs, checked)
    save(args, results, source_costs, checked)
    report(args, results, source_costs, checked)
    return 0


def save(args, results, source_costs, checked):
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump({"frames": args.frames, "reps": args.reps, "runs": results,
                   "source_costs": source_costs,
                   "checked": [[c, i, m, p] for (c, i, m), p in checked.items()]}, f, indent=1)


def report(args, results, source_costs, checked):
    md = "### Machine\n\n" + machine_info() + tables(results, args)
    if any(r["contender"] == "h265direct" for r in results):
        md += "\n### h265direct against the targets\n" + target_table(results)
    if source_costs:
        md += ("\nCost of the reference's stand-in for v4l2src (reading stdin into appsrc, "
               "`reference.py --source-only`, unpaced, whole process incl. start-up): "
               + "; ".join(f"{k}: {v:.2f} ms CPU/frame" for k, v in source_costs.items())
               + ".\n")
    md += "\nStreams as received (ffprobe: profile, pix_fmt, size):\n\n"
    for (c, i, m), p in sorted(checked.items()):
        md += f"- {c} {i} {m}: {p}\n"
    with open(os.path.join(args.work, "results.md"), "w") as f:
        f.write(md)
    log(md)


if __name__ == "__main__":
    sys.exit(main())
