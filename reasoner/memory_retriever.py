"""The Retriever the service uses: the memory service's Search and ListStreams over gRPC."""

from __future__ import annotations

from collections.abc import Sequence

from longwatch.client import MemoryClient
from longwatch.types import SearchHit

# Bounds of memory.proto's SearchRequest.k.
_MIN_K, _MAX_K = 1, 100


class MemoryRetriever:
    """Wraps a MemoryClient; its errors already come back as longwatch.errors with a hint."""

    def __init__(self, client: MemoryClient) -> None:
        self._client = client

    @property
    def address(self) -> str:
        return self._client.address

    async def search(self, text: str, stream_ids: Sequence[str], k: int, timeout_s: float) -> list[SearchHit]:
        k = min(max(k, _MIN_K), _MAX_K)
        return await self._client.search(text, stream_ids=list(stream_ids), k=k, timeout_s=timeout_s)

    async def known_streams(self, timeout_s: float) -> list[str]:
        return [summary.stream_id for summary in await self._client.list_streams(timeout_s=timeout_s)]

    async def close(self) -> None:
        await self._client.close()
