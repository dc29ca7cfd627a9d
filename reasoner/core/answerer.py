"""Answers a question that names nothing to look for by its text ("What did the man in the blue coat do?")
from the clips the search found, within a time budget.

Made for a 270M base model that must still be right:
1. The LLM completes a few-shot prompt (greedy, a few tokens, stopped at a newline). The completion is
   accepted only if it is grounded: a run of words of the most relevant evidence.
2. If not, the LLM ranks spans extracted from the evidence by likelihood (plus the question words they
   share), and the best is the reply. A backend that cannot score (a chat endpoint) skips this step.
3. With no time left for a step (the deadline is near, or the LLM's queue of other questions' steps would
   overrun it), or when the LLM fails, the best span by a heuristic is the reply, and says why.
So every reply is copied from the evidence, even with a random-weight model. Questions that name a number,
a code or a quoted line never come here: reasoner.core.answers reads them from the evidence's structure.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence

from longwatch.types import AnswerMethod, SearchHit
from reasoner.core.evidence_text import (
    clean_generation,
    distinct_texts,
    extract_candidates,
    grounding_index,
    lexical_relevance,
    most_relevant,
    rank_without_llm,
    strip_question_words,
)
from reasoner.core.llm.base import LLM
from reasoner.core.llm_queue import LLMQueue
from reasoner.core.prompting import ANSWER_STOP, build_prompt
from reasoner.core.types import AnswerLimits, Budget, Candidate, LLMReply

logger = logging.getLogger(__name__)

NO_EVIDENCE_ANSWER = "I have not seen anything about that yet."
# How far an answer formed each way is trusted, times the retrieval strength of the best hit.
# How far an answer formed each way is trusted, times the retrieval strength of the evidence it used.
_CONFIDENCE_FACTOR = {
    AnswerMethod.GENERATED: 0.8,
    AnswerMethod.SCORED: 0.6,
    AnswerMethod.EXTRACTIVE: 0.4,
    AnswerMethod.NOT_SEEN: 0.0,
}
_GENERATE, _SCORE = "generate", "score"
# Ranking a few whole lines (Answers._unlabelled) costs a fraction of a full candidate scoring: timed apart,
# so its deadline check does not count it at the price of twelve candidates.
_CHOOSE, _CHOOSE_OPTIONS = "choose", 3
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
        self._time_warm_up(_CHOOSE, lambda: self._llm.score(prompt, candidates[:_CHOOSE_OPTIONS]))

    @property
    def sees_images(self) -> bool:
        """Whether the model looks at keyframes (a vision-language model): then `answer` should get them."""
        return self._llm.sees_images

    async def answer(
        self, question: str, hits: Sequence[SearchHit], budget: Budget, images: Sequence[bytes] = ()
    ) -> LLMReply:
        """The reply, using the LLM only for steps expected to end before the budget's deadline, counting
        the time they would wait behind other questions' steps. An LLM that fails (a server down, a model
        error) does not fail the question: the reply is read from the evidence and says so. `images` (the
        evidence's keyframes, JPEG) go to a model that sees images, before the notes."""
        ranked = best_first(hits)
        if not ranked:
            return LLMReply(NO_EVIDENCE_ANSWER, AnswerMethod.NOT_SEEN, 0.0)
        shown = distinct_texts(ranked)[: self._limits.prompt_hits]
        prompt = build_prompt(question, shown, self._limits.hit_text_chars)
        focus = most_relevant(question, shown)
        candidates = extract_candidates(question, focus, self._limits.max_candidates)
        try:
            generated = await self._generate(question, shown, prompt, budget, images)
            if generated is not None:
                text, source = generated
                return self._reply(text, AnswerMethod.GENERATED, (source,))
            chosen = await self._choose_by_score(question, focus, prompt, candidates, budget)
        except Exception as exc:  # noqa: BLE001 - any backend failure: the evidence still answers
            logger.warning(
                "the LLM %s failed (%s: %s); answering from the evidence", self._llm.name, type(exc).__name__, exc
            )
            reason = f"the LLM failed ({type(exc).__name__}: {str(exc)[:120]}); answered from the evidence"
            return self._extractive(question, focus, candidates, reason)
        if chosen is not None:
            return self._reply(chosen.text, AnswerMethod.SCORED, (focus[chosen.hit_index],))
        return self._extractive(question, focus, candidates, "no time was left for the LLM; answered from the evidence")

    async def choose(
        self, question: str, options: Sequence[str], sources: Sequence[SearchHit], budget: Budget
    ) -> tuple[int | None, str]:
        """Which of `options` (spans read from `sources`, the clips shown as notes) the LLM finds likeliest as
        the answer: (its index, ""), or (None, why not) when there is no time, the backend cannot score or
        it fails. The search found the options; the model only judges between them."""
        if not self._llm.can_score:
            return None, f"the LLM {self._llm.name} cannot rank options"
        prompt = build_prompt(
            question, distinct_texts(sources)[: self._limits.prompt_hits], self._limits.hit_text_chars
        )
        continuations = [" " + option for option in options]
        try:
            scores = await self._queue.run(_CHOOSE, budget, lambda: self._llm.score(prompt, continuations))
        except Exception as exc:  # noqa: BLE001 - any backend failure: the caller answers without it
            logger.warning("the LLM %s failed (%s: %s) ranking options", self._llm.name, type(exc).__name__, exc)
            return None, f"the LLM failed ({type(exc).__name__}: {str(exc)[:120]})"
        if scores is None:
            return None, "no time was left for the LLM"
        return max(range(len(options)), key=lambda index: scores[index]), ""

    async def _generate(
        self, question: str, shown: Sequence[SearchHit], prompt: str, budget: Budget, images: Sequence[bytes]
    ) -> tuple[str, SearchHit] | None:
        """The model's own short answer and the hit it is copied from, if there was time and it is
        grounded in the evidence; else None."""
        raw = await self._queue.run(
            _GENERATE,
            budget,
            lambda: self._llm.generate(prompt, self._limits.max_new_tokens, ANSWER_STOP, images=images),
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
        if not candidates or not self._llm.can_score:
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
        self, question: str, focus: Sequence[SearchHit], candidates: Sequence[Candidate], reason: str
    ) -> LLMReply:
        ordered = rank_without_llm(question, candidates)
        if ordered:
            return self._reply(ordered[0].text, AnswerMethod.EXTRACTIVE, (focus[ordered[0].hit_index],), reason)
        return self._reply(" ".join(focus[0].text.split()), AnswerMethod.EXTRACTIVE, (focus[0],), reason)

    def _reply(self, text: str, method: AnswerMethod, sources: tuple[SearchHit, ...], fallback: str = "") -> LLMReply:
        confidence = confidence_for(method, max(source.score for source in sources))
        return LLMReply(text[: self._limits.max_answer_chars], method, confidence, sources, fallback)

    def _time_warm_up(self, step: str, call: Callable[[], object]) -> None:
        started = self._clock()
        call()
        self._queue.learn(step, self._clock() - started)
