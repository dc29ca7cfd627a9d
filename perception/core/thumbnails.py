"""Small grey thumbnails and the cheap pixel-space test the sampler and the frame cache share.

Averaging a frame down to ~64 pixels wide wipes out sensor noise and compression flicker
(measured on the sample video: under 6 grey levels between frames of a static scene), while
an object entering the view moves hundreds of thumbnail pixels by tens of levels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def thumbnail_height_px(width: int, height: int, width_px: int) -> int:
    """Height of a `width_px`-wide thumbnail of a width x height frame, aspect ratio kept."""
    return max(1, round(height * width_px / width))


def grey_thumbnail(image: np.ndarray, width_px: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (h, width_px) uint8 grey, box-averaged, aspect ratio kept."""
    height_px = thumbnail_height_px(image.shape[1], image.shape[0], width_px)
    grey = Image.fromarray(image).convert("L")
    return np.asarray(grey.resize((width_px, height_px), Image.Resampling.BOX))


def changed_fraction(a: np.ndarray, b: np.ndarray, pixel_change_levels: int) -> float:
    """Fraction of pixels of two thumbnails that differ by at least `pixel_change_levels` grey levels.

    Thumbnails of different shapes (a live source changed resolution) count as entirely changed.
    """
    if a.shape != b.shape:
        return 1.0
    difference = np.abs(a.astype(np.int16) - b.astype(np.int16))  # (h, w)
    return float(np.mean(difference >= pixel_change_levels))
