# SPDX-License-Identifier: GPL-2.0-or-later
"""examples/stream_tcp.py (the original script on the module) streams the pattern to the
project's receiver, which checks every access unit; the received file decodes."""

import os
import socket
import subprocess
import sys

from conftest import RECEIVER, SOURCE_DIR, probe, python_env

EXAMPLE = os.path.join(SOURCE_DIR, "examples", "stream_tcp.py")


def start_receiver(out):
    """The receiver listening on a free port: (process, port). Another program can take the
    port between the probe and the receiver's bind: then the receiver exits 8 and another
    port is tried."""
    for _ in range(20):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        rx = subprocess.Popen([RECEIVER, "-l", f"127.0.0.1:{port}", "-o", str(out), "--once"],
                              stderr=subprocess.PIPE, text=True)
        line = rx.stderr.readline()  # "[receiver] listening on ..." or the bind error
        if "listening on" in line:
            return rx, port
        rx.wait()
    raise AssertionError("the receiver found no free port")


def test_example_streams_the_pattern_to_the_receiver_and_the_stream_decodes(tmp_path):
    out = tmp_path / "received.h265"
    rx, port = start_receiver(out)
    try:
        sent = subprocess.run(
            [sys.executable, EXAMPLE, f"127.0.0.1:{port}", "--pattern", "--frames", "60",
             "-s", "320x240"], capture_output=True, text=True, timeout=120, env=python_env())
        assert sent.returncode == 0, sent.stderr
        # Paced at 30 fps, 60 frames take two seconds at least: a bandwidth line each second.
        lines = sent.stdout.splitlines()
        assert lines and all(line.startswith("[Bandwidth] ~") for line in lines)
        assert rx.wait(timeout=60) == 0, rx.stderr.read()
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    assert probe(out) == (60, 320, 240)


def test_example_reports_a_bad_option_with_the_programs_message_and_exit_code():
    bad = subprocess.run([sys.executable, EXAMPLE, "127.0.0.1:9", "--pattern", "-b", "5"],
                         capture_output=True, text=True, timeout=60, env=python_env())
    assert bad.returncode == 2
    assert bad.stderr == "h265direct: error: --bitrate: 5 is out of range 10..1000000\n"
