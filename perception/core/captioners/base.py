"""The Captioner seam: the frames of a clip in, a caption and the on-screen text out, and a closer look
at chosen frames on request (Describe).

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
    detect_min_side_px: int = 736  # ocr: shorter side the text detector sees; smaller frames are enlarged for it
    text_tile_px: int = 64  # ocr: side of the tiles compared with a stream's last read frame, in pixels
    max_text_streams: int = 256  # ocr: streams whose last read is kept (least recently read dropped first)
    ocr_with_vlm: bool = True  # vlm: read on-screen text with OCR too, and show it to the model
    prompt: str = "Describe what happens in these frames in one sentence, and read any text on screen."
    max_frames: int = 4  # vlm: distinct frames of a clip shown to the model
    max_new_tokens: int = 48  # vlm: tokens generated per caption
    model_cache: Path = Path()  # where locally built models (the tiny profile's) are prepared once


class Captioner(Protocol):
    name: str

    def read_text(self, images: Sequence[np.ndarray], context: str = "") -> list[tuple[str, ...]]:
        """On-screen text lines of each (H, W, 3) uint8 RGB image; empty tuples from backends that read none.

        `context` is the stream id when the images are that stream's frames in time order: a backend may
        keep a bounded state per stream (the OCR reader re-reads only what changed). "" = no state."""
        ...

    def caption(self, images: Sequence[np.ndarray], ocr_lines: Sequence[str]) -> str:
        """A caption for a clip, from its distinct frames in time order and the text read on them."""
        ...

    def describe(self, images: Sequence[np.ndarray], instruction: str) -> str:
        """A question-specific look at keyframes: the model's answer to `instruction` over the images
        (OCR-only backends answer with the text they read)."""
        ...
