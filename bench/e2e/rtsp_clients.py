#!/usr/bin/env python3
"""CPU the RTSP server spends per extra client, against the raw TCP server's (-l).

Usage: bench/e2e/rtsp_clients.py [--program build/h265direct] [--clients 10] [--seconds 5]
                                 [--repeat 3]
       bench/e2e/rtsp_clients.py --latency [--seconds 20]

For each server (-l, --rtsp over TCP, --rtsp over UDP) and each client count (1 and N), the
program serves the paced 640x480 test pattern at 1000 kbit/s (30 fps); the clients (threads
of this script, outside the measured process) read and discard everything. Once every client
is served, the CPU time of the output's own thread (h265d-server or h265d-rtsp,
/proc/PID/task/*/schedstat, in ns) is read at a stats line (--stats-json, one a second) and
again --seconds stats lines later; the frames of the window are what those lines count. The
cost per extra client is CPU per frame with N clients minus CPU per frame with 1, over
N - 1; a loaded machine whose encoder falls behind 30 fps is measured by the frames it made.
The encoder's CPU (tens of ms per frame, and noisy) is left out that way. Prints one line
per run and a median summary.

--latency: one run with both servers (-l and --rtsp), one client each (the RTSP one over
TCP), for --seconds; prints the median over the stats intervals of each output's
latency_p50_ms (capture to the kernel taking the access unit's last byte, or its last RTP
packet): the same frames, so the difference is the outputs'.
"""
import json
import argparse
import os
import queue
import re
import socket
import statistics
import subprocess
import threading
import time

from compare import free_port


def connect(port):
    for _ in range(500):
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("no server on port %d" % port)


def drain(sock, stop):
    sock.settimeout(0.5)
    while not stop.is_set():
        try:
            if not sock.recv(65536):
                return
        except socket.timeout:
            continue
        except OSError:
            return


def rtsp_client(port, transport, stop, ready):
    s = connect(port)
    url = "rtsp://127.0.0.1:%d/" % port
    f = s.makefile("rb")

    def request(method, uri, cseq, extra=""):
        s.sendall(("%s %s RTSP/1.0\r\nCSeq: %d\r\n%s\r\n" % (method, uri, cseq, extra)).encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += f.read(1)
        m = re.search(rb"Content-Length: (\d+)", head)
        if m:
            f.read(int(m.group(1)))
        return head.decode()

    request("DESCRIBE", url, 1)
    udp = []
    if transport == "udp":
        for _ in range(2):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("127.0.0.1", 0))
            u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            udp.append(u)
        t = "RTP/AVP;unicast;client_port=%d-%d" % (udp[0].getsockname()[1], udp[1].getsockname()[1])
    else:
        t = "RTP/AVP/TCP;unicast;interleaved=0-1"
    head = request("SETUP", url + "trackID=0", 2, "Transport: %s\r\n" % t)
    session = re.search(r"Session: ([0-9a-f]+)", head).group(1)
    request("PLAY", url, 3, "Session: %s\r\n" % session)
    ready.release()
    threads = [threading.Thread(target=drain, args=(x, stop)) for x in [s] + udp]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def tcp_client(port, stop, ready):
    s = connect(port)
    ready.release()
    drain(s, stop)


def thread_cpu(pid, name):
    """CPU seconds of the process's thread called `name` (/proc/.../schedstat: ns on a CPU)."""
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() != name:
                    continue
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                return int(f.read().split()[0]) / 1e9
        except OSError:
            continue
    raise RuntimeError("no thread %s in %d" % (name, pid))


def stats_lines(proc, lines):
    """Puts the frame count of each --stats-json line of proc's stderr on the queue."""
    for line in proc.stderr:
        if line.startswith("{"):
            lines.put(json.loads(line).get("frames", 0))
    lines.put(None)


