"""Video files, decoded on the fly with PyAV; stream time comes from the frames' timestamps."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import av

from longwatch.errors import InvalidArgument, NotFound
from longwatch.validation import PATH_QUOTE_LIMIT, quote_prefix
from perception.core.sources.av_frames import decoded, first_video_stream
from perception.core.sources.base import SourceOptions
from perception.core.sources.decord_frames import DecordFailed, DecordUnavailable, decord_frames, open_reader
from perception.core.sources.keyframe_first import (
    DecodeStats,
    FullDecodingNeeded,
    KeyframeFirstConfig,
    KeyframeFirstDecoder,
)
from perception.core.types import DecodedFrame

logger = logging.getLogger(__name__)

# Used to time frames that carry no timestamp, when the container states no frame rate either.
_FALLBACK_FPS = 25.0
# FFmpeg demuxers that turn text into video: "tty" renders .txt/.nfo/.ans files as ANSI art.
# Nobody means such a file as a camera recording.
_TEXT_FORMATS = frozenset({"tty"})
_KEY_PREFIX_BYTES = 1 << 20
# A file whose frames end this much before its stated length is truncated (1 s, or 2% of a long file:
# a variable frame rate or a last GOP the muxer dropped can shorten a complete file a little).
_TRUNCATION_SLACK_S = 1.0
_TRUNCATION_SLACK_FRACTION = 0.02

# file_decode: how PyAV decodes a file ("auto": keyframes first while the GOPs allow it, see keyframe_first)
FILE_DECODES = ("auto", "keyframes-first", "full")
# file_decoder: which library decodes ("auto" = PyAV; decord only when asked, see _chosen_decoder)
FILE_DECODERS = ("auto", "pyav", "decord")


def _probe_duration_s(path: Path) -> tuple[float, bool]:
    """Opens the file once to check it is a video; returns its length in seconds (0 when unknown), and
    whether that length is the video stream's own (the container's may include a longer audio track)."""
    shown = quote_prefix(str(path), PATH_QUOTE_LIMIT)
    try:
        with av.open(str(path)) as container:
            stream = first_video_stream(container)
            if stream is None:
                raise InvalidArgument(f"{shown} has no video stream; pass a video file")
            if container.format.name in _TEXT_FORMATS:
                raise InvalidArgument(f"{shown} is not a video file (it holds text); pass a video file")
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base), True
            return (container.duration / av.time_base if container.duration else 0.0), False
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
    duration_s, is_video_duration = _probe_duration_s(path)
    return FileSource(path, duration_s, options, key, is_video_duration)


def _content_key(file: BinaryIO) -> str:
    """A digest of the file's first MiB: the same recording gives the same key wherever it lies, and two
    recordings differ in their first MiB (headers, timestamps, the first frames). A recording still being
    written gets another key once its writer finalises the header: ingest finished files."""
    return hashlib.sha256(file.read(_KEY_PREFIX_BYTES)).hexdigest()[:32]


class FileSource:
    """Frames of a video file in order; decoding blocks while the consumer is behind (nothing is dropped).

    `stats` tells what the last `frames` run cost (frames decoded, GOPs decoded fully, which decoder ran).
    """

    is_live = False

    def __init__(
        self, path: Path, duration_s: float, options: SourceOptions, source_key: str, is_video_duration: bool = False
    ) -> None:
        check_decode_names(options)
        self.location = str(path)
        self.display = str(path)
        self.duration_s = duration_s
        self.source_key = source_key
        self.stats = DecodeStats()
        self._path = path
        self._is_video_duration = is_video_duration  # duration_s is the video's own: truncation can be told
        self._options = options
        self._alive = time.monotonic()

    @property
    def last_alive_monotonic(self) -> float:
        return self._alive

    @property
    def problem(self) -> str:
        return ""  # a file either decodes or fails the stream

    @property
    def frames_decoded(self) -> int:
        """Frames out of a decoder in the last run (keyframes included); less than the file's on a static scene."""
        return self.stats.frames_decoded

    def frames(self, stop: threading.Event) -> Iterator[DecodedFrame]:
        self.stats = DecodeStats()
        shown = quote_prefix(str(self._path), PATH_QUOTE_LIMIT)
        try:
            for frame in self._decode(stop):
                if stop.is_set():  # a GOP comes out in one piece: stop between its frames too
                    return
                self._alive = time.monotonic()
                yield frame
        except (av.error.FFmpegError, DecordFailed) as exc:
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:200] or type(exc).__name__
            at_s = max(0.0, self.stats.last_time_s)
            raise InvalidArgument(
                f"{shown} stopped decoding after {at_s:.1f} s of video ({reason}): the file is corrupt or "
                "truncated; replace or re-encode it"
            ) from None
        if not stop.is_set():
            self._check_complete(shown)

    def _decode(self, stop: threading.Event) -> Iterator[DecodedFrame]:
        if _chosen_decoder(self._options) == "decord":
            try:
                reader = open_reader(self._path, self._options.max_frame_side_px)
            except DecordUnavailable as exc:
                logger.warning("decoding %s with PyAV: %s", self.display, exc)
            else:
                yield from decord_frames(reader, self._options.sample_fps, self.stats, stop)
                return
        yield from self._decode_pyav(stop)

    def _decode_pyav(self, stop: threading.Event) -> Iterator[DecodedFrame]:
        if self._options.file_decode != "full":
            try:
                with self._open_stream() as (container, stream):
                    decoder = KeyframeFirstDecoder(stream, _keyframe_config(self._options), self.stats)
                    yield from decoder.frames(container.demux(stream), stop)
                return
            except FullDecodingNeeded as exc:
                logger.info("decoding %s fully: %s", self.display, exc)
                self.stats = DecodeStats(fallback=str(exc))
        with self._open_stream() as (container, stream):
            yield from self._decode_full(stream, container, stop)

    @contextmanager
    def _open_stream(self) -> Iterator[tuple[av.container.InputContainer, av.video.stream.VideoStream]]:
        with av.open(str(self._path)) as container:
            stream = first_video_stream(container)
            if stream is None:  # replaced since AddStream checked it
                raise InvalidArgument(f"{quote_prefix(str(self._path), PATH_QUOTE_LIMIT)} has no video stream")
            yield container, stream

    def _decode_full(self, stream, container, stop: threading.Event) -> Iterator[DecodedFrame]:  # noqa: ANN001
        self.stats.decoder = "full"
        stream.thread_type = "AUTO"  # frame threads: decoding keeps up with the encoder
        origin_s = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        fps = float(stream.average_rate) if stream.average_rate else _FALLBACK_FPS
        for index, frame in enumerate(container.decode(stream)):
            if stop.is_set():
                return
            time_s = max(0.0, frame.time - origin_s if frame.time is not None else index / fps)
            self.stats.frames_decoded += 1
            self.stats.frames_yielded += 1
            self.stats.last_time_s = time_s
            yield decoded(frame, time_s, self._options.max_frame_side_px)

    def _check_complete(self, shown: str) -> None:
        """A file whose frames end well before its stated length was cut short (a copy or an upload that
        stopped): FFmpeg ends such a file quietly, so say so rather than report a shorter video."""
        missing_s = self.duration_s - max(0.0, self.stats.last_time_s)
        slack_s = max(_TRUNCATION_SLACK_S, _TRUNCATION_SLACK_FRACTION * self.duration_s)
        if self._is_video_duration and missing_s > slack_s:
            raise InvalidArgument(
                f"{shown} ends after {max(0.0, self.stats.last_time_s):.1f} s of video but its header says "
                f"{self.duration_s:.1f} s: the file is truncated; replace it with a complete copy"
            )


