"""On-screen text with RapidOCR (PP-OCRv4 on onnxruntime, shipped in its PyPI package: cpu profile).

The text is read the way small, faint text survives (benchmarks/ocr_cer.py measures it):
- the detector finds line boxes on the frame itself (no upscale of the whole frame), then each line is cut
  out of the original pixels, contrast-stretched and scaled so its height is the recogniser's input height
  (48 px): one resampling chosen for that line's size, instead of one upscale for the whole frame and a
  second one inside the recogniser;
- with a stream id as context, only the tiles that changed since that stream's last read are read again
  (ocr_regions.py), and a line read twice keeps its more confident reading.

There is no describing model in this profile, so the caption is empty: the text itself goes to the
clip's ocr_lines, which memory indexes for exact matches (plates, codes, sign words). A stock
sentence such as "on-screen text seen" would add nothing to search, and a small LLM would quote it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from perception.core.captioners.base import CaptionerOptions
from perception.core.captioners.ocr_regions import (
    Box,
    ChangeConfig,
    Reading,
    TextState,
    TextStates,
    changed_tiles,
    grey_thumbnail,
    grown,
    in_blocks,
    intersects,
    merge_reread,
    union,
)
from perception.core.text_lines import distinct_lines, tidy_line

logger = logging.getLogger(__name__)

# Percentiles of a line crop's grey levels stretched to black and white: the glyphs and the background
# of a faint sign, ignoring the few pixels of noise at either end.
_STRETCH_PERCENTILES = (2, 98)
# A crop whose levels span less than this is blank (nothing to stretch).
_MIN_SPREAD_LEVELS = 8
# CLAHE before detection: tiles of about this many frame pixels, histogram clipped at 3x the mean
# (OpenCV's usual setting: enough to lift faint text without turning sensor noise into boxes).
_CLAHE_TILE_PX = 128
_CLAHE_CLIP_LIMIT = 3.0


@dataclass(frozen=True)
class OcrConfig:
    min_confidence: float = 0.7  # lines recognised with less are dropped
    detect_min_side_px: int = 736  # shorter side the detector sees (RapidOCR's own default); smaller are enlarged
    max_streams: int = 256  # streams whose last read is kept for change-only reading
    # Every this many reads of a stream the whole frame is read again (merged, the more confident reading
    # kept): a line missed once in a static region would otherwise stay missed while nothing changes there.
    full_read_every: int = 10
    change: ChangeConfig = field(default_factory=ChangeConfig)


class TextReader:
    """RapidOCR's detector and recogniser, driven line by line and region by region.

    Not thread-safe (it adjusts the detector per call, and keeps per-stream state): Compute calls it on
    its one caption thread.
    """

    def __init__(self, config: OcrConfig) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self._engine = RapidOCR()
        self._config = config
        self._states = TextStates(config.max_streams)
        self._line_height_px = int(self._engine.text_rec.rec_image_shape[1])  # 48 for PP-OCRv4

    def read_frames(self, images: Sequence[np.ndarray], context: str = "") -> list[tuple[str, ...]]:
        """Lines of each (H, W, 3) uint8 RGB image; with a context (a stream id) the images are taken as
        that stream's frames in time order, and only what changed since its last read is read again."""
        return [self.read(image, context) for image in images]

    def read(self, image: np.ndarray, context: str = "") -> tuple[str, ...]:
        """One line per block of text (a panel's lines joined), blocks in reading order."""
        blocks = in_blocks(self._readings(image, context))
        lines = (" ".join(filter(None, (tidy_line(reading.text) for reading in block))) for block in blocks)
        return tuple(line for line in lines if line)

    def _readings(self, image: np.ndarray, context: str) -> list[Reading]:
        height, width = image.shape[:2]
        thumbnail = grey_thumbnail(image)
        state = self._states.get(context) if context else None
        whole = (0, 0, width, height)
        if state is None or state.frame_shape != (height, width):
            readings, reads_since_full = self._read_region(image, whole), 0
        elif state.reads_since_full + 1 >= self._config.full_read_every:
            changed = changed_tiles(state.thumbnail, thumbnail, self._config.change)
            readings, reads_since_full = merge_reread(state.readings, self._read_region(image, whole), changed), 0
        else:
            readings, reads_since_full = self._reread_changes(image, state, thumbnail), state.reads_since_full + 1
        if context:
            self._states.put(context, TextState(thumbnail, (height, width), tuple(readings), reads_since_full))
        return readings

    def _reread_changes(self, image: np.ndarray, state: TextState, thumbnail: np.ndarray) -> list[Reading]:
        """The previous readings, with the region around the changed tiles read again."""
        changed = changed_tiles(state.thumbnail, thumbnail, self._config.change)
        if not changed:
            return list(state.readings)
        frame_shape = image.shape[:2]
        region = grown(union(changed), self._config.change.tile_px, frame_shape)
        # Lines reaching into the region are read whole, not cut at its edge.
        touching = [reading.box for reading in state.readings if intersects(reading.box, region)]
        region = grown(union([region, *touching]), 0, frame_shape)
        inside = [reading for reading in state.readings if intersects(reading.box, region)]
        outside = [reading for reading in state.readings if not intersects(reading.box, region)]
        return outside + merge_reread(inside, self._read_region(image, region), changed)

    def _read_region(self, image: np.ndarray, region: Box) -> list[Reading]:
        """Lines detected and recognised in `region` of the frame, in frame coordinates."""
        x0, y0, x1, y1 = region
        bgr = np.ascontiguousarray(image[y0:y1, x0:x1, ::-1])  # (h, w, 3): RapidOCR takes OpenCV's BGR
        quads = self._detect(bgr, min(image.shape[:2]))
        if not quads:
            return []
        crops = [self._line_crop(bgr, quad) for quad in quads]
        recognised, _elapsed_s = self._engine.text_rec(crops)
        readings = []
        for quad, (text, confidence, *_rest) in zip(quads, recognised, strict=True):
            if confidence >= self._config.min_confidence and tidy_line(text):
                xs, ys = quad[:, 0], quad[:, 1]
                box = (x0 + int(xs.min()), y0 + int(ys.min()), x0 + math.ceil(xs.max()), y0 + math.ceil(ys.max()))
                readings.append(Reading(box, text, float(confidence)))
        return readings

    def _detect(self, bgr: np.ndarray, frame_min_side_px: int) -> list[np.ndarray]:
        """(4, 2) float32 corner points of each text line in `bgr`, detected at the scale the whole frame
        would be: a crop costs its share of the frame, not a full detector input."""
        scale = max(1.0, self._config.detect_min_side_px / frame_min_side_px)
        detector = self._engine.text_det
        detector.limit_side_len = max(32, round(min(bgr.shape[:2]) * scale))
        boxes, _elapsed_s = detector(_local_contrast(bgr))
        if boxes is None or len(boxes) == 0:
            return []
        return [np.asarray(box, dtype=np.float32) for box in boxes]

    def _line_crop(self, bgr: np.ndarray, quad: np.ndarray) -> np.ndarray:
        """(line_height, W', 3) uint8: the line cut from the original pixels, straightened, scaled once
        to the recogniser's input height and contrast-stretched."""
        width = max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3]))
        height = max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2]))
        scale = self._line_height_px / max(height, 1.0)
        if scale >= 1:
            size = (max(1, round(width * scale)), self._line_height_px)
            crop = _warp(bgr, quad, size, cv2.INTER_CUBIC)
        else:  # large text: straighten at its own size, then shrink by area (no aliasing)
            native = _warp(bgr, quad, (max(1, round(width)), max(1, round(height))), cv2.INTER_LINEAR)
            size = (max(1, round(width * scale)), self._line_height_px)
            crop = cv2.resize(native, size, interpolation=cv2.INTER_AREA)
        return _stretched(crop)


