"""How the Ray Serve ingress (orchestration.ray_serve) routes a gRPC call of any of the three protos.

Requests and responses cross as bytes: the ingress never decodes a message but to find the stream id a
perception call belongs to, so the replica's own server validates it as it would any call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import DecodeError
from google.protobuf.message_factory import GetMessageClass

from longwatch import errors, security
from longwatch.grpc_server import CHANNEL_OPTIONS
from longwatch.memory.v1 import memory_pb2
from longwatch.perception.v1 import perception_pb2
from longwatch.reasoner.v1 import reasoner_pb2
from perception.server import FORWARDED_CLIENT_KEY

_SERVICES = {
    "perception": perception_pb2.DESCRIPTOR.services_by_name["PerceptionService"],
    "memory": memory_pb2.DESCRIPTOR.services_by_name["MemoryService"],
    "reasoner": reasoner_pb2.DESCRIPTOR.services_by_name["ReasonerService"],
}
SERVICE_NAMES = [descriptor.full_name for descriptor in _SERVICES.values()]
_PERCEPTION_LIST = f"/{_SERVICES['perception'].full_name}/ListStreams"
_PERCEPTION_ADD = f"/{_SERVICES['perception'].full_name}/AddStream"
_PERCEPTION_REMOVE = f"/{_SERVICES['perception'].full_name}/RemoveStream"
# Memory's reads that its read replicas answer, when there are some; ListStreams and Stats stay with the
# writer, which answers them from RAM and knows its own log.
_MEMORY_READS = frozenset({"Search", "Expand", "Timeline", "Get"})
# Not forwarded: grpc's own headers, which the outgoing call sets again.
_HOP_HEADERS = ("user-agent", "content-type", "te")


def open_channel(address: str) -> grpc.aio.Channel:
    """A channel to a replica's own server, with no interceptors: each call carries its client's metadata."""
    return security.open_channel(address, CHANNEL_OPTIONS)


@dataclass(frozen=True)
class Reply:
    """A replica's answer to a forwarded call: the response bytes, or the status it ended with."""

    payload: bytes = b""
    code: str = ""  # a grpc.StatusCode name; empty: OK
    details: str = ""
    trailing: tuple[tuple[str, str], ...] = ()

    @classmethod
    def failed(cls, exc: BaseException) -> Reply:
        if isinstance(exc, grpc.aio.AioRpcError):
            trailing = tuple((key, value) for key, value in exc.trailing_metadata() or () if isinstance(value, str))
            return cls(code=exc.code().name, details=exc.details() or "", trailing=trailing)
        return cls(code="UNAVAILABLE", details=f"the replica could not make the call: {type(exc).__name__}: {exc}")

    async def unwrap(self, context: grpc.aio.ServicerContext) -> bytes:
        """The payload, or the replica's status given to the client as it came (abort raises)."""
        if self.code:
            await context.abort(grpc.StatusCode[self.code], self.details, self.trailing)
        return self.payload


def forwarded_metadata(context: grpc.aio.ServicerContext) -> tuple[tuple[str, Any], ...]:
    """The client's metadata (token, request id) for the call the ingress makes on its behalf, and who the
    client is, for perception's per-client stream limit (a client's own claim to be another is dropped)."""
    passed = tuple(
        (key, value)
        for key, value in context.invocation_metadata() or ()
        if not key.startswith(("grpc-", ":")) and key not in _HOP_HEADERS and key != FORWARDED_CLIENT_KEY
    )
    return (*passed, (FORWARDED_CLIENT_KEY, context.peer()))


@dataclass(frozen=True)
class _Method:
    path: str
    service: str
    descriptor: MethodDescriptor

    @property
    def kind(self) -> tuple[bool, bool]:
        return self.descriptor.client_streaming, self.descriptor.server_streaming


def _methods() -> dict[str, _Method]:
    return {
        f"/{descriptor.full_name}/{method.name}": _Method(f"/{descriptor.full_name}/{method.name}", service, method)
        for service, descriptor in _SERVICES.items()
        for method in descriptor.methods
    }


def stream_id_of(method: _Method, raw: bytes) -> str:
    """The stream a perception request is about ("" when it names none, or is no valid message)."""
    try:
        message = GetMessageClass(method.descriptor.input_type).FromString(raw)
    except DecodeError:
        return ""
    if method.descriptor.client_streaming:  # PushFrames: its first message says which stream
        return message.start.stream_id if message.WhichOneof("item") == "start" else ""
    return getattr(message, "stream_id", "") if "stream_id" in message.DESCRIPTOR.fields_by_name else ""