def check_decode_names(options: SourceOptions) -> None:
    """InvalidArgument naming the valid choices when a decoding mode or decoder is unknown."""
    if options.file_decode not in FILE_DECODES:
        raise InvalidArgument(f"unknown file_decode {options.file_decode!r}; valid: {', '.join(FILE_DECODES)}")
    if options.file_decoder not in FILE_DECODERS:
        raise InvalidArgument(f"unknown file_decoder {options.file_decoder!r}; valid: {', '.join(FILE_DECODERS)}")


def _chosen_decoder(options: SourceOptions) -> str:
    # "auto" is PyAV: keyframes-first beats decord at sampled rates (decord cannot skip non-key frames: ~100x
    # against ~30x real time at 1 fps, benchmarks/decode.py), and full PyAV decoding beats decord reading every
    # frame (~10x against ~5x: decord converts each frame to RGB). decord runs only when asked for.
    return "decord" if options.file_decoder == "decord" else "pyav"


def _keyframe_config(options: SourceOptions) -> KeyframeFirstConfig:
    return KeyframeFirstConfig(
        max_frame_side_px=options.max_frame_side_px,
        sample_fps=options.sample_fps,
        thumbnail_width_px=options.thumbnail_width_px,
        pixel_change_levels=options.pixel_change_levels,
        max_changed_fraction=options.keyframe_max_changed_fraction,
        max_keyframe_interval_s=options.max_keyframe_interval_s,
        max_gop_bytes=options.max_gop_bytes,
        is_auto=options.file_decode == "auto",
    )
