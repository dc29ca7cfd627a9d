"""Where the reasoner finds evidence. The gRPC implementation (memory service) is reasoner.memory_retriever."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from longwatch.types import WHOLE_HISTORY, Node, SearchResult, StreamStats, TimeRange


@runtime_checkable
class Retriever(Protocol):
    """Reads what the streams showed from memory's hierarchy. Async: it waits on another service, not on a CPU.

    Every method raises longwatch.errors.Unavailable when memory cannot be reached and DeadlineExceeded when
    `timeout_s` passes first.
    """

    async def search(
        self,
        text: str,
        stream_ids: Sequence[str],
        k: int,
        timeout_s: float,
        level: int = 0,
        span: TimeRange = WHOLE_HISTORY,
    ) -> SearchResult:
        """The `k` nodes of `level` (0 = clips) most relevant to `text` in `stream_ids` (empty = all) and `span`."""
        ...

    async def expand(self, node_id: str, timeout_s: float) -> list[Node]:
        """The children of a node, in time order."""
        ...

    async def timeline(
        self, stream_id: str, level: int, span: TimeRange, limit: int, timeout_s: float
    ) -> tuple[list[Node], bool]:
        """The nodes of one level over `span` in time order, and whether more lay there than `limit`."""
        ...

    async def keyframes(self, keyframe_ids: Sequence[str], timeout_s: float) -> list[bytes]:
        """The JPEG bytes of keyframes (ids from the nodes), those memory still holds, in the order asked."""
        ...

    async def stream_stats(self, stream_ids: Sequence[str], timeout_s: float) -> list[StreamStats]:
        """What memory holds of the streams (all when empty): their spans and nodes per level."""
        ...
