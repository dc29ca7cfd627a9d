"""The reasoner: validates a question, finds evidence in memory, and answers within the deadline."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence

from longwatch.errors import DeadlineExceeded, InvalidArgument, NotFound
from longwatch.types import Answer, Evidence, SearchHit
from longwatch.validation import quote_prefix, validate_question, validate_stream_ids
from reasoner import metrics
from reasoner.core.answerer import Answerer, best_first
from reasoner.core.evidence_text import says_something
from reasoner.core.retriever import Retriever
from reasoner.core.types import AnswerMethod, Budget, ReasonerLimits, Reply

logger = logging.getLogger(__name__)

_STREAMS_LISTED = 10  # stream names a NOT_FOUND message lists: a status detail must stay short


def _time_left_s(budget: Budget) -> float:
    """Seconds a call to memory may take; DeadlineExceeded once none are left (no evidence, no answer)."""
    remaining_s = budget.remaining_s()
    if remaining_s <= 0:
        raise DeadlineExceeded("the deadline passed before memory answered; give the question more time (deadline_ms)")
    return remaining_s


class Reasoner:
    """Answers questions about the streams. `ask` is async; concurrent questions share the LLM through the
    answerer's queue (one step at a time, in arrival order, none past its question's deadline)."""

    def __init__(
        self,
        retriever: Retriever,
        answerer: Answerer,
        limits: ReasonerLimits = ReasonerLimits(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._retriever = retriever
        self._answerer = answerer
        self._limits = limits
        self._clock = clock

    async def ask(self, question: str, stream_ids: Sequence[str] = (), deadline_ms: int = 0) -> Answer:
        """The answer, its evidence (best first) and confidence, within `deadline_ms` (0 = the default).

        Raises InvalidArgument for an empty question or a negative deadline, NotFound for a stream
        memory does not know, Unavailable when memory cannot be reached.
        """
        started = self._clock()
        request_id = uuid.uuid4().hex[:8]
        try:
            question, stream_ids, deadline_s = self._validate(question, stream_ids, deadline_ms)
            budget = Budget(deadline=started + deadline_s, clock=self._clock)
            if stream_ids:
                await self._check_streams(stream_ids, budget)
        except (InvalidArgument, NotFound) as exc:
            metrics.ASKS_REJECTED.inc()
            logger.info("request %s: refused: %s", request_id, exc)
            raise
        with metrics.ASK_SECONDS.time():
            with metrics.RETRIEVE_SECONDS.time():
                found = await self._retriever.search(question, stream_ids, self._limits.search_k, _time_left_s(budget))
            # A clip with no caption and no on-screen text can neither answer nor show anything.
            hits = best_first(hit for hit in found if says_something(hit.text))
            reply = await self._answerer.answer(question, hits, budget)
        metrics.ANSWERS.labels(reply.method.value).inc()
        latency_ms = (self._clock() - started) * 1000
        logger.info(
            "request %s: %d hits, answered by %s in %.0f ms (deadline %.0f ms)",
            request_id,
            len(hits),
            reply.method,
            latency_ms,
            deadline_s * 1000,
        )
        return Answer(
            answer=reply.text,
            evidence=self._evidence(reply, hits) if reply.method != AnswerMethod.NOTHING else (),
            confidence=reply.confidence,
            latency_ms=latency_ms,
        )

    def _validate(
        self, question: str, stream_ids: Sequence[str], deadline_ms: int
    ) -> tuple[str, tuple[str, ...], float]:
        """(question stripped, distinct stream ids, deadline in seconds)."""
        question = validate_question(question, self._limits.max_question_chars)
        if deadline_ms < 0:
            raise InvalidArgument(f"deadline_ms is {deadline_ms}; give a positive time budget, or 0 for the default")
        if deadline_ms > self._limits.max_deadline_ms:
            most = self._limits.max_deadline_ms
            raise InvalidArgument(f"deadline_ms is {deadline_ms}; give at most {most} (an hour), or 0 for the default")
        if len(stream_ids) > self._limits.max_stream_ids:
            raise InvalidArgument(f"{len(stream_ids)} stream ids given; name at most {self._limits.max_stream_ids}")
        ids = validate_stream_ids(stream_ids)
        return question, ids, (deadline_ms or self._limits.default_deadline_ms) / 1000

    async def _check_streams(self, stream_ids: tuple[str, ...], budget: Budget) -> None:
        known = await self._retriever.known_streams(_time_left_s(budget))
        unknown = [stream_id for stream_id in stream_ids if stream_id not in set(known)]
        if not unknown:
            return
        shown = sorted(known)[:_STREAMS_LISTED]
        more = f" and {len(known) - len(shown)} more" if len(known) > len(shown) else ""
        listing = f"known streams: {', '.join(shown)}{more}" if known else "memory has no streams yet"
        names = ", ".join(quote_prefix(stream_id) for stream_id in unknown[:_STREAMS_LISTED])
        raise NotFound(f"stream {names} is not in memory ({listing}); ask about a known stream or none")

    def _evidence(self, reply: Reply, hits: Sequence[SearchHit]) -> tuple[Evidence, ...]:
        """The reply's sources (all of them: a "when" range is cited whole), then the best other hits."""
        cited = {hit.clip_id: hit for hit in reply.sources}
        for hit in hits:
            if len(cited) >= self._limits.max_evidence:
                break
            cited.setdefault(hit.clip_id, hit)
        return tuple(
            Evidence(
                stream_id=hit.stream_id,
                start_s=hit.start_s,
                end_s=hit.end_s,
                text=hit.text,
                clip_id=hit.clip_id,
                score=hit.score,
                start_wall_ms=hit.start_wall_ms,
                end_wall_ms=hit.end_wall_ms,
            )
            for hit in cited.values()
        )
