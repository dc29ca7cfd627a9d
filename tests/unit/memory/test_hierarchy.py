"""The memory hierarchy: consolidation, the walk's bounded reads, the reads API, retention, live time."""

from __future__ import annotations

import asyncio
import io
import math

import numpy as np
import pytest
from PIL import Image

from longwatch.errors import FailedPrecondition, InvalidArgument, NotFound
from longwatch.types import ClipRecord, Keyframe
from memory_service.core.consolidate import HierarchyLimits
from memory_service.core.memory import Memory
from memory_service.core.search import TreeReader
from memory_service.core.types import SearchLimits, SearchQuery, TimelineQuery
from tests.unit.memory.fakes import MemoryFactory, run

FANOUT = 4
BEAM = 2
NEEDLE = "a red van unloads crates at dock 7"
HAYSTACK = ("a grey yard, nothing moves", "rain on an empty yard", "a forklift parked by the wall")


def history(count: int, needle_at: int = -1, stream_id: str = "yard", length_s: float = 4.0) -> list[ClipRecord]:
    return [
        ClipRecord(
            stream_id,
            length_s * index,
            length_s * (index + 1),
            NEEDLE if index == needle_at else HAYSTACK[index % len(HAYSTACK)],
            (f"CAM {stream_id.upper()}",),
        )
        for index in range(count)
    ]


async def started(factory: MemoryFactory, **limits) -> Memory:
    memory = factory.build(hierarchy=HierarchyLimits(fanout=FANOUT, beam=BEAM, **limits))
    await memory.start()
    return memory


async def filled(factory: MemoryFactory, clips: list[ClipRecord], **limits) -> Memory:
    memory = await started(factory, **limits)
    for clip in clips:
        await memory.write(clip)
    assert await memory.wait_consolidated(60)
    return memory


def depth(clips: int) -> int:
    return max(1, math.ceil(math.log(clips, FANOUT)))


@pytest.mark.parametrize("clips", [40, 640])
def test_a_search_reads_f_times_depth_nodes_not_the_history_and_finds_the_needle(memories, clips):
    needle_at = clips // 3

    async def scenario():
        memory = await filled(memories, history(clips, needle_at))
        result = await memory.search(SearchQuery(text=NEEDLE, k=3))
        await memory.close()
        return result

    result = run(scenario())
    assert result.hits[0].clip_id == history(clips, needle_at)[needle_at].clip_id
    # The index's seeds (twice the candidates when unfiltered), the frontier (< F per level), and the F
    # children of the beam's nodes at each level.
    bound = 2 * SearchLimits().candidates + (FANOUT - 1) * (depth(clips) + 1) + BEAM * FANOUT * depth(clips)
    assert result.nodes_read <= bound
    if clips > bound:
        assert result.nodes_read < clips / 2


def test_the_walk_alone_reaches_a_needle_through_the_summaries(memories, monkeypatch):
    """Without the vector index's seeds, the summaries above the needle lead the walk down to it."""
    monkeypatch.setattr(TreeReader, "seeds", lambda self, query, vector, space, n_results: [])
    clips = history(640, needle_at=200)

    async def scenario():
        memory = await filled(memories, clips)
        result = await memory.search(SearchQuery(text=NEEDLE, k=3))
        await memory.close()
        return result

    result = run(scenario())
    assert result.hits[0].clip_id == clips[200].clip_id
    assert result.nodes_read <= (FANOUT - 1) * (depth(640) + 1) + BEAM * FANOUT * depth(640)


def test_consolidation_builds_every_level_with_summaries_of_the_distinct_texts(memories):
    async def scenario():
        memory = await filled(memories, history(70, needle_at=5))
        stats = await memory.stats(["yard"])
        segments, _ = await memory.timeline(TimelineQuery("yard", level=1, limit=100))
        first_episode = await memory.expand("yard#2#000000000")
        clips_of_segment = await memory.expand(segments[1].node_id)
        await memory.close()
        return stats, segments, first_episode, clips_of_segment

    stats, segments, first_episode, clips_of_segment = run(scenario())
    stream = stats.streams[0]
    assert (stream.clips, stream.nodes_per_level, stream.window_clips) == (70, (17, 4, 1), 2)
    assert len(segments) == 17 and segments[0].start_s == 0.0 and segments[0].end_s == 16.0
    assert NEEDLE in segments[1].text and "CAM YARD" in segments[1].text
    assert segments[1].text.count("CAM YARD") == 1  # distinct lines once
    assert [node.node_id for node in first_episode] == [segment.node_id for segment in segments[:FANOUT]]
    assert [node.start_s for node in clips_of_segment] == [16.0, 20.0, 24.0, 28.0]
    assert all(node.parent_id == segments[1].node_id for node in clips_of_segment)


