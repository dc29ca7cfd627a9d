"""The PerceptionService servicer: converts, calls the stream registry, converts back.
Errors map to statuses in the interceptor (longwatch.grpc_server)."""

from __future__ import annotations

import grpc

from longwatch.perception.v1 import perception_pb2, perception_pb2_grpc
from perception import convert
from perception.core.streams import StreamRegistry

SERVICE_NAME = perception_pb2.DESCRIPTOR.services_by_name["PerceptionService"].full_name


class PerceptionServicer(perception_pb2_grpc.PerceptionServiceServicer):
    def __init__(self, streams: StreamRegistry) -> None:
        self._streams = streams

    async def AddStream(
        self, request: perception_pb2.AddStreamRequest, context: grpc.aio.ServicerContext
    ) -> perception_pb2.AddStreamResponse:
        command = convert.add_stream_from_pb(request)
        status = await self._streams.add(command.stream_id, command.source, command.sample_fps)
        return convert.add_stream_response(status)

    async def ListStreams(
        self, request: perception_pb2.ListStreamsRequest, context: grpc.aio.ServicerContext
    ) -> perception_pb2.ListStreamsResponse:
        return convert.list_streams_response(self._streams.list(convert.stream_ids_from_pb(request)))

    async def RemoveStream(
        self, request: perception_pb2.RemoveStreamRequest, context: grpc.aio.ServicerContext
    ) -> perception_pb2.RemoveStreamResponse:
        return convert.remove_stream_response(await self._streams.remove(request.stream_id))
