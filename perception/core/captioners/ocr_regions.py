"""Where on a frame text must be read again, and which reading of a line to keep.

A camera's signs, plates and codes mostly stay put, so the OCR reader keeps, per stream, the grey
thumbnail of the frame it last read and the lines it read there. A new frame is compared tile by
tile with that thumbnail; only the changed tiles (and the lines that touch them) are read again,
and a line read again keeps whichever reading had the higher recognition confidence, unless the
text itself has changed. Nothing here runs a model: the reader in ocr.py does.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels, x1 and y1 exclusive

# A thumbnail keeps every 4th pixel: a 1280 x 720 frame becomes 320 x 180 (57 KB per stream), still
# fine enough that an 8 px high character changing covers several thumbnail pixels.
THUMBNAIL_STEP_PX = 4
# Two readings of boxes that overlap this much (intersection over the smaller box) are of the same line.
SAME_PLACE_OVERLAP = 0.5
# Characters the recogniser confuses with each other on the same glyphs (DejaVu's O and 0 read either way):
# two readings that differ only in these, in case and in spacing are one text read twice. Any other
# difference, one digit included (EXIT 7 became EXIT 8), is the text itself changing: the new reading wins.
_LOOK_ALIKES = str.maketrans({"o": "0", "i": "1", "l": "1", "|": "1"})


@dataclass(frozen=True)
class Reading:
    """One line read on a frame: where, what, and how sure the recogniser was (0-1)."""

    box: Box
    text: str
    confidence: float


@dataclass(frozen=True)
class ChangeConfig:
    tile_px: int = 64  # side of a tile of the change grid, in frame pixels
    pixel_change_levels: int = 12  # grey levels a thumbnail pixel must move by to count as changed (above noise)
    tile_changed_fraction: float = 0.01  # fraction of a tile's thumbnail pixels changed that makes it changed


@dataclass(frozen=True)
class TextState:
    """What one stream's last read left: its grey thumbnail and the lines on it."""

    thumbnail: np.ndarray  # (H / step, W / step) uint8 grey
    frame_shape: tuple[int, int]  # (H, W) of the frame read
    readings: tuple[Reading, ...]
    reads_since_full: int = 0  # reads of the stream since its whole frame was last read


