"""A memory reader beside its writer: two real processes sharing a `chroma run` server and a data
directory. The reader answers what the writer stored, catches up with what it stores later, and takes
no writes."""

from __future__ import annotations

import asyncio
import time

import pytest

from longwatch.errors import FailedPrecondition
from longwatch.types import ClipRecord
from tests.chroma_server import chroma_server
from tests.integration.conftest import MEMORY_READY_TIMEOUT_S, tiny_env, with_client
from tests.integration.servers import free_port, start_service

REFRESH_S = 0.2
CATCH_UP_TIMEOUT_S = 30.0
DOCK = [ClipRecord("dock", 4.0 * i, 4.0 * i + 4.0, "a forklift moves pallets", (f"BAY {i}",)) for i in range(6)]
LATER = ClipRecord("dock", 24.0, 28.0, "a red van parks at the door", ("PLATE ZX-9031",))


@pytest.fixture
def writer_and_reader(tmp_path, model_cache_dir):
    with chroma_server(tmp_path / "chroma") as url:
        env = {**tiny_env(tmp_path / "data", model_cache_dir, fanout=2), "LONGWATCH_MEMORY_CHROMA_URL": url}
        writer = start_service("memory_service", env, free_port(), MEMORY_READY_TIMEOUT_S)
        reader = None
        try:
            assert with_client(writer.address, lambda client: client.write_clips(DOCK))
            reader_env = {**env, "LONGWATCH_MEMORY_ROLE": "reader", "LONGWATCH_MEMORY_READER_REFRESH_S": str(REFRESH_S)}
            reader = start_service("memory_service", reader_env, free_port(), MEMORY_READY_TIMEOUT_S)
            yield writer.address, reader.address
        finally:
            for service in (reader, writer):
                if service is not None:
                    service.stop()


async def _wait_for(client, check, what: str):
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
    while True:
        value = await check(client)
        if value:
            return value
        assert time.monotonic() < deadline, f"the reader never {what}"
        await asyncio.sleep(REFRESH_S)


def test_the_reader_answers_what_the_writer_stored_and_catches_up(writer_and_reader):
    writer, reader = writer_and_reader

    async def holds_the_dock(client):
        return [s for s in await client.list_streams() if s.stream_id == "dock" and s.clip_count == len(DOCK)]

    assert with_client(reader, lambda client: _wait_for(client, holds_the_dock, "saw the dock's clips"))
    hits = with_client(reader, lambda client: client.search("BAY 3", stream_ids=["dock"], k=3))
    assert any("BAY 3" in hit.text for hit in hits)

    assert with_client(writer, lambda client: client.write_clips([LATER])) == [LATER.clip_id]

    async def finds_the_van(client):
        found = await client.search("PLATE ZX-9031", stream_ids=["dock"], k=3)
        return [hit for hit in found if "ZX-9031" in hit.text]

    assert with_client(reader, lambda client: _wait_for(client, finds_the_van, "found the clip written later"))


def test_the_reader_takes_no_writes(writer_and_reader):
    _, reader = writer_and_reader
    with pytest.raises(FailedPrecondition, match="reader"):
        with_client(reader, lambda client: client.write_clips([LATER]))


def test_a_reader_without_a_chroma_server_is_refused(monkeypatch):
    import pydantic

    from memory_service.settings import MemorySettings

    monkeypatch.setenv("LONGWATCH_MEMORY_ROLE", "reader")
    with pytest.raises(pydantic.ValidationError, match="LONGWATCH_MEMORY_CHROMA_URL"):
        MemorySettings()
