"""The LLM seam: a local transformers model (text or vision-language) or an OpenAI-compatible server,
behind one Protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class LLM(Protocol):
    """A text-completion model. Calls block (seconds on a CPU): callers run them off the event loop.

    Not every backend can do everything, and callers ask before they rely on it: `can_score` is False
    for a chat endpoint (it returns no log-probabilities of the prompt), and `sees_images` is True only
    for a vision-language model (every other backend ignores the images it is given).
    """

    name: str
    can_score: bool
    sees_images: bool

    def generate(self, prompt: str, max_new_tokens: int, stop: Sequence[str] = (), images: Sequence[bytes] = ()) -> str:
        """The greedy continuation of `prompt`, at most `max_new_tokens` tokens, cut before the first `stop`.

        `images` are JPEG bytes shown to the model before the prompt, when it `sees_images`."""
        ...

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Mean log-likelihood per token of each continuation right after `prompt` (higher is likelier).

        Raises FailedPrecondition when the backend cannot score (`can_score` is False)."""
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
