"""`longwatch up --chroma-server` as a user runs it: real services (tiny profile) and a real `chroma run`."""

from __future__ import annotations

import asyncio
import signal

from longwatch.client import MemoryClient
from longwatch.types import ClipRecord
from orchestration.health import free_port
from tests.e2e.procs import wait_all_gone
from tests.e2e.test_cli import model_cache_dir, start_up

__all__ = ["model_cache_dir"]  # the session fixture of test_cli

CLIPS = [ClipRecord("yard", 4.0 * i, 4.0 * i + 4.0, "a forklift moves pallets", (f"BAY {i}",)) for i in range(6)]


async def write_clips(address: str) -> list[str]:
    client = MemoryClient(address)
    try:
        return await client.write_clips(CLIPS)
    finally:
        await client.close()


def clip_counts_in_server(port: int) -> list[int]:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False))
    try:
        return [collection.count() for collection in client.list_collections()]
    finally:
        client.close()


def test_up_with_a_chroma_server_keeps_memory_vectors_there_and_stops_it_after_memory(tmp_path, model_cache_dir):
    port = free_port("127.0.0.1")
    url = f"http://127.0.0.1:{port}"
    up = start_up(tmp_path / "data", model_cache_dir, "--chroma-server", f"--chroma-port={port}")
    try:
        assert set(up.pids) == {"chroma", "memory", "perception", "reasoner"}
        assert f"LONGWATCH_MEMORY_CHROMA_URL={url}" in up.output()
        acknowledged = asyncio.run(write_clips(up.addresses["memory"]))
        assert acknowledged == [clip.clip_id for clip in CLIPS]
        assert max(clip_counts_in_server(port), default=0) >= len(CLIPS)
        assert (tmp_path / "data" / "memory" / "chroma-server").is_dir()
        assert not (tmp_path / "data" / "memory" / "chroma").exists()  # nothing embedded on the side
    finally:
        up.process.send_signal(signal.SIGTERM)
        exit_code = up.process.wait(timeout=120)
    assert exit_code == 0, up.output()
    assert wait_all_gone(list(up.pids.values()), 10.0) == []
    output = up.output()
    assert output.index("stopping memory") < output.index("stopping chroma"), output
