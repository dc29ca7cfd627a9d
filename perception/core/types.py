"""Domain types of perception's core. Frames carry numpy images, so they compare by identity (eq=False)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from perception.core.thumbnails import grey_thumbnail

if TYPE_CHECKING:
    from perception.core.token_merge import MergedTokens


class DecodedFrame:
    """One decoded frame and when it was seen.

    Its pixels are converted on first use: sampling 1 fps from a 30 fps source, 29 frames in 30
    only ever need a thumbnail, which the decoder's scaler makes for a third of the cost of the
    full RGB image (measured on 1080p H.264: 2.9 ms against 9.4 ms a frame).
    """

    __slots__ = ("_image", "_to_grey", "_to_rgb", "time_s", "wall_ms")

    def __init__(
        self,
        time_s: float,
        to_rgb: Callable[[], np.ndarray],
        to_grey: Callable[[int], np.ndarray] | None = None,
        wall_ms: int = 0,
    ) -> None:
        self.time_s = time_s  # stream time: seconds from the stream start
        self.wall_ms = wall_ms  # UTC ms since the epoch for live frames; 0 for files
        self._to_rgb: Callable[[], np.ndarray] | None = to_rgb
        self._to_grey = to_grey  # width_px -> (h, width_px) uint8 grey thumbnail, area-averaged
        self._image: np.ndarray | None = None

    @classmethod
    def from_rgb(cls, time_s: float, image: np.ndarray, wall_ms: int = 0) -> DecodedFrame:
        """A frame whose (H, W, 3) uint8 RGB pixels are already at hand."""
        frame = cls(time_s, to_rgb=lambda: image, wall_ms=wall_ms)
        frame._image = image
        return frame

    @property
    def image(self) -> np.ndarray:
        """(H, W, 3) uint8 RGB, converted once; the decoder's own buffer is let go after that."""
        if self._image is None:
            self._image = self._to_rgb()
            self._to_rgb = self._to_grey = None
        return self._image

    def grey_thumbnail(self, width_px: int) -> np.ndarray:
        """(h, width_px) uint8 grey, box-averaged, aspect ratio kept."""
        if self._to_grey is not None:
            return self._to_grey(width_px)
        return grey_thumbnail(self.image, width_px)


@dataclass(frozen=True, eq=False)
class SampledFrame:
    """A frame the sampler kept, with the thumbnail it was judged by."""

    frame: DecodedFrame
    thumbnail: np.ndarray  # (h, w) uint8 grey
    is_scene_change: bool  # it differs enough from the previous sampled frame to start a new clip


@dataclass(eq=False)
class EncodedFrame:
    """A frame that went through the encoder; reused frames point at the same one.

    Mutable on purpose: the on-screen text is read once, when the first clip holding the frame
    is described, and every later frame that reuses it reuses the text too.
    """

    image: np.ndarray  # (H, W, 3) uint8 RGB
    thumbnail: np.ndarray  # (h, w) uint8 grey
    features: np.ndarray  # (D,) float32, L2-normalised
    lines: tuple[str, ...] | None = None  # on-screen text; None until read
    patches: np.ndarray | None = None  # (P, C) float32 patch tokens; None when the encoder makes none
    # The patches merged down to the token budget (perception.core.token_merge). Kept with the open clip
    # and the detail memory, not sent in the ClipRecord: memory's storage budget has no room for them.
    tokens: MergedTokens | None = None


@dataclass(frozen=True, eq=False)
class ClipFrame:
    """A sampled frame in a clip: its time and the encoded frame whose features (and text) it has."""

    time_s: float
    wall_ms: int
    encoded: EncodedFrame
    is_scene_change: bool
    is_reused: bool  # the features came from the frame cache, not the encoder


@dataclass(frozen=True, eq=False)
class ClipDraft:
    """Consecutive frames of one clip, before captioning. It spans [start_s, end_s): its first frame's time
    to the time the next sample shows something of its own, so consecutive clips leave no gap."""

    frames: tuple[ClipFrame, ...]
    end_s: float

    @property
    def start_s(self) -> float:
        return self.frames[0].time_s

    @property
    def start_wall_ms(self) -> int:
        return self.frames[0].wall_ms

    def merged_tokens(self) -> np.ndarray | None:
        """(T, C) the merged tokens of the clip's distinct frames, in order; None when no frame has any."""
        parts = [encoded.tokens.tokens for encoded in self.distinct_encoded() if encoded.tokens is not None]
        return np.concatenate(parts) if parts else None

    def distinct_encoded(self) -> list[EncodedFrame]:
        """The encoded frames behind the clip's frames, each once, in order of first use."""
        seen: dict[int, EncodedFrame] = {}
        for frame in self.frames:
            seen.setdefault(id(frame.encoded), frame.encoded)
        return list(seen.values())