def grey_thumbnail(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H / step, W / step) uint8 grey, by subsampling (cheap: no filtering)."""
    sub = image[::THUMBNAIL_STEP_PX, ::THUMBNAIL_STEP_PX].astype(np.uint16)  # (h, w, 3)
    return ((sub[..., 0] + 2 * sub[..., 1] + sub[..., 2]) // 4).astype(np.uint8)


def changed_tiles(previous: np.ndarray, current: np.ndarray, config: ChangeConfig) -> list[Box]:
    """The tiles, in frame pixels, where `current` differs from `previous` (same-shaped thumbnails)."""
    if previous.shape != current.shape:
        raise ValueError(f"thumbnails differ in shape: {previous.shape} and {current.shape}")
    moved = np.abs(previous.astype(np.int16) - current.astype(np.int16)) > config.pixel_change_levels  # (h, w)
    tile = max(1, config.tile_px // THUMBNAIL_STEP_PX)  # tile side in thumbnail pixels
    rows, cols = -(-moved.shape[0] // tile), -(-moved.shape[1] // tile)
    padded = np.zeros((rows * tile, cols * tile), dtype=bool)
    padded[: moved.shape[0], : moved.shape[1]] = moved
    fraction = padded.reshape(rows, tile, cols, tile).mean(axis=(1, 3))  # (rows, cols)
    side = tile * THUMBNAIL_STEP_PX
    return [
        (int(col) * side, int(row) * side, (int(col) + 1) * side, (int(row) + 1) * side)
        for row, col in zip(*np.nonzero(fraction > config.tile_changed_fraction), strict=True)
    ]


def intersects(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area (0-1): a line cut short still overlaps its full reading."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / max(smaller, 1)


def union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def grown(box: Box, margin_px: int, frame_shape: tuple[int, int]) -> Box:
    """`box` widened by `margin_px` on each side, clipped to the frame."""
    height, width = frame_shape
    return (
        max(0, box[0] - margin_px),
        max(0, box[1] - margin_px),
        min(width, box[2] + margin_px),
        min(height, box[3] + margin_px),
    )


def _text_key(text: str) -> str:
    return "".join(text.split()).casefold().translate(_LOOK_ALIKES)


def same_text(a: str, b: str) -> bool:
    """Whether two readings are the same text read twice: equal but for spacing, case and look-alikes."""
    return _text_key(a) == _text_key(b)


def better_of(old: Reading | None, new: Reading) -> Reading:
    """`new`, unless `old` is the same text at the same place read with more confidence."""
    if old is None or not same_text(old.text, new.text) or new.confidence >= old.confidence:
        return new
    return Reading(new.box, old.text, old.confidence)


def merge_reread(old: Sequence[Reading], fresh: Sequence[Reading], changed: Sequence[Box]) -> list[Reading]:
    """The readings of a re-read region: each fresh one against the old reading at its place (the more
    confident of two readings of one line wins); old ones not read again survive only off changed tiles
    (the detector missed them this time, but nothing there changed)."""
    result: list[Reading] = []
    matched: set[int] = set()
    for reading in fresh:
        scores = [overlap(reading.box, previous.box) for previous in old]
        best = int(np.argmax(scores)) if scores else -1
        if best >= 0 and scores[best] >= SAME_PLACE_OVERLAP:
            matched.add(best)
            result.append(better_of(old[best], reading))
        else:
            result.append(reading)
    for index, previous in enumerate(old):
        if index not in matched and not any(intersects(previous.box, tile) for tile in changed):
            result.append(previous)
    return result


def in_reading_order(readings: Sequence[Reading]) -> list[Reading]:
    """Top to bottom, then left to right; lines whose tops are within half a line's height share a row."""
    ordered = sorted(readings, key=lambda r: (r.box[1], r.box[0]))
    rows: list[list[Reading]] = []
    for reading in ordered:
        if rows and reading.box[1] - rows[-1][0].box[1] < (rows[-1][0].box[3] - rows[-1][0].box[1]) / 2:
            rows[-1].append(reading)
        else:
            rows.append([reading])
    return [reading for row in rows for reading in sorted(row, key=lambda r: r.box[0])]


def in_blocks(readings: Sequence[Reading]) -> list[list[Reading]]:
    """The lines grouped into blocks of text, in reading order: a line joins the block whose last line is just
    above it (a gap under one line height) and shares most of its width. A two-line panel ("TILL 93" over
    "PRICE 4.30") stays one block even when a second panel beside it has lines at the same heights, which
    reading by rows would interleave ("TILL 93 | ORDER 93 | PRICE 4.30 | PRICE 8.10")."""
    blocks: list[list[Reading]] = []
    for reading in in_reading_order(readings):
        block = next((block for block in blocks if _continues(block[-1].box, reading.box)), None)
        if block is None:
            blocks.append([reading])
        else:
            block.append(reading)
    return blocks


def _continues(above: Box, below: Box) -> bool:
    height = max(above[3] - above[1], 1)
    gap = below[1] - above[3]
    overlap = min(above[2], below[2]) - max(above[0], below[0])
    narrower = max(min(above[2] - above[0], below[2] - below[0]), 1)
    return -height / 2 < gap < height and overlap >= narrower / 2


class TextStates:
    """Per-stream TextState, at most `max_streams` (least recently read dropped first): memory stays
    bounded however many streams come and go."""

    def __init__(self, max_streams: int) -> None:
        if max_streams < 1:
            raise ValueError(f"max_streams must be at least 1, got {max_streams}")
        self._max_streams = max_streams
        self._states: OrderedDict[str, TextState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, stream_id: str) -> TextState | None:
        state = self._states.get(stream_id)
        if state is not None:
            self._states.move_to_end(stream_id)
        return state

    def put(self, stream_id: str, state: TextState) -> None:
        self._states[stream_id] = state
        self._states.move_to_end(stream_id)
        while len(self._states) > self._max_streams:
            self._states.popitem(last=False)
