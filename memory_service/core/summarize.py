"""Summaries of a node's children: the Summarizer seam and the extractive summarizer every profile has.

The extractive summarizer keeps what a search may need from the children, deduplicated: each
distinct caption and each distinct line of on-screen text, in order of first appearance, up
to a length budget. Names, plates and codes therefore stay findable through the summary after
retention removes the clips, and a static camera's hundred identical clips summarise to one line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from longwatch.types import SUMMARY_MAX_CHARS
from memory_service.core.hierarchy import TreeNode
from memory_service.core.store import match_words

logger = logging.getLogger(__name__)

# A summary's captions and lines together; an embedder reads only its first few hundred tokens anyway. The
# reasoner relies on it too: a summary shorter than this lost nothing of its children's text.
DEFAULT_MAX_SUMMARY_CHARS = SUMMARY_MAX_CHARS


@dataclass(frozen=True)
class Summary:
    captions: tuple[str, ...]
    ocr_lines: tuple[str, ...]


class Summarizer(Protocol):
    def summarize(self, children: Sequence[TreeNode]) -> Summary:
        """The summary of `children` (in time order) that their parent node stores."""
        ...


class ExtractiveSummarizer:
    """Distinct captions and on-screen lines of the children, first seen first, within `max_chars`
    (half for each, and what one leaves to the other)."""

    def __init__(self, max_chars: int = DEFAULT_MAX_SUMMARY_CHARS) -> None:
        self._max_chars = max_chars

    def summarize(self, children: Sequence[TreeNode]) -> Summary:
        captions = _distinct(caption for child in children for caption in child.captions)
        lines = _distinct(line for child in children for line in child.ocr_lines)
        # Half the budget each, and what one side leaves to the other: a camera whose every frame shows
        # another line (a clock overlay) must not crowd out the captions that say what happened.
        half = self._max_chars // 2
        kept_captions = _within(captions, max(half, self._max_chars - _length(lines)))
        kept_lines = _within(lines, self._max_chars - _length(kept_captions))
        return Summary(captions=tuple(kept_captions), ocr_lines=tuple(kept_lines))


def _distinct(texts: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for text in texts:
        key = match_words(text)
        if key and key not in seen:
            seen.add(key)
            kept.append(text)
    return kept


def _length(texts: list[str]) -> int:
    return sum(len(text) + 3 for text in texts)  # each with its separator


def _within(texts: list[str], budget: int) -> list[str]:
    kept, used = [], 0
    for text in texts:
        if used + len(text) + 3 > budget:
            break
        kept.append(text)
        used += len(text) + 3
    return kept


class TextGenerator(Protocol):
    """The part of the LLM seam (reasoner.core.llm.base.LLM) a summarizer uses."""

    def generate(self, prompt: str, max_new_tokens: int, stop: Sequence[str] = ()) -> str: ...


_PROMPT = """Below are descriptions of consecutive moments of one camera, and the text seen on screen.
Write one sentence that says what happened, naming the people, vehicles and objects involved.

Descriptions:
{captions}
Text on screen: {lines}

One sentence:"""
_MAX_SENTENCE_TOKENS = 60


class LlmSummarizer:
    """An LLM's one-sentence account of the children, ahead of the extractive summary.

    The on-screen lines and the children's captions stay extractive, so names and codes are never
    paraphrased away and every summary can be checked against its children; the sentence only adds
    what the model read across them. An LLM that fails or says nothing leaves the extractive summary."""

    def __init__(self, llm: TextGenerator, extractive: ExtractiveSummarizer | None = None) -> None:
        self._llm = llm
        self._extractive = extractive or ExtractiveSummarizer()

    def summarize(self, children: Sequence[TreeNode]) -> Summary:
        base = self._extractive.summarize(children)
        if not base.captions and not base.ocr_lines:
            return base
        prompt = _PROMPT.format(
            captions="\n".join(f"- {caption}" for caption in base.captions) or "- (none)",
            lines=" | ".join(base.ocr_lines) or "(none)",
        )
        try:
            sentence = " ".join(self._llm.generate(prompt, _MAX_SENTENCE_TOKENS, stop=("\n\n",)).split())
        except Exception as exc:  # a server down or a model error: the extractive summary stands
            logger.warning("the LLM summarizer failed (%s); keeping the extractive summary", exc)
            return base
        if not sentence:
            return base
        return Summary(captions=(sentence, *base.captions), ocr_lines=base.ocr_lines)
