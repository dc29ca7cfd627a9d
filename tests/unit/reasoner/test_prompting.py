"""The few-shot prompt and which questions are about a moment."""

from __future__ import annotations

import pytest

from reasoner.core.prompting import (
    FEW_SHOT_EXAMPLES,
    build_prompt,
    format_note,
    is_when_question,
)
from tests.unit.reasoner.fakes import hit


@pytest.mark.parametrize(
    "question",
    [
        "When did the red car arrive?",
        "  when was the alarm?",
        "At what time did the sign appear?",
        "What time was the van there?",
        "How long ago did the truck leave?",
        "Can you tell me when the truck arrived?",
        "Could you please tell me roughly when the van left?",
        "Please tell me when the exit sign appeared",
        "The car KPL 4721 was seen when?",
        "Since when has the gate been closed?",
        "At which point did the van leave?",
        "In which minute did the alarm go off?",
        "What minute did the alarm go off?",
        "Which moment did the van leave?",
        "Which time did the truck arrive?",
        "What second did the door open?",
    ],
)
def test_when_questions(question):
    assert is_when_question(question)


@pytest.mark.parametrize(
    "question",
    [
        "What was the plate of the car?",
        "What was on the screen when the alarm rang?",
        "Which exit was shown?",
        "What time did the clock on the wall show?",  # a time read off the video, not a moment in it
        "At what time did the clock show noon?",
        "Which second car stopped?",
    ],
)
def test_other_questions(question):
    assert not is_when_question(question)


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
