"""The model encoders (hf-clip over CLIP and SigLIP, vlm-vision) and the vlm captioner run end to end on
tiny random models built into a temporary model cache (the tiny profile's, and the gpu profile's code)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from longwatch.errors import InvalidArgument
from longwatch.models import tiny_vision
from longwatch.models.cache import prepared
from perception.core.captioners import CaptionerOptions, load_captioner
from perception.core.captioners.vlm import printable, spread
from perception.core.compute import Compute
from perception.core.encoders import EncoderOptions, load_encoder, vlm_vision
from perception.core.torch_device import attention_for, from_pretrained

FRAMES = [np.random.default_rng(seed).integers(0, 255, (90, 160, 3), dtype=np.uint8) for seed in range(3)]
BUILDERS = {
    tiny_vision.TINY_CLIP_NAME: tiny_vision.build_clip,
    tiny_vision.TINY_SIGLIP_NAME: tiny_vision.build_siglip,
    tiny_vision.TINY_VLM_NAME: tiny_vision.build_vlm,
}
PATCHES = (tiny_vision.IMAGE_SIZE_PX // tiny_vision.PATCH_SIZE_PX) ** 2  # 16 per 32-pixel image


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("model-cache")


def model_path(model_cache, name: str) -> str:
    return str(prepared(model_cache, name, BUILDERS[name]))


def assert_unit_rows(features: np.ndarray, dim: int) -> None:
    assert features.shape == (len(FRAMES), dim) and features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", [tiny_vision.TINY_CLIP_NAME, tiny_vision.TINY_SIGLIP_NAME])
def test_hf_clip_gives_the_image_embedding_and_patch_tokens_of_one_pass(model_cache, name):
    from transformers import AutoImageProcessor, AutoModel

    path = model_path(model_cache, name)
    encoder = load_encoder("hf-clip", EncoderOptions(model=path, device="cpu", batch_size=2))
    features, patches = encoder.encode_with_patches(FRAMES)  # 3 frames in batches of 2
    assert_unit_rows(features, encoder.dim)
    # The class token is dropped (CLIP) or absent (SigLIP): one token per 8-pixel patch either way.
    assert patches.shape == (3, PATCHES, encoder.patch_dim) == (3, 16, 32) and patches.dtype == np.float32
    np.testing.assert_allclose(encoder.encode(FRAMES[:1])[0], features[0], atol=1e-5)
    model, processor = AutoModel.from_pretrained(path), AutoImageProcessor.from_pretrained(path)
    with torch.inference_mode():
        reference = model.get_image_features(**processor(images=FRAMES, return_tensors="pt")).pooler_output
    reference = reference.numpy() / np.linalg.norm(reference.numpy(), axis=1, keepdims=True)
    np.testing.assert_allclose(features, reference, atol=1e-5)  # the same embedding text search compares to


def test_vlm_vision_gives_the_connector_tokens_the_captioner_sees(model_cache):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    path = model_path(model_cache, tiny_vision.TINY_VLM_NAME)
    encoder = load_encoder("vlm-vision", EncoderOptions(vlm_model=path, device="cpu", batch_size=2))
    features, tokens = encoder.encode_with_patches(FRAMES)
    assert_unit_rows(features, encoder.dim)
    # In the language model's space (64-d), 16 patches pixel-shuffled by 2 x 2 into 4 tokens.
    assert tokens.shape == (3, tiny_vision.VLM_IMAGE_TOKENS, 64) == (3, 4, encoder.patch_dim)
    np.testing.assert_allclose(features, tokens.mean(axis=1) / np.linalg.norm(tokens.mean(axis=1), axis=1)[:, None])
    model, processor = AutoModelForImageTextToText.from_pretrained(path), AutoProcessor.from_pretrained(path)
    inputs = processor.image_processor(
        images=[[Image.fromarray(frame)] for frame in FRAMES], return_tensors="pt", do_image_splitting=False
    )
    with torch.inference_mode():
        reference = model.model.get_image_features(inputs["pixel_values"], inputs["pixel_attention_mask"])
    np.testing.assert_allclose(tokens, torch.stack(list(reference.pooler_output)).numpy(), atol=1e-5)


def test_vlm_vision_loads_a_checkpoint_laid_out_otherwise_whole(model_cache, monkeypatch):
    path = model_path(model_cache, tiny_vision.TINY_VLM_NAME)
    by_name = load_encoder("vlm-vision", EncoderOptions(vlm_model=path, device="cpu"))
    monkeypatch.setattr(vlm_vision, "_VISION_PREFIX", "no.such.prefix.")
    whole = load_encoder("vlm-vision", EncoderOptions(vlm_model=path, device="cpu"))
    np.testing.assert_allclose(whole.encode_with_patches(FRAMES)[1], by_name.encode_with_patches(FRAMES)[1], atol=1e-6)


def test_vlm_vision_refuses_a_model_that_is_not_a_vlm(model_cache):
    path = model_path(model_cache, tiny_vision.TINY_CLIP_NAME)
    with pytest.raises(InvalidArgument, match="use the hf-clip encoder"):
        load_encoder("vlm-vision", EncoderOptions(vlm_model=path, device="cpu"))


def test_tiny_vlm_captions_a_clip(model_cache):
    path = model_path(model_cache, tiny_vision.TINY_VLM_NAME)
    options = CaptionerOptions(model=path, device="cpu", max_frames=2, max_new_tokens=6, ocr_with_vlm=False)
    captioner = load_captioner("vlm", options)
    assert captioner.read_text(FRAMES) == [(), (), ()]
    caption = captioner.caption(FRAMES, [])
    assert isinstance(caption, str) and caption == printable(caption)
    assert captioner.caption([], []) == ""


@pytest.mark.parametrize("name", ["tiny-clip", "tiny-siglip", "tiny-vlm-vision"])
def test_the_tiny_encoders_build_their_models_into_the_cache_and_warm_up(model_cache, name):
    encoder = load_encoder(name, EncoderOptions(model_cache=model_cache, device="cpu"))
    assert encoder.name == name and encoder.patch_dim > 0
    captioner = load_captioner(
        "tiny-vlm", CaptionerOptions(model_cache=model_cache, max_new_tokens=4, ocr_with_vlm=False)
    )
    compute = Compute(encoder, captioner)
    try:
        compute.warm_up()
    finally:
        compute.close()


def test_the_attention_kernel_is_sdpa_off_cuda():
    assert attention_for("cpu") == "sdpa"


def test_a_model_without_the_attention_kernel_loads_with_its_default():
    class OldArchitecture(torch.nn.Linear):
        calls: list[dict] = []

        @classmethod
        def from_pretrained(cls, model, **kwargs):
            cls.calls.append(kwargs)
            if "attn_implementation" in kwargs:
                raise ValueError("OldArchitecture does not support an attention implementation through sdpa yet")
            return cls(2, 2)

    loaded = from_pretrained(OldArchitecture, "some/model", "cpu")
    assert isinstance(loaded, OldArchitecture) and not loaded.training
    assert OldArchitecture.calls == [
        {"dtype": torch.float32, "attn_implementation": "sdpa"},
        {"dtype": torch.float32},
    ]


def test_spread_keeps_first_and_last():
    assert spread(list(range(10)), 4) == [0, 3, 6, 9]
    assert spread([1, 2], 4) == [1, 2]
    assert spread([1, 2, 3], 1) == [2]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", ["tiny-siglip", "tiny-vlm-vision"])
def test_on_cuda_the_encoders_run_in_half_precision_and_agree_with_the_cpu(model_cache, name):
    on_gpu = load_encoder(name, EncoderOptions(model_cache=model_cache, device="cuda", batch_size=2))
    on_cpu = load_encoder(name, EncoderOptions(model_cache=model_cache, device="cpu", batch_size=2))
    gpu_model = getattr(on_gpu, "_model", None) or on_gpu._vision
    assert next(gpu_model.parameters()).dtype == torch.float16
    assert gpu_model.config._attn_implementation == attention_for("cuda")
    features, patches = on_gpu.encode_with_patches(FRAMES)
    assert features.dtype == np.float32 and patches.dtype == np.float32
    cosines = np.sum(features * on_cpu.encode(FRAMES), axis=1)
    assert cosines.min() > 0.99, cosines
