#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Where the CPU of publishing goes: h265direct -t alone against h265direct -t plus
--publish srt://, --publish rtsp://, or --rtsp with one client, sampled with perf.

Usage: bench/e2e/publish_cost.py [--program build/h265direct] [--seconds 20] [--repeat 3]

Each run streams the paced 640x480 test pattern at 1000 kbit/s, 30 fps, for --seconds to a
local h265direct-receiver (-t, length framing), and for the publish runs also to a local
FFmpeg server that discards what it gets (SRT listener; RTSP listening for RECORD), or,
for the RTSP server (--rtsp), to one FFmpeg client pulling over TCP and discarding. `perf
record -F 1000` samples the whole h265direct process (every thread), so one sample is about
1 ms of CPU. The encoder does the same work in every run, but its CPU varies from run to run
on a shared machine by more than publishing costs; so the samples in libx265 are counted
apart, and the cost of publishing is the growth of everything else (our code, libc, the
kernel, libavformat, libsrt and its threads, the dynamic loader) per frame, against the
median run without publishing. Needs perf (Debian: linux-perf) and FFmpeg.
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time

from compare import free_port

FPS = 30


def wait_bound(port, tcp, proc, what):
    """Waits until something listens on the port (TCP) or has bound it (UDP)."""
    end = time.monotonic() + 20
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} ended before listening")
        path = "/proc/net/tcp" if tcp else "/proc/net/udp"
        with open(path) as f:
            if any(f":{port:04X} " in line for line in f):
                return
        time.sleep(0.02)
    raise RuntimeError(f"{what} did not listen on {port}")


def samples(data, key):
    """{name: samples} from perf report sorted by key (dso or comm)."""
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "-n", "--sort", key,
                          "--stdio"], capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        m = re.match(r"\s+[\d.]+%\s+(\d+)\s+(.+?)\s*$", line)
        if m:
            result[m.group(2)] = result.get(m.group(2), 0) + int(m.group(1))
    return result


def run(args, kind, tmp, index):
    port = free_port()
    receiver = subprocess.Popen([args.receiver, "-l", f"127.0.0.1:{port}", "-o", "/dev/null",
                                 "--once", "-q"], stderr=subprocess.DEVNULL)
    wait_bound(port, True, receiver, "h265direct-receiver")
    server = None
    cmd = [args.program, "--pattern", "-s", "640x480", "-r", str(FPS), "-b", "1000",
           "--frames", str(args.seconds * FPS), "-q", "-t", f"127.0.0.1:{port}",
           "--framing", "length"]
    client = None
    if kind == "rtsp-server":
        sport = free_port()
        cmd += ["--rtsp", f"127.0.0.1:{sport}"]
    elif kind != "raw":
        sport = free_port()
        if kind == "srt":
            source, url, opts = (f"srt://127.0.0.1:{sport}?mode=listener",
                                 f"srt://127.0.0.1:{sport}", [])
        else:
            source = url = f"rtsp://127.0.0.1:{sport}/cost"
            opts = ["-rtsp_flags", "listen"]
        server = subprocess.Popen(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error"] +
                                  opts + ["-i", source, "-c", "copy", "-f", "null", "-"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        wait_bound(sport, kind == "rtsp", server, "the FFmpeg server")
        cmd += ["--publish", url]
    data = os.path.join(tmp, f"{kind}{index}.data")
    perf = subprocess.Popen(["perf", "record", "-q", "-F", "1000", "-o", data, "--"] + cmd,
                            stderr=subprocess.DEVNULL)
    if kind == "rtsp-server":
        wait_bound(sport, True, perf, "h265direct's RTSP server")
        client = subprocess.Popen(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                                   "-rtsp_transport", "tcp", "-i", f"rtsp://127.0.0.1:{sport}/",
                                   "-c", "copy", "-f", "null", "-"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    if perf.wait() != 0:
        raise RuntimeError(f"{kind}: perf record or h265direct failed")
    if client:
        client.kill()
        client.wait()
    receiver.wait(timeout=30)
    if server:
        server.kill()
        server.wait()
    dso = samples(data, "dso")
    comm = samples(data, "comm")
    frames = args.seconds * FPS
    total = sum(dso.values())
    x265 = sum(n for name, n in dso.items() if name.startswith("libx265"))
    return {
        "total": total / frames,
        "x265": x265 / frames,
        "other": (total - x265) / frames,
        "srt_threads": sum(n for name, n in comm.items() if name.startswith("SRT:")) / frames,
        "loader": sum(n for name, n in dso.items() if name.startswith("ld-linux")) / frames,
        "kernel": dso.get("[kernel.kallsyms]", 0) / frames,
        "libs": sum(n for name, n in dso.items()
                    if name.startswith(("libavformat", "libavcodec", "libavutil", "libsrt",
                                        "libgnutls"))) / frames,
    }


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--program", default=os.path.join(root, "build", "h265direct"))
    p.add_argument("--receiver",
                   default=os.path.join(root, "build", "tools", "receiver", "h265direct-receiver"))
    p.add_argument("--seconds", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    results = {"raw": [], "srt": [], "rtsp": [], "rtsp-server": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for kind in results:
                r = run(args, kind, tmp, i)
                results[kind].append(r)
                print(f"{kind:11} run {i + 1}: ms per frame: total {r['total']:.2f}, "
                      f"libx265 {r['x265']:.2f}, the rest {r['other']:.3f} (kernel "
                      f"{r['kernel']:.3f}, SRT threads {r['srt_threads']:.3f}, loader "
                      f"{r['loader']:.3f}, libavformat/libsrt {r['libs']:.3f})", flush=True)
    med = {k: {f: statistics.median(r[f] for r in v) for f in v[0]} for k, v in results.items()}
    base = med["raw"]
    print(f"median of {args.repeat}, ms of CPU per frame (1 sample = 1 ms):")
    print(f"  raw   total {base['total']:.2f} (libx265 {base['x265']:.2f}), "
          f"the rest {base['other']:.3f}")
    for kind in ("srt", "rtsp", "rtsp-server"):
        m = med[kind]
        extra = m["other"] - base["other"]
        print(f"  {kind:11} the rest {m['other']:.3f}: +{extra:.3f} ms per frame = "
              f"{100 * extra / base['total']:+.1f} % of raw's total; of it SRT threads "
              f"{m['srt_threads']:.3f}, loader {m['loader'] - base['loader']:+.3f}, kernel "
              f"{m['kernel'] - base['kernel']:+.3f}, libavformat/libsrt "
              f"{m['libs'] - base['libs']:+.3f}")


if __name__ == "__main__":
    main()