def test_the_short_term_window_is_searchable_the_moment_a_clip_is_acknowledged(memories):
    async def scenario():
        memory = await started(memories)
        for clip in history(33):
            await memory.write(clip)
        latest = ClipRecord("yard", 132.0, 136.0, "a cyclist crosses the yard", ("BIKE 12",))
        await memory.write(latest)
        hits = (await memory.search(SearchQuery(text="cyclist BIKE 12", k=1))).hits
        await memory.close()
        return latest, hits

    latest, hits = run(scenario())
    assert hits[0].clip_id == latest.clip_id


def test_search_by_level_time_range_and_stream(memories):
    async def scenario():
        memory = await filled(memories, history(64, needle_at=40) + history(16, stream_id="dock"))
        segments = (await memory.search(SearchQuery(text=NEEDLE, level=1, k=2))).hits
        early = (await memory.search(SearchQuery(text=NEEDLE, end_s=100.0, k=50))).hits
        dock = (await memory.search(SearchQuery(text=NEEDLE, stream_ids=("dock",), k=50))).hits
        await memory.close()
        return segments, early, dock

    segments, early, dock = run(scenario())
    assert segments[0].level == 1 and segments[0].start_s <= 160.0 < segments[0].end_s
    assert early and all(hit.start_s <= 100.0 for hit in early)
    assert NEEDLE not in {hit.text.split(".")[0] for hit in early}
    assert {hit.stream_id for hit in dock} == {"dock"}


def unit(values: list[float]) -> tuple[float, ...]:
    vector = np.asarray(values, dtype=np.float64)
    return tuple((vector / np.linalg.norm(vector)).tolist())


def test_search_by_visual_vector_walks_the_pooled_visual_vectors(memories):
    clips = [
        ClipRecord(
            "yard",
            4.0 * i,
            4.0 * i + 4,
            "the yard",
            visual_embedding=unit([1, 0, 0.1 * (i % 3)] if i != 37 else [0, 1, 0]),
        )
        for i in range(48)
    ]

    async def scenario():
        memory = await filled(memories, clips)
        result = await memory.search(SearchQuery(vector=unit([0, 1, 0]), k=2))
        segment = await memory.search(SearchQuery(vector=unit([0, 1, 0]), level=1, k=1))
        await memory.close()
        return result, segment

    result, segment = run(scenario())
    assert result.hits[0].clip_id == clips[37].clip_id
    assert result.hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert segment.hits[0].start_s <= clips[37].start_s < segment.hits[0].end_s


