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


def test_unknown_encoder_lists_the_valid_ones():
    with pytest.raises(InvalidArgument, match="hf-clip, pixel-stats"):
        load_encoder("resnet", EncoderOptions())
    assert encoder_name_for("cpu", None) == "pixel-stats"
    assert set(ENCODERS) == {"pixel-stats", "hf-clip", "tiny-clip"}
