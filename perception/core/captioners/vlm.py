"""A vision-language model (Idefics3/SmolVLM, or any image-text-to-text model) captions each clip.

The tiny profile passes the path of a tiny random Idefics3 built into the model cache (garbage
captions, real code path); the gpu profile a real model id or path.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import numpy as np
from PIL import Image

from perception.core.captioners.base import CaptionerOptions
from perception.core.torch_device import dtype_for, resolve_device

logger = logging.getLogger(__name__)


def spread(items: Sequence, count: int) -> list:
    """At most `count` items, evenly spaced, first and last included."""
    if len(items) <= count:
        return list(items)
    if count == 1:
        return [items[len(items) // 2]]
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def printable(text: str) -> str:
    """One line of printable characters (generated text may hold control characters)."""
    return " ".join("".join(character for character in text if character.isprintable()).split())


class VlmCaptioner:
    name = "vlm"

    def __init__(self, options: CaptionerOptions) -> None:
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self._torch = torch
        self._options = options
        self._device = resolve_device(options.device)
        self._dtype = dtype_for(self._device)
        logger.info("loading captioner VLM from %s on %s", options.model, self._device)
        self._processor = AutoProcessor.from_pretrained(options.model)
        model = AutoModelForImageTextToText.from_pretrained(options.model, dtype=self._dtype)
        self._model = model.to(self._device).eval()

    def read_text(self, images: Sequence[np.ndarray]) -> list[tuple[str, ...]]:
        return [() for _ in images]  # the caption carries any text the model reads

    def caption(self, images: Sequence[np.ndarray], ocr_lines: Sequence[str]) -> str:
        if not images:
            return ""
        frames = [Image.fromarray(image) for image in spread(images, self._options.max_frames)]
        content = [{"type": "image"} for _ in frames] + [{"type": "text", "text": self._options.prompt}]
        prompt = self._processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
        inputs = self._processor(text=prompt, images=[frames], return_tensors="pt").to(self._device)
        inputs["pixel_values"] = inputs["pixel_values"].to(self._dtype)
        with self._torch.inference_mode():
            output = self._model.generate(**inputs, max_new_tokens=self._options.max_new_tokens, do_sample=False)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]  # (1, T)
        return printable(self._processor.batch_decode(new_tokens, skip_special_tokens=True)[0])


def build(options: CaptionerOptions) -> VlmCaptioner:
    return VlmCaptioner(options)


def build_tiny(options: CaptionerOptions) -> VlmCaptioner:
    """tiny profile: a seeded random-weight Idefics3 (SmolVLM's architecture), built once into the model cache."""
    from longwatch.models import tiny_vision
    from longwatch.models.cache import prepared

    directory = prepared(options.model_cache, tiny_vision.TINY_VLM_NAME, tiny_vision.build_vlm)
    return VlmCaptioner(dataclasses.replace(options, model=str(directory)))
