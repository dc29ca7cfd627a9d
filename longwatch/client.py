"""The client SDK: async clients for the three services, speaking domain types.

    async with LongwatchClient.connect() as lw:
        await lw.perception.add_stream("gate", "/videos/gate.mp4")
        answer = await lw.reasoner.ask("What was the plate of the red car?")

gRPC failures come back as `longwatch.errors` exceptions whose message names the problem.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import grpc

from longwatch import convert, errors, perception_convert, reasoner_convert, security, tracing
from longwatch.grpc_server import ANSWERED_KEY, CHANNEL_OPTIONS
from longwatch.memory.v1 import memory_pb2, memory_pb2_grpc
from longwatch.perception.v1 import perception_pb2, perception_pb2_grpc
from longwatch.reasoner.v1 import reasoner_pb2, reasoner_pb2_grpc
from longwatch.settings import (
    DEFAULT_MEMORY_PORT,
    DEFAULT_PERCEPTION_PORT,
    DEFAULT_REASONER_PORT,
    MEMORY_ADDR_ENV,
    PERCEPTION_ADDR_ENV,
    REASONER_ADDR_ENV,
    default_address,
)
from longwatch.types import (
    Answer,
    AskProgress,
    AskQuery,
    ClipRecord,
    DeletedStream,
    DescribeResult,
    KeyframeData,
    MemoryStats,
    Node,
    Overview,
    PushedFrame,
    PushResult,
    SearchHit,
    SearchResult,
    StreamStatus,
    StreamSummary,
    SummarizeQuery,
    Summary,
    TimeRange,
)
from longwatch.validation import (
    MAX_QUESTION_CHARS,
    MAX_SAMPLE_FPS,
    MAX_SEARCH_K,
    MAX_TIMELINE_LIMIT,
    normalise_source,
    validate_count,
    validate_level,
    validate_node_id,
    validate_question,
    validate_sample_fps,
    validate_stream_id,
    validate_stream_ids,
    validate_stream_range_s,
    validate_vector,
    validate_wall_range_ms,
)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1  # AskRequest.deadline_ms
_LONGEST_CALL_S = 3600.0  # the servers refuse longer deadlines; the transport timeout need not exceed it
# What a user of the SDK or CLI can do about a service that is not listening.
UNREACHABLE_HINT = "start it with `longwatch up` or pass its address"

_ERROR_BY_STATUS: dict[grpc.StatusCode, type[errors.LongwatchError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.UNAVAILABLE: errors.Unavailable,
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.ResourceExhausted,
    grpc.StatusCode.DEADLINE_EXCEEDED: errors.DeadlineExceeded,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
}


def error_from_rpc(
    exc: grpc.aio.AioRpcError, service: str, address: str, hint: str = UNREACHABLE_HINT
) -> errors.LongwatchError:
    """The domain error for a failed call. A status the server sent keeps its details: they name what is
    wrong, another service included. An UNAVAILABLE of the transport names the service called, with `hint`."""
    code = exc.code()
    details = exc.details() or code.name
    if code == grpc.StatusCode.UNAVAILABLE and not is_server_answer(exc):
        details = _unreachable_message(details, service, address, hint)
    return _ERROR_BY_STATUS.get(code, errors.LongwatchError)(details)


def is_server_answer(exc: grpc.aio.AioRpcError) -> bool:
    """Whether a longwatch server sent this status itself (see longwatch.grpc_server.ANSWERED_KEY)."""
    return any(key == ANSWERED_KEY for key, _ in exc.trailing_metadata() or ())


def _unreachable_message(details: str, service: str, address: str, hint: str) -> str:
    lowered = details.lower()
    if "connect" in lowered or "dns" in lowered:
        return f"cannot reach the {service} service at {address}: {hint}"
    # The connection broke during the call (the service stopped or crashed) or the server is going away.
    return f"the {service} service at {address} is unavailable ({details}); retry once it is back"


def open_channel(address: str, options: Sequence[tuple[str, Any]], token: str | None = None) -> grpc.aio.Channel:
    """A channel as every longwatch client opens one (the SDK, the CLI, a service calling another): TLS when
    LONGWATCH_TLS_CA_FILE is set, and on every call the request id and the API token (None: from
    LONGWATCH_API_TOKEN or its file; "": none)."""
    token = security.token_from_env() if token is None else token
    return security.open_channel(
        address, options, [*tracing.client_interceptors(), *security.client_interceptors(token)]
    )


class _ServiceClient:
    service = ""

    def __init__(self, address: str, unreachable_hint: str = UNREACHABLE_HINT, token: str | None = None) -> None:
        """`unreachable_hint` ends the message when nothing listens at `address`: a service calling another
        gives its own, since the user of the CLI can neither start nor re-address that one. `token` is sent
        on every call (None: LONGWATCH_API_TOKEN or LONGWATCH_API_TOKEN_FILE, as the services read it)."""
        self.address = address
        self._unreachable_hint = unreachable_hint
        self._channel = open_channel(address, CHANNEL_OPTIONS, token)

    @property
    def channel(self) -> grpc.aio.Channel:
        return self._channel

    async def _call(self, method, request, timeout_s: float | None = 30.0):
        try:
            return await method(request, timeout=timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise self._error(exc) from None

    def _error(self, exc: grpc.aio.AioRpcError) -> errors.LongwatchError:
        return error_from_rpc(exc, self.service, self.address, self._unreachable_hint)

    async def close(self) -> None:
        await self._channel.close()


class PerceptionClient(_ServiceClient):
    service = "perception"

    def __init__(self, address: str, unreachable_hint: str = UNREACHABLE_HINT, token: str | None = None) -> None:
        super().__init__(address, unreachable_hint, token)
        self._stub = perception_pb2_grpc.PerceptionServiceStub(self._channel)

    async def add_stream(self, stream_id: str, source: str, sample_fps: float = 0.0) -> StreamStatus:
        """Refuses here what every perception refuses; the server's own limits (its max_sample_fps) are its own."""
        validate_stream_id(stream_id)
        validate_sample_fps(sample_fps, 0.0, MAX_SAMPLE_FPS)
        request = perception_pb2.AddStreamRequest(
            stream_id=stream_id, source=normalise_source(source), sample_fps=sample_fps
        )
        response = await self._call(self._stub.AddStream, request)
        return convert.status_from_pb(response.stream)

    async def list_streams(self, stream_ids: Sequence[str] = ()) -> list[StreamStatus]:
        validate_stream_ids(stream_ids)
        response = await self._call(self._stub.ListStreams, perception_pb2.ListStreamsRequest(stream_ids=stream_ids))
        return [convert.status_from_pb(item) for item in response.streams]

    async def remove_stream(self, stream_id: str) -> StreamStatus:
        validate_stream_id(stream_id)
        request = perception_pb2.RemoveStreamRequest(stream_id=stream_id)
        response = await self._call(self._stub.RemoveStream, request)
        return convert.status_from_pb(response.stream)

    async def push_frames(
        self,
        stream_id: str,
        frames: AsyncIterable[PushedFrame] | Iterable[PushedFrame],
        sample_fps: float = 0.0,
        *,
        is_live: bool = False,
        timeout_s: float | None = None,
    ) -> PushResult:
        """Pushes `frames` (in time order) as stream `stream_id` and waits for its clips to be written.
        The server reads at the stream's pace, so a fast iterable is slowed, not dropped (unless `is_live`)."""
        validate_stream_id(stream_id)
        validate_sample_fps(sample_fps, 0.0, MAX_SAMPLE_FPS)
        start = perception_convert.PushStart(stream_id=stream_id, sample_fps=sample_fps, is_live=is_live)

        async def requests() -> AsyncIterator[perception_pb2.PushFramesRequest]:
            yield perception_convert.push_start_to_pb(start)
            if isinstance(frames, AsyncIterable):
                async for frame in frames:
                    yield perception_convert.pushed_frame_to_pb(frame)
            else:
                for frame in frames:
                    yield perception_convert.pushed_frame_to_pb(frame)

        response = await self._call(self._stub.PushFrames, requests(), timeout_s)
        return perception_convert.push_result_from_pb(response)

    async def overview(self, stream_id: str, include_jpeg: bool = False) -> Overview:
        """The stream's Flash Memory: synopsis slots (heaviest first) and detail keyframes (JPEG if asked)."""
        validate_stream_id(stream_id)
        request = perception_pb2.GetOverviewRequest(stream_id=stream_id, include_jpeg=include_jpeg)
        return perception_convert.overview_from_pb(await self._call(self._stub.GetOverview, request))

    async def describe(
        self,
        stream_id: str,
        instruction: str,
        keyframe_ids: Sequence[str] = (),
        start_s: float = 0.0,
        end_s: float = 0.0,
        timeout_s: float | None = 120.0,
    ) -> DescribeResult:
        """A closer look, following `instruction`, at keyframes by id, or at those of [start_s, end_s)."""
        command = perception_convert.Describe(stream_id, instruction, tuple(keyframe_ids), start_s, end_s)
        request = perception_convert.describe_to_pb(command)
        perception_convert.describe_from_pb(request)  # refuses here what every perception refuses
        response = await self._call(self._stub.Describe, request, timeout_s)
        return perception_convert.describe_result_from_pb(response)


