"""The answerer with a fake LLM: grounded replies kept, ungrounded ones replaced, times from the evidence."""

from __future__ import annotations

import dataclasses

import pytest

from reasoner.core.answerer import NO_EVIDENCE_ANSWER, Answerer, confidence_for
from reasoner.core.types import AnswerLimits, AnswerMethod, Budget
from tests.unit.reasoner.fakes import FakeClock, FakeLLM, hit

ALARM_HITS = [
    hit("a red car stops at the barrier. text on screen: KPL 4721", 10, 15, score=0.4),
    hit("text on screen: EXIT 42 | ALARM CODE 7315", 40, 45, score=0.9),
]
# The same two clips, the car's ranked first.
PLATE_HITS = [dataclasses.replace(ALARM_HITS[0], score=0.9), dataclasses.replace(ALARM_HITS[1], score=0.2)]
PLENTY = Budget.from_now(3600.0)

pytestmark = pytest.mark.anyio


async def test_grounded_generation_is_the_reply():
    llm = FakeLLM(generation=" KPL 4721\n")
    reply = await Answerer(llm).answer("What was the plate of the car?", ALARM_HITS, PLENTY)
    assert (reply.text, reply.method) == ("KPL 4721", AnswerMethod.GENERATED)
    assert llm.steps() == ["generate"]
    prompt = llm.calls[0][1]
    assert prompt.index("KPL 4721") < prompt.index("ALARM CODE 7315")  # the best hit last, nearest the question
    assert "[0:40-0:45] text on screen: EXIT 42" in prompt


async def test_ungrounded_generation_is_replaced_by_the_best_scored_span():
    llm = FakeLLM(generation=" KPL 9999", scorer=lambda text: 1.0 if text == " KPL 4721" else 0.0)
    reply = await Answerer(llm).answer("What was the plate?", PLATE_HITS, PLENTY)
    assert (reply.text, reply.method) == ("KPL 4721", AnswerMethod.SCORED)
    assert reply.sources == (PLATE_HITS[0],)
    assert llm.steps() == ["generate", "score"]
    assert {" KPL 4721", " a red car stops at the barrier"} <= set(llm.scored[0])


async def test_with_no_question_word_in_the_evidence_the_reply_comes_from_memorys_best_hit():
    # The LLM likes the plate, but memory ranked the alarm clip first and no text says "plate".
    llm = FakeLLM(generation=" KPL 9999", scorer=lambda text: 1.0 if text == " KPL 4721" else 0.0)
    reply = await Answerer(llm).answer("What was the plate?", ALARM_HITS, PLENTY)
    assert reply.method == AnswerMethod.SCORED and reply.text in ALARM_HITS[1].text
    assert reply.sources == (ALARM_HITS[1],)


async def test_scores_are_helped_by_the_question_words_a_span_shares():
    llm = FakeLLM(generation="nothing like it", scorer=lambda text: 0.0)
    reply = await Answerer(llm).answer("What stopped at the barrier?", ALARM_HITS, PLENTY)
    assert (reply.text, reply.method) == ("a red car stops at the barrier", AnswerMethod.SCORED)


async def test_any_model_reply_is_copied_from_the_evidence():
    llm = FakeLLM(generation="garbage words", scorer=lambda text: -len(text))
    reply = await Answerer(llm).answer("What was on the screen?", ALARM_HITS, PLENTY)
    evidence = " ".join(h.text for h in ALARM_HITS)
    assert reply.method == AnswerMethod.SCORED
    assert reply.text in evidence


async def test_no_hits_means_nothing_seen():
    reply = await Answerer(FakeLLM()).answer("What was the plate?", [], PLENTY)
    assert (reply.text, reply.method, reply.confidence) == (NO_EVIDENCE_ANSWER, AnswerMethod.NOT_SEEN, 0.0)


async def test_prompt_shows_only_the_best_hits():
    hits = [hit(f"a van at loading dock {n}", score=n / 10) for n in range(8)]
    llm = FakeLLM(generation="7")
    await Answerer(llm, AnswerLimits(prompt_hits=2)).answer("Which dock?", hits, PLENTY)
    prompt = llm.calls[0][1]
    assert "dock 7" in prompt and "dock 6" in prompt and "dock 5" not in prompt


async def test_no_time_left_skips_the_llm_and_takes_the_best_extractive_span():
    clock = FakeClock()
    llm = FakeLLM(generation="KPL 4721", clock=clock, generate_s=3.0, score_s=2.0)
    answerer = Answerer(llm, clock=clock)
    answerer.warm_up()
    assert (answerer.expected_step_s("generate"), answerer.expected_step_s("score")) == (3.0, 2.0)
    llm.calls.clear()
    reply = await answerer.answer("What was the plate of the red car?", PLATE_HITS, Budget.from_now(1.5, clock))
    assert llm.calls == []
    assert (reply.text, reply.method) == ("KPL 4721", AnswerMethod.EXTRACTIVE)


