"""On-screen text with RapidOCR (PP-OCRv4 on onnxruntime, shipped in its PyPI package: cpu profile).

There is no describing model in this profile, so the caption is empty: the text itself goes to the
clip's ocr_lines, which memory indexes for exact matches (plates, codes, sign words). A stock
sentence such as "on-screen text seen" would add nothing to search, and a small LLM would quote it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from PIL import Image

from perception.core.captioners.base import CaptionerOptions
from perception.core.text_lines import tidy_line

logger = logging.getLogger(__name__)


class OcrCaptioner:
    name = "ocr"

    def __init__(self, min_confidence: float, min_side_px: int) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self._engine = RapidOCR()
        self._min_confidence = min_confidence
        self._min_side_px = min_side_px

    def read_text(self, images: Sequence[np.ndarray]) -> list[tuple[str, ...]]:
        return [self._read(image) for image in images]

    def caption(self, images: Sequence[np.ndarray], ocr_lines: Sequence[str]) -> str:
        return ""

    def _read(self, image: np.ndarray) -> tuple[str, ...]:
        # RapidOCR takes arrays as OpenCV's BGR.
        bgr = np.ascontiguousarray(self._upscaled(image)[..., ::-1])  # (H', W', 3)
        result, _ = self._engine(bgr)
        lines = (tidy_line(text) for _box, text, score in result or () if score >= self._min_confidence)
        return tuple(line for line in lines if line)

    def _upscaled(self, image: np.ndarray) -> np.ndarray:
        """Small frames enlarged so the shorter side is `min_side_px`. Measured on the 640 x 360 sample:
        at 360 px the recogniser drops the spaces ("ALARMCODE7315"); at 720 px it keeps them, at the same cost
        (the detector resizes to its own input size either way)."""
        height, width = image.shape[:2]
        if not self._min_side_px or min(height, width) >= self._min_side_px:
            return image
        scale = self._min_side_px / min(height, width)
        size = (round(width * scale), round(height * scale))
        return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC))


def build(options: CaptionerOptions) -> OcrCaptioner:
    return OcrCaptioner(options.min_confidence, options.min_side_px)
