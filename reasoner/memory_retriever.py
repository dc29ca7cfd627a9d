"""The Retriever the service uses: the memory service's Search, Expand, Timeline and Stats over gRPC."""

from __future__ import annotations

from collections.abc import Sequence

from longwatch.client import MemoryClient
from longwatch.types import WHOLE_HISTORY, Node, SearchResult, StreamStats, TimeRange

# Bounds of memory.proto's SearchRequest.k and TimelineRequest.limit.
_MIN_K, _MAX_K = 1, 100
_MAX_TIMELINE = 1000


class MemoryRetriever:
    """Wraps a MemoryClient; its errors already come back as longwatch.errors with a hint."""

    def __init__(self, client: MemoryClient) -> None:
        self._client = client

    @property
    def address(self) -> str:
        return self._client.address

    async def search(
        self,
        text: str,
        stream_ids: Sequence[str],
        k: int,
        timeout_s: float,
        level: int = 0,
        span: TimeRange = WHOLE_HISTORY,
    ) -> SearchResult:
        return await self._client.search_result(
            text,
            list(stream_ids),
            span.start_s,
            span.end_s,
            min(max(k, _MIN_K), _MAX_K),
            timeout_s,
            level=level,
            start_wall_ms=span.start_wall_ms,
            end_wall_ms=span.end_wall_ms,
        )

    async def expand(self, node_id: str, timeout_s: float) -> list[Node]:
        return await self._client.expand(node_id, timeout_s=timeout_s)

    async def timeline(
        self, stream_id: str, level: int, span: TimeRange, limit: int, timeout_s: float
    ) -> tuple[list[Node], bool]:
        return await self._client.timeline(
            stream_id,
            level,
            span.start_s,
            span.end_s,
            span.start_wall_ms,
            span.end_wall_ms,
            min(max(limit, 1), _MAX_TIMELINE),
            timeout_s,
        )

    async def keyframes(self, keyframe_ids: Sequence[str], timeout_s: float) -> list[bytes]:
        if not keyframe_ids:
            return []
        _, keyframes = await self._client.get(keyframe_ids=list(keyframe_ids), timeout_s=timeout_s)
        by_id = {keyframe.keyframe_id: keyframe.jpeg for keyframe in keyframes}
        return [by_id[keyframe_id] for keyframe_id in keyframe_ids if keyframe_id in by_id]

    async def stream_stats(self, stream_ids: Sequence[str], timeout_s: float) -> list[StreamStats]:
        return list((await self._client.stats(list(stream_ids), timeout_s=timeout_s)).streams)

    async def known_streams(self, timeout_s: float) -> list[str]:
        """Ids of the streams memory holds (the service's start-up probe)."""
        return [summary.stream_id for summary in await self._client.list_streams(timeout_s=timeout_s)]

    async def close(self) -> None:
        await self._client.close()
