"""The few-shot prompt the LLM completes."""

from __future__ import annotations

from reasoner.core.prompting import FEW_SHOT_EXAMPLES, build_prompt, format_note
from tests.unit.reasoner.fakes import hit


def test_prompt_lists_hits_with_times_best_last_and_ends_at_the_answer():
    hits = [hit("text on screen: ALARM CODE 7315", 40, 45), hit("a person\nwalks   past", 70, 75)]
    prompt = build_prompt("What was the\nalarm code?", hits, max_note_chars=400)
    assert prompt.endswith(
        "Notes:\n[1:10-1:15] a person walks past\n[0:40-0:45] text on screen: ALARM CODE 7315\n"
        "Question: What was the alarm code?\nAnswer:"
    )
    assert FEW_SHOT_EXAMPLES in prompt


def test_note_text_is_cut_to_its_budget():
    assert format_note(hit("x" * 1000), 10) == "[0:40-0:45] " + "x" * 10
