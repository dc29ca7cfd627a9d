"""Frames a client pushes over gRPC (PushFrames): a robot or an app that has its own camera.

The RPC handler checks each frame (size, format, time order) and puts it in a bounded, thread-safe
queue, waiting for room: a client faster than the stream is slowed, never dropped. `frames()` runs on
the stream's decode thread like any FrameSource, decodes the JPEG or raw pixels there (off the event
loop) and hands them to the same sampler, cache, encoder and clip assembler a file goes through.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from longwatch.errors import FailedPrecondition, InvalidArgument
from longwatch.types import PushedFrame
from longwatch.validation import quote_prefix, validate_stream_time_s, validate_wall_ms
from perception import metrics
from perception.core.types import DecodedFrame

logger = logging.getLogger(__name__)

# How often frames() waiting for a frame checks whether it was told to stop, in seconds.
_STOP_POLL_S = 0.2
# A live push silent this long shows why in StreamStatus.error, in seconds: a client between frames
# at 1 fps is not a problem yet.
_IDLE_PROBLEM_S = 5.0
_PEER_CHARS = 100  # of the client's address shown as the source


@dataclass(frozen=True)
class PushOptions:
    """Limits of pushed frames; the settings' "Pushed frames" block."""

    max_frame_bytes: int = 8 * 1024 * 1024  # JPEG or raw bytes of one frame (raw 1920x1080 RGB is 6.2 MB)
    max_image_side_px: int = 8192  # longest side a pushed image may claim (a JPEG header can claim 65535)
    queue_frames: int = 16  # frames waiting for the decode thread; a full queue slows the client
    max_frame_side_px: int = 1280  # frames are scaled down so their longer side is at most this, as files are


class PushSourceClosed(Exception):
    """The client's call ended without closing its side: the stream fails with this reason."""


class PushSource:
    """A FrameSource fed by one PushFrames call. `put` runs on the event loop, `frames` on the decode thread."""

    duration_s = 0.0
    source_key = ""  # clips are named by stream (or wall) time, as a live stream's are

    def __init__(self, stream_id: str, options: PushOptions, is_live: bool = False, peer: str = "") -> None:
        self.stream_id = stream_id
        self.is_live = is_live
        self.location = f"push:{peer[:_PEER_CHARS]}"
        self.display = self.location
        self._options = options
        self._items: deque[PushedFrame] = deque()
        self._cond = threading.Condition()
        self._is_closed = False
        self._failure: str | None = None
        self._abandoned = ""
        self._last_t_s: float | None = None
        self._alive = time.monotonic()
        self._last_frame_monotonic = self._alive
        self._loop: asyncio.AbstractEventLoop | None = None
        self._room: asyncio.Event | None = None
        self.frames_accepted = 0
        self._pushed = metrics.PUSHED_FRAMES.labels(stream_id)
        self._wait_seconds = metrics.PUSH_WAIT_SECONDS.labels(stream_id)

    @property
    def last_alive_monotonic(self) -> float:
        return self._alive

    @property
    def problem(self) -> str:
        idle_s = time.monotonic() - self._last_frame_monotonic
        if self.is_live and not self._is_closed and idle_s >= _IDLE_PROBLEM_S:
            return f"waiting for the client: no frame pushed for {idle_s:.0f} s"
        return ""

    # The event loop's side -----------------------------------------------------------------------

    async def put(self, frame: PushedFrame) -> None:
        """Checks `frame` (InvalidArgument saying what to change) and queues it, waiting while the queue is full."""
        self._check(frame)
        if self._room is None:
            self._loop, self._room = asyncio.get_running_loop(), asyncio.Event()
        if not self._try_append(frame):
            waited_from = time.monotonic()
            while not self._try_append(frame):
                await self._room.wait()
            self._wait_seconds.inc(time.monotonic() - waited_from)
        self._last_t_s = frame.t_s
        self._last_frame_monotonic = time.monotonic()
        self.frames_accepted += 1
        self._pushed.inc()

    def abandon(self, reason: str) -> None:
        """On the event loop, once the stream is final (finished, failed, removed): a waiting or later `put`
        raises FailedPrecondition with `reason`, since no one takes frames any more."""
        with self._cond:
            self._abandoned = reason
            self._items.clear()
        if self._room is not None:
            self._room.set()

    def close(self) -> None:
        """The client closed its side: frames() ends once the queued frames are taken."""
        with self._cond:
            self._is_closed = True
            self._cond.notify_all()

    def fail(self, reason: str) -> None:
        """The call ended otherwise (cancelled, a refused frame): frames() raises `reason` after the queued frames."""
        with self._cond:
            if not self._is_closed:
                self._failure = reason
                self._is_closed = True
            self._cond.notify_all()

    def _try_append(self, frame: PushedFrame) -> bool:
        with self._cond:
            if self._abandoned:
                raise FailedPrecondition(self._abandoned)
            if self._is_closed:
                raise InvalidArgument("frames came after the push ended; start a new PushFrames call")
            if len(self._items) >= self._options.queue_frames:
                self._room.clear()  # under the lock: a take after this sets it again
                return False
            self._items.append(frame)
            self._cond.notify()
            return True

    def _check(self, frame: PushedFrame) -> None:
        validate_stream_time_s(frame.t_s, "t_s")
        validate_wall_ms(frame.wall_ms, "wall_ms")
        if self._last_t_s is not None and frame.t_s <= self._last_t_s:
            raise InvalidArgument(
                f"frame {self.frames_accepted + 1} has t_s {frame.t_s} s, not after the previous frame's "
                f"{self._last_t_s} s; push frames in time order, each later than the one before"
            )
        check_image(frame, self._options)

    # The decode thread's side --------------------------------------------------------------------

    def frames(self, stop: threading.Event) -> Iterator[DecodedFrame]:
        while True:
            frame = self._take(stop)
            if frame is None:
                return
            yield DecodedFrame(frame.t_s, to_rgb=_decoder_of(frame, self._options), wall_ms=frame.wall_ms)

    def _take(self, stop: threading.Event) -> PushedFrame | None:
        """The next frame; None at the end or on `stop`; raises PushSourceClosed once a failed call is drained."""
        with self._cond:
            while not self._items:
                self._alive = time.monotonic()  # waiting on the client is not a stalled decoder
                if stop.is_set() or (self._is_closed and self._failure is None):
                    return None
                if self._is_closed:
                    raise PushSourceClosed(self._failure)
                self._cond.wait(_STOP_POLL_S)
            if stop.is_set():
                return None
            frame = self._items.popleft()
        self._alive = time.monotonic()
        self._signal_room()
        return frame

    def _signal_room(self) -> None:
        if self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(self._room.set)
        except RuntimeError:  # the loop closed: the process is stopping
            pass


