"""A local vision-language model (SmolVLM/Idefics3, Qwen2.5-VL, any image-text-to-text model): an LLM
that also sees the keyframes behind the evidence (gpu profile, llm "vlm").

It answers from the images as well as from the captions memory kept, so a detail no caption mentioned
can still be read. Scoring stays text only: it ranks continuations of the same prompt the answerer
generates from, and teacher-forcing a few candidates needs no pixels.
"""

from __future__ import annotations

import inspect
import io
import logging
import threading
from collections.abc import Sequence
from typing import Any

from longwatch.errors import InvalidArgument
from reasoner.core.llm.base import cut_at_stop
from reasoner.core.llm.transformers_local import StopOnStrings, log_prob_of
from reasoner.core.types import LLMOptions

logger = logging.getLogger(__name__)


class VisionLanguageLLM:
    """Greedy generation over images and a prompt, and text-only continuation scoring, one call at a time."""

    can_score = True
    sees_images = True

    def __init__(self, model_path: str, device: str | None = None, name: str = "") -> None:
        import torch
        from transformers import AutoProcessor

        self.name = name or model_path
        self._torch = torch
        self._device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        # float32 on CPU (bfloat16 matmuls are slow there); the checkpoint's own dtype on CUDA.
        dtype = "auto" if self._device.startswith("cuda") else torch.float32
        self._processor = AutoProcessor.from_pretrained(model_path)
        self._tokenizer = self._processor.tokenizer
        model = _model_class().from_pretrained(model_path, dtype=dtype)
        self._model = model.to(self._device).eval()
        # Scoring needs the logits of the continuation only; models that cannot say so return them all.
        self._keeps_logits = "logits_to_keep" in inspect.signature(self._model.forward).parameters
        # The model and its cache are not safe to use from two threads at once.
        self._lock = threading.Lock()
        logger.info("loaded vision-language LLM %s on %s", self.name, self._device)

    def generate(self, prompt: str, max_new_tokens: int, stop: Sequence[str] = (), images: Sequence[bytes] = ()) -> str:
        """The images (JPEG bytes) come before the prompt, in one user turn of the chat template."""
        inputs = self.inputs(prompt, images)
        prompt_length = inputs["input_ids"].shape[1]
        criteria = StopOnStrings(self._tokenizer, prompt_length, stop)
        with self._lock, self._torch.inference_mode():
            output = self._model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                stopping_criteria=[criteria],
                pad_token_id=self._pad_token_id(),
            )  # (1, P + N)
        text = self._tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True)
        return cut_at_stop(text, stop)

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Teacher-forces every continuation after the prompt (as `generate` frames it, without images)
        in one right-padded batch, and averages each one's token log-probs."""
        if not continuations:
            return []
        torch = self._torch
        prompt_ids = self._tokenizer(self.chat_text(prompt, 0))["input_ids"]
        # An empty continuation scores as one pad token rather than as nothing.
        encoded = [
            self._tokenizer(text, add_special_tokens=False)["input_ids"] or [self._pad_token_id()]
            for text in continuations
        ]
        longest = max(len(ids) for ids in encoded)
        prompt_length = len(prompt_ids)
        batch = torch.full((len(encoded), prompt_length + longest), self._pad_token_id(), dtype=torch.long)  # (B, T)
        mask = torch.zeros_like(batch)  # (B, T)
        for row, ids in enumerate(encoded):
            batch[row, : prompt_length + len(ids)] = torch.tensor(prompt_ids + ids)
            mask[row, : prompt_length + len(ids)] = 1
        batch, mask = batch.to(self._device), mask.to(self._device)
        with self._lock, torch.inference_mode():
            predicting = self._continuation_logits(batch, mask, longest)  # (B, C, V)
            picked = log_prob_of(predicting, batch[:, prompt_length:])  # (B, C)
        return [picked[row, : len(ids)].mean().item() for row, ids in enumerate(encoded)]

    def inputs(self, prompt: str, images: Sequence[bytes]) -> Any:
        """The processor's tensors for the images and prompt, on the model's device: input_ids (1, P),
        and with images pixel_values in the model's dtype."""
        pictures = [_decoded(index, data) for index, data in enumerate(images)]
        text = self.chat_text(prompt, len(pictures))
        inputs = self._processor(text=text, images=[pictures] if pictures else None, return_tensors="pt")
        inputs = inputs.to(self._device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self._model.dtype)
        return inputs

    def chat_text(self, prompt: str, image_count: int) -> str:
        """The prompt in one user turn after `image_count` image slots, ready for the assistant's reply;
        a processor without a chat template gets the image tokens and the plain prompt."""
        if not getattr(self._processor, "chat_template", None):
            return getattr(self._processor, "image_token", "") * image_count + prompt
        content = [{"type": "image"} for _ in range(image_count)] + [{"type": "text", "text": prompt}]
        messages = [{"role": "user", "content": content}]
        return self._processor.apply_chat_template(messages, add_generation_prompt=True)

    def _continuation_logits(self, batch: Any, mask: Any, longest: int) -> Any:
        """Logits at the positions that predict the continuation tokens: batch (B, P + C) -> (B, C, V)."""
        if self._keeps_logits:
            # The last C + 1 positions; the very last predicts past the batch and is dropped.
            return self._model(input_ids=batch, attention_mask=mask, logits_to_keep=longest + 1).logits[:, :-1]
        logits = self._model(input_ids=batch, attention_mask=mask).logits  # (B, P + C, V)
        return logits[:, -longest - 1 : -1]

    def _pad_token_id(self) -> int:
        tokenizer = self._tokenizer
        if tokenizer.pad_token_id is not None:
            return tokenizer.pad_token_id
        return tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0


def _model_class() -> Any:
    """AutoModelForImageTextToText; older transformers name the same auto class AutoModelForVision2Seq."""
    try:
        from transformers import AutoModelForImageTextToText as model_class
    except ImportError:
        from transformers import AutoModelForVision2Seq as model_class
    return model_class


def _decoded(index: int, data: bytes) -> Any:
    """An RGB PIL image from JPEG bytes."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.convert("RGB")
    except OSError as exc:  # PIL's UnidentifiedImageError included
        raise InvalidArgument(f"image {index} is not a readable JPEG ({len(data)} bytes): {exc}") from exc


def build(options: LLMOptions) -> VisionLanguageLLM:
    """gpu profile (or any): a vision-language model by Hugging Face id or local path (`llm_model`)."""
    return VisionLanguageLLM(options.model, options.device)
