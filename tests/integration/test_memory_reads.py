"""The memory service's reads as a process serves them through the SDK: the hierarchy (Timeline, Expand,
Search of a level), Get of nodes and keyframes, Stats, wall-clock ranges, and DeleteStream. Every test
runs twice (the `chroma_mode` fixture): with embedded chromadb, and with a real `chroma run` server."""

from __future__ import annotations

import asyncio
import time

import pytest

from longwatch.client import MemoryClient
from longwatch.errors import InvalidArgument, NotFound
from longwatch.types import ClipRecord, Keyframe
from tests.integration.conftest import MEMORY_READY_TIMEOUT_S, tiny_env, with_client
from tests.integration.servers import ServiceProcess, chroma_env, free_port, start_service

READY_TIMEOUT_S = MEMORY_READY_TIMEOUT_S


FANOUT = 2  # the smallest hierarchy: a few clips already build segments and an episode
CONSOLIDATED_TIMEOUT_S = 60.0  # consolidation runs on its own thread after the writes are acknowledged
NOON_MS = 1_796_299_200_000  # 2026-12-03T12:00:00Z
JPEG = b"\xff\xd8\xff\xe0 not decoded by memory"

# A file stream: 8 clips of 4 s, the plate in the sixth; every clip carries one keyframe.
GATE = [
    ClipRecord(
        "gate",
        4.0 * i,
        4.0 * i + 4.0,
        "a car passes the barrier",
        (f"PLATE KX-47{i:02d}",),
        frame_count=4,
        source_key="gate-file",
        keyframes=(Keyframe(4.0 * i + 1.0, JPEG + bytes([i])),),
    )
    for i in range(8)
]
# A live stream: 4 clips a minute apart on the wall clock.
CAM = [
    ClipRecord(
        "cam", 4.0 * i, 4.0 * i + 4.0, "a van unloads at the dock", (f"BAY {i}",), start_wall_ms=NOON_MS + i * 60_000
    )
    for i in range(4)
]


@pytest.fixture(scope="module")
def memory(tmp_path_factory, model_cache_dir, chroma_mode):
    """A memory process holding GATE and CAM, consolidated, its vectors where `chroma_mode` puts them."""
    data_dir = tmp_path_factory.mktemp(f"memory-reads-{chroma_mode}")
    with chroma_env(chroma_mode, data_dir.parent / f"{data_dir.name}-chroma") as chroma:
        env = {**tiny_env(data_dir, model_cache_dir, fanout=FANOUT), **chroma}
        service = start_service("memory_service", env, free_port(), READY_TIMEOUT_S)
        try:
            acknowledged = with_client(service.address, lambda client: client.write_clips(GATE + CAM))
            assert acknowledged == [clip.clip_id for clip in GATE + CAM]
            with_client(service.address, wait_for_segments)
            yield service
        finally:
            exit_code = service.stop()
    assert exit_code == 0, service.output()


async def wait_for_segments(client: MemoryClient) -> None:
    """Until the gate stream has its 4 segments and 2 episodes (8 clips at fan-out 2), or fails."""
    deadline = time.monotonic() + CONSOLIDATED_TIMEOUT_S
    while time.monotonic() < deadline:
        [gate] = (await client.stats(["gate"])).streams
        if tuple(gate.nodes_per_level[:2]) == (4, 2):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"gate was not consolidated within {CONSOLIDATED_TIMEOUT_S} s: {gate}")


def test_the_timeline_of_clips_is_in_time_order_and_says_when_it_is_cut(memory: ServiceProcess):
    nodes, is_truncated = with_client(memory.address, lambda client: client.timeline("gate", limit=5))
    assert [node.node_id for node in nodes] == [clip.clip_id for clip in GATE[:5]]
    assert is_truncated
    rest, is_truncated = with_client(memory.address, lambda client: client.timeline("gate", start_s=20.5))
    assert [node.node_id for node in rest] == [clip.clip_id for clip in GATE[5:]] and not is_truncated


