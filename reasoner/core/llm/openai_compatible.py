"""Any OpenAI-compatible server (vLLM, SGLang, llama.cpp server, a hosted API), over HTTP with httpx.

Two modes, because servers differ in what they offer:
- `completion` (the default) uses the legacy `/completions` endpoint: the prompts are few-shot completions,
  and scoring needs the prompt's token log-probabilities (`echo` with `logprobs`), which only that
  endpoint returns.
- `chat` uses `/chat/completions`, the one endpoint many servers and hosted models still offer, and the
  only one that takes images: the prompt goes as one user message, and with `vision` the images go
  before it as `image_url` content parts (base64 data URLs). A chat endpoint cannot score.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import httpx

from longwatch.errors import FailedPrecondition, InvalidArgument, Unavailable
from reasoner.core.llm.base import cut_at_stop
from reasoner.core.types import LLMOptions

logger = logging.getLogger(__name__)

# OpenAI's API refuses more than 4 stop strings; the rest are cut here after the reply comes.
_MAX_SERVER_STOPS = 4
# Characters of an error reply quoted in the error raised: enough for the server's reason, not a page.
_QUOTED_REPLY_CHARS = 300


class OpenAIMode(StrEnum):
    """Which endpoint the backend calls."""

    COMPLETION = "completion"  # /completions: generates and scores
    CHAT = "chat"  # /chat/completions: generates, sees images with `vision`, cannot score


class OpenAICompatibleLLM:
    """Greedy generation (and, in completion mode, continuation scoring) from a server; one HTTP
    connection pool per instance."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_s: float = 60.0,
        mode: str = OpenAIMode.COMPLETION,
        vision: bool = False,
    ) -> None:
        if not base_url:
            raise InvalidArgument("the openai-compatible LLM needs a base URL: set LONGWATCH_REASONER_OPENAI_BASE_URL")
        if not model:
            raise InvalidArgument("the openai-compatible LLM needs a model name: set LONGWATCH_REASONER_OPENAI_MODEL")
        self._mode = _parse_mode(mode)
        if vision and self._mode is not OpenAIMode.CHAT:
            raise InvalidArgument(
                "images go only to a chat endpoint: set LONGWATCH_REASONER_OPENAI_MODE=chat "
                "or LONGWATCH_REASONER_OPENAI_VISION=false"
            )
        self.name = model
        self.can_score = self._mode is OpenAIMode.COMPLETION
        self.sees_images = vision
        self._base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self._base_url, headers=headers, timeout=timeout_s)

    def generate(self, prompt: str, max_new_tokens: int, stop: Sequence[str] = (), images: Sequence[bytes] = ()) -> str:
        """Images are sent only when the backend `sees_images`; otherwise they are ignored."""
        body: dict[str, Any] = {"model": self.name, "max_tokens": max_new_tokens, "temperature": 0}
        server_stops = [marker for marker in stop if marker][:_MAX_SERVER_STOPS]
        if server_stops:
            body["stop"] = server_stops
        if self._mode is OpenAIMode.CHAT:
            shown = images if self.sees_images else ()
            body["messages"] = [{"role": "user", "content": _user_content(prompt, shown)}]
            text = _message_text(self._post("/chat/completions", body)[0])
        else:
            body["prompt"] = prompt
            text = self._post("/completions", body)[0].get("text") or ""
        return cut_at_stop(text, stop)

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Echoes prompt + continuation with log-probs; averages those of tokens past the prompt's characters."""
        if not self.can_score:
            raise FailedPrecondition(
                f"the LLM server at {self._base_url} is used in chat mode, which returns no prompt log-probabilities "
                "to score with: set LONGWATCH_REASONER_OPENAI_MODE=completion, or check `can_score` before scoring"
            )
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
        choices = sorted(self._post("/completions", body), key=lambda choice: choice.get("index", 0))
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

    def _post(self, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The choices of the server's reply; server trouble is Unavailable, a refusal FailedPrecondition."""
        try:
            response = self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the LLM server at {self._base_url}: {exc}; is it running?") from exc
        self._check_status(response)
        try:
            choices = response.json().get("choices") or []
        except (ValueError, AttributeError) as exc:  # not JSON, or JSON that is not an object
            raise Unavailable(
                f"the LLM server at {self._base_url} sent a reply that is not an OpenAI response: "
                f"{response.text[:_QUOTED_REPLY_CHARS]}; is LONGWATCH_REASONER_OPENAI_BASE_URL its /v1 URL?"
            ) from exc
        if not choices:
            raise Unavailable(f"the LLM server at {self._base_url} returned no choices")
        return choices

    def _check_status(self, response: httpx.Response) -> None:
        status, reply = response.status_code, response.text[:_QUOTED_REPLY_CHARS]
        if status >= 500:
            raise Unavailable(f"the LLM server at {self._base_url} failed ({status}): {reply}")
        if status in (401, 403):
            raise FailedPrecondition(
                f"the LLM server at {self._base_url} refused the credentials ({status}): {reply}; "
                "check LONGWATCH_REASONER_OPENAI_API_KEY"
            )
        if status >= 400:
            raise FailedPrecondition(
                f"the LLM server at {self._base_url} refused the request ({status}): {reply}; "
                f"check LONGWATCH_REASONER_OPENAI_MODEL={self.name!r} and LONGWATCH_REASONER_OPENAI_MODE="
                f"{self._mode.value!r} (a server without /completions needs chat)"
            )


def _parse_mode(mode: str) -> OpenAIMode:
    try:
        return OpenAIMode(mode)
    except ValueError:
        valid = ", ".join(member.value for member in OpenAIMode)
        raise InvalidArgument(
            f"unknown openai-compatible mode {mode!r}: set LONGWATCH_REASONER_OPENAI_MODE to one of {valid}"
        ) from None


def _user_content(prompt: str, images: Sequence[bytes]) -> str | list[dict[str, Any]]:
    """The prompt as plain text, or, with images, the images first and then the prompt as content parts."""
    if not images:
        return prompt
    parts: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(image).decode()}}
        for image in images
    ]
    parts.append({"type": "text", "text": prompt})
    return parts


def _message_text(choice: dict[str, Any]) -> str:
    """The text of a chat choice; none (a refusal, a tool call) reads as an empty reply."""
    content = (choice.get("message") or {}).get("content")
    return content if isinstance(content, str) else ""


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
    return OpenAICompatibleLLM(
        options.base_url,
        options.api_model,
        options.api_key,
        options.timeout_s,
        mode=options.api_mode,
        vision=options.api_vision,
    )
