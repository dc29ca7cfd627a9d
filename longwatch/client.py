"""The client SDK: async clients for the three services, speaking domain types.

    async with LongwatchClient.connect() as lw:
        await lw.perception.add_stream("gate", "/videos/gate.mp4")
        answer = await lw.reasoner.ask("What was the plate of the red car?")

gRPC failures come back as `longwatch.errors` exceptions whose message names the problem.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

import grpc

from longwatch import convert, errors
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
from longwatch.types import Answer, ClipRecord, SearchHit, StreamStatus, StreamSummary
from longwatch.validation import (
    MAX_QUESTION_CHARS,
    MAX_SAMPLE_FPS,
    normalise_source,
    validate_question,
    validate_sample_fps,
    validate_stream_id,
    validate_stream_ids,
    validate_stream_time_s,
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


class _ServiceClient:
    service = ""

    def __init__(self, address: str, unreachable_hint: str = UNREACHABLE_HINT) -> None:
        """`unreachable_hint` ends the message when nothing listens at `address`: a service calling another
        gives its own, since the user of the CLI can neither start nor re-address that one."""
        self.address = address
        self._unreachable_hint = unreachable_hint
        self._channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)

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

    def __init__(self, address: str, unreachable_hint: str = UNREACHABLE_HINT) -> None:
        super().__init__(address, unreachable_hint)
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


class MemoryClient(_ServiceClient):
    service = "memory"

    def __init__(self, address: str, unreachable_hint: str = UNREACHABLE_HINT) -> None:
        super().__init__(address, unreachable_hint)
        self._stub = memory_pb2_grpc.MemoryServiceStub(self._channel)

    async def search(
        self,
        text: str,
        stream_ids: Sequence[str] = (),
        start_s: float = 0.0,
        end_s: float = 0.0,
        k: int = 10,
        timeout_s: float | None = 30.0,
    ) -> list[SearchHit]:
        validate_stream_ids(stream_ids)
        validate_stream_time_s(start_s, "start_s")
        validate_stream_time_s(end_s, "end_s")
        request = memory_pb2.SearchRequest(text=text, stream_ids=stream_ids, start_s=start_s, end_s=end_s, k=k)
        response = await self._call(self._stub.Search, request, timeout_s)
        return [convert.hit_from_pb(hit) for hit in response.hits]

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

    def __init__(self, address: str, unreachable_hint: str = UNREACHABLE_HINT) -> None:
        super().__init__(address, unreachable_hint)
        self._stub = reasoner_pb2_grpc.ReasonerServiceStub(self._channel)

    async def ask(self, question: str, stream_ids: Sequence[str] = (), deadline_ms: int = 0) -> Answer:
        if not _INT64_MIN <= deadline_ms <= _INT64_MAX:  # the server judges the rest, negatives included
            raise errors.InvalidArgument(
                f"deadline_ms {deadline_ms} is out of range; pass 0 for the server's default or at most an hour"
            )
        validate_question(question, MAX_QUESTION_CHARS)  # the server cleans it the same way, to its own limit
        validate_stream_ids(stream_ids)
        request = reasoner_pb2.AskRequest(question=question, stream_ids=stream_ids, deadline_ms=deadline_ms)
        # The server keeps its own deadline; the transport gets a margin on top so the answer can arrive.
        timeout_s = (min(deadline_ms / 1000, _LONGEST_CALL_S) + 30.0) if deadline_ms > 0 else 120.0
        response = await self._call(self._stub.Ask, request, timeout_s)
        return convert.answer_from_pb(response)


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
