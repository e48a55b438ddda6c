# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers of the Python module's tests. A skipped test fails the run: each test's
peers (ffprobe, the receiver) must be there."""

import os
import subprocess

import pytest

# Settings for Python processes only (an ASan build, tests/python/CMakeLists.txt: the
# sanitizer runtime preloaded into the interpreter, leak detection off for it): taken out of
# the environment, so that the programs the tests start run with their own built-in settings;
# a Python process a test starts gets them back with python_env().
PYTHON_ONLY_ENV = {name: os.environ.pop(name)
                   for name in os.environ.pop("H265D_PYTHON_ONLY_ENV", "").split()
                   if name in os.environ}

BINARY_DIR = os.environ["H265D_BINARY_DIR"]
SOURCE_DIR = os.environ["H265D_SOURCE_DIR"]
PROGRAM = os.path.join(BINARY_DIR, "h265direct")
RECEIVER = os.path.join(BINARY_DIR, "tools", "receiver", "h265direct-receiver")


def python_env():
    """The environment for a Python process a test starts: this one's, Python-only settings
    included."""
    return {**os.environ, **PYTHON_ONLY_ENV}


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
