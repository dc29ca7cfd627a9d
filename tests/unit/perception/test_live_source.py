"""Live sources reconnect on a capped back-off with one log line per retry, never showing credentials."""

from __future__ import annotations

import contextlib
import logging
import threading

import av
import numpy as np
import pytest

from perception.core.sources.base import SourceOptions
from perception.core.sources.live_source import LiveSource

URL = "rtsp://admin:hunter2@cam.local:554/stream1"


class FakeStream:
    pass


class FakeContainer:
    def __init__(self, frame_count: int) -> None:
        self._frame_count = frame_count
        self.streams = type("Streams", (), {"video": [FakeStream()]})()

    def decode(self, stream):
        for _ in range(self._frame_count):
            yield av.VideoFrame.from_ndarray(np.zeros((8, 8, 3), np.uint8), format="rgb24")


class ScriptedOpener:
    """Fails the first `failures` opens the way FFmpeg does (quoting the URL), then serves `frames` frames."""

    def __init__(self, failures: int, frames: int) -> None:
        self.failures = failures
        self.frames = frames
        self.opens = 0

    def __call__(self, url: str, options: SourceOptions):
        self.opens += 1
        if self.opens <= self.failures:
            raise av.error.ConnectionRefusedError(111, "Connection refused", url)
        return contextlib.nullcontext(FakeContainer(self.frames))


def options() -> SourceOptions:
    return SourceOptions(retry_initial_s=0.01, retry_max_s=0.02)


def test_reconnects_after_failures_logging_each_retry_without_the_password(caplog):
    opener = ScriptedOpener(failures=3, frames=5)
    source = LiveSource("cam", URL, options(), opener=opener)
    stop = threading.Event()
    with caplog.at_level(logging.WARNING):
        frames = []
        for frame in source.frames(stop):
            frames.append(frame)
            if len(frames) == 5:
                stop.set()
    assert opener.opens == 4
    retries = [record.getMessage() for record in caplog.records if "reconnecting" in record.getMessage()]
    assert len(retries) == 3
    assert all("hunter2" not in line and "rtsp://***@cam.local" in line for line in retries)
    assert [int(line.split("attempt ")[1].rstrip(")")) for line in retries] == [1, 2, 3]


def test_stream_time_keeps_going_across_reconnects():
    opener = ScriptedOpener(failures=0, frames=3)  # every connection ends after 3 frames
    source = LiveSource("cam", URL, options(), opener=opener)
    stop = threading.Event()
    times = []
    for frame in source.frames(stop):
        times.append(frame.time_s)
        assert frame.wall_ms > 0
        if len(times) == 7:
            stop.set()
    assert opener.opens == 3
    assert times == sorted(times)


def test_backoff_is_capped(caplog):
    opener = ScriptedOpener(failures=6, frames=1)
    source = LiveSource("cam", URL, SourceOptions(retry_initial_s=0.001, retry_max_s=0.004), opener=opener)
    with caplog.at_level(logging.WARNING):
        next(source.frames(threading.Event()))
    delays = [float(r.getMessage().split("reconnecting in ")[1].split(" s")[0]) for r in caplog.records]
    assert delays == pytest.approx([0.001, 0.002, 0.004, 0.004, 0.004, 0.004], abs=0.0006)


def test_the_problem_says_why_no_frames_come_until_the_next_frame_does():
    opener = ScriptedOpener(failures=2, frames=2)
    problems = []

    def watching_opener(url, opts):
        problems.append(source.problem)  # what ListStreams would show while it connects again
        return opener(url, opts)

    source = LiveSource("cam", URL, options(), opener=watching_opener)
    assert source.problem == ""
    next(source.frames(threading.Event()))
    assert problems[1].startswith("reconnecting (attempt 1, next in ") and "Connection refused" in problems[1]
    assert problems[2].startswith("reconnecting (attempt 2,")
    assert all("hunter2" not in problem for problem in problems)
    assert source.problem == ""  # a frame came: nothing to report


class TimingOutOpener:
    """Opens, then the read times out the way FFmpeg's interrupt callback ends a read."""

    def __call__(self, url: str, options: SourceOptions):
        raise av.error.ExitError(-1414092869, "Immediate exit requested")


def test_a_read_timeout_is_named_as_such():
    source = LiveSource("cam", URL, SourceOptions(retry_initial_s=5.0, read_timeout_s=3.0), opener=TimingOutOpener())
    stop = threading.Event()
    reader = threading.Thread(target=lambda: list(source.frames(stop)))
    reader.start()
    try:
        for _ in range(200):
            if source.problem:
                break
            threading.Event().wait(0.01)
    finally:
        stop.set()
        reader.join()
    assert source.problem == (
        "reconnecting (attempt 1, next in 5 s): no data from rtsp://***@cam.local:554/stream1 for 3 s"
    )