class MemoryClient(_ServiceClient):
    service = "memory"

    def __init__(self, address: str, unreachable_hint: str = UNREACHABLE_HINT, token: str | None = None) -> None:
        super().__init__(address, unreachable_hint, token)
        self._stub = memory_pb2_grpc.MemoryServiceStub(self._channel)

    async def search(
        self,
        text: str,
        stream_ids: Sequence[str] = (),
        start_s: float = 0.0,
        end_s: float = 0.0,
        k: int = 10,
        timeout_s: float | None = 30.0,
        *,
        level: int = 0,
        vector: Sequence[float] = (),
        start_wall_ms: int = 0,
        end_wall_ms: int = 0,
    ) -> list[SearchHit]:
        """The best nodes of `level` (0 = clips) for `text`, or for a visual `vector` with text empty, best first.
        Stream times `start_s`/`end_s` (end 0 = open) and UTC wall-clock ms (0 = open) narrow the range."""
        result = await self.search_result(
            text,
            stream_ids,
            start_s,
            end_s,
            k,
            timeout_s,
            level=level,
            vector=vector,
            start_wall_ms=start_wall_ms,
            end_wall_ms=end_wall_ms,
        )
        return list(result.hits)

    async def search_result(
        self,
        text: str,
        stream_ids: Sequence[str] = (),
        start_s: float = 0.0,
        end_s: float = 0.0,
        k: int = 10,
        timeout_s: float | None = 30.0,
        *,
        level: int = 0,
        vector: Sequence[float] = (),
        start_wall_ms: int = 0,
        end_wall_ms: int = 0,
    ) -> SearchResult:
        """As `search`, with how many nodes the search read (it grows with the log of a stream's history)."""
        validate_stream_ids(stream_ids)
        validate_stream_range_s(start_s, end_s)
        validate_wall_range_ms(start_wall_ms, end_wall_ms)
        validate_count(k, "k", MAX_SEARCH_K)
        validate_level(level)
        request = memory_pb2.SearchRequest(
            text=text,
            stream_ids=stream_ids,
            start_s=start_s,
            end_s=end_s,
            k=k,
            vector=validate_vector(vector),
            level=level,
            start_wall_ms=start_wall_ms,
            end_wall_ms=end_wall_ms,
        )
        response = await self._call(self._stub.Search, request, timeout_s)
        return convert.search_result_from_pb(response)

    async def expand(self, node_id: str, timeout_s: float | None = 30.0) -> list[Node]:
        """The children of a node in time order: the segments of an episode, the clips of a segment."""
        validate_node_id(node_id)
        response = await self._call(self._stub.Expand, memory_pb2.ExpandRequest(node_id=node_id), timeout_s)
        return [convert.node_from_pb(node) for node in response.children]

    async def timeline(
        self,
        stream_id: str,
        level: int = 0,
        start_s: float = 0.0,
        end_s: float = 0.0,
        start_wall_ms: int = 0,
        end_wall_ms: int = 0,
        limit: int = 0,
        timeout_s: float | None = 30.0,
    ) -> tuple[list[Node], bool]:
        """The nodes of one level of a stream over a range, in time order, and whether more lay in the range
        than `limit` (0 = the server's default, 100). To page on, start the next call where the last node ends."""
        validate_stream_id(stream_id)
        validate_level(level)
        validate_stream_range_s(start_s, end_s)
        validate_wall_range_ms(start_wall_ms, end_wall_ms)
        validate_count(limit, "limit", MAX_TIMELINE_LIMIT)
        request = memory_pb2.TimelineRequest(
            stream_id=stream_id,
            level=level,
            start_s=start_s,
            end_s=end_s,
            start_wall_ms=start_wall_ms,
            end_wall_ms=end_wall_ms,
            limit=limit,
        )
        response = await self._call(self._stub.Timeline, request, timeout_s)
        return [convert.node_from_pb(node) for node in response.nodes], response.truncated

    async def get(
        self, node_ids: Sequence[str] = (), keyframe_ids: Sequence[str] = (), timeout_s: float | None = 30.0
    ) -> tuple[list[Node], list[KeyframeData]]:
        """Nodes and keyframes (JPEG bytes) by the ids searches, timelines and expansions return."""
        for node_id in node_ids:
            validate_node_id(node_id, "a node_ids entry")
        for keyframe_id in keyframe_ids:
            validate_node_id(keyframe_id, "a keyframe_ids entry")
        request = memory_pb2.GetRequest(node_ids=node_ids, keyframe_ids=keyframe_ids)
        response = await self._call(self._stub.Get, request, timeout_s)
        nodes = [convert.node_from_pb(node) for node in response.nodes]
        return nodes, [convert.keyframe_data_from_pb(keyframe) for keyframe in response.keyframes]

    async def stats(self, stream_ids: Sequence[str] = (), timeout_s: float | None = 30.0) -> MemoryStats:
        """What memory holds and what retention removed, per stream (all when `stream_ids` is empty)."""
        validate_stream_ids(stream_ids)
        response = await self._call(self._stub.Stats, memory_pb2.StatsRequest(stream_ids=stream_ids), timeout_s)
        return convert.memory_stats_from_pb(response)

    async def delete_stream(self, stream_id: str, timeout_s: float | None = 120.0) -> DeletedStream:
        """Removes everything memory holds of a stream; there is no undo. The longer default timeout is for
        a long stream's many files."""
        validate_stream_id(stream_id)
        request = memory_pb2.DeleteStreamRequest(stream_id=stream_id)
        response = await self._call(self._stub.DeleteStream, request, timeout_s)
        return convert.deleted_stream_from_pb(response)

    async def list_streams(self, timeout_s: float | None = 30.0) -> list[StreamSummary]:
        response = await self._call(self._stub.ListStreams, memory_pb2.ListStreamsRequest(), timeout_s)
        return [convert.summary_from_pb(item) for item in response.streams]

    async def write_clips(self, clips: Sequence[ClipRecord]) -> list[str]:
        """Writes clips and returns their ids once each is durable (for tools and tests)."""
        requests = [memory_pb2.WriteClipsRequest(clip=convert.clip_to_pb(clip)) for clip in clips]
        try:
            return [ack.clip_id async for ack in self._stub.WriteClips(iter(requests))]
        except grpc.aio.AioRpcError as exc:
            raise self._error(exc) from None


