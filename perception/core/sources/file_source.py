"""Video files, decoded on the fly with PyAV; stream time comes from the frames' timestamps."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import av

from longwatch.errors import InvalidArgument, NotFound
from longwatch.validation import PATH_QUOTE_LIMIT, quote_prefix
from perception.core.sources.av_frames import decoded, first_video_stream
from perception.core.sources.base import SourceOptions
from perception.core.types import DecodedFrame

logger = logging.getLogger(__name__)

# Used to time frames that carry no timestamp, when the container states no frame rate either.
_FALLBACK_FPS = 25.0
# FFmpeg demuxers that turn text into video: "tty" renders .txt/.nfo/.ans files as ANSI art.
# Nobody means such a file as a camera recording.
_TEXT_FORMATS = frozenset({"tty"})
_KEY_PREFIX_BYTES = 1 << 20


def _probe_duration_s(path: Path) -> float:
    """Opens the file once to check it is a video; returns its length in seconds (0 when unknown)."""
    shown = quote_prefix(str(path), PATH_QUOTE_LIMIT)
    try:
        with av.open(str(path)) as container:
            stream = first_video_stream(container)
            if stream is None:
                raise InvalidArgument(f"{shown} has no video stream; pass a video file")
            if container.format.name in _TEXT_FORMATS:
                raise InvalidArgument(f"{shown} is not a video file (it holds text); pass a video file")
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            return container.duration / av.time_base if container.duration else 0.0
    except av.error.FFmpegError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidArgument(f"{shown} is not a video file PyAV can read ({reason}); pass a video file") from None


def open_source(stream_id: str, location: str, options: SourceOptions) -> FileSource:
    """Checks the file now, so AddStream rejects bad input at once; decoding starts later, on a thread."""
    path = Path(location)
    shown = quote_prefix(location, PATH_QUOTE_LIMIT)
    if not path.is_absolute():
        raise InvalidArgument(f"{shown} is a relative path; pass an absolute path to a video file")
    try:
        if not path.exists():
            raise NotFound(f"no such file: {shown} — pass an absolute path to a video file")
        if path.is_dir():
            raise InvalidArgument(f"{shown} is a directory; pass an absolute path to a video file")
        # A FIFO or a device would block the open forever; a camera is added by its URL.
        if not path.is_file():
            raise InvalidArgument(f"{shown} is not a regular file; pass a video file, or a live source by its URL")
        with path.open("rb") as file:
            key = _content_key(file)
    except PermissionError:
        raise InvalidArgument(f"perception may not read {shown}; make it readable by the perception service") from None
    except OSError as exc:  # a name too long for the file system, a broken mount, ...
        raise InvalidArgument(f"cannot use {shown}: {exc.strerror or exc}; pass a readable video file") from None
    return FileSource(path, _probe_duration_s(path), options, key)


def _content_key(file: BinaryIO) -> str:
    """A digest of the file's first MiB: the same recording gives the same key wherever it lies, and two
    recordings differ in their first MiB (headers, timestamps, the first frames). A recording still being
    written gets another key once its writer finalises the header: ingest finished files."""
    return hashlib.sha256(file.read(_KEY_PREFIX_BYTES)).hexdigest()[:32]


class FileSource:
    """Frames of a video file in order; decoding blocks while the consumer is behind (nothing is dropped)."""

    is_live = False

    def __init__(self, path: Path, duration_s: float, options: SourceOptions, source_key: str) -> None:
        self.location = str(path)
        self.display = str(path)
        self.duration_s = duration_s
        self.source_key = source_key
        self._path = path
        self._options = options
        self._alive = time.monotonic()

    @property
    def last_alive_monotonic(self) -> float:
        return self._alive

    @property
    def problem(self) -> str:
        return ""  # a file either decodes or fails the stream

    def frames(self, stop: threading.Event) -> Iterator[DecodedFrame]:
        with av.open(str(self._path)) as container:
            stream = first_video_stream(container)
            if stream is None:  # replaced since AddStream checked it
                raise InvalidArgument(f"{quote_prefix(str(self._path), PATH_QUOTE_LIMIT)} has no video stream")
            stream.thread_type = "AUTO"  # frame threads: decoding keeps up with the encoder
            origin_s = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
            fps = float(stream.average_rate) if stream.average_rate else _FALLBACK_FPS
            for index, frame in enumerate(container.decode(stream)):
                if stop.is_set():
                    return
                time_s = frame.time - origin_s if frame.time is not None else index / fps
                self._alive = time.monotonic()
                yield decoded(frame, max(0.0, time_s), self._options.max_frame_side_px)