def jpeg(size: tuple[int, int] = (64, 36)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_keyframes_are_stored_as_jpeg_files_and_read_back_by_id(memories):
    frame = jpeg()
    clip = ClipRecord("gate", 0.0, 4.0, "a red car", keyframes=(Keyframe(2.0, frame),))

    async def scenario():
        memory = await started(memories)
        await memory.write(clip)
        hit = (await memory.search(SearchQuery(text="red car", k=1))).hits[0]
        _, frames = await memory.get([], list(hit.keyframe_ids))
        await memory.close()
        return hit, frames

    hit, frames = run(scenario())
    assert hit.keyframe_ids == (f"{clip.clip_id}#k0",)
    assert (frames[0].jpeg, frames[0].stream_id, frames[0].t_s) == (frame, "gate", 2.0)
    assert list((memories.root / "keyframes" / "gate").glob("*.jpg"))


@pytest.mark.parametrize(
    ("keyframes", "message"),
    [
        ((Keyframe(1.0, b"not a jpeg"),), "not a JPEG"),
        ((Keyframe(99.0, jpeg()),), "outside its clip"),
        (tuple(Keyframe(1.0, jpeg()) for _ in range(9)), "the limit is 8"),
    ],
)
def test_bad_keyframes_are_refused_and_nothing_is_stored(memories, keyframes, message):
    async def scenario():
        memory = await started(memories)
        with pytest.raises(InvalidArgument, match=message):
            await memory.write(ClipRecord("gate", 0.0, 4.0, "a car", keyframes=keyframes))
        streams = memory.list_streams()
        await memory.close()
        return streams

    assert run(scenario()) == []


def test_out_of_order_and_overlapping_clips_are_refused_and_the_log_stays_readable(memories):
    async def scenario():
        memory = await started(memories)
        await memory.write(ClipRecord("gate", 10.0, 14.0, "a car"))
        with pytest.raises(FailedPrecondition, match="time order"):
            await memory.write(ClipRecord("gate", 2.0, 6.0, "an earlier car"))
        with pytest.raises(FailedPrecondition, match="must not overlap"):
            await memory.write(ClipRecord("gate", 12.0, 16.0, "an overlapping car"))
        await memory.write(ClipRecord("gate", 10.0, 14.0, "a car, written again"))  # a resend is fine
        await memory.write(ClipRecord("gate", 14.0, 18.0, "the next car"))
        await memory.close()
        restarted = await started(memories)
        streams = restarted.list_streams()
        await restarted.close()
        return streams

    (gate,) = run(scenario())
    assert (gate.clip_count, gate.first_s, gate.last_s) == (2, 10.0, 18.0)


def test_a_live_stream_added_again_continues_its_timeline(memories):
    wall0 = 1_800_000_000_000

    async def scenario():
        memory = await started(memories)
        for index in range(3):
            await memory.write(
                ClipRecord("cam", 4.0 * index, 4.0 * index + 4, "a hall", start_wall_ms=wall0 + 4000 * index)
            )
        await memory.close()
        memory = await started(memories)  # perception restarted: its stream time starts at 0 again
        await memory.write(ClipRecord("cam", 0.0, 4.0, "a hall at night", start_wall_ms=wall0 + 60_000))
        nodes, _ = await memory.timeline(TimelineQuery("cam", limit=10))
        in_wall_range = (
            await memory.search(SearchQuery(text="hall", start_wall_ms=wall0 + 59_000, end_wall_ms=wall0 + 61_000))
        ).hits
        await memory.close()
        return nodes, in_wall_range

    nodes, in_wall_range = run(scenario())
    assert [node.start_s for node in nodes] == [0.0, 4.0, 8.0, 60.0]
    assert [node.start_wall_ms for node in nodes][-1] == wall0 + 60_000
    assert nodes[-1].end_wall_ms == wall0 + 64_000
    assert [hit.start_s for hit in in_wall_range] == [60.0]


def test_retention_keeps_an_endless_stream_under_its_byte_limit_and_old_events_findable(memories):
    limit = 60_000
    clips = history(600, needle_at=20)

    async def scenario():
        memory = await started(memories, retention_max_bytes=limit)
        held = []
        for start in range(0, len(clips), 100):
            for clip in clips[start : start + 100]:
                await memory.write(clip)
            assert await memory.wait_consolidated(60)
            held.append((await memory.stats(["yard"])).streams[0])
        old = (await memory.search(SearchQuery(text=NEEDLE, k=1))).hits
        await memory.close()
        return held, old

    held, old = run(scenario())
    assert all(stats.total_bytes - stats.log_bytes <= limit for stats in held), [s.total_bytes for s in held]
    last = held[-1]
    assert last.clip_texts_removed > 0
    # The needle's clip is gone, but a summary above it still holds its text and its time.
    assert old[0].level >= 1 and NEEDLE in old[0].text
    assert old[0].start_s <= clips[20].start_s < old[0].end_s


def test_retention_by_age_removes_keyframes_first_then_texts(memories):
    clips = [
        ClipRecord("gate", 4.0 * i, 4.0 * i + 4, HAYSTACK[i % 3], keyframes=(Keyframe(4.0 * i, jpeg()),))
        for i in range(64)
    ]

    async def scenario():
        memory = await filled(memories, clips, retention_max_age_s=100.0)
        stats = (await memory.stats(["gate"])).streams[0]
        timeline, _ = await memory.timeline(TimelineQuery("gate", limit=100))
        await memory.close()
        return stats, timeline

    stats, timeline = run(scenario())
    assert stats.keyframes_removed > 0 and stats.clip_texts_removed > 0
    assert all(node.end_s >= 256.0 - 100.0 - 4.0 * FANOUT for node in timeline)


def test_delete_stream_removes_everything_of_it_log_included(memories):
    async def scenario():
        memory = await filled(memories, history(20) + history(5, stream_id="dock"))
        deleted = await memory.delete_stream("yard")
        with pytest.raises(NotFound):
            await memory.stats(["yard"])
        await memory.close()
        restarted = await started(memories)
        streams = restarted.list_streams()
        hits = (await restarted.search(SearchQuery(text="grey yard", k=50))).hits
        await restarted.close()
        return deleted, streams, hits

    deleted, streams, hits = run(scenario())
    assert (deleted.clips_deleted, deleted.nodes_deleted) == (20, 6)
    assert [stream.stream_id for stream in streams] == ["dock"]
    assert {hit.stream_id for hit in hits} == {"dock"}
    assert b"yard@" not in b"".join(path.read_bytes() for path in (memories.root / "wal").glob("wal-*.log"))


def test_group_commit_shares_fsyncs_among_concurrent_streams(memories):
    async def scenario():
        memory = await started(memories)
        streams = [history(5, stream_id=f"cam{index}") for index in range(20)]

        async def camera(clips):
            for clip in clips:
                await memory.write(clip)

        await asyncio.gather(*(camera(clips) for clips in streams))
        batches = memory.commit_batches
        count = sum(summary.clip_count for summary in memory.list_streams())
        await memory.close()
        return batches, count

    batches, count = run(scenario())
    assert count == 100
    assert batches < count / 4


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda memory: memory.timeline(TimelineQuery("nobody")), NotFound),
        (lambda memory: memory.timeline(TimelineQuery("yard", limit=5000)), InvalidArgument),
        (lambda memory: memory.timeline(TimelineQuery("yard", start_s=9.0, end_s=2.0)), InvalidArgument),
        (lambda memory: memory.expand("yard#1#999999999"), NotFound),
        (lambda memory: memory.get(["no-such-node"], []), NotFound),
        (lambda memory: memory.get([], ["yard@000000000000#k3"]), NotFound),
        (lambda memory: memory.get([], []), InvalidArgument),
        (lambda memory: memory.stats(["no-such-stream"]), NotFound),
        (lambda memory: memory.delete_stream("no-such-stream"), NotFound),
        (lambda memory: memory.search(SearchQuery(text="car", vector=(1.0,))), InvalidArgument),
        (lambda memory: memory.search(SearchQuery(vector=(0.0, 0.0))), InvalidArgument),
        (lambda memory: memory.search(SearchQuery(text="car", level=99)), InvalidArgument),
    ],
)
def test_bad_reads_get_a_clear_status(memories, call, error):
    async def scenario():
        memory = await filled(memories, history(5))
        try:
            with pytest.raises(error):
                await call(memory)
        finally:
            await memory.close()

    run(scenario())


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda memory: memory.expand("yard#\u00b2#000000000"), NotFound),  # '²' is a digit to str.isdigit()
        (lambda memory: memory.get([], ["yard@000000000000#k\u00b2"]), NotFound),
        (lambda memory: memory.get([], ["bad\x00id#k0"]), InvalidArgument),
        (lambda memory: memory.get([], ["../../../../etc/passwd#k0"]), NotFound),
        (lambda memory: memory.get([], [".." + "@000000000000#k0"]), NotFound),
        (lambda memory: memory.search(SearchQuery(vector=(1e-45,) * 4)), InvalidArgument),
    ],
)
def test_hostile_ids_and_vectors_get_a_clear_status(memories, call, error):
    async def scenario():
        memory = await filled(memories, history(5))
        try:
            with pytest.raises(error):
                await call(memory)
        finally:
            await memory.close()

    run(scenario())


def test_get_may_name_an_id_twice(memories):
    async def scenario():
        memory = await filled(memories, history(5))
        nodes, _ = await memory.get([history(5)[0].clip_id] * 2, [])
        await memory.close()
        return nodes

    assert [node.node_id for node in run(scenario())] == [history(5)[0].clip_id] * 2  # one per id asked


def test_a_live_clip_from_before_its_streams_first_clip_is_refused(memories):
    wall0 = 1_800_000_000_000

    async def scenario():
        memory = await started(memories)
        await memory.write(ClipRecord("cam", 0.0, 4.0, "a hall", start_wall_ms=wall0))
        with pytest.raises(FailedPrecondition, match="time order"):
            await memory.write(ClipRecord("cam", 0.0, 4.0, "a hall", start_wall_ms=wall0 - 60_000))
        await memory.close()

    run(scenario())
