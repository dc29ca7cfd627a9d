"""The stream registry: names, duplicates, replacement of final streams, removal, limits."""

from __future__ import annotations

import asyncio
import re

import pytest

from longwatch.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted
from longwatch.types import PushedFrame, StreamState, StreamStatus
from longwatch.validation import validate_stream_id
from perception.core.overview import StreamOverview, SynopsisSlot
from perception.core.sources import SourceOptions, open_source
from perception.core.stream_worker import StreamWorker
from perception.core.streams import StreamLimits, StreamRegistry, client_of
from tests.unit.perception.fakes import (
    FakeSource,
    RecordingSink,
    colour_at,
    fake_compute,
    solid,
    worker_config,
    write_video,
)

GREY = (100, 100, 100)


@pytest.mark.parametrize("name", ["gate", "cam-01", "Dock_2.north", "a" * 64, "0"])
def test_valid_stream_ids(name):
    validate_stream_id(name)


@pytest.mark.parametrize("name", ["", "a" * 65, "front door", "cam/1", "gate:1", "caméra", "x\n"])
def test_invalid_stream_ids_say_what_is_allowed(name):
    with pytest.raises(InvalidArgument, match=re.escape("letters, digits, '.', '_' or '-'")):
        validate_stream_id(name)


class Harness:
    """A registry whose sources are fakes: "/long" never ends in a test's time, "/short" ends at once."""

    def __init__(self, max_streams: int = 4) -> None:
        self.sink = RecordingSink()
        self.compute = fake_compute()
        self.registry = StreamRegistry(
            StreamLimits(default_sample_fps=1.0, max_sample_fps=10.0, max_streams=max_streams, stop_timeout_s=5.0),
            self._open,
            self._make_worker,
        )

    def _open(self, stream_id: str, source: str, sample_fps: float = 0.0):
        if source == "/long":
            return FakeSource([(0.0, GREY)], duration_s=3600.0, fps=10, is_live=True, location=source)
        if source == "/short":
            return FakeSource([(0.0, GREY)], duration_s=1.0, fps=10, location=source)
        return open_source(stream_id, source, SourceOptions())

    def _make_worker(self, stream_id: str, source, sample_fps: float) -> StreamWorker:
        return StreamWorker(stream_id, source, worker_config(sample_fps=sample_fps), self.compute, self.sink)


async def until_final(registry: StreamRegistry, stream_id: str) -> None:
    while not registry.list([stream_id])[0].state.is_final:
        await asyncio.sleep(0.01)


def run(scenario):
    return asyncio.run(scenario(Harness()))


def test_a_name_being_watched_is_refused_and_a_final_one_is_replaced():
    async def scenario(harness: Harness):
        registry = harness.registry
        added = await registry.add("gate", "/short", 0.0)
        assert added.sample_fps == 1.0  # 0 means the default
        await until_final(registry, "gate")
        assert registry.list(["gate"])[0].state is StreamState.FINISHED
        replaced = await registry.add("gate", "/long", 2.0)
        assert replaced.sample_fps == 2.0 and replaced.state is StreamState.STARTING
        with pytest.raises(AlreadyExists, match="remove it first"):
            await registry.add("gate", "/short", 0.0)
        removed = await registry.remove("gate")
        assert removed.state is StreamState.STOPPED
        assert registry.list() == []

    run(scenario)


def test_remove_of_an_unknown_name_is_not_found():
    async def scenario(harness: Harness):
        with pytest.raises(NotFound, match="no stream named 'ghost'"):
            await harness.registry.remove("ghost")

    run(scenario)


