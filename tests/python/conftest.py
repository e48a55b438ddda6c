"""Shared helpers of the Python module's tests. A skipped test fails the run: each test's
peers (ffprobe, the receiver) must be there."""

import os
import subprocess

import pytest

BINARY_DIR = os.environ["H265D_BINARY_DIR"]
SOURCE_DIR = os.environ["H265D_SOURCE_DIR"]
PROGRAM = os.path.join(BINARY_DIR, "h265direct")
RECEIVER = os.path.join(BINARY_DIR, "tools", "receiver", "h265direct-receiver")


def probe(path):
    """Decodes the Annex-B file with FFmpeg: (frames decoded, width, height)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-f", "hevc", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames,width,height", "-of", "csv=p=0", path],
        check=True, capture_output=True, text=True).stdout.strip()
    width, height, frames = out.split(",")
    return int(frames), int(width), int(height)


def decode_errors(path):
    """FFmpeg's decoder errors for the whole file ('' when it decodes cleanly)."""
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-f", "hevc", "-i", path, "-f", "null", "-"],
        check=True, capture_output=True, text=True).stderr


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1
