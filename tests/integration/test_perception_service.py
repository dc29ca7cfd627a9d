"""The perception service as a process (cpu profile: real PyAV, pixel statistics and RapidOCR) writing to
the real memory service; and the memory writer against a fake memory that fails in the ways a real one can."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from longwatch import convert
from longwatch.client import MemoryClient, PerceptionClient
from longwatch.errors import FailedPrecondition, InvalidArgument
from longwatch.memory.v1 import memory_pb2, memory_pb2_grpc
from longwatch.perception.v1 import perception_pb2, perception_pb2_grpc
from longwatch.progress import wait_until_final
from longwatch.sample import EVENTS, make_sample
from longwatch.types import ClipRecord, SearchHit, StreamState, StreamStatus
from perception.memory_writer import MemoryWriter
from tests.integration.servers import free_port, memory_and_perception, start_service

READY_TIMEOUT_S = 180.0  # importing torch, building the tiny embedder, loading RapidOCR on a slow machine
STREAM = "carpark"


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """Memory (tiny profile: its exact-term search is what these checks use) and perception (cpu profile)."""
    with memory_and_perception(tmp_path_factory.mktemp("perception-data"), READY_TIMEOUT_S) as services:
        yield services


@pytest.fixture(scope="module")
def sample_video(tmp_path_factory) -> str:
    video = tmp_path_factory.mktemp("sample") / "sample.mp4"
    make_sample(video)
    return str(video)


@pytest.fixture(scope="module")
def ingested(services, sample_video):
    """Adds the sample video, waits until FINISHED, and returns the final status and every clip memory holds."""

    async def ingest():
        perception = PerceptionClient(services["perception"])
        memory = MemoryClient(services["memory"])
        try:
            await perception.add_stream(STREAM, sample_video, sample_fps=1.0)
            status = await asyncio.wait_for(wait_until_final(perception, STREAM, show_progress=False), 600)
            # k=100 with a stream filter returns every clip of this 48 s stream (16 of them).
            clips = await memory.search("on-screen text", stream_ids=[STREAM], k=100)
            return status, sorted(clips, key=lambda hit: hit.start_s)
        finally:
            await perception.close()
            await memory.close()

    return asyncio.run(ingest())


def test_the_sample_finishes_with_every_clip_in_memory(ingested):
    status, clips = ingested
    assert status.state is StreamState.FINISHED, status.error
    assert status.duration_s == pytest.approx(48.0, abs=0.1)
    assert status.clips_written == len(clips) >= 12
    assert status.frames_seen == 480
    # A fixed camera: the frame cache skips the encoder and OCR on most sampled frames.
    assert status.frames_reused > 2 * status.frames_encoded
    spans = [(clip.start_s, clip.end_s) for clip in clips]
    assert spans[0][0] == 0.0 and spans[-1][1] >= 47.0
    assert all(end == next_start for (_, end), (next_start, _) in itertools.pairwise(spans))  # no gaps


def test_the_alarm_code_is_in_a_clip_inside_21_to_27_s(ingested):
    _, clips = ingested
    with_code = [clip for clip in clips if "7315" in clip.text]
    assert with_code, [clip.text for clip in clips]
    assert all(clip.start_s >= 21.0 and clip.end_s <= 27.0 for clip in with_code), with_code


@pytest.mark.parametrize("event", EVENTS, ids=[event.id for event in EVENTS])
def test_each_event_is_read_only_inside_its_time(ingested, event):
    _, clips = ingested
    words = event.text.split()
    showing = [(clip.start_s, clip.end_s) for clip in clips if all(word in clip.text for word in words)]
    assert showing, f"{event.text!r} read in no clip: {[clip.text for clip in clips]}"
    assert all(event.start_s <= start and end <= event.end_s for start, end in showing), showing
    assert showing[0][0] == event.start_s  # seen from its first second


def test_another_file_under_the_stream_name_is_refused_and_the_first_files_clips_stay(
    services, ingested, sample_video, tmp_path
):
    other = tmp_path / "other.mp4"
    make_sample(other, seed=1)

    async def ingest(video: str) -> tuple[StreamStatus, list[SearchHit]]:
        perception = PerceptionClient(services["perception"])
        memory = MemoryClient(services["memory"])
        try:
            await perception.add_stream(STREAM, video, sample_fps=1.0)
            status = await asyncio.wait_for(wait_until_final(perception, STREAM, show_progress=False), 600)
            return status, await memory.search("ALARM CODE 7315", stream_ids=[STREAM], k=100)
        finally:
            await perception.close()
            await memory.close()

    refused, hits = asyncio.run(ingest(str(other)))
    assert refused.state is StreamState.FAILED
    assert "already holds the clips of another file" in refused.error and "another stream name" in refused.error
    _, first_clips = ingested
    assert len(hits) == len(first_clips)  # its first clip was refused: nothing was added
    again, _ = asyncio.run(ingest(sample_video))  # the same file again: its own clips, rewritten
    assert again.state is StreamState.FINISHED, again.error


def _add(address: str, stream_id: str, source: str) -> tuple[grpc.StatusCode, str]:
    with grpc.insecure_channel(address) as channel:
        stub = perception_pb2_grpc.PerceptionServiceStub(channel)
        try:
            stub.AddStream(perception_pb2.AddStreamRequest(stream_id=stream_id, source=source), timeout=30)
        except grpc.RpcError as exc:
            return exc.code(), exc.details()
    return grpc.StatusCode.OK, ""


def test_bad_input_gets_canonical_codes_and_the_service_keeps_serving(services, tmp_path):
    address = services["perception"]
    notes = tmp_path / "notes.txt"
    notes.write_text("this is not a video\n" * 20)
    code, details = _add(address, "missing", str(tmp_path / "missing.mp4"))
    assert code == grpc.StatusCode.NOT_FOUND and "no such file" in details
    code, details = _add(address, "notes", str(notes))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and str(notes) in details
    code, details = _add(address, "front door", str(notes))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "stream_id" in details
    code, details = _add(address, "cam", "ftp://user:pw@host/x.mp4")
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "rtsp://" in details and "pw@" not in details
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        listed = perception_pb2_grpc.PerceptionServiceStub(channel).ListStreams(perception_pb2.ListStreamsRequest())
        assert {stream.stream_id for stream in listed.streams} <= {STREAM}
    assert services["process"].is_running


# The memory writer against a fake memory ---------------------------------------------------------


class FakeMemory(memory_pb2_grpc.MemoryServiceServicer):
    """Stores clips by id; can break its first stream after some clips, or refuse one clip."""

    def __init__(
        self,
        break_first_stream_after: int | None = None,
        refuse: str = "",
        refusal: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT,
    ) -> None:
        self.stored: dict[str, ClipRecord] = {}
        self.received = 0
        self.streams_opened = 0
        self._break_after = break_first_stream_after
        self._refuse = refuse
        self._refusal = refusal

    async def WriteClips(self, request_iterator, context):
        self.streams_opened += 1
        async for request in request_iterator:
            clip = convert.clip_from_pb(request.clip)
            self.received += 1
            if clip.clip_id == self._refuse:
                await context.abort(self._refusal, "clip text is too long")
            if self.streams_opened == 1 and self._break_after is not None and len(self.stored) >= self._break_after:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "memory is restarting")
            self.stored[clip.clip_id] = clip
            yield memory_pb2.WriteClipsResponse(clip_id=clip.clip_id)


@contextlib.asynccontextmanager
async def fake_memory_server(servicer: FakeMemory, port: int):
    server = grpc.aio.server()
    memory_pb2_grpc.add_MemoryServiceServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        yield server
    finally:
        await server.stop(0)


CLIPS = [ClipRecord("gate", float(4 * i), float(4 * i + 3), "", (f"PLATE {i}",)) for i in range(10)]


def test_clips_written_before_memory_starts_are_delivered_once_it_does(caplog):
    port = free_port()
    memory = FakeMemory()

    async def scenario():
        writer = MemoryWriter(f"127.0.0.1:{port}", retry_initial_s=0.05, retry_max_s=0.2)
        await writer.start()
        writes = asyncio.gather(*(writer.write(clip) for clip in CLIPS))
        await asyncio.sleep(0.5)  # memory is down: the writer retries
        assert not writes.done()
        async with fake_memory_server(memory, port):
            await asyncio.wait_for(writes, 30)
            await writer.close(5.0)

    asyncio.run(scenario())
    assert sorted(memory.stored) == sorted(clip.clip_id for clip in CLIPS)
    assert "reconnecting in" in caplog.text


def test_a_broken_stream_is_reopened_and_unacknowledged_clips_resent():
    port = free_port()
    memory = FakeMemory(break_first_stream_after=3)

    async def scenario():
        async with fake_memory_server(memory, port):
            writer = MemoryWriter(f"127.0.0.1:{port}", retry_initial_s=0.05, retry_max_s=0.2)
            await writer.start()
            await asyncio.wait_for(asyncio.gather(*(writer.write(clip) for clip in CLIPS)), 30)
            await writer.close(5.0)

    asyncio.run(scenario())
    assert memory.streams_opened >= 2
    assert sorted(memory.stored) == sorted(clip.clip_id for clip in CLIPS)
    assert memory.received >= len(CLIPS) + 1  # the clip the broken stream dropped was resent


@pytest.mark.parametrize(
    ("refusal", "error"),
    [(grpc.StatusCode.INVALID_ARGUMENT, InvalidArgument), (grpc.StatusCode.FAILED_PRECONDITION, FailedPrecondition)],
)
def test_a_refused_clip_fails_its_write_and_the_others_go_through(refusal, error):
    port = free_port()
    refused = CLIPS[4]
    memory = FakeMemory(refuse=refused.clip_id, refusal=refusal)

    async def scenario():
        async with fake_memory_server(memory, port):
            writer = MemoryWriter(f"127.0.0.1:{port}", retry_initial_s=0.05, retry_max_s=0.2)
            await writer.start()
            results = await asyncio.wait_for(
                asyncio.gather(*(writer.write(clip) for clip in CLIPS), return_exceptions=True), 30
            )
            await writer.close(5.0)
            return results

    results = asyncio.run(scenario())
    assert isinstance(results[4], error) and "too long" in str(results[4])
    assert all(result is None for index, result in enumerate(results) if index != 4)
    assert refused.clip_id not in memory.stored and len(memory.stored) == len(CLIPS) - 1


def test_clips_wait_while_memory_is_down_and_the_stream_finishes_once_it_is_back(sample_video, tmp_path):
    memory_port = free_port()
    env = {
        "LONGWATCH_PROFILE": "cpu",
        "LONGWATCH_DATA_DIR": str(tmp_path),
        "LONGWATCH_MEMORY_ADDR": f"127.0.0.1:{memory_port}",
        "LONGWATCH_PERCEPTION_MEMORY_RETRY_MAX_S": "0.5",
    }
    perception = start_service("perception", env, free_port(), READY_TIMEOUT_S)
    memory = FakeMemory()

    async def scenario():
        client = PerceptionClient(perception.address)
        try:
            await client.add_stream("late", sample_video)
            while (await client.list_streams(["late"]))[0].position_s < 47.0:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # time for a wrongly finishing stream to do so
            held = (await client.list_streams(["late"]))[0]
            async with fake_memory_server(memory, memory_port):
                final = await asyncio.wait_for(wait_until_final(client, "late", show_progress=False), 120)
            return held, final
        finally:
            await client.close()

    try:
        held, final = asyncio.run(scenario())
    finally:
        assert perception.stop() == 0, perception.output()
    assert held.state is StreamState.RUNNING and held.clips_written == 0, held
    assert final.state is StreamState.FINISHED, final.error
    assert final.clips_written == len(memory.stored) >= 12
    assert "reconnecting in" in perception.output()
