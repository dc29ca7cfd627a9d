"""The Memory facade: refuses bad clips, acknowledges only durable and searchable ones, and survives restarts."""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
import time

import pytest

from longwatch.errors import FailedPrecondition, InvalidArgument, Unavailable
from longwatch.types import ClipRecord, StreamSummary
from memory_service.core.chroma import ChromaConnection, ChromaLocation
from memory_service.core.memory import Memory
from memory_service.core.search import HierarchySearcher
from memory_service.core.store import ClipStore
from memory_service.core.types import SearchQuery, WalEntry
from tests.unit.memory.fakes import MemoryFactory, run

GOOD = ClipRecord(stream_id="gate", start_s=4.0, end_s=8.0, caption="a red car stops", ocr_lines=("KX-4721",))


async def started(factory: MemoryFactory, **options) -> Memory:
    memory = factory.build(**options)
    await memory.start()
    return memory


@pytest.mark.parametrize(
    "bad",
    [
        {"stream_id": ""},
        {"stream_id": "   "},
        {"stream_id": "s" * 300},
        {"stream_id": "s" * 65},  # perception refuses it too: one definition of a stream id
        {"stream_id": "NUL\x00"},
        {"stream_id": "\u202egate"},
        {"stream_id": "../../../etc/passwd"},
        {"start_s": -1.0},
        {"start_s": 9.0},  # after end_s
        {"end_s": math.nan},
        {"start_s": math.inf, "end_s": math.inf},
        {"start_s": 1.7e308, "end_s": 1.7e308},  # finite, but no stream is that long: its clip id would overflow
        {"start_wall_ms": -5},
        {"start_wall_ms": 2**63 - 1},  # not a plausible UTC time in ms
        {"frame_count": -2},
        {"source_key": "k" * 65},
        {"visual_embedding": (0.5, math.nan)},
        {"visual_embedding": (0.1,) * 5000},  # over the 4096 values any vision model gives
        {"caption": "x" * 2000},  # over the 1000-character limit the factory sets
    ],
)
def test_bad_clips_are_invalid_arguments_and_stored_nowhere(memories, bad):
    async def scenario():
        memory = await started(memories)
        clip = ClipRecord(**{**GOOD.__dict__, **bad})
        with pytest.raises(InvalidArgument):
            await memory.write(clip)
        assert memory.list_streams() == []
        await memory.close()

    run(scenario())
    assert memories.wal().open() == []  # nothing reached the log either


def test_an_acknowledged_clip_is_searchable_at_once(memories):
    async def scenario():
        memory = await started(memories)
        assert await memory.write(GOOD) == GOOD.clip_id
        hits = (await memory.search(SearchQuery(text="KX-4721"))).hits
        await memory.close()
        return hits

    hits = run(scenario())
    assert [(hit.clip_id, hit.stream_id, hit.start_s, hit.end_s) for hit in hits] == [(GOOD.clip_id, "gate", 4.0, 8.0)]
    assert hits[0].text == GOOD.text


def test_list_streams_counts_each_clip_once_with_its_time_span(memories):
    async def scenario():
        memory = await started(memories)
        for start_s in (0.0, 10.0, 20.0, 10.0):  # the second 10.0 rewrites the first
            await memory.write(ClipRecord("gate", start_s, start_s + 3, "a car"))
        await memory.write(ClipRecord("dock", 5.0, 6.0, "a boat"))
        streams = memory.list_streams()
        await memory.close()
        return streams

    assert run(scenario()) == [StreamSummary("dock", 1, 5.0, 6.0), StreamSummary("gate", 3, 0.0, 23.0)]


def test_the_gauges_show_what_memory_holds_and_what_waits_for_consolidation(memories):
    from prometheus_client import REGISTRY

    async def scenario():
        memory = await started(memories)
        for start_s in (0.0, 10.0, 20.0):
            await memory.write(ClipRecord("gauged", start_s, start_s + 3, "a car"))
        await memory.close()

    run(scenario())
    assert REGISTRY.get_sample_value("memory_window_clips") >= 1  # fewer than a segment's clips: all waiting
    assert REGISTRY.get_sample_value("memory_store_bytes", {"store": "metadata"}) > 0


def test_everything_survives_a_restart(memories):
    async def scenario():
        memory = await started(memories)
        await memory.write(GOOD)
        await memory.write(ClipRecord("dock", 0.0, 2.0, "a boat", ("HULL 77",)))
        await memory.close()
        restarted = await started(memories)
        streams = restarted.list_streams()
        hits = (await restarted.search(SearchQuery(text="HULL 77", k=1))).hits
        await restarted.close()
        return streams, hits

    streams, hits = run(scenario())
    assert [summary.stream_id for summary in streams] == ["dock", "gate"]
    assert hits[0].stream_id == "dock"