def test_bad_input_is_refused_before_anything_starts(tmp_path):
    async def scenario(harness: Harness):
        registry = harness.registry
        with pytest.raises(InvalidArgument, match="stream_id"):
            await registry.add("front door", "/short", 0.0)
        with pytest.raises(InvalidArgument, match="sample_fps"):
            await registry.add("gate", "/short", 50.0)
        with pytest.raises(InvalidArgument, match="sample_fps"):
            await registry.add("gate", "/short", -1.0)
        with pytest.raises(NotFound, match="no such file"):
            await registry.add("gate", str(tmp_path / "missing.mp4"), 0.0)
        with pytest.raises(InvalidArgument, match="relative path"):
            await registry.add("gate", "videos/gate.mp4", 0.0)
        assert registry.list() == []

    run(scenario)


def test_the_stream_limit_counts_only_streams_not_yet_final():
    async def scenario(harness: Harness):
        registry = StreamRegistry(StreamLimits(max_streams=1), harness._open, harness._make_worker)
        await registry.add("a", "/short", 0.0)
        await until_final(registry, "a")
        await registry.add("b", "/long", 0.0)  # "a" finished: it does not count
        with pytest.raises(ResourceExhausted, match="remove one first"):
            await registry.add("c", "/long", 0.0)
        assert [status.stream_id for status in registry.list()] == ["a", "b"]
        assert [status.stream_id for status in registry.list(["b", "nope"])] == ["b"]
        await registry.stop_all(timeout_s=5.0)
        assert registry.list(["b"])[0].state is StreamState.STOPPED

    run(scenario)


def test_one_client_host_may_not_take_every_stream():
    async def scenario(harness: Harness):
        limits = StreamLimits(max_streams=10, max_streams_per_client=2)
        registry = StreamRegistry(limits, harness._open, harness._make_worker)
        await registry.add("a", "/long", 0.0, peer="ipv4:10.0.0.7:50001")
        await registry.add("b", "/long", 0.0, peer="ipv4:10.0.0.7:50002")  # another connection, same host
        with pytest.raises(ResourceExhausted, match="10.0.0.7.*LONGWATCH_PERCEPTION_MAX_STREAMS_PER_CLIENT"):
            await registry.add("c", "/long", 0.0, peer="ipv4:10.0.0.7:50003")
        await registry.add("c", "/long", 0.0, peer="ipv6:[::1]:50004")  # another client has room
        await registry.stop_all(timeout_s=5.0)

    run(scenario)


@pytest.mark.parametrize(
    ("peer", "client"),
    [("ipv4:10.0.0.7:51234", "10.0.0.7"), ("ipv6:[::1]:5", "[::1]"), ("unix:/tmp/s", "unix:/tmp/s"), ("", "")],
)
def test_the_client_of_a_peer_is_its_host(peer, client):
    assert client_of(peer) == client


# Pushed streams ----------------------------------------------------------------------------------

RED, BLUE = (200, 30, 30), (30, 30, 200)


def pushed(t_s: float, colour) -> PushedFrame:
    return PushedFrame(t_s=t_s, rgb=solid(colour).tobytes(), width=64, height=48)


def test_pushed_frames_become_the_clips_a_file_of_the_same_frames_gives(tmp_path):
    scenes = [(0.0, RED), (3.0, BLUE)]
    video = write_video(tmp_path / "two.mp4", duration_s=6.0, fps=5, scenes=scenes)

    async def scenario(harness: Harness):
        registry = harness.registry
        await registry.add("file", str(video), 1.0)
        await until_final(registry, "file")
        status, session = await registry.add_push("robot", 1.0, peer="ipv4:127.0.0.1:1")
        assert status.source == "push:ipv4:127.0.0.1:1" and not status.is_live
        for index in range(30):  # the same 6 s at 5 fps
            await session.put(pushed(index / 5, colour_at(index / 5, scenes)))
        final = await session.finish()
        assert final.state is StreamState.FINISHED and session.frames_accepted == 30
        assert final.frames_seen == 30 and final.clips_written >= 2
        spans = {
            name: [(c.start_s, c.end_s) for c in harness.sink.clips if c.stream_id == name]
            for name in ("file", "robot")
        }
        assert spans["robot"] == spans["file"]
        assert any("200" in line for clip in harness.sink.clips if clip.stream_id == "robot" for line in clip.ocr_lines)

    run(scenario)


