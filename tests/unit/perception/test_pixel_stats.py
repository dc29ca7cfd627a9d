"""The weightless encoder: unit rows, stable, and nearer for similar views than for different ones."""

from __future__ import annotations

import numpy as np
import pytest

from longwatch.errors import InvalidArgument
from perception.core.encoders import ENCODERS, EncoderOptions, encoder_name_for, load_encoder
from tests.unit.perception.fakes import solid


@pytest.fixture
def encoder():
    return load_encoder("pixel-stats", EncoderOptions())


def test_rows_are_unit_float32_of_the_stated_dim(encoder):
    features = encoder.encode([solid((10, 200, 30)), np.random.default_rng(0).integers(0, 255, (90, 160, 3), np.uint8)])
    assert features.shape == (2, encoder.dim) and features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)


def test_same_image_same_vector_and_similar_views_are_nearer(encoder):
    car_park = solid((96, 98, 102), height=90, width=160)
    car_park[:30] = (150, 140, 128)  # a wall
    with_truck = car_park.copy()
    with_truck[35:75, 20:130] = (230, 200, 40)
    slightly_brighter = np.clip(car_park.astype(int) + 6, 0, 255).astype(np.uint8)
    base, again, brighter, truck = encoder.encode([car_park, car_park, slightly_brighter, with_truck])
    np.testing.assert_allclose(base, again)
    assert base @ brighter > base @ truck


def test_patch_tokens_come_with_the_same_global_features_and_say_where_the_colour_is(encoder):
    scene = solid((20, 20, 20), height=90, width=160)
    scene[:45, 80:] = (250, 10, 10)  # red in the top-right quarter: cells (0..1, 2..3) of the 4 x 4 grid
    noise = np.random.default_rng(1).integers(0, 255, (90, 160, 3), np.uint8)
    features, patches = encoder.encode_with_patches([scene, noise])
    np.testing.assert_array_equal(features, encoder.encode([scene, noise]))  # the search feature is unchanged
    assert patches.shape == (2, 16, encoder.patch_dim) == (2, 16, 4) and patches.dtype == np.float32
    red = patches[0, :, 0].reshape(4, 4)  # mean red per cell, rows top to bottom
    assert red[:2, 2:].min() > 0.9 and red[2:].max() < 0.1 and red[:, :2].max() < 0.1
    assert patches[0, :, 3].max() < 0.01 < patches[1, :, 3].min()  # grey spread: flat cells vs noise


def test_unknown_encoder_lists_the_valid_ones():
    with pytest.raises(
        InvalidArgument, match="hf-clip, pixel-stats, tiny-clip, tiny-siglip, tiny-vlm-vision, vlm-vision"
    ):
        load_encoder("resnet", EncoderOptions())
    assert encoder_name_for("cpu", None) == "pixel-stats"
    assert set(ENCODERS) == {"pixel-stats", "hf-clip", "vlm-vision", "tiny-clip", "tiny-siglip", "tiny-vlm-vision"}
