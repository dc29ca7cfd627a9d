"""The cpu profile's real LLM (Gemma 3 270M base, prepared once into the default model cache) answers
from evidence. Slow the first time on a machine: preparing Gemma takes about a minute."""

from __future__ import annotations

import asyncio

import pytest

from longwatch.settings import default_model_cache_dir
from longwatch.types import AskQuery, SearchHit
from reasoner.core.answerer import Answerer
from reasoner.core.evidence_text import tokens
from reasoner.core.llm import LLM, load_llm
from reasoner.core.prompting import ANSWER_STOP, build_prompt
from reasoner.core.reasoner import Reasoner
from reasoner.core.types import AnswerMethod, Budget, LLMOptions
from tests.unit.reasoner.fakes import FakeMemory, clip

pytestmark = pytest.mark.slow


def _hit(text: str, start_s: float, score: float) -> SearchHit:
    return SearchHit(f"gate@{round(start_s * 1000):012d}", "gate", start_s, start_s + 5.0, text, score)


HITS = [
    _hit("text on screen: EXIT 42 | ALARM CODE 7315", 40.0, 1.1),
    _hit("a red car stops at the barrier. text on screen: KPL 4721", 10.0, 0.6),
    _hit("a person walks past the door", 70.0, 0.3),
]


def _memory() -> FakeMemory:
    """The three clips as a memory hierarchy, behind the Retriever Protocol."""
    return FakeMemory(clips=[clip(hit.stream_id, hit.start_s, hit.text, hit.end_s - hit.start_s) for hit in HITS])


ALARM_QUESTION = "What was the alarm code on the screen?"


@pytest.fixture(scope="module")
def gemma() -> LLM:
    return load_llm("gemma", LLMOptions(model_cache=default_model_cache_dir()))


@pytest.fixture(scope="module")
def answerer(gemma) -> Answerer:
    answerer = Answerer(gemma)
    answerer.warm_up()
    return answerer


def test_gemma_itself_reads_the_code_from_its_note(gemma):
    prompt = build_prompt(ALARM_QUESTION, [HITS[0], HITS[2]], max_note_chars=400)
    assert gemma.generate(prompt, max_new_tokens=12, stop=ANSWER_STOP).strip() == "7315"


def test_gemma_answers_with_a_caption_phrase(answerer):
    reply = asyncio.run(answerer.answer("Who walked past the door?", HITS, Budget.from_now(600.0)))
    assert reply.method in (AnswerMethod.GENERATED, AnswerMethod.SCORED)
    assert "person" in reply.text


def test_gemma_reads_the_plate(answerer):
    reply = asyncio.run(answerer.answer("What was the number plate of the red car?", HITS, Budget.from_now(600.0)))
    assert reply.method in (AnswerMethod.GENERATED, AnswerMethod.SCORED)  # no line says PLATE: the LLM's call
    assert "4721" in reply.text


def test_reasoner_with_gemma_answers_briefly_with_evidence(answerer):
    reasoner = Reasoner(_memory(), answerer)
    answer = asyncio.run(reasoner.ask(AskQuery(ALARM_QUESTION, deadline_ms=60_000)))
    assert "7315" in answer.answer and len(answer.answer) < 40
    assert answer.evidence[0].start_s == 40.0
    assert 0 < answer.confidence <= 1


def test_concurrent_questions_share_gemma_and_all_answer_from_the_evidence(answerer):
    # A hang guard, not a timing test: four questions that each want the LLM, with a deadline that holds
    # about one or two of its steps, all come back, each with a reply copied from the evidence.
    reasoner = Reasoner(_memory(), answerer)
    questions = ["Who walked past the door?", "What stopped at the barrier?"] * 2

    async def ask_all():
        asks = (reasoner.ask(AskQuery(question, deadline_ms=3000)) for question in questions)
        return await asyncio.wait_for(asyncio.gather(*asks), timeout=60.0)

    answers = asyncio.run(ask_all())
    words_seen = set(tokens(" ".join(hit.text for hit in HITS)))
    assert all(tokens(answer.answer) and set(tokens(answer.answer)) <= words_seen for answer in answers)