def run(program, mode, clients, seconds):
    """The output thread's CPU seconds per frame over `seconds` stats intervals."""
    port = free_port()
    out = ["--rtsp", "127.0.0.1:%d" % port] if mode.startswith("rtsp") else ["-l", "127.0.0.1:%d" % port]
    proc = subprocess.Popen([program, "--pattern", "-s", "640x480", "-b", "1000", "--stats-json"] + out,
                            stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    reader = threading.Thread(target=stats_lines, args=(proc, lines))
    reader.start()
    stop = threading.Event()
    ready = threading.Semaphore(0)
    threads = []
    for _ in range(clients):
        if mode == "tcp":
            th = threading.Thread(target=tcp_client, args=(port, stop, ready))
        else:
            th = threading.Thread(target=rtsp_client, args=(port, mode[5:], stop, ready))
        th.start()
        threads.append(th)
    for _ in range(clients):
        ready.acquire()
    name = "h265d-rtsp" if mode.startswith("rtsp") else "h265d-server"

    def next_line():
        frames = lines.get(timeout=30)
        if frames is None:
            raise RuntimeError("%s ended early" % program)
        return frames

    next_line()  # every client past its first keyframe
    next_line()
    start = thread_cpu(proc.pid, name)
    frames = sum(next_line() for _ in range(seconds))
    cpu = thread_cpu(proc.pid, name) - start
    proc.terminate()
    proc.wait()
    reader.join()
    stop.set()
    for th in threads:
        th.join()
    if frames == 0:
        raise RuntimeError("no frame encoded in the window")
    return cpu / frames, frames


def latency(program, seconds):
    tcp_port, rtsp_port = free_port(), free_port()
    proc = subprocess.Popen([program, "--pattern", "-s", "640x480", "-b", "1000", "--stats-json",
                             "--duration", str(seconds), "-l", "127.0.0.1:%d" % tcp_port,
                             "--rtsp", "127.0.0.1:%d" % rtsp_port],
                            stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    ready = threading.Semaphore(0)
    threads = [threading.Thread(target=tcp_client, args=(tcp_port, stop, ready)),
               threading.Thread(target=rtsp_client, args=(rtsp_port, "tcp", stop, ready))]
    for th in threads:
        th.start()
    lines = proc.stderr.read().splitlines()
    proc.wait()
    stop.set()
    for th in threads:
        th.join()
    values = {"server_latency_p50_ms": [], "rtsp_latency_p50_ms": []}
    for line in lines:
        if not line.startswith("{"):
            continue
        stats = json.loads(line)
        if stats.get("server_peers") == 1 and stats.get("rtsp_playing") == 1:
            for k in values:
                if stats.get(k, 0) > 0:
                    values[k].append(stats[k])
    for k, v in values.items():
        print("%-22s median %.2f ms over %d intervals (min %.2f, max %.2f)"
              % (k, statistics.median(v), len(v), min(v), max(v)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--program", default="build/h265direct")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=5, help="stats intervals (s) a window lasts")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latency", action="store_true")
    a = ap.parse_args()
    if a.latency:
        latency(a.program, a.seconds)
        return
    per_client = {m: [] for m in ("tcp", "rtsp-tcp", "rtsp-udp")}
    for r in range(a.repeat):
        for mode in per_client:
            one, one_frames = run(a.program, mode, 1, a.seconds)
            many, many_frames = run(a.program, mode, a.clients, a.seconds)
            us = (many - one) / (a.clients - 1) * 1e6
            per_client[mode].append(us)
            print("run %d %-8s output thread cpu per frame, 1 client %.1f us (%d frames), "
                  "%d clients %.1f us (%d frames): %.1f us per frame per extra client"
                  % (r + 1, mode, one * 1e6, one_frames, a.clients, many * 1e6, many_frames, us),
                  flush=True)
    base = statistics.median(per_client["tcp"])
    for mode, v in per_client.items():
        m = statistics.median(v)
        print("median %-8s %.1f us per frame per extra client (%.2fx the TCP server's)"
              % (mode, m, m / base if base > 0 else float("nan")))


if __name__ == "__main__":
    main()
