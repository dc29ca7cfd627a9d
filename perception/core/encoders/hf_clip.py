"""A Hugging Face image-text model's image tower (CLIP, SigLIP) as the vision encoder.

Any id or local path whose model has `get_image_features` works: the tiny profile passes the path
of a tiny random CLIP or SigLIP built into the model cache, the gpu profile a real one.

One forward pass of the vision tower gives both outputs: transformers 5's `get_image_features` returns
the tower's output with `pooler_output` replaced by the projected image embedding (the global feature,
what text search compares against) and `last_hidden_state` left as the patch tokens. CLIP's first token
is its class token (it is what pooler_output comes from), so it is dropped; SigLIP has none.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from perception.core.encoders.base import EncoderOptions, encode_batched
from perception.core.torch_device import from_pretrained, resolve_device, to_device

logger = logging.getLogger(__name__)

_WARM_UP_IMAGE = np.zeros((224, 224, 3), dtype=np.uint8)


class HFImageEncoder:
    """Loaded and warmed (one forward pass) at construction."""

    def __init__(self, model: str, device: str | None, batch_size: int, name: str = "hf-clip") -> None:
        import torch
        from transformers import AutoImageProcessor, AutoModel

        self.name = name
        self._torch = torch
        self._device = resolve_device(device)
        self._batch_size = batch_size
        logger.info("loading vision encoder from %s on %s", model, self._device)
        self._processor = AutoImageProcessor.from_pretrained(model)
        self._model = from_pretrained(AutoModel, model, self._device)
        if not hasattr(self._model, "get_image_features"):
            raise ValueError(f"{model} is a {type(self._model).__name__}, not an image-text model (CLIP, SigLIP)")
        self._dtype = self._model.dtype
        # CLIP-like towers prepend a learnt class token to the patches; SigLIP pools with an attention head.
        self._has_class_token = hasattr(self._model.vision_model.embeddings, "class_embedding")
        features, patches = self._encode_batch([_WARM_UP_IMAGE])
        self.dim, self.patch_dim = int(features.shape[1]), int(patches.shape[2])
        logger.info("vision encoder ready: %d-d features, %d-d patch tokens", self.dim, self.patch_dim)

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return self.encode_with_patches(images)[0]

    def encode_with_patches(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        return encode_batched(self._encode_batch, images, self._batch_size, self.dim, self.patch_dim)

    def _encode_batch(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        inputs = self._processor(images=list(images), return_tensors="pt")
        pixels = to_device(inputs["pixel_values"], self._device, self._dtype)  # (B, 3, S, S)
        with self._torch.inference_mode():
            output = self._model.get_image_features(pixel_values=pixels)
        features = output.pooler_output  # (B, D): projected embedding
        patches = output.last_hidden_state  # (B, [1 +] P, C)
        if self._has_class_token:
            patches = patches[:, 1:]  # (B, P, C)
        return features.float().cpu().numpy(), patches.float().cpu().numpy()


def build(options: EncoderOptions) -> HFImageEncoder:
    return HFImageEncoder(options.model, options.device, options.batch_size)


def build_tiny(options: EncoderOptions) -> HFImageEncoder:
    """tiny profile: a seeded random-weight CLIP, built once into the model cache."""
    from longwatch.models import tiny_vision
    from longwatch.models.cache import prepared

    directory = prepared(options.model_cache, tiny_vision.TINY_CLIP_NAME, tiny_vision.build_clip)
    return HFImageEncoder(str(directory), options.device, options.batch_size, name="tiny-clip")


def build_tiny_siglip(options: EncoderOptions) -> HFImageEncoder:
    """A seeded random-weight SigLIP (no class token, attention-pooled), built once into the model cache."""
    from longwatch.models import tiny_vision
    from longwatch.models.cache import prepared

    directory = prepared(options.model_cache, tiny_vision.TINY_SIGLIP_NAME, tiny_vision.build_siglip)
    return HFImageEncoder(str(directory), options.device, options.batch_size, name="tiny-siglip")