def test_a_segment_expands_into_its_clips(memory: ServiceProcess):
    async def walk(client: MemoryClient):
        segments, _ = await client.timeline("gate", level=1)
        return segments, await client.expand(segments[2].node_id)

    segments, children = with_client(memory.address, walk)
    assert [node.level for node in segments] == [1, 1, 1, 1]
    assert segments[2].child_ids == (GATE[4].clip_id, GATE[5].clip_id)
    assert [child.node_id for child in children] == [GATE[4].clip_id, GATE[5].clip_id]
    assert all(child.parent_id == segments[2].node_id for child in children)
    assert "KX-4705" in segments[2].text  # the summary keeps the plate findable


def test_a_search_of_segments_finds_the_one_holding_the_plate(memory: ServiceProcess):
    result = with_client(memory.address, lambda client: client.search_result("plate KX-4705", level=1, k=2))
    assert result.hits[0].level == 1
    assert result.hits[0].start_s <= GATE[5].start_s < result.hits[0].end_s
    assert result.nodes_read > 0


def test_get_returns_nodes_and_the_keyframe_bytes_perception_sent(memory: ServiceProcess):
    async def read(client: MemoryClient):
        [clip], _ = await client.get([GATE[3].clip_id])
        return clip, await client.get(keyframe_ids=clip.keyframe_ids)

    clip, (_, keyframes) = with_client(memory.address, read)
    assert clip.text == GATE[3].text and len(clip.keyframe_ids) == 1
    assert [(frame.stream_id, frame.jpeg) for frame in keyframes] == [("gate", JPEG + bytes([3]))]


def test_unknown_ids_and_bad_levels_are_refused_with_what_to_change(memory: ServiceProcess):
    async def bad(client: MemoryClient):
        with pytest.raises(NotFound, match="no node"):
            await client.expand("gate#1#000009999")
        with pytest.raises(NotFound):
            await client.get(keyframe_ids=["gate@000000000000#k7"])
        with pytest.raises(NotFound, match="no stream 'nope'"):
            await client.timeline("nope")
        with pytest.raises(InvalidArgument, match="level"):
            await client.timeline("gate", level=40)

    with_client(memory.address, bad)


def test_a_wall_clock_range_keeps_to_live_clips_of_that_time(memory: ServiceProcess):
    async def reads(client: MemoryClient):
        since = NOON_MS + 60_000
        until = NOON_MS + 2 * 60_000 + 1
        timeline, _ = await client.timeline("cam", start_wall_ms=since, end_wall_ms=until)
        hits = await client.search("van at the dock", stream_ids=["cam"], start_wall_ms=since, end_wall_ms=until)
        return timeline, hits

    timeline, hits = with_client(memory.address, reads)
    assert [node.node_id for node in timeline] == [CAM[1].clip_id, CAM[2].clip_id]
    assert timeline[0].start_wall_ms == NOON_MS + 60_000
    assert {hit.clip_id for hit in hits} == {CAM[1].clip_id, CAM[2].clip_id}


def test_stats_count_what_each_stream_holds(memory: ServiceProcess):
    stats = with_client(memory.address, lambda client: client.stats())
    by_stream = {item.stream_id: item for item in stats.streams}
    assert by_stream["gate"].clips == 8 and by_stream["gate"].keyframes == 8
    assert by_stream["gate"].keyframe_bytes >= 8 * len(JPEG)
    assert by_stream["cam"].clips == 4 and by_stream["cam"].keyframes == 0
    assert stats.disk_bytes > 0


def test_deleting_a_stream_removes_it_and_only_it(tmp_path, model_cache_dir):
    """Its own server, so the other tests keep their streams."""
    service = start_service("memory_service", tiny_env(tmp_path, model_cache_dir), free_port(), READY_TIMEOUT_S)
    try:

        async def delete(client: MemoryClient):
            await client.write_clips(GATE + CAM)
            deleted = await client.delete_stream("gate")
            return deleted, await client.list_streams(), await client.search("car", stream_ids=["gate"])

        deleted, streams, hits = with_client(service.address, delete)
        assert (deleted.clips_deleted, deleted.keyframes_deleted) == (8, 8)
        assert [summary.stream_id for summary in streams] == ["cam"]
        assert hits == []
    finally:
        exit_code = service.stop()
    assert exit_code == 0, service.output()
