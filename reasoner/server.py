"""The ReasonerService servicer: converts, calls the reasoner core, converts back.

Errors map to statuses in the interceptor (longwatch.grpc_server), for the streaming AskStream as for the
unary calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Protocol

import grpc

from longwatch import reasoner_convert as convert
from longwatch.reasoner.v1 import reasoner_pb2, reasoner_pb2_grpc
from longwatch.types import Answer, AskProgress, AskQuery, SummarizeQuery, Summary
from reasoner.core.types import ProgressSink, ReasonerLimits

logger = logging.getLogger(__name__)

SERVICE_NAME = reasoner_pb2.DESCRIPTOR.services_by_name["ReasonerService"].full_name

# Kept back from a client's gRPC deadline so the reply still reaches it in time: the larger of 50 ms (a
# loopback or LAN round trip and the serialisation of a long evidence list) and 5 % of the time left.
DEADLINE_MARGIN_MS = 50.0
DEADLINE_MARGIN_FRACTION = 0.05
# Progress steps held for a client that reads slower than the core reads memory. An Ask reads at most a few
# hundred nodes, so only a stalled client fills it; later steps are dropped (and counted), never the answer.
MAX_QUEUED_PROGRESS = 1000


class ReasonerCore(Protocol):
    """What the servicer needs of reasoner.core.reasoner.Reasoner."""

    async def ask(self, query: AskQuery, progress: ProgressSink | None = None) -> Answer: ...

    async def summarize(self, query: SummarizeQuery) -> Summary: ...


def effective_deadline_ms(requested_ms: int, time_remaining_s: float | None, default_ms: int) -> int:
    """The deadline to give the core: `requested_ms` (0 = `default_ms`, which the core applies itself) unless
    the client's own gRPC deadline, less the reply's margin, ends sooner; then that, at least 1 ms. A negative
    `requested_ms` passes unchanged, for the core to refuse with its own message."""
    if requested_ms < 0 or time_remaining_s is None:
        return requested_ms
    remaining_ms = time_remaining_s * 1000
    client_ms = max(int(remaining_ms - max(DEADLINE_MARGIN_MS, remaining_ms * DEADLINE_MARGIN_FRACTION)), 1)
    return requested_ms if (requested_ms or default_ms) <= client_ms else client_ms


class _ProgressRelay:
    """Carries an Ask's steps from the core's sink (synchronous, must not block) to the response stream."""

    def __init__(self, capacity: int = MAX_QUEUED_PROGRESS) -> None:
        self._queue: asyncio.Queue[AskProgress | None] = asyncio.Queue()  # None: the Ask ended
        self._capacity = capacity
        self.dropped = 0

    def put(self, progress: AskProgress) -> None:
        if self._queue.qsize() >= self._capacity:
            self.dropped += 1
            return
        self._queue.put_nowait(progress)

    def close(self, _task: asyncio.Task[Answer]) -> None:
        self._queue.put_nowait(None)  # past the capacity check: the end is never dropped

    async def steps(self) -> AsyncIterator[AskProgress]:
        while (progress := await self._queue.get()) is not None:
            yield progress


class ReasonerServicer(reasoner_pb2_grpc.ReasonerServiceServicer):
    def __init__(self, reasoner: ReasonerCore, default_deadline_ms: int = ReasonerLimits().default_deadline_ms) -> None:
        """`default_deadline_ms` must be the core's own default (ReasonerSettings.default_deadline_ms): a request
        that leaves deadline_ms at 0 keeps it unless the client's gRPC deadline is shorter."""
        self._reasoner = reasoner
        self._default_deadline_ms = default_deadline_ms

    def _deadline_ms(self, requested_ms: int, context: grpc.aio.ServicerContext) -> int:
        return effective_deadline_ms(requested_ms, context.time_remaining(), self._default_deadline_ms)

    def _ask_query(self, request: reasoner_pb2.AskRequest, context: grpc.aio.ServicerContext) -> AskQuery:
        query = convert.query_from_pb(request)
        return replace(query, deadline_ms=self._deadline_ms(query.deadline_ms, context))

    async def Ask(
        self, request: reasoner_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> reasoner_pb2.AskResponse:
        answer = await self._reasoner.ask(self._ask_query(request, context))
        return convert.answer_to_pb(answer)

    async def AskStream(
        self, request: reasoner_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[reasoner_pb2.AskEvent]:
        """Each step as the core takes it, then the answer. A client that cancels or hangs up cancels the core's
        work with it: grpc cancels this generator, and `finally` cancels the task."""
        relay = _ProgressRelay()
        task = asyncio.create_task(self._reasoner.ask(self._ask_query(request, context), relay.put))
        task.add_done_callback(relay.close)
        try:
            async for progress in relay.steps():
                yield convert.progress_event_to_pb(progress)
            yield convert.answer_event_to_pb(task.result())  # the core's error, if any, raises here
        finally:
            task.cancel()
            if relay.dropped:
                logger.warning("AskStream: %d progress steps dropped for a client that read too slowly", relay.dropped)

    async def Summarize(
        self, request: reasoner_pb2.SummarizeRequest, context: grpc.aio.ServicerContext
    ) -> reasoner_pb2.SummarizeResponse:
        query = convert.summarize_query_from_pb(request)
        query = replace(query, deadline_ms=self._deadline_ms(query.deadline_ms, context))
        return convert.summary_to_pb(await self._reasoner.summarize(query))
