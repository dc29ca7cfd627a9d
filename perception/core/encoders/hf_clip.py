"""A Hugging Face image-text model's image tower (CLIP, SigLIP) as the vision encoder.

Any id or local path whose model has `get_image_features` works: the tiny profile passes the path
of a tiny random CLIP built into the model cache, the gpu profile a real one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from perception.core.encoders.base import EncoderOptions, l2_normalise
from perception.core.torch_device import dtype_for, resolve_device

logger = logging.getLogger(__name__)

_WARM_UP_IMAGE = np.zeros((224, 224, 3), dtype=np.uint8)


class HFImageEncoder:
    """Loaded and warmed (one forward pass) at construction."""

    def __init__(self, model: str, device: str | None, batch_size: int) -> None:
        import torch
        from transformers import AutoImageProcessor, AutoModel

        self.name = "hf-clip"
        self._torch = torch
        self._device = resolve_device(device)
        self._dtype = dtype_for(self._device)
        self._batch_size = batch_size
        logger.info("loading vision encoder from %s on %s", model, self._device)
        self._processor = AutoImageProcessor.from_pretrained(model)
        self._model = AutoModel.from_pretrained(model, dtype=self._dtype).to(self._device).eval()
        self.dim = int(self.encode([_WARM_UP_IMAGE]).shape[1])
        logger.info("vision encoder ready: %d-d features", self.dim)

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, getattr(self, "dim", 0)), np.float32)
        size = self._batch_size
        batches = [self._encode_batch(images[start : start + size]) for start in range(0, len(images), size)]
        return l2_normalise(np.concatenate(batches))

    def _encode_batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        inputs = self._processor(images=list(images), return_tensors="pt")
        pixels = inputs["pixel_values"].to(self._device, self._dtype)  # (B, 3, S, S)
        with self._torch.inference_mode():
            output = self._model.get_image_features(pixel_values=pixels)
        # transformers 5 returns a model output whose pooler_output is the projected feature; 4 a tensor.
        features = output if isinstance(output, self._torch.Tensor) else output.pooler_output  # (B, D)
        return features.float().cpu().numpy()


def build(options: EncoderOptions) -> HFImageEncoder:
    return HFImageEncoder(options.model, options.device, options.batch_size)


def build_tiny(options: EncoderOptions) -> HFImageEncoder:
    """tiny profile: a seeded random-weight CLIP vision tower, built once into the model cache."""
    from longwatch.models import tiny_vision
    from longwatch.models.cache import prepared

    directory = prepared(options.model_cache, tiny_vision.TINY_CLIP_NAME, tiny_vision.build_clip)
    return HFImageEncoder(str(directory), options.device, options.batch_size)
