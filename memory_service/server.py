"""The MemoryService servicer: converts, calls `Memory`, converts back. Errors map to statuses in the interceptor."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc

from longwatch.memory.v1 import memory_pb2, memory_pb2_grpc
from memory_service import convert
from memory_service.core.memory import Memory

logger = logging.getLogger(__name__)

SERVICE_NAME = memory_pb2.DESCRIPTOR.services_by_name["MemoryService"].full_name


class MemoryServicer(memory_pb2_grpc.MemoryServiceServicer):
    def __init__(self, memory: Memory) -> None:
        self._memory = memory

    async def WriteClips(
        self,
        request_iterator: AsyncIterator[memory_pb2.WriteClipsRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[memory_pb2.WriteClipsResponse]:
        async for request in request_iterator:
            clip_id = await self._memory.write(convert.clip_from_request(request))
            logger.debug("stored clip %s", clip_id)
            yield convert.write_response(clip_id)

    async def Search(
        self, request: memory_pb2.SearchRequest, context: grpc.aio.ServicerContext
    ) -> memory_pb2.SearchResponse:
        result = await self._memory.search(convert.query_from_pb(request))
        return convert.search_response(result)

    async def Expand(
        self, request: memory_pb2.ExpandRequest, context: grpc.aio.ServicerContext
    ) -> memory_pb2.ExpandResponse:
        return convert.expand_response(await self._memory.expand(request.node_id))

    async def Timeline(
        self, request: memory_pb2.TimelineRequest, context: grpc.aio.ServicerContext
    ) -> memory_pb2.TimelineResponse:
        nodes, is_truncated = await self._memory.timeline(convert.timeline_from_pb(request))
        return convert.timeline_response(nodes, is_truncated)

    async def Get(self, request: memory_pb2.GetRequest, context: grpc.aio.ServicerContext) -> memory_pb2.GetResponse:
        nodes, keyframes = await self._memory.get(tuple(request.node_ids), tuple(request.keyframe_ids))
        return convert.get_response(nodes, keyframes)

    async def Stats(
        self, request: memory_pb2.StatsRequest, context: grpc.aio.ServicerContext
    ) -> memory_pb2.StatsResponse:
        return convert.stats_response(await self._memory.stats(tuple(request.stream_ids)))

    async def DeleteStream(
        self, request: memory_pb2.DeleteStreamRequest, context: grpc.aio.ServicerContext
    ) -> memory_pb2.DeleteStreamResponse:
        deleted = await self._memory.delete_stream(request.stream_id)
        logger.info(
            "stream %s deleted: %d clips, %d nodes, %d keyframes",
            request.stream_id,
            deleted.clips_deleted,
            deleted.nodes_deleted,
            deleted.keyframes_deleted,
        )
        return convert.delete_stream_response(deleted)

    async def ListStreams(
        self, request: memory_pb2.ListStreamsRequest, context: grpc.aio.ServicerContext
    ) -> memory_pb2.ListStreamsResponse:
        return convert.list_streams_response(self._memory.list_streams())
