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
        hits = await self._memory.search(convert.query_from_pb(request))
        return convert.search_response(hits)

    async def ListStreams(
        self, request: memory_pb2.ListStreamsRequest, context: grpc.aio.ServicerContext
    ) -> memory_pb2.ListStreamsResponse:
        return convert.list_streams_response(self._memory.list_streams())