async def test_a_step_that_would_end_past_the_deadline_is_not_started():
    clock = FakeClock()
    llm = FakeLLM(generation="not in evidence", clock=clock, generate_s=3.0, score_s=2.0)
    answerer = Answerer(llm, clock=clock)
    answerer.warm_up()
    llm.calls.clear()
    budget = Budget.from_now(4.0, clock)
    reply = await answerer.answer("What was the plate of the red car?", PLATE_HITS, budget)
    assert llm.steps() == ["generate"]  # 3 s fit; the 2 s scoring no longer did
    assert reply.method == AnswerMethod.EXTRACTIVE
    assert budget.remaining_s() >= 0


async def test_confidence_is_bounded_and_orders_the_methods():
    assert confidence_for(AnswerMethod.GENERATED, 5.0) <= 1.0
    assert confidence_for(AnswerMethod.GENERATED, -1.0) == 0.0
    assert confidence_for(AnswerMethod.EXTRACTIVE, float("nan")) == 0.0
    assert (
        confidence_for(AnswerMethod.GENERATED, 0.8)
        > confidence_for(AnswerMethod.SCORED, 0.8)
        > confidence_for(AnswerMethod.EXTRACTIVE, 0.8)
        > 0
    )
    grounded = await Answerer(FakeLLM(generation="KPL 4721")).answer("What was the plate?", PLATE_HITS, PLENTY)
    scored = await Answerer(FakeLLM(generation="nope")).answer("What was the plate?", PLATE_HITS, PLENTY)
    assert (grounded.method, scored.method) == (AnswerMethod.GENERATED, AnswerMethod.SCORED)
    assert 0 < scored.confidence < grounded.confidence <= 1


async def test_repeated_notes_are_shown_once_and_spans_come_from_the_note_the_question_names():
    hits = [
        hit("text on screen: KPL 4721", 3, 6, score=0.9),
        hit("text on screen: KPL 4721", 6, 9, score=0.85),
        hit("text on screen: GATE B CLOSED", 12, 15, score=0.8),
    ]
    # A model that prefers the plate everywhere: its reply and its scores both point away from the gate.
    llm = FakeLLM(generation="KPL 4721", scorer=lambda text: 5.0 if "KPL" in text else 0.0)
    reply = await Answerer(llm).answer("What did the sign at the gate say?", hits, PLENTY)
    assert llm.calls[0][1].count("KPL 4721") == 1
    assert (reply.text, reply.method) == ("GATE B CLOSED", AnswerMethod.SCORED)


async def test_an_llm_that_raises_gives_the_best_extractive_span_saying_why():
    class BrokenLLM(FakeLLM):
        def generate(self, prompt, max_new_tokens, stop=(), images=()):
            raise TimeoutError("the model server did not answer in 60 s")

    reply = await Answerer(BrokenLLM()).answer("What was the plate of the red car?", PLATE_HITS, PLENTY)
    assert (reply.text, reply.method) == ("KPL 4721", AnswerMethod.EXTRACTIVE)
    assert reply.fallback.startswith("the LLM failed (TimeoutError: the model server did not answer")


async def test_a_backend_that_cannot_score_skips_the_scoring_step():
    llm = FakeLLM(generation="not in the evidence")
    llm.can_score = False  # a chat endpoint: no log-probabilities of given continuations
    reply = await Answerer(llm).answer("What was the plate of the red car?", PLATE_HITS, PLENTY)
    assert llm.steps() == ["generate"] and reply.method == AnswerMethod.EXTRACTIVE


async def test_ranking_a_few_lines_is_timed_apart_so_it_still_fits_a_deadline_a_full_scoring_would_not():
    clock = FakeClock()

    class PerOptionLLM(FakeLLM):  # scoring costs 0.5 s per continuation
        def score(self, prompt, continuations):
            clock.advance(0.5 * len(continuations))
            return super().score(prompt, continuations)

    llm = PerOptionLLM(clock=clock)
    answerer = Answerer(llm, clock=clock)
    answerer.warm_up()
    assert answerer.expected_step_s("score") == 6.0 and answerer.expected_step_s("choose") == 1.5
    index, why = await answerer.choose(
        "Which destination?", ["TO BANGOR", "TICKET CODE WZ1K"], PLATE_HITS, Budget.from_now(3.0, clock)
    )
    assert (index, why) == (1, "")  # the fake likes the longer line; what matters is that it ran
