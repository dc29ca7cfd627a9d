"""The frame cache reuses features of near-identical frames and re-encodes on any real change."""

from __future__ import annotations

import numpy as np

from perception.core.frame_cache import CacheConfig, FrameCache
from perception.core.thumbnails import changed_fraction, grey_thumbnail
from perception.core.types import EncodedFrame
from tests.unit.perception.fakes import solid


def encoded(image: np.ndarray) -> EncodedFrame:
    return EncodedFrame(image=image, thumbnail=grey_thumbnail(image, 64), features=np.ones(3, np.float32))


def noisy(image: np.ndarray, seed: int, sigma: float = 2.0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, sigma, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def test_sensor_noise_is_reused_and_a_new_object_is_not():
    scene = solid((90, 95, 100), height=360, width=640)
    cache = FrameCache(CacheConfig())
    first = encoded(noisy(scene, seed=0))
    cache.store(first)
    assert cache.lookup(grey_thumbnail(noisy(scene, seed=1), 64)) is first

    with_sign = scene.copy()
    with_sign[130:185, 60:260] = (20, 110, 40)  # a green sign, ~5% of the frame
    assert cache.lookup(grey_thumbnail(noisy(with_sign, seed=2), 64)) is None


def test_empty_cache_misses():
    assert FrameCache(CacheConfig()).lookup(grey_thumbnail(solid((1, 2, 3)), 16)) is None


def test_drift_is_measured_against_the_last_encoded_frame():
    cache = FrameCache(CacheConfig(pixel_change_levels=12))
    base = solid((100, 100, 100))
    cache.store(encoded(base))
    # Each step is 8 levels: below the threshold against the frame before, above it against the first.
    assert cache.lookup(grey_thumbnail(solid((108, 108, 108)), 64)) is not None
    assert cache.lookup(grey_thumbnail(solid((116, 116, 116)), 64)) is None


def test_thumbnails_of_different_shapes_count_as_changed():
    assert changed_fraction(np.zeros((9, 16), np.uint8), np.zeros((12, 16), np.uint8), 12) == 1.0


def test_a_disabled_cache_reuses_nothing() -> None:
    cache = FrameCache(CacheConfig(is_enabled=False))
    thumbnail = np.full((36, 64), 100, np.uint8)
    cache.store(EncodedFrame(image=np.zeros((36, 64, 3), np.uint8), thumbnail=thumbnail, features=np.ones(4)))
    assert cache.lookup(thumbnail.copy()) is None