def test_a_push_to_a_removed_stream_is_refused_and_names_are_shared_with_added_streams():
    async def scenario(harness: Harness):
        registry = harness.registry
        await registry.add("gate", "/long", 0.0)
        with pytest.raises(AlreadyExists, match="remove it first"):
            await registry.add_push("gate")
        with pytest.raises(InvalidArgument, match="sample_fps"):
            await registry.add_push("robot", 50.0)
        _, session = await registry.add_push("robot", 0.0, is_live=True)
        await session.put(pushed(0.0, RED))
        removed = await registry.remove("robot")
        assert removed.state is StreamState.STOPPED
        await asyncio.sleep(0.01)  # the watcher hears of it
        with pytest.raises(FailedPrecondition, match="'robot' is stopped"):
            for index in range(1, 100):  # past the queue's room: no one takes frames any more
                await asyncio.wait_for(session.put(pushed(float(index), RED)), 2.0)
        await registry.stop_all(timeout_s=5.0)

    run(scenario)


def test_a_refused_call_fails_its_stream_with_the_reason_after_writing_its_frames():
    async def scenario(harness: Harness):
        registry = harness.registry
        _, session = await registry.add_push("robot", 1.0)
        for index in range(3):
            await session.put(pushed(float(index), RED))
        with pytest.raises(InvalidArgument, match="not after the previous"):
            await session.put(pushed(1.0, RED))
        session.fail("a pushed frame was refused: out of order")
        await until_final(registry, "robot")
        status = registry.list(["robot"])[0]
        assert status.state is StreamState.FAILED and "out of order" in status.error
        assert status.clips_written == 1  # the frames taken before still made their clip

    run(scenario)


class OverviewWorker:
    """Stands in for a StreamWorker with a Flash Memory."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id

    def start(self) -> None:
        pass

    def status(self):
        return StreamStatus(self.stream_id, "/short", StreamState.RUNNING)

    def overview(self) -> StreamOverview:
        slot = SynopsisSlot(weight=3, start_s=0.0, end_s=2.0)
        return StreamOverview(self.stream_id, (slot,), (), max_slots=8, max_details=4, frames_merged=3)


def test_overview_is_the_workers_and_unknown_streams_are_not_found():
    async def scenario(harness: Harness):
        registry = StreamRegistry(StreamLimits(), harness._open, lambda name, source, fps: OverviewWorker(name))
        await registry.add("gate", "/short", 0.0)
        assert registry.overview("gate").slots[0].weight == 3
        with pytest.raises(NotFound, match="no stream named 'ghost'"):
            registry.overview("ghost")
        with pytest.raises(InvalidArgument, match="stream_id"):
            registry.overview("front door")

    run(scenario)


def test_a_corrupt_file_fails_its_stream_saying_why_while_another_stream_goes_on(tmp_path):
    from tests.unit.perception.test_keyframe_first import write_gop_video

    whole = write_gop_video(tmp_path / "whole.mp4", duration_s=20.0, gop_frames=20, faststart=True)
    cut = tmp_path / "cut.mp4"  # the header is whole (faststart) but the frames stop at 60 %
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])

    async def scenario(harness: Harness):
        registry = harness.registry
        await registry.add("camera", "/long", 0.0)
        await registry.add("yard", str(cut), 0.0)
        await until_final(registry, "yard")
        failed, running = registry.list(["yard"])[0], registry.list(["camera"])[0]
        assert failed.state is StreamState.FAILED and "truncated" in failed.error, failed.error
        seen = running.frames_seen
        await asyncio.sleep(0.5)
        assert registry.list(["camera"])[0].state is StreamState.RUNNING
        assert registry.list(["camera"])[0].frames_seen > seen
        await registry.remove("camera")

    run(scenario)
