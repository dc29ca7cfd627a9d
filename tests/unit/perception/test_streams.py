"""The stream registry: names, duplicates, replacement of final streams, removal, limits."""

from __future__ import annotations

import asyncio
import re

import pytest

from longwatch.errors import AlreadyExists, InvalidArgument, NotFound, ResourceExhausted
from longwatch.types import StreamState
from longwatch.validation import validate_stream_id
from perception.core.sources import SourceOptions, open_source
from perception.core.stream_worker import StreamWorker
from perception.core.streams import StreamLimits, StreamRegistry
from tests.unit.perception.fakes import FakeSource, RecordingSink, fake_compute, worker_config

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

    def _open(self, stream_id: str, source: str):
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
