#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""CPU the RTSP server spends per extra client, against the raw TCP server's (-l).

Usage: bench/e2e/rtsp_clients.py [--program build/h265direct] [--clients 10] [--seconds 5]
                                 [--repeat 3]
       bench/e2e/rtsp_clients.py --latency [--seconds 20]
       bench/e2e/rtsp_clients.py --auth [--clients 10] [--seconds 5] [--repeat 3]

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

--auth: the cost of RTSP authentication. For each transport (RTP over TCP, over UDP), the
RTSP server with N clients twice in a row (which first alternates from one repetition to the
next), without users and with one (--user), its clients
then logging in with Digest (MD5, qop=auth: the 401 to the first DESCRIBE, then the
Authorization header on every request, as FFmpeg does). Prints, for each pair, the output
thread's CPU per frame per client over the window (as above) and its CPU until every client
plays (the log-ins), with the ratio of the run with users to the run without; then the
medians.
"""
import json
import argparse
import hashlib
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


def digest_authorization(challenge, user, method, uri, nc):
    """The Authorization header answering a Digest challenge (MD5; qop=auth when offered)."""
    params = {k: a or b for k, a, b in re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', challenge)}
    name, password = user.split(":", 1)
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()
    ha1 = md5("%s:%s:%s" % (name, params["realm"], password))
    ha2 = md5("%s:%s" % (method, uri))
    fields = 'username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5' % (
        name, params["realm"], params["nonce"], uri)
    if "auth" in params.get("qop", "").split(","):
        cnonce = os.urandom(8).hex()
        response = md5("%s:%s:%08x:%s:auth:%s" % (ha1, params["nonce"], nc, cnonce, ha2))
        fields += ', qop=auth, nc=%08x, cnonce="%s"' % (nc, cnonce)
    else:
        response = md5("%s:%s:%s" % (ha1, params["nonce"], ha2))
    return "Authorization: Digest %s, response=\"%s\"\r\n" % (fields, response)


def rtsp_client(port, transport, stop, ready, user=None):
    s = connect(port)
    url = "rtsp://127.0.0.1:%d/" % port
    f = s.makefile("rb")
    login = {"challenge": None, "nc": 0}

    def send(method, uri, cseq, extra):
        auth = ""
        if login["challenge"] is not None:
            login["nc"] += 1
            auth = digest_authorization(login["challenge"], user, method, uri, login["nc"])
        s.sendall(("%s %s RTSP/1.0\r\nCSeq: %d\r\n%s%s\r\n"
                   % (method, uri, cseq, auth, extra)).encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += f.read(1)
        m = re.search(rb"Content-Length: (\d+)", head)
        if m:
            f.read(int(m.group(1)))
        return head.decode()

    def request(method, uri, cseq, extra=""):
        head = send(method, uri, cseq, extra)
        if user is not None and head.startswith("RTSP/1.0 401"):
            # The last Digest challenge (MD5), as FFmpeg takes it; then the same request again.
            login["challenge"] = re.findall(r"WWW-Authenticate: (Digest [^\r]*)", head)[-1]
            login["nc"] = 0
            head = send(method, uri, cseq, extra)
        if not head.startswith("RTSP/1.0 200"):
            raise RuntimeError("%s: %s" % (method, head.splitlines()[0]))
        return head

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


def run(program, mode, clients, seconds, user=None):
    """The output thread's CPU seconds per frame over `seconds` stats intervals, the frames,
    and its CPU seconds until every client was served."""
    port = free_port()
    out = ["--rtsp", "127.0.0.1:%d" % port] if mode.startswith("rtsp") else ["-l", "127.0.0.1:%d" % port]
    if user is not None:
        out += ["--user", user]
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
            th = threading.Thread(target=rtsp_client, args=(port, mode[5:], stop, ready, user))
        th.start()
        threads.append(th)
    for _ in range(clients):
        ready.acquire()
    name = "h265d-rtsp" if mode.startswith("rtsp") else "h265d-server"
    setup = thread_cpu(proc.pid, name)

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
    return cpu / frames, frames, setup


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


def auth_cost(program, clients, seconds, repeat):
    """N clients without users and with one, one run after the other, for each transport."""
    user = "viewer:" + os.urandom(12).hex()
    ratios = {m: {"frame": [], "setup": [], "login": []} for m in ("rtsp-tcp", "rtsp-udp")}
    for r in range(repeat):
        for mode, v in ratios.items():
            # Which goes first alternates, so that a machine getting busier or idler over
            # a pair does not favour one.
            if r % 2 == 0:
                plain, plain_frames, plain_setup = run(program, mode, clients, seconds)
                auth, auth_frames, auth_setup = run(program, mode, clients, seconds, user)
            else:
                auth, auth_frames, auth_setup = run(program, mode, clients, seconds, user)
                plain, plain_frames, plain_setup = run(program, mode, clients, seconds)
            v["frame"].append(auth / plain)
            v["setup"].append(auth_setup / plain_setup)
            print("run %d %-8s %d clients, output thread cpu per frame per client: without users "
                  "%.1f us (%d frames), with %.1f us (%d frames): %.2fx; until all play: without "
                  "%.2f ms, with %.2f ms: %.2fx (%+.0f us per client)"
                  % (r + 1, mode, clients, plain / clients * 1e6, plain_frames,
                     auth / clients * 1e6, auth_frames, auth / plain, plain_setup * 1e3,
                     auth_setup * 1e3, auth_setup / plain_setup,
                     (auth_setup - plain_setup) / clients * 1e6), flush=True)
            v["login"].append((auth_setup - plain_setup) / clients * 1e6)
    for mode, v in ratios.items():
        print("median %-8s with users / without: %.2fx per frame, %.2fx until all play "
              "(%+.0f us per client)" % (mode, statistics.median(v["frame"]),
                                         statistics.median(v["setup"]),
                                         statistics.median(v["login"])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--program", default="build/h265direct")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=5, help="stats intervals (s) a window lasts")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latency", action="store_true")
    ap.add_argument("--auth", action="store_true", help="RTSP with users against without")
    a = ap.parse_args()
    if a.latency:
        latency(a.program, a.seconds)
        return
    if a.auth:
        auth_cost(a.program, a.clients, a.seconds, a.repeat)
        return
    per_client = {m: [] for m in ("tcp", "rtsp-tcp", "rtsp-udp")}
    for r in range(a.repeat):
        for mode in per_client:
            one, one_frames, _ = run(a.program, mode, 1, a.seconds)
            many, many_frames, _ = run(a.program, mode, a.clients, a.seconds)
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
