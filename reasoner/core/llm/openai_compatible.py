"""Any OpenAI-compatible completions server (vLLM, SGLang, llama.cpp server), over HTTP with httpx.

Uses the legacy `/completions` endpoint, not chat: the prompts are few-shot completions, and scoring needs
the prompt's token log-probabilities (`echo` with `logprobs`), which only that endpoint returns.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx

from longwatch.errors import FailedPrecondition, InvalidArgument, Unavailable
from reasoner.core.llm.base import cut_at_stop
from reasoner.core.types import LLMOptions

logger = logging.getLogger(__name__)


class OpenAICompatibleLLM:
    """Greedy completions and continuation scoring from a server; one HTTP connection pool per process."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout_s: float = 60.0) -> None:
        if not base_url:
            raise InvalidArgument("the openai-compatible LLM needs a base URL: set LONGWATCH_REASONER_OPENAI_BASE_URL")
        if not model:
            raise InvalidArgument("the openai-compatible LLM needs a model name: set LONGWATCH_REASONER_OPENAI_MODEL")
        self.name = model
        self._base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self._base_url, headers=headers, timeout=timeout_s)

    def generate(self, prompt: str, max_new_tokens: int, stop: Sequence[str] = ()) -> str:
        body: dict[str, Any] = {"model": self.name, "prompt": prompt, "max_tokens": max_new_tokens, "temperature": 0}
        if stop:
            body["stop"] = list(stop)
        choices = self._complete(body)
        return cut_at_stop(choices[0].get("text", ""), stop)

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Echoes prompt + continuation with log-probs; averages those of tokens past the prompt's characters."""
        if not continuations:
            return []
        body = {
            "model": self.name,
            "prompt": [prompt + text for text in continuations],
            "max_tokens": 1,  # some servers refuse 0; the one generated token is ignored
            "temperature": 0,
            "echo": True,
            "logprobs": 1,
        }
        choices = sorted(self._complete(body), key=lambda choice: choice.get("index", 0))
        if len(choices) != len(continuations):
            raise Unavailable(
                f"the LLM server at {self._base_url} returned {len(choices)} choices for {len(continuations)} prompts"
            )
        return [
            _mean_continuation_logprob(choice, len(prompt), len(prompt) + len(text))
            for choice, text in zip(choices, continuations, strict=True)
        ]

    def close(self) -> None:
        self._client.close()

    def _complete(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            response = self._client.post("/completions", json=body)
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the LLM server at {self._base_url}: {exc}; is it running?") from exc
        if response.status_code >= 500:
            raise Unavailable(
                f"the LLM server at {self._base_url} failed ({response.status_code}): {response.text[:300]}"
            )
        if response.status_code >= 400:
            raise FailedPrecondition(
                f"the LLM server at {self._base_url} refused the request ({response.status_code}): "
                f"{response.text[:300]}; check LONGWATCH_REASONER_OPENAI_MODEL={self.name!r}"
            )
        choices = response.json().get("choices") or []
        if not choices:
            raise Unavailable(f"the LLM server at {self._base_url} returned no choices")
        return choices


def _mean_continuation_logprob(choice: dict[str, Any], prompt_chars: int, total_chars: int) -> float:
    """Mean log-prob of the echoed tokens that start inside [prompt_chars, total_chars) (the continuation)."""
    logprobs = choice.get("logprobs") or {}
    offsets = logprobs.get("text_offset") or []
    values = logprobs.get("token_logprobs") or []
    picked = [
        value
        for offset, value in zip(offsets, values, strict=False)
        if value is not None and prompt_chars <= offset < total_chars
    ]
    if not picked:
        return float("-inf")  # the server echoed nothing for it: rank it last
    return sum(picked) / len(picked)


def build(options: LLMOptions) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(options.base_url, options.api_model, options.api_key, options.timeout_s)
