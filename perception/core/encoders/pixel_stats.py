"""Pixel statistics: a vision feature with no weights (cpu profile).

A colour histogram says what is in view (a yellow truck, a green sign); a coarse grey layout
says where. Each half is unit-length before they are joined, so neither drowns the other.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from perception.core.encoders.base import EncoderOptions, l2_normalise

# Frames are averaged down to this before any statistic: the features describe the whole
# view, and 64 x 36 pixels cost microseconds whatever the source resolution.
_WORK_SIZE_PX = (64, 36)
_LEVELS_PER_CHANNEL = 4  # 4 x 4 x 4 = 64 colour bins
_LAYOUT_SIZE_PX = (8, 8)  # 64 grey cells
DIM = _LEVELS_PER_CHANNEL**3 + _LAYOUT_SIZE_PX[0] * _LAYOUT_SIZE_PX[1]


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _colour_histogram(small: np.ndarray) -> np.ndarray:
    """(h, w, 3) uint8 -> (64,) square roots of bin frequencies: unit length, and the dot product
    of two of them is the Bhattacharyya coefficient of the histograms."""
    levels = small.astype(np.int32) * _LEVELS_PER_CHANNEL // 256  # (h, w, 3) in [0, 4)
    bins = (levels[..., 0] * _LEVELS_PER_CHANNEL + levels[..., 1]) * _LEVELS_PER_CHANNEL + levels[..., 2]
    counts = np.bincount(bins.ravel(), minlength=_LEVELS_PER_CHANNEL**3).astype(np.float64)
    return np.sqrt(counts / counts.sum())


def _grey_layout(small_image: Image.Image) -> np.ndarray:
    """(64,) coarse grey layout, mean removed (brightness changes do not move it), unit length."""
    grey = small_image.convert("L").resize(_LAYOUT_SIZE_PX, Image.Resampling.BOX)
    cells = np.asarray(grey, dtype=np.float64).ravel()
    return _unit(cells - cells.mean())


class PixelStatsEncoder:
    name = "pixel-stats"
    dim = DIM

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        rows = np.zeros((len(images), DIM), dtype=np.float64)  # (N, D)
        for row, image in zip(rows, images, strict=True):
            small_image = Image.fromarray(image).resize(_WORK_SIZE_PX, Image.Resampling.BOX)
            histogram = _colour_histogram(np.asarray(small_image))
            row[:] = np.concatenate([histogram, _grey_layout(small_image)])
        return l2_normalise(rows)


def build(options: EncoderOptions) -> PixelStatsEncoder:
    return PixelStatsEncoder()
