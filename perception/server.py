"""The PerceptionService servicer: converts, calls the stream registry (or the describer), converts back.
Errors map to statuses in the interceptor (longwatch.grpc_server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc

from longwatch import perception_convert as convert
from longwatch.errors import FailedPrecondition
from longwatch.perception.v1 import perception_pb2, perception_pb2_grpc
from perception import responses
from perception.core.streams import StreamRegistry

if TYPE_CHECKING:
    from perception.core.describe import Describer

SERVICE_NAME = perception_pb2.DESCRIPTOR.services_by_name["PerceptionService"].full_name


# The client a front (orchestration.ray_routes) forwards a call for, as grpc names peers ("ipv4:host:port").
FORWARDED_CLIENT_KEY = "longwatch-client"


class PerceptionServicer(perception_pb2_grpc.PerceptionServiceServicer):
    def __init__(
        self, streams: StreamRegistry, describer: Describer | None = None, trust_forwarded_client: bool = False
    ) -> None:
        """`trust_forwarded_client`: the per-client stream limit counts the client the front forwarded the
        call for; without a front every call would seem to come from it."""
        self._streams = streams
        self._describer = describer
        self._trust_forwarded_client = trust_forwarded_client

    def _client(self, context: grpc.aio.ServicerContext) -> str:
        if self._trust_forwarded_client:
            for key, value in context.invocation_metadata() or ():
                if key == FORWARDED_CLIENT_KEY and isinstance(value, str):
                    return value
        return context.peer()

    async def AddStream(
        self, request: perception_pb2.AddStreamRequest, context: grpc.aio.ServicerContext
    ) -> perception_pb2.AddStreamResponse:
        command = convert.add_stream_from_pb(request)
        status = await self._streams.add(command.stream_id, command.source, command.sample_fps, self._client(context))
        return convert.add_stream_response(status)

    async def ListStreams(
        self, request: perception_pb2.ListStreamsRequest, context: grpc.aio.ServicerContext
    ) -> perception_pb2.ListStreamsResponse:
        return convert.list_streams_response(self._streams.list(convert.stream_ids_from_pb(request)))

    async def RemoveStream(
        self, request: perception_pb2.RemoveStreamRequest, context: grpc.aio.ServicerContext
    ) -> perception_pb2.RemoveStreamResponse:
        return convert.remove_stream_response(await self._streams.remove(request.stream_id))

    async def PushFrames(
        self, requests: AsyncIterator[perception_pb2.PushFramesRequest], context: grpc.aio.ServicerContext
    ) -> perception_pb2.PushFramesResponse:
        """Frames go through the stream's bounded queue: a full queue makes this handler wait before it reads
        the next message, so gRPC's flow control slows the client instead of dropping its frames."""
        start = convert.push_start_from_pb(await anext(requests, None))
        _, session = await self._streams.add_push(
            start.stream_id, start.sample_fps, start.is_live, self._client(context)
        )
        try:
            async for request in requests:
                await session.put(convert.pushed_frame_from_pb(request, session.frames_accepted + 1))
        except asyncio.CancelledError:
            session.fail("the client's PushFrames call was cancelled before it closed its side")
            raise
        except Exception as exc:
            session.fail(f"a pushed frame was refused: {exc}")
            raise
        status = await session.finish()
        return convert.push_frames_response(session.frames_accepted, status)

    async def GetOverview(
        self, request: perception_pb2.GetOverviewRequest, context: grpc.aio.ServicerContext
    ) -> perception_pb2.GetOverviewResponse:
        command = convert.get_overview_from_pb(request)
        return responses.overview_response(self._streams.overview(command.stream_id), command.include_jpeg)

    async def Describe(
        self, request: perception_pb2.DescribeRequest, context: grpc.aio.ServicerContext
    ) -> perception_pb2.DescribeResponse:
        command = convert.describe_from_pb(request)
        if self._describer is None:
            raise FailedPrecondition("this perception was started without a describer; Describe is unavailable")
        description = await self._describer.describe(
            command.stream_id, command.keyframe_ids, command.start_s, command.end_s, command.instruction
        )
        return responses.describe_response(description)
