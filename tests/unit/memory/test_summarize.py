"""Summaries of a node's children: extractive always, with an LLM's sentence ahead when one is configured."""

from __future__ import annotations

import pytest

from longwatch.errors import InvalidArgument
from memory_service.app import make_summarizer
from memory_service.core.hierarchy import TreeNode
from memory_service.core.summarize import ExtractiveSummarizer, LlmSummarizer
from memory_service.settings import MemorySettings


def child(seq: int, caption: str, *lines: str) -> TreeNode:
    return TreeNode(f"yard@{seq}", "yard", 0, seq, 4.0 * seq, 4.0 * seq + 4, caption, "", (caption,), lines)


CHILDREN = [
    child(0, "a grey yard", "GATE 3"),
    child(1, "A grey yard.", "gate 3"),  # the same words: kept once
    child(2, "a red van arrives", "GATE 3", "VAN KX-4721"),
]


def test_extractive_keeps_each_distinct_caption_and_line_once_in_order():
    summary = ExtractiveSummarizer().summarize(CHILDREN)
    assert summary.captions == ("a grey yard", "a red van arrives")
    assert summary.ocr_lines == ("GATE 3", "VAN KX-4721")


def test_a_line_on_every_clip_leaves_half_the_budget_to_the_captions():
    clock = [
        child(index, "a quiet yard" if index != 40 else "a fire engine stops", f"12:{index:02d}") for index in range(60)
    ]
    summary = ExtractiveSummarizer(max_chars=300).summarize(clock)
    assert summary.captions == ("a quiet yard", "a fire engine stops")
    assert 0 < len(summary.ocr_lines) < 60
    assert sum(len(text) + 3 for text in summary.captions + summary.ocr_lines) <= 300


def test_what_one_side_leaves_the_other_may_use():
    many = [child(index, "a quiet yard", f"CODE {index}") for index in range(50)]
    summary = ExtractiveSummarizer(max_chars=600).summarize(many)
    assert len(summary.ocr_lines) == 50


class ScriptedLLM:
    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.prompts: list[str] = []

    def generate(self, prompt: str, max_new_tokens: int, stop=()) -> str:
        self.prompts.append(prompt)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def test_the_llm_sentence_comes_first_and_the_extractive_summary_stays():
    llm = ScriptedLLM("  A red van KX-4721 arrived at gate 3.\n")
    summary = LlmSummarizer(llm).summarize(CHILDREN)
    assert summary.captions == ("A red van KX-4721 arrived at gate 3.", "a grey yard", "a red van arrives")
    assert summary.ocr_lines == ("GATE 3", "VAN KX-4721")
    assert "VAN KX-4721" in llm.prompts[0]


@pytest.mark.parametrize("reply", [ConnectionError("server down"), "   "])
def test_a_failing_or_silent_llm_leaves_the_extractive_summary(reply):
    assert LlmSummarizer(ScriptedLLM(reply)).summarize(CHILDREN) == ExtractiveSummarizer().summarize(CHILDREN)


def test_the_openai_compatible_summarizer_needs_its_server_and_model():
    with pytest.raises(InvalidArgument, match="SUMMARIZER_OPENAI_BASE_URL"):
        make_summarizer(MemorySettings(summarizer="openai-compatible"))
    summarizer = make_summarizer(
        MemorySettings(
            summarizer="openai-compatible",
            summarizer_openai_base_url="http://127.0.0.1:9/v1",
            summarizer_openai_model="m",
        )
    )
    assert isinstance(summarizer, LlmSummarizer)