class ReasonerClient(_ServiceClient):
    service = "reasoner"

    def __init__(self, address: str, unreachable_hint: str = UNREACHABLE_HINT, token: str | None = None) -> None:
        super().__init__(address, unreachable_hint, token)
        self._stub = reasoner_pb2_grpc.ReasonerServiceStub(self._channel)

    async def ask(
        self,
        question: str,
        stream_ids: Sequence[str] = (),
        deadline_ms: int = 0,
        time_range: TimeRange | None = None,
    ) -> Answer:
        """The answer within `deadline_ms` (0 = the server's default), from evidence in `time_range` (None or an
        open range: the whole history); `answer.partial` says the deadline came first."""
        request = _ask_request(question, stream_ids, deadline_ms, time_range)
        response = await self._call(self._stub.Ask, request, _call_timeout_s(deadline_ms))
        return convert.answer_from_pb(response)

    async def ask_stream(
        self,
        question: str,
        stream_ids: Sequence[str] = (),
        deadline_ms: int = 0,
        time_range: TimeRange | None = None,
    ) -> AsyncIterator[AskProgress | Answer]:
        """As `ask`, yielding each step (an AskProgress) as the reasoner takes it, then the Answer, last.
        Leaving the loop early cancels the question on the server."""
        request = _ask_request(question, stream_ids, deadline_ms, time_range)
        call = self._stub.AskStream(request, timeout=_call_timeout_s(deadline_ms))
        is_answered = False
        try:
            async for event in call:
                item = reasoner_convert.event_from_pb(event)
                is_answered = isinstance(item, Answer)
                if item is not None:
                    yield item
        except grpc.aio.AioRpcError as exc:
            raise self._error(exc) from None
        finally:
            call.cancel()
        if not is_answered:
            raise errors.Unavailable(f"the reasoner at {self.address} ended the stream without an answer; ask again")

    async def summarize(self, stream_id: str, time_range: TimeRange | None = None, deadline_ms: int = 0) -> Summary:
        """What `stream_id` showed over `time_range` (None or an open range: all of it), from memory's summaries,
        within `deadline_ms` (0 = the server's default); `summary.partial` says the deadline came first."""
        validate_stream_id(stream_id)
        time_range = _checked_range(time_range)
        query = SummarizeQuery(stream_id=stream_id, time_range=time_range, deadline_ms=_checked_deadline(deadline_ms))
        request = reasoner_convert.summarize_query_to_pb(query)
        response = await self._call(self._stub.Summarize, request, _call_timeout_s(deadline_ms))
        return reasoner_convert.summary_from_pb(response)


