"""The Captioner seam: the frames of a clip in, a caption and the on-screen text out.

Text is read per frame, and only for frames whose text is not known yet: a frame the frame
cache reused shares the text of the frame it reused, so OCR runs once per distinct view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class CaptionerOptions:
    model: str = ""  # Hugging Face id or local path, for backends with weights
    device: str | None = None  # torch device; None = CUDA when available
    min_confidence: float = 0.7  # ocr: lines read with less are dropped
    min_side_px: int = 720  # ocr: smaller frames are upscaled to this shorter side first; 0 = never
    prompt: str = "Describe what happens in these frames in one sentence, and read any text on screen."
    max_frames: int = 4  # vlm: distinct frames of a clip shown to the model
    max_new_tokens: int = 48  # vlm: tokens generated per caption
    model_cache: Path = Path()  # where locally built models (the tiny profile's) are prepared once


class Captioner(Protocol):
    name: str

    def read_text(self, images: Sequence[np.ndarray]) -> list[tuple[str, ...]]:
        """On-screen text lines of each (H, W, 3) uint8 RGB image; empty tuples from backends that read none."""
        ...

    def caption(self, images: Sequence[np.ndarray], ocr_lines: Sequence[str]) -> str:
        """A caption for a clip, from its distinct frames in time order and the text read on them."""
        ...
