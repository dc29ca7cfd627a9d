"""The VisionEncoder seam: frames in, one L2-normalised feature vector per frame out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class EncoderOptions:
    model: str = ""  # Hugging Face id or local path, for backends with weights
    device: str | None = None  # torch device; None = CUDA when available
    batch_size: int = 16  # frames per forward pass
    model_cache: Path = Path()  # where locally built models (the tiny profile's) are prepared once


class VisionEncoder(Protocol):
    name: str
    dim: int

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(H, W, 3) uint8 RGB images -> (N, dim) float32 rows, each L2-normalised."""
        ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, D) float32 with unit rows; an all-zero row stays zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)  # (N, 1)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
