# SPDX-License-Identifier: GPL-2.0-or-later
"""h265direct.Engine from Python: access units by iteration and by callback, stop from
another thread and from a signal handler, the queue's drop policy, and errors that carry the
program's messages and exit codes."""

import os
import signal
import subprocess
import threading

import h265direct
import pytest
from conftest import PROGRAM, decode_errors, probe

VPS, SPS, PPS, IDR_W_RADL, IDR_N_LP = 32, 33, 34, 19, 20


def write_stream(aus, path):
    with open(path, "wb") as f:
        for au in aus:
            f.write(au.data)


def test_sixty_access_units_in_order_with_keyframes_and_pts_and_ffmpeg_decodes_them(tmp_path):
    engine = h265direct.Engine(pattern=True, frames=60, no_pace=True, keyint=30, quiet=True)
    aus = list(engine)
    assert engine.exit_code == 0
    assert [au.frame_number for au in aus] == list(range(60))
    # One picture per access unit, in presentation order (zerolatency: no reordering).
    assert [au.pts for au in aus] == list(range(60))
    assert [i for i, au in enumerate(aus) if au.keyframe] == [0, 30]
    for au in aus:
        assert au.idr == au.keyframe and au.has_parameter_sets == au.keyframe
        data = au.data
        assert len(data) == len(au) > 0 and bytes(au) == data and memoryview(au).tobytes() == data
        assert au.capture_time_ns > 0 and au.encoded_time_ns >= au.capture_time_ns
        # The NAL list covers the bytes: each NAL after its start code, back to back.
        at = 0
        for nal in au.nals:
            assert nal.start_code_size in (3, 4)
            assert data[at:nal.offset] == b"\0" * (nal.start_code_size - 1) + b"\1"
            assert (data[nal.offset] >> 1) & 0x3F == nal.type
            at = nal.offset + nal.size
        assert at == len(data)
    assert [n.type for n in aus[0].nals][:4] == [VPS, SPS, PPS, 39]  # 39: prefix SEI
    assert {IDR_W_RADL, IDR_N_LP} & {n.type for n in aus[30].nals}
    assert all(n.type == 1 for n in aus[1].nals if n.type < 32)  # TRAIL_R: a P picture
    captures = [au.capture_time_ns for au in aus]
    assert captures == sorted(captures)

    path = tmp_path / "out.h265"
    write_stream(aus, path)
    assert probe(path) == (60, 640, 480)
    assert decode_errors(path) == ""


def test_callback_and_stats_callback_see_every_access_unit(tmp_path):
    engine = h265direct.Engine(pattern=True, frames=45, no_pace=True, size="320x240", quiet=True)
    seen, reports = [], []
    engine.on_access_unit(seen.append)
    engine.on_stats(reports.append)
    engine.run()
    assert engine.exit_code == 0
    assert [au.frame_number for au in seen] == list(range(45))
    # The last interval is reported at the end: the intervals' frames add up to the run's.
    assert reports and sum(r["frames"] for r in reports) == 45
    assert reports[-1]["py_drops"] == 0 and engine.stats() == reports[-1]
    path = tmp_path / "cb.h265"
    write_stream(seen, path)
    assert probe(path) == (45, 320, 240)


def test_stop_from_another_thread_ends_the_iteration():
    # No frame limit: only stop() ends this run.
    engine = h265direct.Engine(pattern=True, size="320x240", quiet=True)
    count = 0
    stopper = threading.Thread(target=engine.stop)
    for au in engine:
        assert au.frame_number == count
        count += 1
        if count == 5:
            stopper.start()
    stopper.join()
    assert count >= 5 and engine.exit_code == 0 and not engine.running


def test_python_threads_run_while_run_waits_for_the_engine():
    # run() without a callback stays in the module until the end; it holds the GIL only
    # between waits, so this thread's pure Python work gets done and its stop() ends the run
    # (with the GIL held throughout, neither would happen).
    engine = h265direct.Engine(pattern=True, size="320x240", quiet=True)
    done = []

    def work_then_stop():
        done.append(sum(i * i for i in range(200_000)))
        engine.stop()

    worker = threading.Thread(target=work_then_stop)
    worker.start()
    engine.run()
    worker.join()
    assert done and engine.exit_code == 0