def _checked_deadline(deadline_ms: int) -> int:
    if not _INT64_MIN <= deadline_ms <= _INT64_MAX:  # the server judges the rest, negatives included
        raise errors.InvalidArgument(
            f"deadline_ms {deadline_ms} is out of range; pass 0 for the server's default or at most an hour"
        )
    return deadline_ms


def _checked_range(time_range: TimeRange | None) -> TimeRange:
    """The range every reasoner refuses otherwise, checked as memory checks its own (an end of 0 is open)."""
    time_range = time_range or TimeRange()
    validate_stream_range_s(time_range.start_s, time_range.end_s)
    validate_wall_range_ms(time_range.start_wall_ms, time_range.end_wall_ms)
    return time_range


def _ask_request(
    question: str, stream_ids: Sequence[str], deadline_ms: int, time_range: TimeRange | None
) -> reasoner_pb2.AskRequest:
    deadline_ms = _checked_deadline(deadline_ms)
    validate_question(question, MAX_QUESTION_CHARS)  # the server cleans it the same way, to its own limit
    query = AskQuery(
        question=question,
        stream_ids=validate_stream_ids(stream_ids),
        deadline_ms=deadline_ms,
        time_range=_checked_range(time_range),
    )
    return reasoner_convert.query_to_pb(query)


