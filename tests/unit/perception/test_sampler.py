"""The sampler keeps a steady rate on a fixed grid, plus a frame where the scene changes."""

from __future__ import annotations

import pytest

from perception.core.sampler import Sampler, SamplerConfig
from perception.core.types import DecodedFrame
from tests.unit.perception.fakes import colour_at, solid

GREY, RED = (100, 100, 100), (200, 30, 30)


def sampled_times(sampler: Sampler, times: list[float], scenes=((0.0, GREY),)) -> list[tuple[float, bool]]:
    kept = []
    for time_s in times:
        sampled = sampler.offer(DecodedFrame.from_rgb(time_s, solid(colour_at(time_s, scenes))))
        if sampled is not None:
            kept.append((round(sampled.frame.time_s, 3), sampled.is_scene_change))
    return kept


def test_one_fps_from_ten_fps_keeps_every_tenth_frame():
    kept = sampled_times(Sampler(SamplerConfig(sample_fps=1.0)), [i / 10 for i in range(50)])
    assert [time_s for time_s, _ in kept] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_rate_stays_exact_when_the_source_rate_is_not_a_multiple():
    # 29.97 fps sampled at 3 fps: a grid that restarted at each kept frame would drift below 3 fps.
    source_fps = 30000 / 1001
    times = [i / source_fps for i in range(round(60 * source_fps))]
    kept = sampled_times(Sampler(SamplerConfig(sample_fps=3.0)), times)
    assert len(kept) == pytest.approx(180, abs=1)


def test_a_scene_change_between_grid_points_is_sampled_at_once_and_flagged():
    times = [i / 10 for i in range(40)]
    kept = sampled_times(Sampler(SamplerConfig(sample_fps=1.0)), times, scenes=((0.0, GREY), (1.5, RED)))
    assert (1.5, True) in kept
    assert [time_s for time_s, _ in kept] == [0.0, 1.0, 1.5, 2.0, 3.0]  # the grid is not moved
    assert [flag for time_s, flag in kept if time_s in (2.0, 3.0)] == [False, False]


def test_an_extra_frame_waits_for_the_minimum_interval_after_the_last_sample():
    config = SamplerConfig(sample_fps=1.0, scene_min_interval_s=0.5)
    times = [i / 10 for i in range(30)]
    kept = sampled_times(Sampler(config), times, scenes=((0.0, GREY), (1.2, RED)))
    # The change at 1.2 s comes 0.2 s after the sample at 1.0 s: it is taken at 1.5 s, not before.
    assert kept == [(0.0, True), (1.0, False), (1.5, True), (2.0, False)]


def test_a_gap_in_a_live_stream_restarts_the_grid():
    kept = sampled_times(Sampler(SamplerConfig(sample_fps=1.0)), [0.0, 0.5, 1.0, 10.3, 10.8, 11.3])
    assert [time_s for time_s, _ in kept] == [0.0, 1.0, 10.3, 11.3]
