"""Reasoner.ask with a fake Retriever and LLM: validation, deadlines, evidence, the empty memory."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import pytest

from longwatch.errors import DeadlineExceeded, InvalidArgument, NotFound, Unavailable
from reasoner.core.answerer import NO_EVIDENCE_ANSWER, Answerer
from reasoner.core.reasoner import Reasoner
from reasoner.core.types import ReasonerLimits
from tests.unit.reasoner.fakes import FakeClock, FakeLLM, FakeRetriever, hit

pytestmark = pytest.mark.anyio

HITS = [
    hit("a red car stops. text on screen: KPL 4721", 10, 15, score=0.9),
    hit("text on screen: EXIT 42 | ALARM CODE 7315", 40, 45, score=0.4),
    hit("a van parks", 70, 75, score=0.2, stream_id="yard"),
]
PLATE = "What was the plate of the red car?"
HANG_GUARD_S = 10.0  # nothing here should wait this long; it turns a hang into a failure


def make(llm=None, retriever=None, clock=None, **limits):
    llm = llm or FakeLLM(generation="KPL 4721")
    retriever = retriever if retriever is not None else FakeRetriever(hits=list(HITS), streams=["gate", "yard"])
    kwargs = {"clock": clock} if clock else {}
    answerer = Answerer(llm, **kwargs)
    return Reasoner(retriever, answerer, ReasonerLimits(**limits), **kwargs), llm, retriever


async def test_answer_with_evidence_best_first():
    reasoner, llm, _ = make(max_evidence=2)
    answer = await reasoner.ask(PLATE)
    assert answer.answer == "KPL 4721"
    assert [e.start_s for e in answer.evidence] == [10, 40]
    assert answer.evidence[0].clip_id == HITS[0].clip_id and answer.evidence[0].score == 0.9
    assert 0 < answer.confidence <= 1
    assert answer.latency_ms >= 0


async def test_evidence_of_a_live_stream_keeps_its_wall_clock():
    plate = hit("a red car stops. text on screen: KPL 4721", 10, 15, 0.9)
    live = replace(plate, start_wall_ms=1_796_299_210_000, end_wall_ms=1_796_299_215_000)
    reasoner, _, _ = make(retriever=FakeRetriever(hits=[live, HITS[1]], streams=["gate"]))
    answer = await reasoner.ask(PLATE)
    wall = {e.clip_id: (e.start_wall_ms, e.end_wall_ms) for e in answer.evidence}
    assert wall == {live.clip_id: (1_796_299_210_000, 1_796_299_215_000), HITS[1].clip_id: (0, 0)}


async def test_llm_runs_off_the_event_loop():
    reasoner, llm, _ = make()
    await reasoner.ask(PLATE)
    assert llm.threads and threading.get_ident() not in llm.threads


@pytest.mark.parametrize("question", ["", "   \n\t", "\x00", "\x1b\x07\u200b"])
async def test_empty_question_is_invalid(question):
    reasoner, llm, retriever = make()
    with pytest.raises(InvalidArgument, match="question is empty: ask something about the video"):
        await reasoner.ask(question)
    assert retriever.searches == [] and llm.calls == []


async def test_too_long_question_is_invalid():
    reasoner, _, _ = make(max_question_chars=10)
    with pytest.raises(InvalidArgument, match="at most 10"):
        await reasoner.ask("What was the alarm code?")


async def test_negative_deadline_is_invalid():
    reasoner, _, retriever = make()
    with pytest.raises(InvalidArgument, match="deadline_ms"):
        await reasoner.ask("What was the plate?", deadline_ms=-1)
    assert retriever.searches == []


async def test_a_deadline_past_an_hour_is_invalid():
    reasoner, _, retriever = make()
    with pytest.raises(InvalidArgument, match="at most 3600000"):
        await reasoner.ask("What was the plate?", deadline_ms=9_300_000_000_000)
    assert retriever.searches == []


async def test_zero_deadline_means_the_default():
    clock = FakeClock()
    reasoner, _, retriever = make(clock=clock, default_deadline_ms=7000)
    await reasoner.ask("What was the plate?", deadline_ms=0)
    assert retriever.searches[0][3] == pytest.approx(7.0)
    await reasoner.ask("What was the plate?", deadline_ms=1500)
    assert retriever.searches[1][3] == pytest.approx(1.5)


async def test_unknown_stream_is_not_found_naming_it_and_the_known_ones():
    reasoner, _, retriever = make()
    with pytest.raises(NotFound, match=r"'dock'.*known streams: gate, yard"):
        await reasoner.ask("What was the plate?", stream_ids=["gate", "dock"])
    assert retriever.searches == []


async def test_a_not_found_lists_a_few_known_streams_not_all():
    known = [f"cam{index:04d}" for index in range(1000)]
    reasoner, _, _ = make(retriever=FakeRetriever(streams=known))
    with pytest.raises(NotFound, match="and 990 more") as caught:
        await reasoner.ask("What was the plate?", stream_ids=["dock"])
    assert len(str(caught.value)) < 400


async def test_unknown_stream_when_memory_is_empty():
    reasoner, _, _ = make(retriever=FakeRetriever(streams=[]))
    with pytest.raises(NotFound, match="no streams yet"):
        await reasoner.ask("What was the plate?", stream_ids=["gate"])


async def test_empty_stream_id_is_invalid():
    reasoner, _, _ = make()
    with pytest.raises(InvalidArgument, match="stream_ids entry is empty"):
        await reasoner.ask("What was the plate?", stream_ids=[""])


async def test_known_streams_limit_the_search():
    reasoner, _, retriever = make()
    answer = await reasoner.ask("What happened?", stream_ids=["yard", "yard"])
    assert retriever.searches[0][1] == ("yard",)
    assert {e.stream_id for e in answer.evidence} == {"yard"}


async def test_nothing_in_memory():
    reasoner, llm, _ = make(retriever=FakeRetriever(hits=[], streams=[]))
    answer = await reasoner.ask("What was the plate?")
    assert (answer.answer, answer.confidence, answer.evidence) == (NO_EVIDENCE_ANSWER, 0.0, ())
    assert llm.calls == []


@pytest.mark.parametrize("question", ["What colour was the car?", "When did the dog appear?"])
async def test_clips_with_no_text_are_no_evidence(question):
    empty = [hit("", start, start + 3, score=0.1) for start in range(0, 30, 3)]
    reasoner, llm, _ = make(retriever=FakeRetriever(hits=empty, streams=["gate"]))
    answer = await reasoner.ask(question)
    assert (answer.answer, answer.confidence, answer.evidence) == (NO_EVIDENCE_ANSWER, 0.0, ())
    assert llm.calls == []


async def test_the_clip_an_answer_comes_from_is_cited_first_even_below_the_evidence_limit():
    # Repeated signs collapse to one note each in the prompt, so the plate's clip is the 4th note but the
    # 7th hit: the answer must still cite it.
    signs = ["EXIT 42", "GATE B", "BAY 3"]
    hits = [
        hit(f"text on screen: {sign}", 6 * i + half * 3, 6 * i + half * 3 + 3, score=0.5 - 0.1 * i)
        for i, sign in enumerate(signs)
        for half in (0, 1)
    ]
    plate = hit("a red car. text on screen: KPL 4721", 60, 63, score=0.1)
    reasoner, _, _ = make(FakeLLM(generation=" KPL 4721"), FakeRetriever(hits=[*hits, plate], streams=["gate"]))
    answer = await reasoner.ask("What was the plate of the car?", deadline_ms=60_000)
    assert answer.answer == "KPL 4721"
    assert answer.evidence[0].clip_id == plate.clip_id and len(answer.evidence) == 5


async def test_a_when_answer_cites_every_clip_of_its_range():
    plate = "text on screen: KPL 4721"
    seen = [hit(plate, start, start + 3, score=0.9) for start in range(3, 30, 3)]  # 9 clips, 3 s to 30 s
    reasoner, _, _ = make(retriever=FakeRetriever(hits=seen, streams=["gate"]), max_evidence=5)
    answer = await reasoner.ask("When was KPL 4721 in view?")
    assert answer.answer == "0:03-0:30 in gate"
    assert sorted(e.start_s for e in answer.evidence) == list(range(3, 30, 3))


async def test_memory_down_is_unavailable():
    reasoner, _, _ = make(retriever=FakeRetriever(is_down=True))
    with pytest.raises(Unavailable, match="memory"):
        await reasoner.ask("What was the plate?")


async def test_when_question_gets_the_evidence_time():
    reasoner, llm, _ = make()
    answer = await reasoner.ask("When did the red car stop?")
    assert answer.answer == "0:10-0:15 in gate"
    assert llm.calls == []


async def test_near_deadline_falls_back_to_the_best_extractive_span():
    clock = FakeClock()
    llm = FakeLLM(generation="KPL 4721", clock=clock, generate_s=5.0, score_s=5.0)
    reasoner, _, _ = make(llm=llm, clock=clock)
    reasoner._answerer.warm_up()  # learns that a step takes 5 s
    llm.calls.clear()
    answer = await reasoner.ask(PLATE, deadline_ms=2000)
    assert llm.calls == []
    assert answer.answer == "KPL 4721"
    assert answer.latency_ms <= 2000


async def test_never_more_than_one_step_past_the_deadline():
    clock = FakeClock()
    llm = FakeLLM(generation="wrong", clock=clock, generate_s=3.0, score_s=3.0)
    reasoner, _, _ = make(llm=llm, clock=clock)
    answer = await reasoner.ask(PLATE, deadline_ms=2000)  # nothing learnt yet: one step runs
    assert llm.steps() == ["generate"]
    assert answer.latency_ms <= 2000 + 3000


async def test_deadline_spent_before_memory_answers():
    clock = FakeClock()

    class SlowStreams(FakeRetriever):
        async def known_streams(self, timeout_s):
            clock.advance(10.0)
            return ["gate"]

    reasoner, _, _ = make(retriever=SlowStreams(hits=list(HITS)), clock=clock)
    with pytest.raises(DeadlineExceeded, match="deadline_ms"):
        await reasoner.ask("What was the plate?", stream_ids=["gate"], deadline_ms=1000)


async def until_the_llm_is_called(llm: FakeLLM, calls: int = 1) -> None:
    async with asyncio.timeout(HANG_GUARD_S):
        while len(llm.calls) < calls:
            await asyncio.sleep(0.01)


async def test_waiting_for_the_llm_past_the_deadline_answers_without_it():
    llm = FakeLLM(generation="wrong", gate=threading.Event())
    reasoner, _, _ = make(llm=llm)
    slow = asyncio.create_task(reasoner.ask(PLATE, deadline_ms=60_000))
    await until_the_llm_is_called(llm)  # the first question now holds the LLM, until the gate opens
    quick = await asyncio.wait_for(reasoner.ask("What did the van do?", deadline_ms=50), HANG_GUARD_S)
    assert quick.answer == "a van parks"  # the note that names the van, while the first still runs
    llm.gate.set()
    first = await asyncio.wait_for(slow, HANG_GUARD_S)
    assert llm.steps() == ["generate", "score"]  # all from the first question
    assert first.answer != ""


async def test_concurrent_questions_the_llm_queue_would_delay_past_their_deadline_answer_from_the_evidence():
    clock = FakeClock()
    llm = FakeLLM(generation="KPL 4721", clock=clock, generate_s=3.0, score_s=2.0)
    reasoner, _, _ = make(llm=llm, clock=clock)
    reasoner._answerer.warm_up()
    llm.calls.clear()
    llm.gate = threading.Event()
    first = asyncio.create_task(reasoner.ask(PLATE, deadline_ms=4000))  # one 3 s step fits; two do not
    await until_the_llm_is_called(llm)
    later = [asyncio.create_task(reasoner.ask(PLATE, deadline_ms=4000)) for _ in range(3)]
    for _ in range(20):  # no thread involved: a few turns of the event loop answer them
        await asyncio.sleep(0)
    # Answered at once, while the first question's step still runs, without queueing behind it.
    assert all(task.done() for task in later) and not first.done() and llm.steps() == ["generate"]
    answers = [task.result() for task in later]
    assert [answer.answer for answer in answers] == ["KPL 4721"] * 3  # read from the evidence
    assert all(answer.latency_ms <= 4000 for answer in answers)  # on the fake clock: no time passed
    llm.gate.set()
    answered = await asyncio.wait_for(first, HANG_GUARD_S)
    assert answered.answer == "KPL 4721" and answered.confidence > answers[0].confidence  # the LLM's
    assert llm.steps() == ["generate"]


async def test_a_question_does_not_hold_the_llm_between_its_steps():
    llm = FakeLLM(generation="wrong", gate=threading.Event())
    reasoner, _, _ = make(llm=llm)
    first = asyncio.create_task(reasoner.ask(PLATE, deadline_ms=60_000))
    await until_the_llm_is_called(llm)
    second = asyncio.create_task(reasoner.ask("What did the van do?", deadline_ms=60_000))
    for _ in range(20):  # the second question's generation joins the queue (no thread involved)
        await asyncio.sleep(0)
    llm.gate.set()
    await asyncio.wait_for(asyncio.gather(first, second), HANG_GUARD_S)
    asked = ["plate" if "plate" in prompt.rsplit("Question:", 1)[1] else "van" for _, prompt in llm.calls]
    assert list(zip(llm.steps(), asked, strict=True)) == [
        ("generate", "plate"),
        ("generate", "van"),  # its turn comes before the first question's second step
        ("score", "plate"),
        ("score", "van"),
    ]


async def test_a_cancelled_question_keeps_the_llm_until_its_thread_ends():
    llm = FakeLLM(generation="wrong", gate=threading.Event())
    reasoner, _, _ = make(llm=llm)
    left = asyncio.create_task(reasoner.ask(PLATE, deadline_ms=60_000))
    await until_the_llm_is_called(llm)  # the first question's LLM thread is running
    left.cancel()  # the client went away; the thread cannot be stopped
    with pytest.raises(asyncio.CancelledError):
        await left
    quick = await reasoner.ask("What did the van do?", deadline_ms=50)
    assert quick.answer == "a van parks"  # answered from the evidence: the LLM was still busy
    assert llm.steps() == ["generate"]  # the first question's step, none of the second's
    llm.gate.set()
    await asyncio.wait_for(reasoner.ask("What did the van do?", deadline_ms=60_000), HANG_GUARD_S)
    assert llm.steps() == ["generate", "generate", "score"]  # the turn passed on when the thread ended
