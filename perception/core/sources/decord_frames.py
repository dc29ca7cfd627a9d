"""Video files read with decord: by index at the sampler's grid, or every frame when the rate is unknown.

decord decodes and converts to RGB in C++ and reads frames by index, so the frames between two grid
points are decoded but never converted. It cannot skip non-key frames, so at 1 fps on a 25 fps
H.264 file with a keyframe every 2 s it still decodes every frame. Measured on 3 min of 1280x720
25 fps video (benchmarks/decode.py --quick, 2 shared cores, two runs): decord at the 1 fps grid
26-35x real time, keyframes-first PyAV 98-115x, full PyAV decoding 10-11x; decord reading every
frame 4-5x (it converts each one to RGB; PyAV converts only the sampled ones). So "auto" chooses
PyAV; decord at the grid is the faster choice where keyframes-first cannot help (keyframes too
sparse) and a steady grid is enough.

With a known sample rate only the grid's frames are read, so the sampler sees no frame between two
grid points and keeps no extra scene-change sample; frame times and images are PyAV's otherwise.
decord's times are its frames' presentation times from the stream start, as PyAV's are.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from perception.core.sources.keyframe_first import DecodeStats, SampleGrid
from perception.core.types import DecodedFrame

logger = logging.getLogger(__name__)

# Frames fetched per decord call: big enough to amortise the call, small enough that a batch of
# 1280x720 RGB frames stays small (8 x 2.7 MB).
_BATCH_FRAMES = 8


class DecordUnavailable(Exception):
    """decord is not installed, or cannot open this file: the caller falls back to PyAV."""


class DecordFailed(Exception):
    """decord opened the file but failed part way through it (a corrupt or truncated file)."""


def _scaled_size(width: int, height: int, max_side_px: int) -> tuple[int, int]:
    """(width, height) as av_frames.to_rgb scales: longer side at most `max_side_px`, even sizes."""
    scale = min(1.0, max_side_px / max(width, height))
    if scale == 1.0:
        return width, height
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def open_reader(path: Path, max_side_px: int):  # noqa: ANN201 - decord's VideoReader, imported lazily
    """A decord VideoReader producing frames at PyAV's scaled size, or DecordUnavailable saying why."""
    try:
        import decord
    except ImportError as exc:
        raise DecordUnavailable(f"decord is not installed ({exc})") from None
    try:
        probe = decord.VideoReader(str(path), ctx=decord.cpu(0))
        height, width = probe[0].shape[:2]
        scaled = _scaled_size(width, height, max_side_px)
        if scaled == (width, height):
            return probe
        del probe
        return decord.VideoReader(str(path), ctx=decord.cpu(0), width=scaled[0], height=scaled[1])
    except (decord.DECORDError, RuntimeError, IndexError) as exc:
        raise DecordUnavailable(f"decord cannot read this file ({str(exc).splitlines()[0][:200]})") from None


def grid_indices(times_s: np.ndarray, sample_fps: float) -> list[int]:
    """Indices of the frames the sampler's grid keeps (all of them with no rate)."""
    grid = SampleGrid(sample_fps)
    return [index for index, time_s in enumerate(times_s.tolist()) if grid.wants(time_s)]


def decord_frames(reader, sample_fps: float, stats: DecodeStats, stop: threading.Event) -> Iterator[DecodedFrame]:
    """Frames of an opened reader in order; DecordFailed if decoding fails part way."""
    import decord

    stats.decoder = "decord"
    count = len(reader)
    times_s = reader.get_frame_timestamp(range(count))[:, 0]  # (N,) presentation start of each frame
    wanted = grid_indices(times_s, sample_fps)
    for start in range(0, len(wanted), _BATCH_FRAMES):
        if stop.is_set():
            return
        batch = wanted[start : start + _BATCH_FRAMES]
        try:
            images = reader.get_batch(batch).asnumpy()  # (B, H, W, 3) uint8 RGB
        except decord.DECORDError as exc:
            raise DecordFailed(str(exc).splitlines()[0][:200]) from None
        stats.frames_decoded += len(batch)
        for index, image in zip(batch, images, strict=True):
            stats.frames_yielded += 1
            stats.last_time_s = float(times_s[index])
            yield DecodedFrame.from_rgb(max(0.0, float(times_s[index])), np.ascontiguousarray(image))
    if count and not stop.is_set():
        # Grid frames end up to a sample period before the file does: the truncation check compares the
        # last frame decord indexed (it indexes what the file really holds) with the stated length.
        stats.last_time_s = float(times_s[-1])
