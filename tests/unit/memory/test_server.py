"""The servicer of the read RPCs: each request reaches the core as the core's own types, and the core's
answer comes back in the response unchanged (proto defaults made explicit on the way in)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from longwatch import convert as shared
from longwatch.memory.v1 import memory_pb2
from longwatch.types import (
    DeletedStream,
    KeyframeData,
    MemoryStats,
    Node,
    SearchHit,
    SearchResult,
    StreamStats,
)
from memory_service.core.types import DEFAULT_K, DEFAULT_TIMELINE_LIMIT, SearchQuery, TimelineQuery
from memory_service.server import MemoryServicer

SEGMENT = Node("gate#1#0", "gate", 1, 0.0, 64.0, "cars pass", child_ids=("gate@000000000000", "gate@000000004000"))
CLIPS = [
    Node("gate@000000000000", "gate", 0, 0.0, 4.0, "a car", parent_id="gate#1#0"),
    Node("gate@000000004000", "gate", 0, 4.0, 8.0, "a van", parent_id="gate#1#0", keyframe_ids=("kf-1",)),
]
KEYFRAME = KeyframeData("kf-1", "gate", 5.0, b"\xff\xd8\xff\xe0")


class FakeMemory:
    """The read half of core.Memory, recording what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    async def search(self, query: SearchQuery) -> SearchResult:
        self.calls.append(("search", query))
        return SearchResult(hits=(SearchHit("gate#1#0", "gate", 0.0, 64.0, "cars pass", 0.8, level=1),), nodes_read=5)

    async def expand(self, node_id: str) -> list[Node]:
        self.calls.append(("expand", node_id))
        return CLIPS

    async def timeline(self, query: TimelineQuery) -> tuple[list[Node], bool]:
        self.calls.append(("timeline", query))
        return CLIPS[:1], True

    async def get(self, node_ids: Sequence[str], keyframe_ids: Sequence[str]) -> tuple[list[Node], list[KeyframeData]]:
        self.calls.append(("get", (tuple(node_ids), tuple(keyframe_ids))))
        return [SEGMENT], [KEYFRAME]

    async def stats(self, stream_ids: Sequence[str]) -> MemoryStats:
        self.calls.append(("stats", tuple(stream_ids)))
        return MemoryStats(streams=(StreamStats("gate", clips=2, nodes_per_level=(1,)),), disk_bytes=8192)

    async def delete_stream(self, stream_id: str) -> DeletedStream:
        self.calls.append(("delete_stream", stream_id))
        return DeletedStream(clips_deleted=2, nodes_deleted=1, keyframes_deleted=1)


def serve(method: str, request):
    """Calls one servicer method on a fresh FakeMemory; returns its response and what the core was asked."""
    memory = FakeMemory()
    response = asyncio.run(getattr(MemoryServicer(memory), method)(request, None))
    return response, memory.calls


def test_search_passes_level_vector_and_wall_range_and_returns_nodes_read():
    request = memory_pb2.SearchRequest(vector=[0.5, -0.5], level=1, start_wall_ms=1_700_000_000_000)
    response, calls = serve("Search", request)
    assert calls == [("search", SearchQuery(vector=(0.5, -0.5), level=1, start_wall_ms=1_700_000_000_000, k=DEFAULT_K))]
    assert response.nodes_read == 5 and [hit.level for hit in response.hits] == [1]


def test_expand_returns_the_children_in_order():
    response, calls = serve("Expand", memory_pb2.ExpandRequest(node_id="gate#1#0"))
    assert calls == [("expand", "gate#1#0")]
    assert [shared.node_from_pb(node) for node in response.children] == CLIPS


def test_timeline_fills_the_default_limit_and_says_it_was_truncated():
    response, calls = serve("Timeline", memory_pb2.TimelineRequest(stream_id="gate", level=0, end_s=60.0))
    assert calls == [("timeline", TimelineQuery("gate", end_s=60.0, limit=DEFAULT_TIMELINE_LIMIT))]
    assert response.truncated and [shared.node_from_pb(node) for node in response.nodes] == CLIPS[:1]


def test_get_returns_nodes_and_keyframe_bytes():
    response, calls = serve("Get", memory_pb2.GetRequest(node_ids=["gate#1#0"], keyframe_ids=["kf-1"]))
    assert calls == [("get", (("gate#1#0",), ("kf-1",)))]
    assert [shared.node_from_pb(node) for node in response.nodes] == [SEGMENT]
    assert [shared.keyframe_data_from_pb(item) for item in response.keyframes] == [KEYFRAME]


def test_stats_and_delete_stream_carry_the_cores_counts():
    stats, stats_calls = serve("Stats", memory_pb2.StatsRequest(stream_ids=["gate"]))
    assert stats_calls == [("stats", ("gate",))]
    assert stats.disk_bytes == 8192 and stats.streams[0].nodes_per_level == [1]
    deleted, delete_calls = serve("DeleteStream", memory_pb2.DeleteStreamRequest(stream_id="gate"))
    assert delete_calls == [("delete_stream", "gate")]
    assert (deleted.clips_deleted, deleted.nodes_deleted, deleted.keyframes_deleted) == (2, 1, 1)
