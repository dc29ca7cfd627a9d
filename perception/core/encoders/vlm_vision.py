"""The captioning VLM's own vision tower (Idefics3 / SmolVLM) as the vision encoder.

Patch tokens are the tower's output passed through the model's connector (pixel shuffle and projection),
so they are in the language model's space: the tokens the captioner would see. The global feature is
their mean. Only the tower and the connector are loaded: their weights are read out of the checkpoint by
name (`model.vision_model.*`, `model.connector.*`), the language model's never; a checkpoint laid out
otherwise is loaded whole and the two parts kept.

Images are not split into tiles (`do_image_splitting=False`): one global view per frame, one forward pass.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from longwatch.errors import InvalidArgument
from perception.core.encoders.base import EncoderOptions, encode_batched
from perception.core.torch_device import attention_for, dtype_for, from_pretrained, resolve_device, to_device

logger = logging.getLogger(__name__)

_WARM_UP_IMAGE = np.zeros((224, 224, 3), dtype=np.uint8)
# Where Idefics3/SmolVLM ForConditionalGeneration checkpoints keep the two parts.
_VISION_PREFIX = "model.vision_model."
_CONNECTOR_PREFIX = "model.connector."


class VlmVisionEncoder:
    """Loaded and warmed (one forward pass) at construction."""

    def __init__(self, model: str, device: str | None, batch_size: int, name: str = "vlm-vision") -> None:
        import torch
        from transformers import AutoConfig, AutoImageProcessor

        self.name = name
        self._torch = torch
        self._device = resolve_device(device)
        self._dtype = dtype_for(self._device)
        self._batch_size = batch_size
        logger.info("loading the vision tower and connector of %s on %s", model, self._device)
        config = AutoConfig.from_pretrained(model)
        if not hasattr(config, "vision_config") or not hasattr(config, "scale_factor"):
            raise InvalidArgument(
                f"{model} is a {config.model_type} model, not an Idefics3/SmolVLM VLM; "
                "use the hf-clip encoder for CLIP or SigLIP"
            )
        self._patch_size_px = int(config.vision_config.patch_size)
        self._processor = AutoImageProcessor.from_pretrained(model)
        vision, connector = _load_parts(model, config, self._device)
        self._vision, self._connector = vision.to(self._device).eval(), connector.to(self._device).eval()
        features, patches = self._encode_batch([_WARM_UP_IMAGE])
        self.dim, self.patch_dim = int(features.shape[1]), int(patches.shape[2])
        logger.info("vlm vision encoder ready: %d tokens of %d-d per frame", patches.shape[1], self.patch_dim)

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return self.encode_with_patches(images)[0]

    def encode_with_patches(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        return encode_batched(self._encode_batch, images, self._batch_size, self.dim, self.patch_dim)

    def _encode_batch(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        samples = [[Image.fromarray(image)] for image in images]  # one image per sample
        inputs = self._processor(images=samples, return_tensors="pt", do_image_splitting=False)
        pixels = to_device(inputs["pixel_values"].flatten(0, 1), self._device, self._dtype)  # (B, 3, S, S)
        mask = to_device(inputs["pixel_attention_mask"].flatten(0, 1), self._device)  # (B, S, S)
        with self._torch.inference_mode():
            hidden = self._vision(pixel_values=pixels, patch_attention_mask=self._patch_mask(mask))
            tokens = self._connector(hidden.last_hidden_state)  # (B, P, Cv) -> (B, T, D), T = P / scale**2
        tokens = tokens.float()
        return tokens.mean(dim=1).cpu().numpy(), tokens.cpu().numpy()  # (B, D), (B, T, D)

    def _patch_mask(self, pixel_mask):
        """(B, S, S) pixel mask -> (B, S/p, S/p) bool: a patch counts when any of its pixels is real."""
        size = self._patch_size_px
        cells = pixel_mask.unfold(1, size, size).unfold(2, size, size)  # (B, S/p, S/p, p, p)
        return cells.sum(dim=(-1, -2)) > 0


def _load_parts(model: str, config, device: str):
    """(vision tower, connector) with the checkpoint's weights, without building the language model."""
    import torch
    from transformers import AutoModelForImageTextToText

    with torch.device("meta"):  # classes only: no memory, no initialisation
        skeleton = AutoModelForImageTextToText.from_config(config).model
    vision_class, connector_class = type(skeleton.vision_model), type(skeleton.connector)
    weights = _weights(_checkpoint_dir(model), (_VISION_PREFIX, _CONNECTOR_PREFIX))
    if not weights[_VISION_PREFIX] or not weights[_CONNECTOR_PREFIX]:
        logger.info("%s does not name its vision weights %s*: loading the whole model", model, _VISION_PREFIX)
        return _parts_of_whole_model(model, device)
    dtype = dtype_for(device)
    try:
        vision = vision_class._from_config(config.vision_config, dtype=dtype, attn_implementation=attention_for(device))
    except ValueError:  # this tower has no such kernel
        vision = vision_class._from_config(config.vision_config, dtype=dtype)
    connector = connector_class(config).to(dtype)
    vision.load_state_dict(weights[_VISION_PREFIX], strict=True)
    connector.load_state_dict(weights[_CONNECTOR_PREFIX], strict=True)
    return vision, connector


def _parts_of_whole_model(model: str, device: str):
    """The two parts of the whole model loaded on the CPU (the language model is freed when this returns)."""
    from transformers import AutoModelForImageTextToText

    inner = from_pretrained(AutoModelForImageTextToText, model, "cpu").model
    return inner.vision_model.to(dtype_for(device)), inner.connector.to(dtype_for(device))


def _checkpoint_dir(model: str) -> Path:
    """The local directory of `model`, a path or a Hugging Face id (its config and safetensors only)."""
    path = Path(model)
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(model, allow_patterns=["*.json", "*.safetensors"]))


def _weights(directory: Path, prefixes: Sequence[str]) -> dict[str, dict]:
    """Per prefix, the checkpoint's tensors whose names start with it, by the rest of their name."""
    from safetensors import safe_open

    index = directory / "model.safetensors.index.json"
    if index.exists():
        files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    else:
        files = ["model.safetensors"] if (directory / "model.safetensors").exists() else []
    found: dict[str, dict] = {prefix: {} for prefix in prefixes}
    for file in files:
        with safe_open(str(directory / file), framework="pt") as checkpoint:
            for key in checkpoint.keys():  # noqa: SIM118 (safe_open is not a mapping)
                for prefix in prefixes:
                    if key.startswith(prefix):
                        found[prefix][key[len(prefix) :]] = checkpoint.get_tensor(key)
    return found


def build(options: EncoderOptions) -> VlmVisionEncoder:
    return VlmVisionEncoder(options.vlm_model, options.device, options.batch_size)


def build_tiny(options: EncoderOptions) -> VlmVisionEncoder:
    """tiny profile: the vision tower of the tiny random Idefics3 the tiny captioner uses (one cache entry)."""
    from longwatch.models import tiny_vision
    from longwatch.models.cache import prepared

    directory = prepared(options.model_cache, tiny_vision.TINY_VLM_NAME, tiny_vision.build_vlm)
    return VlmVisionEncoder(str(directory), options.device, options.batch_size, name="tiny-vlm-vision")