class Forwarder(grpc.GenericRpcHandler):
    """The ingress's handlers: each method of the three services, forwarded to its deployment."""

    def __init__(self, handles: dict[str, Any], perception_replicas: int) -> None:
        self._handles = handles
        self._methods = _methods()
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._spread_streams = perception_replicas > 1
        self._streams: set[str] = set()  # perception streams added through this ingress
        # Made once: grpc asks for a method's handler on every call.
        self._handlers = {path: self._handler(method) for path, method in self._methods.items()}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        return self._handlers.get(handler_call_details.method)

    def _handler(self, method: _Method) -> grpc.RpcMethodHandler:
        client_streaming, server_streaming = method.kind
        if client_streaming and server_streaming:
            return grpc.stream_stream_rpc_method_handler(self._bidirectional(method))
        if client_streaming:
            return grpc.stream_unary_rpc_method_handler(self._client_streaming(method))
        if server_streaming:
            return grpc.unary_stream_rpc_method_handler(self._server_streaming(method))
        return grpc.unary_unary_rpc_method_handler(self._unary(method))

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()

    # ---- the four kinds of call

    def _unary(self, method: _Method) -> Callable[[bytes, grpc.aio.ServicerContext], Awaitable[bytes]]:
        async def forward(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            if method.service != "perception":
                reply = await self._handle_call(method, request, context)
                return await reply.unwrap(context)
            if method.path == _PERCEPTION_LIST and self._spread_streams:
                return await self._list_every_replica(method, request, context)
            stream_id = stream_id_of(method, request)
            channel = await self._replica_channel(method.service, stream_id)
            try:
                response = await channel.unary_unary(method.path)(
                    request, metadata=forwarded_metadata(context), timeout=context.time_remaining()
                )
            except grpc.aio.AioRpcError as exc:
                return await Reply.failed(exc).unwrap(context)
            self._note_stream(method.path, stream_id)
            return response

        return forward

    def _server_streaming(self, method: _Method) -> Callable[..., AsyncIterator[bytes]]:
        async def forward(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
            handle = self._handles[method.service].options(stream=True)
            replies = handle.call_streaming.remote(
                method.path, request, forwarded_metadata(context), context.time_remaining()
            )
            async for reply in replies:
                yield await reply.unwrap(context)

        return forward

    def _client_streaming(self, method: _Method) -> Callable[..., Awaitable[bytes]]:
        async def forward(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> bytes:
            first, requests = await _peek(requests)
            stream_id = stream_id_of(method, first) if first is not None and method.service == "perception" else ""
            channel = await self._replica_channel(method.service, stream_id)
            try:
                return await channel.stream_unary(method.path)(
                    requests, metadata=forwarded_metadata(context), timeout=context.time_remaining()
                )
            except grpc.aio.AioRpcError as exc:
                return await Reply.failed(exc).unwrap(context)

        return forward

    def _bidirectional(self, method: _Method) -> Callable[..., AsyncIterator[bytes]]:
        async def forward(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
            channel = await self._replica_channel(method.service, "")
            call = channel.stream_stream(method.path)(
                requests, metadata=forwarded_metadata(context), timeout=context.time_remaining()
            )
            try:
                async for response in call:
                    yield response
            except grpc.aio.AioRpcError as exc:
                await Reply.failed(exc).unwrap(context)

        return forward

    # ---- replicas

    async def _handle_call(self, method: _Method, request: bytes, context: grpc.aio.ServicerContext) -> Reply:
        deployment = method.service
        if deployment == "memory" and method.descriptor.name in _MEMORY_READS and "memory_reader" in self._handles:
            deployment = "memory_reader"
        try:
            return await self._handles[deployment].call.remote(
                method.path, request, forwarded_metadata(context), context.time_remaining()
            )
        except Exception as exc:  # noqa: BLE001 - Ray's own failures (a replica died, none yet)
            raise errors.Unavailable(f"the {method.service} deployment could not take the call: {exc}") from None

    async def _replica_channel(self, service: str, stream_id: str) -> grpc.aio.Channel:
        """A channel to the replica's own server: for perception, the replica `stream_id` lives in."""
        handle = self._handles[service]
        if stream_id:
            handle = handle.options(multiplexed_model_id=stream_id)
        try:
            address = await handle.address.remote()
        except Exception as exc:  # noqa: BLE001 - Ray's own failures
            raise errors.Unavailable(f"no {service} replica could take the call: {exc}") from None
        if address not in self._channels:
            self._channels[address] = open_channel(address)
        return self._channels[address]

    def _note_stream(self, path: str, stream_id: str) -> None:
        if path == _PERCEPTION_ADD and stream_id:
            self._streams.add(stream_id)
        elif path == _PERCEPTION_REMOVE:
            self._streams.discard(stream_id)

    async def _list_every_replica(self, method: _Method, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        """ListStreams over several perception replicas: each stream asked of the replica it lives in."""
        asked = perception_pb2.ListStreamsRequest.FromString(request)
        stream_ids = list(asked.stream_ids) or sorted(self._streams)
        metadata, timeout = forwarded_metadata(context), context.time_remaining()

        async def one(stream_id: str) -> perception_pb2.ListStreamsResponse:
            channel = await self._replica_channel("perception", stream_id)
            only = perception_pb2.ListStreamsRequest(stream_ids=[stream_id]).SerializeToString()
            raw = await channel.unary_unary(method.path)(only, metadata=metadata, timeout=timeout)
            return perception_pb2.ListStreamsResponse.FromString(raw)

        try:
            answers = await asyncio.gather(*(one(stream_id) for stream_id in stream_ids))
        except grpc.aio.AioRpcError as exc:
            return await Reply.failed(exc).unwrap(context)
        merged = perception_pb2.ListStreamsResponse()
        for answer in answers:
            merged.streams.extend(answer.streams)
        return merged.SerializeToString()


async def _peek(requests: AsyncIterator[bytes]) -> tuple[bytes | None, AsyncIterator[bytes]]:
    """The first request of a stream, and the stream with it put back."""
    first = await anext(requests, None)

    async def again() -> AsyncIterator[bytes]:
        if first is not None:
            yield first
            async for request in requests:
                yield request

    return first, again()
