"""The reasoner: reads the question, searches memory's hierarchy for what it names, and answers by the deadline.

1. The question is planned (question.py): what it names, what it asks for, when, and the kind of reply.
2. The explorer (explorer.py) searches coarse to fine for the clips that show what is named, with OCR's
   misreadings forgiven and the named number required.
3. The reply is formed from the evidence's structure (answers.py): the value beside what is named, the
   sightings' times, their count or length, what came next, what was shown over a span; when the evidence
   points elsewhere ("LINKED TO ORDER 34"), a new search follows it and every hop is cited.
4. Questions that name nothing go to the LLM answerer, over the most relevant clips.
5. Nothing relevant enough: the answer says it has not seen that, citing the best candidates.
Past the deadline, or past the node budget, the best answer so far comes back marked partial.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from longwatch.errors import DeadlineExceeded, InvalidArgument, NotFound
from longwatch.tracing import current_request_id
from longwatch.types import (
    Answer,
    AskQuery,
    Node,
    StreamStats,
    SummarizeQuery,
    Summary,
    TimeRange,
)
from longwatch.validation import quote_prefix, validate_question, validate_stream_id, validate_stream_ids
from reasoner import metrics
from reasoner.core.answerer import Answerer
from reasoner.core.answers import Answers, AskState, Reply
from reasoner.core.explorer import ExploreLimits, Explorer, Trace, time_left_s
from reasoner.core.question import plan_question
from reasoner.core.retriever import Retriever
from reasoner.core.summaries import summarize
from reasoner.core.time_expr import TimeConstraint, resolve
from reasoner.core.types import Budget, ProgressSink, ReasonerLimits

logger = logging.getLogger(__name__)

_STREAMS_LISTED = 10  # stream names a NOT_FOUND message lists: a status detail must stay short
_EDGE_S, _EDGE_CLIPS = 30.0, 100  # where a stream's first and last clips are looked for
_STATS_TTL_S = 2.0  # how long a Stats reply stands for the next questions about the same streams
_STATS_CACHED = 256  # stream sets remembered (the cache starts again past it)


class Reasoner:
    """Answers questions about the streams. `ask` is async; concurrent questions share the LLM through the
    answerer's queue (one step at a time, in arrival order, none past its question's deadline)."""

    def __init__(
        self,
        retriever: Retriever,
        answerer: Answerer,
        limits: ReasonerLimits = ReasonerLimits(),
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._retriever = retriever
        self._answerer = answerer
        self._limits = limits
        self._clock = clock
        self._now = now
        # What memory said of the asked streams a moment ago: questions in a burst share one Stats call
        # (unknown streams are never cached, so a stream added since is found at once).
        self._stats_cache: dict[tuple[str, ...], tuple[float, list[StreamStats]]] = {}
        explore = ExploreLimits(seed_k=limits.search_k, node_budget=limits.node_budget)
        self._answers = Answers(retriever, Explorer(retriever, explore), answerer, limits)

    async def ask(self, query: AskQuery, progress: ProgressSink | None = None) -> Answer:
        """The answer, its evidence (best first) and confidence, within `query.deadline_ms` (0 = the default).

        Raises InvalidArgument for an empty question, a negative deadline or a malformed time range,
        NotFound for a stream memory does not know, Unavailable when memory cannot be reached.
        """
        started = self._clock()
        request_id = current_request_id() or uuid.uuid4().hex[:8]
        try:
            question, stream_ids, deadline_s = self._validate(query)
        except InvalidArgument as exc:
            metrics.ASKS_REJECTED.inc()
            logger.info("request %s: refused: %s", request_id, exc)
            raise
        budget = Budget(deadline=started + deadline_s, clock=self._clock)
        trace = Trace(progress, budget, started)
        with metrics.ASK_SECONDS.time():
            try:
                stats = await self._stream_stats(stream_ids, budget)
            except NotFound as exc:
                metrics.ASKS_REJECTED.inc()
                logger.info("request %s: refused: %s", request_id, exc)
                raise
            except DeadlineExceeded:
                reply = Reply.not_seen("the deadline came before memory answered; give the question more time")
                return self._answer(reply, AskState.empty(budget, trace, partial=True), started, request_id)
            plan = plan_question(question, self._now())
            span = await self._span(plan.time, query.time_range, stats, budget)
            trace.step("plan", f"{plan.kind.value} question about {_named(plan) or 'what it describes'}")
            state = AskState(
                plan=plan,
                stream_ids=tuple(s.stream_id for s in stats),
                span=span,
                top_level=max((len([n for n in s.nodes_per_level if n]) for s in stats), default=0),
                budget=budget,
                trace=trace,
                now=self._now(),
            )
            reply = await self._answers.answer(state)
            trace.step("answer", reply.text[:120])
        return self._answer(reply, state, started, request_id)

    async def summarize(self, query: SummarizeQuery) -> Summary:
        """What one stream showed over a time range, from the highest level of the hierarchy that still
        splits the range into a few parts; never reads every clip. Past the deadline: what was read, partial."""
        started = self._clock()
        stream_id = validate_stream_id(query.stream_id)
        deadline_s = self._deadline_s(query.deadline_ms)
        _validate_range(query.time_range)
        budget = Budget(deadline=started + deadline_s, clock=self._clock)
        stats = await self._stream_stats((stream_id,), budget)
        summary = await summarize(self._retriever, stats[0], query.time_range, budget)
        return Summary(**{**summary.__dict__, "latency_ms": (self._clock() - started) * 1000})

    def _answer(self, reply: Reply, state: AskState, started: float, request_id: str) -> Answer:
        metrics.ANSWERS.labels(reply.method.value).inc()
        latency_ms = (self._clock() - started) * 1000
        partial = reply.partial or state.partial
        logger.info(
            "request %s: %s answer in %.0f ms, %d nodes read, %d hops%s",
            request_id,
            reply.method,
            latency_ms,
            state.nodes_read,
            reply.hops,
            " (partial)" if partial else "",
        )
        return Answer(
            answer=reply.text[: self._limits.max_answer_chars],
            evidence=tuple(reply.evidence[: max(self._limits.max_evidence, len(reply.cited))]),
            confidence=round(reply.confidence * (0.8 if partial else 1.0), 3),
            latency_ms=latency_ms,
            method=reply.method.value,
            partial=partial,
            nodes_read=state.nodes_read,
            hops=reply.hops,
            fallback=reply.fallback,
        )

    def _validate(self, query: AskQuery) -> tuple[str, tuple[str, ...], float]:
        """(question stripped, distinct stream ids, deadline in seconds)."""
        question = validate_question(query.question, self._limits.max_question_chars)
        if len(query.stream_ids) > self._limits.max_stream_ids:
            raise InvalidArgument(
                f"{len(query.stream_ids)} stream ids given; name at most {self._limits.max_stream_ids}"
            )
        ids = validate_stream_ids(query.stream_ids)
        _validate_range(query.time_range)
        return question, ids, self._deadline_s(query.deadline_ms)

    def _deadline_s(self, deadline_ms: int) -> float:
        if deadline_ms < 0:
            raise InvalidArgument(f"deadline_ms is {deadline_ms}; give a positive time budget, or 0 for the default")
        if deadline_ms > self._limits.max_deadline_ms:
            most = self._limits.max_deadline_ms
            raise InvalidArgument(f"deadline_ms is {deadline_ms}; give at most {most} (an hour), or 0 for the default")
        return (deadline_ms or self._limits.default_deadline_ms) / 1000

    async def _stream_stats(self, stream_ids: tuple[str, ...], budget: Budget) -> list[StreamStats]:
        """The asked streams as memory holds them (all when none are named); NotFound naming the unknown ones."""
        cached = self._stats_cache.get(stream_ids)
        if cached is not None and self._clock() - cached[0] < _STATS_TTL_S:
            return cached[1]
        try:
            stats = await self._retriever.stream_stats(stream_ids, time_left_s(budget))
        except NotFound:  # memory names one unknown stream; the question may name more
            stats = []
        known = {s.stream_id for s in stats}
        unknown = [stream_id for stream_id in stream_ids if stream_id not in known]
        if not unknown and (stats or not stream_ids):
            if len(self._stats_cache) >= _STATS_CACHED:
                self._stats_cache.clear()
            self._stats_cache[stream_ids] = (self._clock(), stats)
            return stats
        everything = sorted(s.stream_id for s in await self._retriever.stream_stats((), time_left_s(budget)))
        unknown = [stream_id for stream_id in stream_ids if stream_id not in everything] or unknown
        shown = everything[:_STREAMS_LISTED]
        more = f" and {len(everything) - len(shown)} more" if len(everything) > len(shown) else ""
        listing = f"known streams: {', '.join(shown)}{more}" if everything else "memory has no streams yet"
        names = ", ".join(quote_prefix(stream_id) for stream_id in unknown[:_STREAMS_LISTED])
        raise NotFound(f"stream {names} is not in memory ({listing}); ask about a known stream or none")

    async def _span(
        self, constraint: TimeConstraint, asked: TimeRange, stats: Sequence[StreamStats], budget: Budget
    ) -> TimeRange:
        """The request's range narrowed by the question's own time words, read against the latest stream:
        stream seconds for a file, wall-clock time for a live stream (its clips carry it)."""
        if constraint.start is None and constraint.end is None and not constraint.last_s:
            return asked
        latest = max(stats, key=lambda s: s.last_s, default=None)
        if latest is None:
            return asked
        first, last = await self._edge_clips(latest, budget)
        is_live = bool(last and last.end_wall_ms)
        parsed = resolve(
            constraint,
            is_live=is_live,
            stream_end_s=latest.last_s,
            stream_end_wall_ms=last.end_wall_ms if last else 0,
            stream_start_wall_ms=first.start_wall_ms if first else 0,
        )
        return asked.narrowed(parsed)

    async def _edge_clips(self, stats: StreamStats, budget: Budget) -> tuple[Node | None, Node | None]:
        """The first and the last clip memory holds of a stream (their wall clocks say whether it is live)."""
        head, _ = await self._retriever.timeline(
            stats.stream_id, 0, TimeRange(stats.first_s, stats.first_s + _EDGE_S), 1, time_left_s(budget)
        )
        tail, _ = await self._retriever.timeline(
            stats.stream_id, 0, TimeRange(max(stats.last_s - _EDGE_S, 0.0), 0.0), _EDGE_CLIPS, time_left_s(budget)
        )
        return (head[0] if head else None), (tail[-1] if tail else None)


def _validate_range(span: TimeRange) -> None:
    from longwatch.validation import validate_stream_range_s, validate_wall_range_ms

    validate_stream_range_s(span.start_s, span.end_s)
    validate_wall_range_ms(span.start_wall_ms, span.end_wall_ms)


def _named(plan) -> str:
    return ", ".join([*plan.quoted, *(e.text for e in plan.entities), *plan.codes])