def _local_contrast(bgr: np.ndarray) -> np.ndarray:
    """(H, W, 3) grey with local contrast equalised (CLAHE), for the detector only: measured, it finds
    text 30 grey levels off a blurred, compressed background that it misses on the plain frame."""
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    height, width = grey.shape
    tiles = (max(1, width // _CLAHE_TILE_PX), max(1, height // _CLAHE_TILE_PX))
    equalised = cv2.createCLAHE(clipLimit=_CLAHE_CLIP_LIMIT, tileGridSize=tiles).apply(grey)
    return cv2.cvtColor(equalised, cv2.COLOR_GRAY2BGR)


def _warp(bgr: np.ndarray, quad: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    width, height = size
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    return cv2.warpPerspective(bgr, matrix, size, borderMode=cv2.BORDER_REPLICATE, flags=interpolation)


def _stretched(crop: np.ndarray) -> np.ndarray:
    """The crop's grey range stretched to 0-255: text 30 levels off its background reads like print."""
    low, high = np.percentile(crop.mean(axis=2), _STRETCH_PERCENTILES)
    if high - low < _MIN_SPREAD_LEVELS:
        return crop
    stretched = (crop.astype(np.float32) - low) * (255.0 / (high - low))
    return np.clip(stretched, 0, 255).astype(np.uint8)


class OcrCaptioner:
    name = "ocr"

    def __init__(self, reader: TextReader) -> None:
        self._reader = reader

    def read_text(self, images: Sequence[np.ndarray], context: str = "") -> list[tuple[str, ...]]:
        return self._reader.read_frames(images, context)

    def caption(self, images: Sequence[np.ndarray], ocr_lines: Sequence[str]) -> str:
        return ""

    def describe(self, images: Sequence[np.ndarray], instruction: str) -> str:
        """No model to follow the instruction: the answer is the text on the images, one line each."""
        return "\n".join(distinct_lines(line for lines in self._reader.read_frames(images) for line in lines))


def reader_config(options: CaptionerOptions) -> OcrConfig:
    return OcrConfig(
        min_confidence=options.min_confidence,
        detect_min_side_px=options.detect_min_side_px,
        max_streams=options.max_text_streams,
        change=ChangeConfig(tile_px=options.text_tile_px),
    )


def build_reader(options: CaptionerOptions) -> TextReader:
    return TextReader(reader_config(options))


def build(options: CaptionerOptions) -> OcrCaptioner:
    return OcrCaptioner(build_reader(options))