def test_a_logged_clip_missing_from_the_store_is_replayed_on_start(memories):
    """A crash after the log's fsync but before the store write: the clip was (or could have been) acknowledged."""
    wal = memories.wal()
    wal.open()
    embedding = memories.embedder.embed([GOOD.text])[0]
    wal.append(WalEntry(clip=GOOD, embedding=embedding))
    calls_before = memories.embedder.calls

    async def scenario():
        memory = await started(memories)
        streams = memory.list_streams()
        embeds_at_start = memories.embedder.calls - calls_before
        hits = (await memory.search(SearchQuery(text="red car KX-4721"))).hits
        await memory.close()
        return streams, embeds_at_start, hits

    streams, embeds_at_start, hits = run(scenario())
    assert streams == [StreamSummary("gate", 1, 4.0, 8.0)]
    assert embeds_at_start == 0  # the log carries the embedding: a replay never re-runs the model
    assert hits[0].clip_id == GOOD.clip_id


def test_a_log_holding_one_clip_twice_is_replayed_with_the_later_version(memories):
    """A crash with a resent or rewritten clip in the log since the last checkpoint must not stop the restart."""
    wal = memories.wal()
    wal.open()
    rewritten = ClipRecord(**{**GOOD.__dict__, "caption": "a red car leaves"})
    for clip in (GOOD, rewritten):
        wal.append(WalEntry(clip=clip, embedding=memories.embedder.embed([clip.text])[0]))

    async def scenario():
        memory = await started(memories)
        streams = memory.list_streams()
        hits = (await memory.search(SearchQuery(text="KX-4721"))).hits
        await memory.close()
        return streams, hits

    streams, hits = run(scenario())
    assert streams == [StreamSummary("gate", 1, 4.0, 8.0)]
    assert [hit.clip_id for hit in hits] == [GOOD.clip_id] and "leaves" in hits[0].text


def test_a_failing_store_write_is_not_acknowledged_and_is_retried(memories, monkeypatch):
    async def scenario():
        memory = await started(memories)
        real_upsert = ClipStore.upsert

        def failing_upsert(self, entries):
            raise OSError("disk gone")

        monkeypatch.setattr(ClipStore, "upsert", failing_upsert)
        with pytest.raises(OSError):
            await memory.write(GOOD)
        monkeypatch.setattr(ClipStore, "upsert", real_upsert)
        await memory.write(ClipRecord("dock", 0.0, 1.0, "a boat"))  # also applies the one that failed
        streams = memory.list_streams()
        await memory.close()
        return streams

    assert [summary.stream_id for summary in run(scenario())] == ["dock", "gate"]


def test_a_second_file_under_a_stream_name_is_refused_even_after_a_restart(memories):
    day1 = ClipRecord(**{**GOOD.__dict__, "source_key": "day1"})
    day2 = ClipRecord(**{**GOOD.__dict__, "caption": "an empty yard", "source_key": "day2"})
    live = ClipRecord(**{**GOOD.__dict__, "start_wall_ms": 1_700_000_000_000})

    async def scenario():
        memory = await started(memories)
        await memory.write(day1)
        await memory.write(day1)  # the same file again rewrites its own clip
        await memory.write(live)  # live clips are named by wall-clock time and never collide with a file's
        await memory.close()
        restarted = await started(memories)
        with pytest.raises(FailedPrecondition, match="'gate' already holds the clips of another file"):
            await restarted.write(day2)
        await restarted.write(ClipRecord(**{**day2.__dict__, "stream_id": "gate-day2"}))
        hits = (await restarted.search(SearchQuery(text="KX-4721", stream_ids=("gate",)))).hits
        streams = restarted.list_streams()
        await restarted.close()
        return hits, streams

    hits, streams = run(scenario())
    assert sorted(hit.text for hit in hits) == sorted([day1.text, live.text])  # day1's clip was not overwritten
    assert [(summary.stream_id, summary.clip_count) for summary in streams] == [("gate", 2), ("gate-day2", 1)]


def test_close_waits_for_a_search_in_progress_before_closing_the_store(memories, monkeypatch):
    ranking = threading.Event()
    real_rank = HierarchySearcher.rank

    def slow_rank(self, query, vector, space):
        ranking.set()
        time.sleep(0.3)  # still reading the store when close() is called
        return real_rank(self, query, vector, space)

    monkeypatch.setattr(HierarchySearcher, "rank", slow_rank)

    async def scenario():
        memory = await started(memories)
        await memory.write(GOOD)
        search = asyncio.create_task(memory.search(SearchQuery(text="KX-4721")))
        await asyncio.to_thread(ranking.wait, 10)
        await memory.close()
        return await search

    assert [hit.clip_id for hit in run(scenario()).hits] == [GOOD.clip_id]