def _call_timeout_s(deadline_ms: int) -> float:
    """The server keeps its own deadline; the transport gets a margin on top so the answer can arrive."""
    return (min(deadline_ms / 1000, _LONGEST_CALL_S) + 30.0) if deadline_ms > 0 else 120.0


@dataclass
class LongwatchClient:
    """One client per service, addressed like `longwatch up` listens unless told otherwise."""

    perception: PerceptionClient
    memory: MemoryClient
    reasoner: ReasonerClient

    @classmethod
    def connect(
        cls,
        perception: str | None = None,
        memory: str | None = None,
        reasoner: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Self:
        """Explicit addresses win, then `LONGWATCH_*_ADDR`, then the defaults of `longwatch up`."""
        env = os.environ if environ is None else environ
        return cls(
            perception=PerceptionClient(
                perception or env.get(PERCEPTION_ADDR_ENV) or default_address(DEFAULT_PERCEPTION_PORT)
            ),
            memory=MemoryClient(memory or env.get(MEMORY_ADDR_ENV) or default_address(DEFAULT_MEMORY_PORT)),
            reasoner=ReasonerClient(reasoner or env.get(REASONER_ADDR_ENV) or default_address(DEFAULT_REASONER_PORT)),
        )

    async def close(self) -> None:
        for client in (self.perception, self.memory, self.reasoner):
            await client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
