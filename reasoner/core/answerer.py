"""Turns a question and its retrieved evidence into a short reply, within a time budget.

Made for a 270M base model that must still be right:
1. "when" questions are answered with the time range of the best evidence; times never come from the LLM.
2. A line of on-screen text labelled with the question's words gives its value ("EXIT 42" → "42" for
   "which exit?"): a small model picks the wrong number from a line of several more often than this does.
3. Otherwise the LLM completes a few-shot prompt (greedy, a few tokens, stopped at a newline). The
   completion is accepted only if it is grounded: a run of words of the most relevant evidence.
4. If not, the LLM ranks spans extracted from the evidence by likelihood (plus the question words they
   share), and the best is the reply.
5. With no time left for a step (the deadline is near, or the LLM's queue of other questions' steps would
   overrun it), the best span by a heuristic is the reply.
So every reply is copied from the evidence, even with a random-weight model."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence

from longwatch.times import format_range_s
from longwatch.types import SearchHit
from reasoner.core.evidence_text import (
    clean_generation,
    contiguous_hits,
    distinct_texts,
    extract_candidates,
    grounding_index,
    labelled_value,
    lexical_relevance,
    most_relevant,
    rank_without_llm,
    strip_question_words,
)
from reasoner.core.llm.base import LLM
from reasoner.core.llm_queue import LLMQueue
from reasoner.core.prompting import ANSWER_STOP, build_prompt, is_when_question
from reasoner.core.types import AnswerLimits, AnswerMethod, Budget, Candidate, Reply

logger = logging.getLogger(__name__)

NO_EVIDENCE_ANSWER = "I have not seen anything about that yet."
# How far an answer formed each way is trusted, times the retrieval strength of the best hit.
_CONFIDENCE_FACTOR = {
    AnswerMethod.TIME: 0.9,
    AnswerMethod.MATCHED: 0.9,
    AnswerMethod.GENERATED: 0.9,
    AnswerMethod.SCORED: 0.6,
    AnswerMethod.EXTRACTIVE: 0.4,
    AnswerMethod.NOTHING: 0.0,
}
_GENERATE, _SCORE = "generate", "score"
# Seconds between clips of one stream that still count as one stretch of time (a frame or two apart).
_CONTIGUOUS_GAP_S = 2.0
_FIRST_CALL_PROMPT = "Question: What number comes after 41?\nAnswer:"
# A warm-up note of a typical length: a caption and some on-screen text.
_WARM_UP_NOTE = (
    "a delivery truck stops at the loading bay and a man unloads boxes. "
    "text on screen: ALARM CODE 7315 | EXIT 42 | GATE B CLOSED | SPEED LIMIT 20"
)


def best_first(hits: Iterable[SearchHit]) -> list[SearchHit]:
    """Hits by descending retrieval score; ties keep their retrieved order."""
    return sorted(hits, key=lambda hit: -hit.score)


def confidence_for(method: AnswerMethod, best_score: float) -> float:
    """In [0, 1]: the best hit's score (cosine plus exact-term bonus, clamped) times the method's trust."""
    retrieval = min(max(best_score, 0.0), 1.0) if math.isfinite(best_score) else 0.0
    return round(retrieval * _CONFIDENCE_FACTOR[method], 3)


class Answerer:
    """Forms replies. Concurrent `answer` calls share the one LLM through a queue: its steps run one at a
    time in worker threads, and a step that would end past its question's deadline is skipped."""

    def __init__(
        self, llm: LLM, limits: AnswerLimits = AnswerLimits(), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._llm = llm
        self._limits = limits
        self._clock = clock  # times the warm-up and the steps; a question's deadline is on its budget's clock
        # Also holds the expected seconds per step, learnt from the warm-up and every step since.
        self._queue = LLMQueue(clock)

    def expected_step_s(self, step: str) -> float:
        return self._queue.expected_s(step)

    def warm_up(self) -> None:
        """Loads the kernels, then times a generation and a scoring of a typical question's size (4 notes of
        a caption and some on-screen text, every candidate) for the first step-time estimates. The first
        calls pay one-off costs, and a one-line prompt runs several times faster: timing either would let
        the first questions start steps that overrun their deadline. Later steps refine the estimates."""
        self._llm.generate(_FIRST_CALL_PROMPT, 1, ANSWER_STOP)
        self._llm.score(_FIRST_CALL_PROMPT, [" 42"])
        limits = self._limits
        note = _WARM_UP_NOTE[: limits.hit_text_chars]
        notes = [
            SearchHit(f"warm-up@{index}", "warm-up", 5.0 * index, 5.0 * index + 5.0, note, 1.0)
            for index in range(limits.prompt_hits)
        ]
        prompt = build_prompt("What was the alarm code on the screen?", notes, limits.hit_text_chars)
        candidates = [f" ALARM CODE {7300 + index}" for index in range(limits.max_candidates)]
        self._time_warm_up(_GENERATE, lambda: self._llm.generate(prompt, limits.max_new_tokens, ANSWER_STOP))
        self._time_warm_up(_SCORE, lambda: self._llm.score(prompt, candidates))

    async def answer(self, question: str, hits: Sequence[SearchHit], budget: Budget) -> Reply:
        """The reply, using the LLM only for steps expected to end before the budget's deadline, counting
        the time they would wait behind other questions' steps."""
        ranked = best_first(hits)
        evident = self._evident_reply(question, ranked)
        if evident is not None:
            return evident
        shown = distinct_texts(ranked)[: self._limits.prompt_hits]
        prompt = build_prompt(question, shown, self._limits.hit_text_chars)
        generated = await self._generate(question, shown, prompt, budget)
        if generated is not None:
            text, source = generated
            return self._reply(text, AnswerMethod.GENERATED, ranked, (source,))
        focus = most_relevant(question, shown)
        candidates = extract_candidates(question, focus, self._limits.max_candidates)
        chosen = await self._choose_by_score(question, focus, prompt, candidates, budget)
        if chosen is not None:
            return self._reply(chosen.text, AnswerMethod.SCORED, ranked, (focus[chosen.hit_index],))
        return self._extractive(question, focus, candidates, ranked)

    def _evident_reply(self, question: str, ranked: Sequence[SearchHit]) -> Reply | None:
        """Replies the LLM is never asked for: nothing found, a time, a labelled on-screen value."""
        if not ranked:
            return Reply(NO_EVIDENCE_ANSWER, AnswerMethod.NOTHING, 0.0)
        if is_when_question(question):
            best = ranked[0]
            span = contiguous_hits(best, ranked, _CONTIGUOUS_GAP_S)
            text = f"{format_range_s(span[0].start_s, max(hit.end_s for hit in span))} in {best.stream_id}"
            return self._reply(text, AnswerMethod.TIME, ranked, (best, *(hit for hit in span if hit is not best)))
        labelled = ranked[: self._limits.prompt_hits]
        matched = labelled_value(question, labelled)
        if matched is not None:
            return self._reply(matched.text, AnswerMethod.MATCHED, ranked, (labelled[matched.hit_index],))
        return None

    async def _generate(
        self, question: str, shown: Sequence[SearchHit], prompt: str, budget: Budget
    ) -> tuple[str, SearchHit] | None:
        """The model's own short answer and the hit it is copied from, if there was time and it is
        grounded in the evidence; else None."""
        raw = await self._queue.run(
            _GENERATE, budget, lambda: self._llm.generate(prompt, self._limits.max_new_tokens, ANSWER_STOP)
        )
        if raw is None:
            return None
        reply = strip_question_words(clean_generation(raw, self._limits.max_answer_chars), question)
        index = grounding_index(reply, [hit.text for hit in shown], question)
        if index is not None:
            return reply, shown[index]
        logger.debug("generation %r is not in the evidence; ranking evidence spans instead", raw)
        return None

    async def _choose_by_score(
        self, question: str, focus: Sequence[SearchHit], prompt: str, candidates: Sequence[Candidate], budget: Budget
    ) -> Candidate | None:
        """The candidate the LLM finds likeliest after the prompt, helped by the question words it shares."""
        if not candidates:
            return None
        continuations = [" " + candidate.text for candidate in candidates]
        scores = await self._queue.run(_SCORE, budget, lambda: self._llm.score(prompt, continuations))
        if scores is None:
            return None
        totals = [
            score + lexical_relevance(question, candidate, focus[candidate.hit_index].text)
            for score, candidate in zip(scores, candidates, strict=True)
        ]
        return candidates[max(range(len(candidates)), key=lambda index: totals[index])]

    def _extractive(
        self, question: str, focus: Sequence[SearchHit], candidates: Sequence[Candidate], ranked: Sequence[SearchHit]
    ) -> Reply:
        ordered = rank_without_llm(question, candidates)
        if ordered:
            return self._reply(ordered[0].text, AnswerMethod.EXTRACTIVE, ranked, (focus[ordered[0].hit_index],))
        return self._reply(" ".join(focus[0].text.split()), AnswerMethod.EXTRACTIVE, ranked, (focus[0],))

    def _reply(
        self, text: str, method: AnswerMethod, ranked: Sequence[SearchHit], sources: tuple[SearchHit, ...]
    ) -> Reply:
        best_score = ranked[0].score if ranked else 0.0
        return Reply(text[: self._limits.max_answer_chars], method, confidence_for(method, best_score), sources)

    def _time_warm_up(self, step: str, call: Callable[[], object]) -> None:
        started = self._clock()
        call()
        self._queue.learn(step, self._clock() - started)
