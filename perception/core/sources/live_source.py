"""Live streams (RTSP, HTTP, UDP) through PyAV, with open/read timeouts and reconnects on a capped back-off.

Stream time is the time since the source started, read from the clock when each frame arrives:
a camera's own timestamps start anywhere and restart on every reconnect, and a live stream's
time must keep going forward across reconnects.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlsplit

import av

from longwatch.errors import InvalidArgument
from longwatch.redaction import redact, redact_url
from longwatch.validation import PATH_QUOTE_LIMIT, quote_prefix
from perception.core.backoff import backoff_delay_s
from perception.core.sources.av_frames import decoded, first_video_stream
from perception.core.sources.base import SourceOptions
from perception.core.types import DecodedFrame

logger = logging.getLogger(__name__)

# FFmpeg options per scheme: RTSP over TCP survives lossy networks that drop UDP packets (grey smears).
_OPTIONS_BY_SCHEME: dict[str, dict[str, str]] = {
    "rtsp": {"rtsp_transport": "tcp"},
    "rtsps": {"rtsp_transport": "tcp"},
}

Opener = Callable[[str, SourceOptions], AbstractContextManager[Any]]


def open_container(url: str, options: SourceOptions) -> AbstractContextManager[Any]:
    """PyAV's container, failing after `open_timeout_s` to connect or `read_timeout_s` without data."""
    scheme = urlsplit(url).scheme.lower()
    timeout = (options.open_timeout_s, options.read_timeout_s)
    return av.open(url, options=_OPTIONS_BY_SCHEME.get(scheme, {}), timeout=timeout)


def open_source(stream_id: str, location: str, options: SourceOptions) -> LiveSource:
    """Checks the URL's shape only: a camera that is down now is retried, not refused."""
    try:
        parts = urlsplit(location)
        # udp://:5000 listens on every interface: the only scheme where no host makes sense.
        has_host = bool(parts.hostname) or parts.scheme.lower() == "udp"
    except ValueError:  # a malformed IPv6 literal
        has_host = False
    if not has_host:
        raise InvalidArgument(
            f"{quote_prefix(redact_url(location), PATH_QUOTE_LIMIT)} names no host; "
            "pass a URL like rtsp://camera.local/stream"
        )
    return LiveSource(stream_id, location, options)


class LiveSource:
    """Frames of a live stream for as long as `stop` is not set: failures are logged and retried."""

    is_live = True
    source_key = ""  # live clips are named by wall-clock time: a new session never overwrites an old one
    duration_s = 0.0

    def __init__(self, stream_id: str, url: str, options: SourceOptions, opener: Opener = open_container) -> None:
        self.stream_id = stream_id
        self.location = url
        self.display = redact_url(url)
        self._options = options
        self._opener = opener
        self._origin_monotonic = time.monotonic()
        self._alive = self._origin_monotonic
        self._problem = ""

    @property
    def last_alive_monotonic(self) -> float:
        return self._alive

    @property
    def problem(self) -> str:
        return self._problem

    def frames(self, stop: threading.Event) -> Iterator[DecodedFrame]:
        failures = 0
        while not stop.is_set():
            try:
                for frame in self._session(stop):
                    failures = 0
                    yield frame
                reason = f"{self.display} ended"
            except av.error.ExitError:  # FFmpeg's interrupt: the read timeout fired
                reason = f"no data from {self.display} for {self._options.read_timeout_s:g} s"
            except (av.error.FFmpegError, OSError) as exc:
                reason = redact(str(exc), self.location)
            if stop.is_set():
                return
            failures += 1
            delay_s = backoff_delay_s(failures, self._options.retry_initial_s, self._options.retry_max_s)
            self._problem = f"reconnecting (attempt {failures}, next in {delay_s:.3g} s): {reason}"
            logger.warning(
                "stream %s: %s; reconnecting in %.3g s (attempt %d)", self.stream_id, reason, delay_s, failures
            )
            self._alive = time.monotonic()
            if stop.wait(delay_s):
                return
            self._alive = time.monotonic()

    def _session(self, stop: threading.Event) -> Iterator[DecodedFrame]:
        """Frames of one connection, until it ends or fails."""
        with self._opener(self.location, self._options) as container:
            stream = first_video_stream(container)
            if stream is None:
                raise OSError("the stream has no video")
            logger.info("stream %s: connected to %s", self.stream_id, self.display)
            for frame in container.decode(stream):
                if stop.is_set():
                    return
                now = time.monotonic()
                self._alive = now
                self._problem = ""
                time_s = now - self._origin_monotonic
                yield decoded(frame, time_s, self._options.max_frame_side_px, wall_ms=time.time_ns() // 1_000_000)
