#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Churn and soak for h265direct's TCP outputs, on loopback.

Starts `h265direct --pattern -l PORT -t PORT2` and, around one normal receiver that reads
the whole run, attacks both outputs in bounded loops:

  -l churn    receivers that connect, idle, read a little, and leave by close or reset
  -l stalled  receivers that connect with a small receive buffer and never read
  -t faults   the -t receiver is absent at the start, then reads, stalls (stops reading),
              and restarts (closes everything and listens again)

It samples the process's resident memory (VmRSS) and open descriptors (/proc/PID/fd) and
checks at the end that:

  - the peak RSS stayed under --max-rss-mb;
  - the open descriptors came back to their count before the churn;
  - the normal receiver got every access unit the server says it sent it, none dropped
    (h265direct's own log line when it closes), and ffprobe decodes each one;
  - what the -t receiver got decodes as well;
  - h265direct ended on SIGINT with exit code 0.

`--soak SECONDS` repeats the churn rounds until the time is up and prints the RSS and
descriptor figures of every round, so that a slow leak shows as a trend. Exit code 0 when
every check passed, 1 otherwise (each failed check is printed), 2 on bad usage.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

FPS = 30


def log(msg):
    print(f"[churn] {msg}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proc:
    """h265direct under test, with its /proc figures."""

    def __init__(self, args, err_path):
        self.err = open(err_path, "wb")
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=self.err)

    def status_kb(self, key):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return -1

    def rss_mb(self):
        return self.status_kb("VmRSS") / 1024.0

    def fds(self):
        return len(os.listdir(f"/proc/{self.p.pid}/fd"))

    def alive(self):
        return self.p.poll() is None


def connect(port, rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def reset_close(s):
    # SO_LINGER 0: close() sends a reset instead of a FIN.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class FrameReader:
    """Reads the length framing from a socket, writes the Annex-B payload to a file."""

    def __init__(self, path):
        self.out = open(path, "wb")
        self.buf = b""
        self.frames = 0
        self.bytes = 0
        self.error = None

    def feed(self, data):
        self.buf += data
        while len(self.buf) >= 4:
            n = struct.unpack(">I", self.buf[:4])[0]
            if n == 0 or n > (64 << 20):
                self.error = f"bad length {n} after frame {self.frames}"
                return False
            if len(self.buf) < 4 + n:
                break
            self.out.write(self.buf[4:4 + n])
            self.buf = self.buf[4 + n:]
            self.frames += 1
            self.bytes += n
        return True

    def close(self):
        self.out.close()


class NormalReceiver(threading.Thread):
    """A well-behaved -l receiver that reads until told to stop."""

    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.sock = connect(port)
        self.sock.settimeout(1)
        self.local_port = self.sock.getsockname()[1]
        self.reader = FrameReader(path)
        self.stopping = threading.Event()
        self.ended = None

    def run(self):
        while not self.stopping.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as e:
                self.ended = f"error {e}"
                break
            if not data:
                self.ended = "closed by the server"
                break
            if not self.reader.feed(data):
                self.ended = self.reader.error
                break
        self.reader.close()

    def stop(self):
        self.stopping.set()
        self.join(10)
        self.sock.close()


class TargetReceiver(threading.Thread):
    """What h265direct -t connects to: absent, present, stalled, restarted, on command."""

    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.port = port
        self.reader = FrameReader(path)
        self.lsock = None
        self.conn = None
        self.reading = threading.Event()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.connections = 0
        self.error = None

    def listen(self):
        with self.lock:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", self.port))
            s.listen(4)
            s.settimeout(0.5)
            self.lsock = s
            self.reading.set()

    def restart(self):
        with self.lock:
            if self.conn:
                reset_close(self.conn)
                self.conn = None
            if self.lsock:
                self.lsock.close()
                self.lsock = None
            # A new connection starts at a keyframe: the reader starts a new stream.
            self.reader.buf = b""
        self.listen()

    def run(self):
        while not self.stopping.is_set():
            with self.lock:
                lsock, conn = self.lsock, self.conn
            if lsock is None:
                time.sleep(0.1)
                continue
            if conn is None:
                try:
                    c, _ = lsock.accept()
                except (socket.timeout, OSError):
                    continue
                c.settimeout(0.5)
                with self.lock:
                    self.conn = c
                    self.connections += 1
                continue
            if not self.reading.is_set():
                time.sleep(0.1)  # stalled: the kernel buffers fill, then h265direct queues
                continue
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                with self.lock:
                    self.conn = None
                continue
            if not data:
                with self.lock:
                    self.conn = None
                    self.reader.buf = b""
                continue
            if not self.reader.feed(data):
                self.error = self.reader.error
                with self.lock:
                    reset_close(conn)
                    self.conn = None
                self.reader.buf = b""

    def stop(self):
        self.stopping.set()
        self.join(10)
        with self.lock:
            if self.conn:
                self.conn.close()
            if self.lsock:
                self.lsock.close()
        self.reader.close()


def churn_round(port, count, stalled, rng):
    """count receivers that come and go; `stalled` that never read. Returns when all left."""
    held = []
    for _ in range(stalled):
        try:
            held.append(connect(port, rcvbuf=4096))
        except OSError as e:
            log(f"stalled receiver could not connect: {e}")
    for i in range(count):
        try:
            s = connect(port)
        except OSError as e:
            log(f"churn receiver {i} could not connect: {e}")
            continue
        kind = rng.randrange(4)
        if kind == 1:
            time.sleep(rng.uniform(0, 0.05))  # idle a moment
        elif kind == 2:
            s.settimeout(0.5)
            try:
                s.recv(rng.choice([1, 100, 5000]))  # read a little
            except OSError:
                pass
        if rng.randrange(2):
            reset_close(s)
        else:
            s.close()
    # Stalled receivers hold queues for a while, then vanish (reset).
    time.sleep(2)
    for s in held:
        reset_close(s)


def wait_until(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def ffprobe_frames(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                        "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path],
                       capture_output=True, text=True)
    try:
        return int(r.stdout.strip().split(",")[0]), r.stderr.strip()
    except ValueError:
        return -1, r.stderr.strip() or r.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="build/h265direct", help="h265direct to test")
    ap.add_argument("--rounds", type=int, default=2, help="churn rounds (short run)")
    ap.add_argument("--soak", type=float, default=0,
                    help="instead of --rounds: repeat rounds for this many seconds")
    ap.add_argument("--churn", type=int, default=100, help="churn receivers per round")
    ap.add_argument("--stalled", type=int, default=25, help="stalled receivers per round")
    ap.add_argument("--max-rss-mb", type=float, default=80, help="RSS limit, MB")
    ap.add_argument("--size", default="320x240", help="pattern size")
    ap.add_argument("--bitrate", default="1000", help="kbit/s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if not os.access(a.binary, os.X_OK):
        print(f"churn.py: error: --binary {a.binary}: not an executable", file=sys.stderr)
        return 2
    if shutil.which("ffprobe") is None:
        print("churn.py: error: ffprobe is needed (tools/setup.sh installs it)", file=sys.stderr)
        return 2

    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="h265direct-churn-")
    failures = []
    started = time.monotonic()
    lport, tport = free_port(), free_port()
    args = [a.binary, "--pattern", "-s", a.size, "-r", str(FPS), "-b", a.bitrate,
            "--keyint", str(FPS), "-l", f"127.0.0.1:{lport}", "-t", f"127.0.0.1:{tport}",
            "--reconnect-max", "1000"]
    log("running: " + " ".join(args))
    proc = Proc(args, os.path.join(work, "h265direct.err"))

    def listening():
        with open("/proc/net/tcp") as f:
            return any(line.split()[1].endswith(f":{lport:04X}") and line.split()[3] == "0A"
                       for line in f.readlines()[1:])

    if not wait_until(lambda: listening() or not proc.alive(), 30) or not proc.alive():
        log("h265direct did not start listening")
        proc.p.kill()
        print(open(os.path.join(work, "h265direct.err")).read(), file=sys.stderr)
        return 1

    target = TargetReceiver(tport, os.path.join(work, "target.h265"))
    target.start()  # absent at first: nothing listens on tport yet
    normal = NormalReceiver(lport, os.path.join(work, "normal.h265"))
    normal_start = time.monotonic()
    normal.start()
    time.sleep(3)  # the -t client retries against a closed port meanwhile
    target.listen()  # present: the client's next retry connects
    if not wait_until(lambda: target.connections >= 1, 15):
        failures.append("the -t client did not connect once its receiver was there")
    time.sleep(1)
    base_fds, base_rss = proc.fds(), proc.rss_mb()
    log(f"baseline: {base_fds} fds, RSS {base_rss:.1f} MB (both receivers connected)")

    peak_rss = base_rss
    samples = []
    stop_sampling = threading.Event()

    def sample():
        nonlocal peak_rss
        while not stop_sampling.is_set() and proc.alive():
            try:
                peak_rss = max(peak_rss, proc.rss_mb())
            except OSError:
                break
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    # -t faults run beside the -l churn: present, stalled, restarted.
    def target_faults():
        target.reading.clear()  # stall
        time.sleep(6)
        target.reading.set()
        time.sleep(2)
        target.restart()  # the client reconnects after its retry delay

    faults = threading.Thread(target=target_faults, daemon=True)
    faults.start()

    rounds = 0
    deadline = started + a.soak if a.soak > 0 else None
    while proc.alive():
        if deadline is None and rounds >= a.rounds:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        churn_round(lport, a.churn, a.stalled, rng)
        rounds += 1
        # Every churn socket is closed: the server must let go of all of them.
        back = wait_until(lambda: proc.fds() <= base_fds, 15)
        fds, rss = proc.fds(), proc.rss_mb()
        samples.append({"round": rounds, "t_s": round(time.monotonic() - started, 1),
                        "fds": fds, "rss_mb": round(rss, 1),
                        "normal_frames": normal.reader.frames})
        log(f"round {rounds}: {fds} fds ({'back to' if back else 'NOT back to'} {base_fds}), "
            f"RSS {rss:.1f} MB, peak {peak_rss:.1f} MB, normal receiver "
            f"{normal.reader.frames} frames")
        if deadline is not None and rounds % 5 == 0 and not faults.is_alive():
            faults = threading.Thread(target=target_faults, daemon=True)
            faults.start()
    faults.join(30)
    # The restarted -t receiver gets the client back; then every count is as before.
    if not wait_until(lambda: target.conn is not None, 15):
        failures.append("the -t client did not come back after its receiver restarted")
    fds_back = wait_until(lambda: proc.alive() and proc.fds() == base_fds, 15)
    end_fds = proc.fds() if proc.alive() else -1
    stop_sampling.set()
    # SIGINT: h265direct delivers what is queued and closes; the normal receiver reads on to
    # the end of its stream, so that it holds every frame the server says it sent.
    alive = proc.alive()
    if alive:
        proc.p.send_signal(signal.SIGINT)
    try:
        code = proc.p.wait(30)
    except subprocess.TimeoutExpired:
        proc.p.kill()
        code = "hung (killed after 30 s)"
    normal.join(30)
    normal.stop()
    elapsed_normal = time.monotonic() - normal_start
    target.stop()
    # The server's own account of the normal receiver: "receiver N (ADDR): closed (REASON)
    # after F frames, D dropped".
    with open(os.path.join(work, "h265direct.err"), errors="replace") as f:
        log_text = f.read()
    m = re.search(r"receiver \d+ \(127\.0\.0\.1:%d\): (closed|connection lost) \(([^)]*)\) "
                  r"after (\d+) frames, (\d+) dropped" % normal.local_port, log_text)

    normal_frames = normal.reader.frames
    decoded, derr = ffprobe_frames(os.path.join(work, "normal.h265"))
    tdecoded, tderr = ffprobe_frames(os.path.join(work, "target.h265"))
    sent = int(m.group(3)) if m else -1
    dropped = int(m.group(4)) if m else -1
    result = {
        "command": " ".join(args), "rounds": rounds, "churn_per_round": a.churn,
        "stalled_per_round": a.stalled, "seconds": round(time.monotonic() - started, 1),
        "base_fds": base_fds, "end_fds": end_fds, "base_rss_mb": round(base_rss, 1),
        "peak_rss_mb": round(peak_rss, 1), "normal_frames": normal_frames,
        "normal_frames_sent": sent, "normal_frames_dropped": dropped,
        "normal_decoded": decoded, "normal_seconds": round(elapsed_normal, 1),
        "target_frames": target.reader.frames, "target_decoded": tdecoded,
        "target_connections": target.connections, "exit_code": code, "rounds_detail": samples,
    }
    if not alive:
        failures.append("h265direct ended during the churn")
    if code != 0:
        failures.append(f"h265direct exit code {code}")
    if peak_rss > a.max_rss_mb:
        failures.append(f"peak RSS {peak_rss:.1f} MB over {a.max_rss_mb} MB")
    if not fds_back:
        failures.append(f"open fds {end_fds} did not come back to {base_fds}")
    if normal.ended != "closed by the server":
        failures.append(f"normal receiver: {normal.ended or 'still open after the end'}")
    if m is None:
        failures.append("h265direct did not log the normal receiver's end")
    elif sent != normal_frames or dropped != 0 or normal_frames == 0:
        failures.append(f"normal receiver got {normal_frames} frames; the server sent {sent} "
                        f"and dropped {dropped}")
    if decoded != normal_frames:
        failures.append(f"normal receiver: ffprobe decoded {decoded} of {normal_frames} frames"
                        f" {derr}")
    if target.error:
        failures.append(f"-t receiver: {target.error}")
    if target.reader.frames == 0 or tdecoded != target.reader.frames:
        failures.append(f"-t receiver: ffprobe decoded {tdecoded} of {target.reader.frames} "
                        f"frames {tderr}")
    print(json.dumps(result), flush=True)
    for f in failures:
        log("FAILED: " + f)
    if failures or a.keep:
        log(f"work directory kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    log("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