def test_a_second_file_is_refused_while_the_first_ones_clip_waits_for_a_store_retry(memories, monkeypatch):
    day1 = ClipRecord(**{**GOOD.__dict__, "source_key": "day1"})
    day2 = ClipRecord(**{**GOOD.__dict__, "caption": "an empty yard", "source_key": "day2"})

    def failing_upsert(self, entries):
        raise OSError("disk gone")

    async def scenario():
        memory = await started(memories)
        with monkeypatch.context() as patch:
            patch.setattr(ClipStore, "upsert", failing_upsert)
            with pytest.raises(OSError):
                await memory.write(day1)  # logged; stored with the next write
        with pytest.raises(FailedPrecondition, match="another file"):
            await memory.write(day2)
        await memory.write(ClipRecord("dock", 0.0, 1.0, "a boat"))
        hits = (await memory.search(SearchQuery(text="KX-4721", stream_ids=("gate",)))).hits
        await memory.close()
        return hits

    assert [hit.text for hit in run(scenario())] == [day1.text]


def test_file_streams_stored_before_sources_were_recorded_take_no_new_file(memories):
    async def scenario():
        memory = await started(memories)
        await memory.write(GOOD)  # a file clip with no source_key, as older perception sent
        await memory.write(ClipRecord("yard", 0.0, 2.0, "a cat", start_wall_ms=1_700_000_000_000))  # live
        await memory.close()
        with sqlite3.connect(memories.root / "streams.sqlite3") as db:
            db.execute("DROP TABLE stream_sources")  # the stream index as it was before
        db.close()
        upgraded = await started(memories)
        with pytest.raises(FailedPrecondition, match="stored before memory recorded which file"):
            await upgraded.write(ClipRecord(**{**GOOD.__dict__, "caption": "an empty yard", "source_key": "day2"}))
        await upgraded.write(ClipRecord("yard", 2.0, 4.0, "a dog", source_key="yard-file"))  # live only so far
        await upgraded.close()

    run(scenario())


def test_a_logged_clip_that_can_no_longer_be_stored_is_skipped_on_start(memories, caplog):
    """An older version logged clips whose times overflowed their id, then failed to store them."""
    wal = memories.wal()
    wal.open()
    poisoned = ClipRecord("gate", 1.7e308, 1.7e308, "", ("KX-4721",))
    wal.append(WalEntry(clip=poisoned, embedding=memories.embedder.embed([poisoned.text])[0]))
    wal.append(WalEntry(clip=GOOD, embedding=memories.embedder.embed([GOOD.text])[0]))

    async def scenario():
        memory = await started(memories)
        streams = memory.list_streams()
        await memory.close()
        return streams

    assert run(scenario()) == [StreamSummary("gate", 1, 4.0, 8.0)]
    assert "skipping a logged clip of stream 'gate' that cannot be stored" in caplog.text


def test_calls_before_start_and_after_close_are_unavailable(memories):
    async def scenario():
        memory = memories.build()
        with pytest.raises(Unavailable, match="starting"):
            await memory.write(GOOD)
        await memory.start()
        await memory.close()
        with pytest.raises(Unavailable, match="shutting down"):
            await memory.search(SearchQuery(text="car"))
        with pytest.raises(Unavailable):
            memory.list_streams()

    run(scenario())


def test_a_store_built_with_another_embedder_is_refused(memories, tmp_path):
    async def scenario():
        memory = await started(memories)
        await memory.write(GOOD)
        await memory.close()
        other = ClipStore(ChromaConnection(ChromaLocation(memories.root / "chroma")), "another-model", 384)
        with pytest.raises(FailedPrecondition, match="fake-bag-of-words"):
            other.open()

    run(scenario())


def test_a_second_process_on_the_same_directory_is_refused(memories):
    async def scenario():
        memory = await started(memories)
        second = memories.store()
        with pytest.raises(FailedPrecondition, match="another memory service"):
            second.open()
        await memory.close()

    run(scenario())


def test_search_validation_reaches_the_caller(memories):
    async def scenario():
        memory = await started(memories)
        for query in (SearchQuery(text=""), SearchQuery(text="car", k=500), SearchQuery(text="car", start_s=-2)):
            with pytest.raises(InvalidArgument):
                await memory.search(query)
        await memory.close()

    run(scenario())
