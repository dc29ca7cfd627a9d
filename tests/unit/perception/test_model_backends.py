"""The hf-clip encoder and the vlm captioner run end to end on the tiny random models (tiny profile)."""

from __future__ import annotations

import numpy as np
import pytest

from longwatch.models import tiny_vision
from longwatch.models.cache import prepared
from perception.core.captioners import CaptionerOptions, load_captioner
from perception.core.captioners.vlm import printable, spread
from perception.core.compute import Compute
from perception.core.encoders import EncoderOptions, load_encoder

FRAMES = [np.random.default_rng(seed).integers(0, 255, (90, 160, 3), dtype=np.uint8) for seed in range(3)]


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("model-cache")


def test_tiny_clip_encoder_gives_unit_rows(model_cache):
    path = prepared(model_cache, tiny_vision.TINY_CLIP_NAME, tiny_vision.build_clip)
    encoder = load_encoder("hf-clip", EncoderOptions(model=str(path), device="cpu", batch_size=2))
    features = encoder.encode(FRAMES)  # 3 frames in batches of 2
    assert features.shape == (3, encoder.dim) == (3, 32)
    assert features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(encoder.encode(FRAMES[:1])[0], features[0], atol=1e-5)


def test_tiny_vlm_captions_a_clip(model_cache):
    path = prepared(model_cache, tiny_vision.TINY_VLM_NAME, tiny_vision.build_vlm)
    captioner = load_captioner("vlm", CaptionerOptions(model=str(path), device="cpu", max_frames=2, max_new_tokens=6))
    assert captioner.read_text(FRAMES) == [(), (), ()]
    caption = captioner.caption(FRAMES, [])
    assert isinstance(caption, str) and caption == printable(caption)
    assert captioner.caption([], []) == ""


def test_the_tiny_profile_backends_build_their_models_into_the_cache_and_warm_up(model_cache):
    encoder = load_encoder("tiny-clip", EncoderOptions(model_cache=model_cache))
    captioner = load_captioner("tiny-vlm", CaptionerOptions(model_cache=model_cache, max_new_tokens=4))
    assert (model_cache / tiny_vision.TINY_CLIP_NAME).is_dir() and (model_cache / tiny_vision.TINY_VLM_NAME).is_dir()
    compute = Compute(encoder, captioner)
    try:
        compute.warm_up()
    finally:
        compute.close()


def test_spread_keeps_first_and_last():
    assert spread(list(range(10)), 4) == [0, 3, 6, 9]
    assert spread([1, 2], 4) == [1, 2]
    assert spread([1, 2, 3], 1) == [2]
