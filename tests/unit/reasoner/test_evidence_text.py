"""Candidate spans, grounding and clean-up of evidence text: what makes every reply a copy of the evidence."""

from __future__ import annotations

from reasoner.core.evidence_text import (
    clean_generation,
    distinct_texts,
    extract_candidates,
    grounding_index,
    most_relevant,
    rank_without_llm,
    split_hit_text,
    strip_question_words,
    tokens,
)
from tests.unit.reasoner.fakes import hit


def texts(candidates):
    return [candidate.text for candidate in candidates]


def test_tokens_are_lower_case_alphanumeric():
    assert tokens("KPL-4721, Exit 42.") == ["kpl", "4721", "exit", "42"]


def test_split_hit_text_separates_caption_and_ocr_lines():
    caption, lines = split_hit_text("a red car parks. text on screen: KPL 4721 | EXIT 42")
    assert caption == "a red car parks"
    assert lines == ["KPL 4721", "EXIT 42"]
    assert split_hit_text("text on screen: KPL 4721 | EXIT 42") == ("", ["KPL 4721", "EXIT 42"])
    assert split_hit_text("a person walks past") == ("a person walks past", [])


def test_candidates_are_ocr_lines_then_numbers_then_names_then_the_caption():
    hits = [hit("a red car at Gate B. text on screen: KPL 4721 | EXIT 42")]
    found = extract_candidates("What was the plate of the car?", hits, max_candidates=20)
    assert texts(found)[:2] == ["KPL 4721", "EXIT 42"]
    assert {"4721", "42", "Gate B"} <= set(texts(found))
    assert texts(found)[-1] == "a red car at Gate B"
    assert [c.kind for c in found][:2] == ["line", "line"]


def test_candidates_drop_the_question_words_and_duplicates():
    hits = [hit("text on screen: ALARM CODE 7315"), hit("text on screen: ALARM CODE 7315 | EXIT 42", score=0.5)]
    found = extract_candidates("What was the alarm code on the screen?", hits, max_candidates=20)
    assert texts(found)[0] == "7315"
    assert found[0].source == "ALARM CODE 7315"
    assert texts(found).count("7315") == 1
    assert "ALARM CODE" not in texts(found)  # says nothing the question did not
    assert [c.hit_index for c in found if c.text == "EXIT 42"] == [1]


def test_candidates_are_capped_and_best_hit_first():
    hits = [hit(f"text on screen: BAY {n}", score=1 - n / 100) for n in range(30)]
    found = extract_candidates("Which bay?", hits, max_candidates=5)
    assert len(found) == 5
    assert found[0].hit_index == 0


def test_strip_question_words_only_when_a_number_remains():
    assert strip_question_words("ALARM CODE 7315", "what was the alarm code?") == "7315"
    assert strip_question_words("Gate B", "which gate did the car use?") == "Gate B"
    assert strip_question_words("KPL 4721", "what was the plate?") == "KPL 4721"


def test_grounded_needs_a_run_of_the_evidence_that_says_something_new():
    evidence = ["a red car parks. text on screen: KPL 4721 | EXIT 42"]
    assert grounding_index("KPL-4721", evidence, "What was the plate?") == 0
    assert grounding_index("KPL 4722", evidence, "What was the plate?") is None
    assert grounding_index("4721 KPL", evidence, "What was the plate?") is None  # not as the evidence says it
    assert grounding_index("KPL 42", evidence, "What was the plate?") is None  # words from two places
    assert grounding_index("red car", evidence, "What did the red car do?") is None  # only repeats the question
    assert grounding_index("", evidence, "What was the plate?") is None


def test_grounded_only_in_a_note_as_relevant_as_any():
    evidence = ["a person in a yellow jacket walks past", "a red car stops at the barrier"]
    assert grounding_index("yellow", evidence, "What colour was the car?") is None
    assert grounding_index("red", evidence, "What colour was the car?") == 1
    assert grounding_index("yellow jacket", evidence, "What was the person wearing?") == 0


def test_clean_generation_keeps_one_bare_line():
    assert clean_generation(' "KPL 4721".\nQuestion: next', 200) == "KPL 4721"
    assert clean_generation("   ", 200) == ""
    assert clean_generation("x" * 50, 10) == "x" * 10


def test_rank_without_llm_prefers_better_hits_then_lines_then_shared_words():
    hits = [hit("a red car stops. text on screen: KPL 4721", score=0.9), hit("text on screen: EXIT 42", score=0.5)]
    question = "What was the plate of the red car?"
    assert rank_without_llm(question, extract_candidates(question, hits, 20))[0].text == "KPL 4721"
    lines = [hit("text on screen: EXIT 42 | CAR PARK 3")]
    assert rank_without_llm("Which car park?", extract_candidates("Which car park?", lines, 20))[0].text == "3"


def test_distinct_texts_keeps_the_first_of_each():
    hits = [hit("text on screen: GATE B", 12), hit("text on screen: gate b.", 15), hit("a van parks", 20)]
    assert [h.start_s for h in distinct_texts(hits)] == [12, 20]


def test_most_relevant_keeps_the_hits_sharing_most_question_words():
    hits = [hit("text on screen: KPL 4721", 3), hit("text on screen: GATE B CLOSED", 12), hit("a gate sign", 20)]
    assert [h.start_s for h in most_relevant("What did the sign at the gate say?", hits)] == [20]
    assert [h.start_s for h in most_relevant("What did the gate say?", hits)] == [12, 20]
    assert most_relevant("What was the plate?", hits) == hits[:1]  # none shares a word: memory's best
