"""The frame cache (STC-Cacher's idea): a frame nearly the same as the last encoded one reuses its features.

On a fixed camera most sampled frames show the same scene as the frame before, so most
encoder and OCR work is skipped. The test is in pixel space on the sampler's thumbnail,
which costs microseconds; the encoder and OCR cost tens to hundreds of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.core.thumbnails import changed_fraction
from perception.core.types import EncodedFrame


@dataclass(frozen=True)
class CacheConfig:
    pixel_change_levels: int = 12  # grey levels a thumbnail pixel must move to count as changed
    # At most this fraction of thumbnail pixels changed for a frame to count as "the same" (0.1%:
    # about two pixels of a 64 x 36 thumbnail; a changed line of text moves more than that).
    max_changed_fraction: float = 0.001
    is_enabled: bool = True  # False: every sampled frame is encoded (what the cache saves can be measured)


class FrameCache:
    """Remembers the last encoded frame of one stream; comparing against it keeps slow drift from
    piling up (each re-encode moves the reference)."""

    def __init__(self, config: CacheConfig) -> None:
        self._config = config
        self._last: EncodedFrame | None = None

    def lookup(self, thumbnail: np.ndarray) -> EncodedFrame | None:
        """The last encoded frame if `thumbnail` is nearly the same as its thumbnail, else None."""
        if self._last is None or not self._config.is_enabled:
            return None
        changed = changed_fraction(thumbnail, self._last.thumbnail, self._config.pixel_change_levels)
        return self._last if changed <= self._config.max_changed_fraction else None

    def store(self, encoded: EncodedFrame) -> None:
        self._last = encoded

    def clear(self) -> None:
        self._last = None
