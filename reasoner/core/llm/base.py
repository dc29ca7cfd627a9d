"""The LLM seam: a local transformers model or an OpenAI-compatible server, behind one Protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class LLM(Protocol):
    """A text-completion model. Calls block (seconds on a CPU): callers run them off the event loop."""

    name: str

    def generate(self, prompt: str, max_new_tokens: int, stop: Sequence[str] = ()) -> str:
        """The greedy continuation of `prompt`, at most `max_new_tokens` tokens, cut before the first `stop`."""
        ...

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Mean log-likelihood per token of each continuation right after `prompt` (higher is likelier)."""
        ...


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """`text` up to the first occurrence of any stop string (servers and `generate` may run past one)."""
    cut = len(text)
    for marker in stop:
        if marker:
            found = text.find(marker)
            if found != -1:
                cut = min(cut, found)
    return text[:cut]
