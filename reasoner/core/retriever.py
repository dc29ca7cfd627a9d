"""Where the reasoner finds evidence. The gRPC implementation (memory service) is reasoner.memory_retriever."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from longwatch.types import SearchHit


@runtime_checkable
class Retriever(Protocol):
    """Searches what the streams showed. Async: it waits on another service, not on a CPU."""

    async def search(self, text: str, stream_ids: Sequence[str], k: int, timeout_s: float) -> list[SearchHit]:
        """The `k` hits most relevant to `text` in `stream_ids` (empty = all), best first.

        Raises longwatch.errors.Unavailable when the store cannot be reached and DeadlineExceeded
        when `timeout_s` passes first.
        """
        ...

    async def known_streams(self, timeout_s: float) -> list[str]:
        """Ids of the streams that have anything in memory."""
        ...
