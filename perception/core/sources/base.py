"""The FrameSource seam: something that yields decoded frames with their stream time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from perception.core.types import DecodedFrame


@dataclass(frozen=True)
class SourceOptions:
    """How sources open and decode; live-only fields are ignored by files."""

    max_frame_side_px: int = 1280  # frames are scaled down so their longer side is at most this
    open_timeout_s: float = 10.0  # live: seconds to connect
    read_timeout_s: float = 10.0  # live: seconds without data before a read fails
    retry_initial_s: float = 1.0  # live: first reconnect delay, doubled per failure
    retry_max_s: float = 30.0  # live: longest reconnect delay
    # The sampler's rate, so a file source yields only the frames of a static stretch the sampler could
    # keep; 0 = unknown: every frame time is yielded (still correct, only more frames to offer).
    sample_fps: float = 0.0
    file_decode: str = "auto"  # files: "auto", "keyframes-first" or "full" (sources.file_source.FILE_DECODES)
    file_decoder: str = "auto"  # files: "auto", "pyav" or "decord" (sources.file_source.FILE_DECODERS)
    thumbnail_width_px: int = 64  # files: width of the grey thumbnails two keyframes are compared by
    pixel_change_levels: int = 12  # files: grey levels a thumbnail pixel must move to count as changed
    keyframe_max_changed_fraction: float = 0.001  # files: at most this fraction changed, two keyframes are the same
    max_keyframe_interval_s: float = 4.0  # files: keyframes further apart are not trusted to bound a change
    max_gop_bytes: int = 64 << 20  # files: compressed bytes of one GOP kept in memory for keyframes-first


class FrameSource(Protocol):
    """Decodes on the fly, never the whole video at once. `frames` blocks (PyAV does): run it on a thread."""

    location: str  # the source as given (may hold credentials: never log it, use `display`)
    display: str  # the source with credentials redacted
    is_live: bool
    duration_s: float  # length of a file; 0 when unknown or live
    source_key: str  # files: a digest of the first MiB, carried by each clip; "" for live sources

    def frames(self, stop: threading.Event) -> Iterator[DecodedFrame]:
        """Frames in stream order until the source ends or `stop` is set; raises when decoding fails."""
        ...

    @property
    def last_alive_monotonic(self) -> float:
        """time.monotonic() of the last sign of life (a frame, a reconnect attempt): the watchdog's input."""
        ...

    @property
    def problem(self) -> str:
        """Why no frames come now ("reconnecting: connection refused ..."), credentials redacted; "" while they do."""
        ...