def check_image(frame: PushedFrame, options: PushOptions) -> None:
    """Refuses a frame that is too large, has no image or both, whose raw size does not match its pixels,
    or whose JPEG header is not a JPEG's; the header is read, the pixels are not (that is the decode thread's)."""
    has_jpeg, has_raw = bool(frame.jpeg), bool(frame.rgb) or bool(frame.width) or bool(frame.height)
    if has_jpeg == has_raw:
        raise InvalidArgument("a pushed frame needs either jpeg bytes or raw width, height and rgb; not both")
    size = len(frame.jpeg) + len(frame.rgb)
    if size > options.max_frame_bytes:
        raise InvalidArgument(
            f"a pushed frame is {size} bytes; the limit is {options.max_frame_bytes} bytes "
            "(LONGWATCH_PERCEPTION_PUSH_MAX_FRAME_BYTES): send JPEG, or scale the frame down"
        )
    width, height = _jpeg_size(frame.jpeg, options.max_image_side_px) if has_jpeg else (frame.width, frame.height)
    if not (1 <= width <= options.max_image_side_px and 1 <= height <= options.max_image_side_px):
        raise InvalidArgument(
            f"a pushed frame is {width}x{height} pixels; each side must be 1 to {options.max_image_side_px}"
        )
    if has_raw and len(frame.rgb) != width * height * 3:
        raise InvalidArgument(
            f"a raw {width}x{height} frame needs {width * height * 3} bytes of RGB (width * height * 3); "
            f"got {len(frame.rgb)}"
        )


def _jpeg_size(jpeg: bytes, max_side_px: int) -> tuple[int, int]:
    """(width, height) from the header; Pillow reads no pixels here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size check follows
            picture = Image.open(io.BytesIO(jpeg))
    except Image.DecompressionBombError:
        raise InvalidArgument(
            f"a pushed frame's JPEG claims over {Image.MAX_IMAGE_PIXELS} pixels; each side must be 1 to {max_side_px}"
        ) from None
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"a pushed frame's jpeg bytes are not an image ({exc}); send JPEG bytes") from None
    if picture.format != "JPEG":
        raise InvalidArgument(
            f"a pushed frame's jpeg bytes are {quote_prefix(picture.format, 20)}, not JPEG; "
            "send JPEG, or raw RGB with its width and height"
        )
    return picture.size


def _decoder_of(frame: PushedFrame, options: PushOptions):
    """The frame's (H, W, 3) uint8 RGB maker, called once on the decode thread (the sampler's thumbnail first
    needs it), scaled down so its longer side is at most `max_frame_side_px`."""

    def decode() -> np.ndarray:
        if frame.jpeg:
            try:
                picture = Image.open(io.BytesIO(frame.jpeg))
                side_px = _fitted_size(picture.size, options.max_frame_side_px)
                picture.draft("RGB", side_px)  # JPEG's own DCT scaling: a 4x smaller frame decodes ~4x faster
                picture = picture.convert("RGB")
            except (OSError, ValueError) as exc:
                raise PushSourceClosed(f"the frame at {frame.t_s} s is not a decodable JPEG: {exc}") from None
        else:
            picture = Image.fromarray(np.frombuffer(frame.rgb, np.uint8).reshape(frame.height, frame.width, 3))
            side_px = _fitted_size(picture.size, options.max_frame_side_px)
        if picture.size != side_px:
            picture = picture.resize(side_px, Image.Resampling.BILINEAR)
        return np.asarray(picture)  # (H, W, 3) uint8

    return decode


def _fitted_size(size: tuple[int, int], max_side_px: int) -> tuple[int, int]:
    """(width, height) scaled down so the longer side is at most `max_side_px`, even as the file decoder's are."""
    width, height = size
    scale = min(1.0, max_side_px / max(width, height))
    if scale == 1.0:
        return width, height
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def open_push_source(stream_id: str, options: PushOptions, is_live: bool = False, peer: str = "") -> PushSource:
    """A source for one PushFrames call; nothing to check until frames come."""
    return PushSource(stream_id, options, is_live=is_live, peer=peer)
