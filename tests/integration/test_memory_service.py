"""The memory service as a process: writes, searches, refuses bad input, and keeps every acknowledged clip
through a SIGKILL (the durability promise). Every test runs twice (the `chroma_mode` fixture): with
embedded chromadb, and with a real `chroma run` server on a free loopback port."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from longwatch.errors import InvalidArgument
from longwatch.types import ClipRecord, StreamSummary
from tests.integration.conftest import MEMORY_READY_TIMEOUT_S, tiny_env, with_client
from tests.integration.servers import ChromaMode, ServiceProcess, chroma_env, free_port, start_service

READY_TIMEOUT_S = MEMORY_READY_TIMEOUT_S


GATE = [
    ClipRecord("gate", 5.0 * i, 5.0 * i + 4.0, "a car passes the barrier", (f"PLATE KX-47{i:02d}",), frame_count=4)
    for i in range(12)
]
DOCK = [ClipRecord("dock", 10.0 * i, 10.0 * i + 8.0, "a boat is moored", (f"HULL {100 + i}",)) for i in range(5)]


@dataclass(frozen=True)
class Deployment:
    service: ServiceProcess
    data_dir: Path
    chroma_url: str  # the chroma server memory uses; "" = embedded chromadb


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, model_cache_dir, chroma_mode):
    """A memory process holding GATE and DOCK, its vectors where `chroma_mode` puts them."""
    data_dir = tmp_path_factory.mktemp(f"memory-data-{chroma_mode}")
    with chroma_env(chroma_mode, data_dir.parent / f"{data_dir.name}-chroma") as chroma:
        env = {**tiny_env(data_dir, model_cache_dir), **chroma}
        service = start_service("memory_service", env, free_port(), READY_TIMEOUT_S)
        try:
            acknowledged = with_client(service.address, lambda client: client.write_clips(GATE + DOCK))
            assert acknowledged == [clip.clip_id for clip in GATE + DOCK]
            yield Deployment(service, data_dir, chroma.get("LONGWATCH_MEMORY_CHROMA_URL", ""))
        finally:
            exit_code = service.stop()
    assert exit_code == 0, service.output()


@pytest.fixture(scope="module")
def memory(deployment) -> ServiceProcess:
    return deployment.service


def test_the_vectors_are_where_the_mode_puts_them(deployment: Deployment, chroma_mode):
    embedded_dir = deployment.data_dir / "memory" / "chroma"
    if chroma_mode is ChromaMode.EMBEDDED:
        assert embedded_dir.is_dir()
        return
    import chromadb
    from chromadb.config import Settings

    assert not embedded_dir.exists()  # nothing embedded on the side: another memory process would not see it
    port = int(deployment.chroma_url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False))
    try:
        counts = [collection.count() for collection in client.list_collections()]
    finally:
        client.close()
    assert max(counts, default=0) >= len(GATE) + len(DOCK)  # the clips' collection is in the server


def test_an_exact_plate_finds_its_clip(memory: ServiceProcess):
    hits = with_client(memory.address, lambda client: client.search("which car showed plate KX-4707?", k=3))
    assert hits[0].clip_id == GATE[7].clip_id
    assert hits[0].text == GATE[7].text
    assert hits[0].score > hits[1].score


def test_filters_keep_to_streams_and_times(memory: ServiceProcess):
    async def searches(client):
        in_dock = await client.search("HULL 102", stream_ids=["dock"], k=100)
        early_gate = await client.search("car", stream_ids=["gate"], start_s=0.0, end_s=12.0, k=100)
        late = await client.search("car", start_s=40.0, k=100)
        unknown = await client.search("car", stream_ids=["no-such-stream"])
        return in_dock, early_gate, late, unknown

    in_dock, early_gate, late, unknown = with_client(memory.address, searches)
    assert {hit.stream_id for hit in in_dock} == {"dock"} and in_dock[0].clip_id == DOCK[2].clip_id
    assert sorted(hit.start_s for hit in early_gate) == [0.0, 5.0, 10.0]
    assert {hit.clip_id for hit in late} == {clip.clip_id for clip in GATE[8:] + DOCK[4:]}  # those ending >= 40 s
    assert unknown == []


def test_list_streams_gives_counts_and_spans(memory: ServiceProcess):
    streams = with_client(memory.address, lambda client: client.list_streams())
    assert streams == [StreamSummary("dock", 5, 0.0, 48.0), StreamSummary("gate", 12, 0.0, 59.0)]


@pytest.mark.parametrize(
    "search",
    [
        {"text": ""},
        {"text": "car", "k": 101},
        {"text": "car", "k": -1},
        {"text": "car", "start_s": 30.0, "end_s": 10.0},
        {"text": "car", "start_s": -1.0},
        {"text": "car", "end_s": math.nan},
    ],
)
def test_bad_searches_are_invalid_arguments(memory: ServiceProcess, search):
    with pytest.raises(InvalidArgument):
        with_client(memory.address, lambda client: client.search(**search))


@pytest.mark.parametrize(
    "clip",
    [
        ClipRecord("", 0.0, 1.0, "no stream"),
        ClipRecord("gate", 5.0, 1.0, "ends before it starts"),
        ClipRecord("gate", -3.0, 1.0, "before the stream began"),
        ClipRecord("gate", math.inf, math.inf, "never"),
    ],
)
def test_bad_clips_are_invalid_arguments_and_the_service_keeps_serving(memory: ServiceProcess, clip):
    with pytest.raises(InvalidArgument):
        with_client(memory.address, lambda client: client.write_clips([clip]))
    streams = with_client(memory.address, lambda client: client.list_streams())
    assert sum(summary.clip_count for summary in streams) == len(GATE) + len(DOCK)


def test_every_acknowledged_clip_survives_sigkill(tmp_path, model_cache_dir, chroma_mode):
    with chroma_env(chroma_mode, tmp_path / "chroma") as chroma:  # a chroma server outlives memory's crash
        check_acknowledged_clips_survive_sigkill({**tiny_env(tmp_path / "data", model_cache_dir), **chroma})


def check_acknowledged_clips_survive_sigkill(env: dict[str, str]) -> None:
    clips = [ClipRecord("cam", 3.0 * i, 3.0 * i + 2.5, "someone walks by", (f"BADGE C{i:04d}",)) for i in range(40)]
    first = start_service("memory_service", env, free_port(), READY_TIMEOUT_S)
    try:
        for batch in (clips[:15], clips[15:16], clips[16:]):  # several streams of writes, acknowledged one by one
            acknowledged = with_client(first.address, lambda client, batch=batch: client.write_clips(batch))
            assert acknowledged == [clip.clip_id for clip in batch]
    finally:
        first.kill()  # no drain, no checkpoint: a crash

    second = start_service("memory_service", env, free_port(), READY_TIMEOUT_S)
    try:

        async def check(client):
            found = [(await client.search(f"badge C{i:04d}", k=1))[0].clip_id for i in range(len(clips))]
            return found, await client.list_streams()

        found, streams = with_client(second.address, check)
        assert found == [clip.clip_id for clip in clips]
        assert streams == [StreamSummary("cam", len(clips), 0.0, clips[-1].end_s)]
    finally:
        assert second.stop() == 0, second.output()


def test_bad_settings_stop_the_process_at_once_with_a_readable_error(tmp_path, model_cache_dir, chroma_mode):
    with chroma_env(chroma_mode, tmp_path / "chroma") as chroma:
        env = {**tiny_env(tmp_path / "data", model_cache_dir), **chroma, "LONGWATCH_MEMORY_EMBEDDER": "huge"}
        with pytest.raises(RuntimeError, match=r"(?s)exited with 2 before serving.*embedder.*minilm"):
            start_service("memory_service", env, free_port(), READY_TIMEOUT_S)


def test_a_bad_chroma_url_stops_the_process_at_once_saying_how_to_write_one(tmp_path, model_cache_dir):
    env = {**tiny_env(tmp_path / "data", model_cache_dir), "LONGWATCH_MEMORY_CHROMA_URL": "localhost:8000"}
    with pytest.raises(RuntimeError, match=r"(?s)exited with 2 before serving.*chroma_url.*http://HOST:PORT"):
        start_service("memory_service", env, free_port(), READY_TIMEOUT_S)
