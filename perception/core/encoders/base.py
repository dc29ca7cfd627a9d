"""The VisionEncoder seam: frames in, one L2-normalised feature vector per frame out, and the patch
tokens the Flash Memory and token merging work on where the backend makes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class EncoderOptions:
    model: str = ""  # Hugging Face id or local path of a CLIP/SigLIP, for hf-clip
    vlm_model: str = ""  # Hugging Face id or local path of the captioning VLM, for vlm-vision
    device: str | None = None  # torch device; None = CUDA when available
    batch_size: int = 16  # frames per forward pass
    model_cache: Path = Path()  # where locally built models (the tiny profile's) are prepared once


class VisionEncoder(Protocol):
    name: str
    dim: int  # width of the global feature
    patch_dim: int  # width of a patch token; 0 when the backend makes none

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(H, W, 3) uint8 RGB images -> (N, dim) float32 rows, each L2-normalised."""
        ...

    def encode_with_patches(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        """The same (N, dim) rows as `encode`, and (N, P, patch_dim) float32 patch tokens from the same
        forward pass (None when patch_dim is 0)."""
        ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, D) float32 with unit rows; an all-zero row stays zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)  # (N, 1)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def in_batches(images: Sequence[np.ndarray], batch_size: int) -> list[Sequence[np.ndarray]]:
    """The images cut into runs of at most `batch_size` (one forward pass each)."""
    return [images[start : start + batch_size] for start in range(0, len(images), batch_size)]


def encode_batched(
    encode_batch: Callable[[Sequence[np.ndarray]], tuple[np.ndarray, np.ndarray]],
    images: Sequence[np.ndarray],
    batch_size: int,
    dim: int,
    patch_dim: int,
) -> tuple[np.ndarray, np.ndarray]:
    """`encode_with_patches` for a backend whose `encode_batch` gives ((B, D) raw features, (B, P, C) patches):
    the images in batches of `batch_size`, features L2-normalised."""
    if not images:
        return np.zeros((0, dim), np.float32), np.zeros((0, 0, patch_dim), np.float32)
    batches = [encode_batch(batch) for batch in in_batches(images, batch_size)]
    features = np.concatenate([features for features, _ in batches])  # (N, D)
    patches = np.concatenate([patches for _, patches in batches])  # (N, P, C)
    return l2_normalise(features), patches
