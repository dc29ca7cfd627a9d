"""Chooses which decoded frames go on to the encoder: a steady rate, plus an extra frame on a scene change."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.core.thumbnails import changed_fraction
from perception.core.types import DecodedFrame, SampledFrame

# Frame times are exact fractions turned into floats; this absorbs their rounding.
_TIME_EPSILON_S = 1e-6


@dataclass(frozen=True)
class SamplerConfig:
    sample_fps: float
    thumbnail_width_px: int = 64
    pixel_change_levels: int = 12  # grey levels a thumbnail pixel must move to count as changed
    scene_change_fraction: float = 0.02  # fraction of thumbnail pixels changed that makes a scene change
    scene_min_interval_s: float = 0.5  # an extra scene-change sample comes at least this long after the last


class Sampler:
    """Keeps frames on a fixed time grid of 1 / sample_fps, and frames that start a new scene.

    The grid keeps the rate exact when the source's frame rate is not a multiple of it (a grid that
    restarted at every kept frame would drift). Each decoded frame costs one thumbnail.
    """

    def __init__(self, config: SamplerConfig) -> None:
        self._config = config
        self._period_s = 1.0 / config.sample_fps
        self._next_due_s: float | None = None
        self._last_time_s = 0.0
        self._last_thumbnail: np.ndarray | None = None

    def offer(self, frame: DecodedFrame) -> SampledFrame | None:
        """The frame as sampled, or None when it is skipped."""
        thumbnail = frame.grey_thumbnail(self._config.thumbnail_width_px)
        if self._last_thumbnail is None:
            return self._keep(frame, thumbnail, is_scene_change=True, is_due=True)
        is_due = frame.time_s + _TIME_EPSILON_S >= self._next_due_s
        changed = changed_fraction(thumbnail, self._last_thumbnail, self._config.pixel_change_levels)
        is_scene_change = changed >= self._config.scene_change_fraction
        is_spaced = frame.time_s - self._last_time_s + _TIME_EPSILON_S >= self._config.scene_min_interval_s
        if is_due or (is_scene_change and is_spaced):
            return self._keep(frame, thumbnail, is_scene_change, is_due)
        return None

    def _keep(self, frame: DecodedFrame, thumbnail: np.ndarray, is_scene_change: bool, is_due: bool) -> SampledFrame:
        if is_due:
            # Next grid point; after a gap (a live reconnect) the grid restarts at this frame.
            due_s = self._period_s + (frame.time_s if self._next_due_s is None else self._next_due_s)
            self._next_due_s = due_s if due_s > frame.time_s else frame.time_s + self._period_s
        self._last_time_s = frame.time_s
        self._last_thumbnail = thumbnail
        return SampledFrame(frame=frame, thumbnail=thumbnail, is_scene_change=is_scene_change)
