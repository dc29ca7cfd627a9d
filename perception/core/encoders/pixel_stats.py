"""Pixel statistics: a vision feature with no weights (cpu profile).

A colour histogram says what is in view (a yellow truck, a green sign); a coarse grey layout
says where. Each half is unit-length before they are joined, so neither drowns the other.

Patch tokens: a 4 x 4 grid of cells of the same small image, each its mean colour and grey spread. They
cost microseconds (the image is 64 x 36 by then) and let the cpu profile run the token path (merging,
the detail memory's tokens) that the model encoders feed, so that path is not only tested on GPUs.
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
# 4 x 4 cells of 16 x 9 work pixels: 16 tokens, the default token budget per frame, so merging keeps them all.
_CELL_GRID = (4, 4)  # (rows, columns)
PATCH_DIM = 4  # mean red, green, blue and the grey standard deviation of a cell, each in [0, 1]


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


def _cell_tokens(small: np.ndarray) -> np.ndarray:
    """(h, w, 3) uint8 -> (16, 4) float32: per cell of a 4 x 4 grid, mean RGB and grey spread in [0, 1]."""
    rows, columns = _CELL_GRID
    height, width = small.shape[0] // rows * rows, small.shape[1] // columns * columns
    pixels = small[:height, :width].astype(np.float32) / 255.0  # (h, w, 3)
    cells = pixels.reshape(rows, height // rows, columns, width // columns, 3).swapaxes(1, 2)  # (4, 4, ch, cw, 3)
    cells = cells.reshape(rows * columns, -1, 3)  # (16, ch * cw, 3)
    grey_spread = cells.mean(axis=2).std(axis=1, keepdims=True)  # (16, 1)
    return np.concatenate([cells.mean(axis=1), grey_spread], axis=1)  # (16, 4)


class PixelStatsEncoder:
    name = "pixel-stats"
    dim = DIM
    patch_dim = PATCH_DIM

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return self.encode_with_patches(images, with_patches=False)[0]

    def encode_with_patches(
        self, images: Sequence[np.ndarray], with_patches: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        rows = np.zeros((len(images), DIM), dtype=np.float64)  # (N, D)
        patches = np.zeros((len(images), _CELL_GRID[0] * _CELL_GRID[1], PATCH_DIM), np.float32)  # (N, 16, 4)
        for index, image in enumerate(images):
            small_image = Image.fromarray(image).resize(_WORK_SIZE_PX, Image.Resampling.BOX)
            small = np.asarray(small_image)  # (36, 64, 3)
            rows[index] = np.concatenate([_colour_histogram(small), _grey_layout(small_image)])
            if with_patches:
                patches[index] = _cell_tokens(small)
        return l2_normalise(rows), patches if with_patches else None


def build(options: EncoderOptions) -> PixelStatsEncoder:
    return PixelStatsEncoder()
