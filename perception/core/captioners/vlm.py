"""A vision-language model (Idefics3/SmolVLM, or any image-text-to-text model) captions each clip.

OCR stays on beside it (`ocr_with_vlm`): a small VLM sees frames at a few hundred pixels and misreads
plates and codes, so the OCR reader reads the text, the lines go to the clip's ocr_lines for exact
search, and into the prompt so the caption can use them.

The tiny profile passes the path of a tiny random Idefics3 built into the model cache (garbage
captions, real code path); the gpu profile a real model id or path.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from perception.core.captioners.base import CaptionerOptions
from perception.core.text_lines import distinct_lines
from perception.core.torch_device import dtype_for, resolve_device

if TYPE_CHECKING:
    from perception.core.captioners.ocr import TextReader

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


def with_text(prompt: str, lines: Sequence[str]) -> str:
    """The prompt, and the on-screen text OCR read, so the model can use plates and codes it cannot
    read itself at its input resolution."""
    if not lines:
        return prompt
    return f"{prompt}\nText read on screen: " + "; ".join(lines)


class VlmCaptioner:
    name = "vlm"

    def __init__(self, options: CaptionerOptions, text_reader: TextReader | None = None) -> None:
        """`text_reader` (OCR) reads the on-screen text beside the model; None = the caption carries any
        text the model reads, and read_text returns none."""
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self._torch = torch
        self._options = options
        self._text_reader = text_reader
        self._device = resolve_device(options.device)
        self._dtype = dtype_for(self._device)
        logger.info("loading captioner VLM from %s on %s", options.model, self._device)
        self._processor = AutoProcessor.from_pretrained(options.model)
        model = AutoModelForImageTextToText.from_pretrained(options.model, dtype=self._dtype)
        self._model = model.to(self._device).eval()

    def read_text(self, images: Sequence[np.ndarray], context: str = "") -> list[tuple[str, ...]]:
        if self._text_reader is None:
            return [() for _ in images]
        return self._text_reader.read_frames(images, context)

    def caption(self, images: Sequence[np.ndarray], ocr_lines: Sequence[str]) -> str:
        if not images:
            return ""
        return self._generate(images, with_text(self._options.prompt, ocr_lines))

    def describe(self, images: Sequence[np.ndarray], instruction: str) -> str:
        """The instruction as the prompt over the images, with the text OCR reads on them."""
        if not images:
            return ""
        lines = distinct_lines(line for frame_lines in self.read_text(images) for line in frame_lines)
        return self._generate(images, with_text(instruction, lines))

    def _generate(self, images: Sequence[np.ndarray], text: str) -> str:
        frames = [Image.fromarray(image) for image in spread(images, self._options.max_frames)]
        content = [{"type": "image"} for _ in frames] + [{"type": "text", "text": text}]
        prompt = self._processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
        inputs = self._processor(text=prompt, images=[frames], return_tensors="pt").to(self._device)
        inputs["pixel_values"] = inputs["pixel_values"].to(self._dtype)
        with self._torch.inference_mode():
            output = self._model.generate(**inputs, max_new_tokens=self._options.max_new_tokens, do_sample=False)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]  # (1, T)
        return printable(self._processor.batch_decode(new_tokens, skip_special_tokens=True)[0])


def _text_reader(options: CaptionerOptions) -> TextReader | None:
    if not options.ocr_with_vlm:
        return None
    from perception.core.captioners.ocr import build_reader

    return build_reader(options)


def build(options: CaptionerOptions) -> VlmCaptioner:
    return VlmCaptioner(options, _text_reader(options))


def build_tiny(options: CaptionerOptions) -> VlmCaptioner:
    """tiny profile: a seeded random-weight Idefics3 (SmolVLM's architecture), built once into the model cache."""
    from longwatch.models import tiny_vision
    from longwatch.models.cache import prepared

    directory = prepared(options.model_cache, tiny_vision.TINY_VLM_NAME, tiny_vision.build_vlm)
    return VlmCaptioner(dataclasses.replace(options, model=str(directory)), _text_reader(options))