def test_stop_from_a_signal_handler_ends_the_iteration():
    engine = h265direct.Engine(pattern=True, size="320x240", quiet=True)
    previous = signal.signal(signal.SIGUSR1, lambda *_: engine.stop())
    try:
        count = 0
        for _ in engine:
            count += 1
            if count == 3:
                os.kill(os.getpid(), signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert count >= 3 and engine.exit_code == 0


def test_an_exception_from_a_callback_stops_the_engine_and_reaches_the_caller():
    engine = h265direct.Engine(pattern=True, size="320x240", quiet=True)

    def callback(au):
        if au.frame_number == 2:
            raise RuntimeError("enough")

    engine.on_access_unit(callback)
    with pytest.raises(RuntimeError, match="enough"):
        engine.run()
    assert engine.exit_code == 0 and not engine.running


def test_drop_policy_drops_whole_access_units_counts_them_and_the_rest_decodes(tmp_path):
    engine = h265direct.Engine(pattern=True, frames=30, no_pace=True, size="320x240", quiet=True)
    engine.start(queue_size=2, overflow="drop")
    engine.join()  # nobody reads while the engine runs: all but two are dropped
    aus = list(engine)
    assert [au.frame_number for au in aus] == [0, 1]
    assert engine.delivered == 2 and engine.dropped == 28
    assert engine.stats()["py_drops"] == 28
    path = tmp_path / "drop.h265"
    write_stream(aus, path)
    assert probe(path) == (2, 320, 240)


def test_drop_policy_resumes_at_a_keyframe_after_each_gap(tmp_path):
    # A consumer slower than the unpaced encoder. Whatever the timing, every access unit is
    # received or counted as dropped, and a gap is always followed by a keyframe.
    engine = h265direct.Engine(pattern=True, frames=120, no_pace=True, size="320x240",
                               keyint=10, quiet=True)
    engine.start(queue_size=1, overflow="drop")
    aus = []
    for au in engine:
        aus.append(au)
        probe_bytes = bytes(au) * 200
        assert len(probe_bytes) == 200 * len(au)  # work that takes a while
    numbers = [au.frame_number for au in aus]
    assert numbers == sorted(numbers) and numbers[0] == 0
    assert len(aus) + engine.dropped == 120 == engine.delivered + engine.dropped
    for prev, au in zip(aus, aus[1:]):
        if au.frame_number != prev.frame_number + 1:
            assert au.keyframe
    path = tmp_path / "gaps.h265"
    write_stream(aus, path)
    assert probe(path)[0] == len(aus)
    assert decode_errors(path) == ""


@pytest.mark.parametrize("options,argv", [
    ({"bitrate": 5}, ["--bitrate=5"]),
    ({"size": "640by480"}, ["--size=640by480"]),
    ({"fps": 0}, ["--fps=0"]),
    ({"pattern": True, "device": "/dev/video0"}, ["--pattern", "--device=/dev/video0"]),
    ({"no_such_option": 1}, ["--no-such-option=1"]),
    ({"framing": "mpegts"}, ["--framing=mpegts"]),
    ({"vbv_maxrate": 500}, ["--vbv-maxrate=500"]),
    ({"verbose": "many"}, ["--verbose=many"]),
    # A list is the option once per item.
    ({"user": ["alice:x", "alice:y"]}, ["--user=alice:x", "--user=alice:y"]),
    ({"user": ("bob:x", "carol")}, ["--user=bob:x", "--user=carol"]),
    ({"rtsp_auth": "basic"}, ["--rtsp-auth=basic"]),
    ({"auth_nonce_lifetime": 1}, ["--auth-nonce-lifetime=1"]),
])
def test_a_bad_option_raises_with_the_programs_message(options, argv):
    with pytest.raises(h265direct.OptionError) as caught:
        h265direct.Engine(**options)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, h265direct.Error)
    cli = subprocess.run([PROGRAM] + argv, capture_output=True, text=True)
    assert cli.returncode == caught.value.exit_code == 2
    assert cli.stderr == f"h265direct: error: {caught.value} (see --help)\n"


def test_a_counted_option_takes_a_count(capfd):
    # verbose=2 is -vv: x265's own log is on from verbose=1.
    engine = h265direct.Engine(pattern=True, frames=2, no_pace=True, verbose=2)
    assert len(list(engine)) == 2
    assert "x265 [info]" in capfd.readouterr().err
    engine = h265direct.Engine(pattern=True, frames=2, no_pace=True, verbose=0)
    assert len(list(engine)) == 2
    assert "x265 [info]" not in capfd.readouterr().err


def test_a_missing_input_raises_with_the_programs_message_and_exit_code():
    engine = h265direct.Engine(input="/nonexistent.yuyv", pixel_format="YUYV", quiet=True)
    with pytest.raises(h265direct.Error) as caught:
        next(iter(engine))
    cli = subprocess.run([PROGRAM, "--input=/nonexistent.yuyv", "--pixel-format=YUYV", "-q"],
                         capture_output=True, text=True)
    assert cli.returncode == caught.value.exit_code == engine.exit_code == 3
    assert cli.stderr == f"h265direct: error: {caught.value}\n"


def test_an_engine_runs_once():
    engine = h265direct.Engine(pattern=True, frames=2, no_pace=True, quiet=True)
    assert len(list(engine)) == 2
    with pytest.raises(ValueError, match="runs once"):
        engine.run()


def test_leaving_a_with_block_stops_and_joins_the_engine():
    with h265direct.Engine(pattern=True, size="320x240", quiet=True) as engine:
        first = next(engine)
        assert first.frame_number == 0 and engine.running
    assert not engine.running and engine.exit_code == 0


def test_bad_queue_settings_raise_value_error():
    engine = h265direct.Engine(pattern=True, frames=1, quiet=True)
    with pytest.raises(ValueError, match="overflow must be 'block' or 'drop'"):
        engine.start(overflow="newest")
    with pytest.raises(ValueError, match="queue_size must be at least 1"):
        engine.start(queue_size=0)
    assert not engine.running and engine.exit_code is None
