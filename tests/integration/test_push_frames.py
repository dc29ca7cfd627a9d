"""Frames a client pushes over gRPC (PushFrames) become the same searchable clips as the file they came from;
bad pushes, overviews and describes are refused with INVALID_ARGUMENT or NOT_FOUND and the service keeps serving.

Real services: memory (tiny profile) and perception (cpu profile: PyAV, pixel statistics, RapidOCR)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import grpc
import numpy as np
import pytest
from PIL import Image

from longwatch.client import MemoryClient, PerceptionClient
from longwatch.errors import NotFound
from longwatch.perception.v1 import perception_pb2, perception_pb2_grpc
from longwatch.progress import wait_until_final
from longwatch.sample import EVENTS, HEIGHT, WIDTH, noise_patterns, render_frame
from longwatch.types import PushedFrame, StreamState
from longwatch_cli import cli
from longwatch_cli.perception_commands import local_frames
from tests.integration.servers import memory_and_perception

READY_TIMEOUT_S = 180.0
DURATION_S = 20.0  # the sample's first two events: a plate at 3-9 s, a sign at 12-18 s
FPS = 5
PLATE, SIGN = EVENTS[0], EVENTS[1]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with memory_and_perception(tmp_path_factory.mktemp("push-data"), READY_TIMEOUT_S) as services:
        yield services


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """20 s of the sample's scene at 5 fps (H.264), with its first two text events."""
    path = tmp_path_factory.mktemp("push-video") / "gate.mp4"
    rng = np.random.default_rng(0)
    noise = noise_patterns(rng)
    background = Image.new("RGB", (WIDTH, HEIGHT), (96, 98, 102))
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index in range(int(DURATION_S * FPS)):
            image = render_frame(index / FPS, background, noise[rng.integers(len(noise))])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


async def clip_spans(memory: MemoryClient, stream_id: str) -> list[tuple[float, float, str]]:
    hits = await memory.search("on-screen text", stream_ids=[stream_id], k=100)
    return sorted((hit.start_s, hit.end_s, hit.text) for hit in hits)


@pytest.fixture(scope="module")
def ingested(services, video):
    """The video added as a file, and pushed as raw frames through the SDK; each stream's final status and clips."""

    async def scenario():
        perception, memory = PerceptionClient(services["perception"]), MemoryClient(services["memory"])
        try:
            await perception.add_stream("filed", str(video), sample_fps=1.0)
            filed = await asyncio.wait_for(wait_until_final(perception, "filed", show_progress=False), 300)
            frames = local_frames(video, fps=1.0, as_raw=True, jpeg_quality=90)
            pushed = await asyncio.wait_for(perception.push_frames("pushed", frames, sample_fps=1.0), 300)
            return filed, pushed, await clip_spans(memory, "filed"), await clip_spans(memory, "pushed")
        finally:
            await perception.close()
            await memory.close()

    return asyncio.run(scenario())


def test_pushed_frames_become_the_same_clips_as_the_file(ingested):
    filed, pushed, filed_clips, pushed_clips = ingested
    assert filed.state is StreamState.FINISHED, filed.error
    assert pushed.stream.state is StreamState.FINISHED, pushed.stream.error
    assert pushed.frames_accepted == DURATION_S * FPS
    # A file decoded keyframes first hands on only the frames the sampler keeps of a GOP that did not change.
    assert 0 < filed.frames_seen <= DURATION_S * FPS
    assert pushed.stream.source.startswith("push:") and pushed.stream.clips_written == len(pushed_clips)
    assert [(start, end) for start, end, _ in pushed_clips] == [(start, end) for start, end, _ in filed_clips], (
        pushed_clips,
        filed_clips,
    )


def test_the_pushed_streams_text_is_searchable_inside_its_time(services, ingested):
    async def search():
        memory = MemoryClient(services["memory"])
        try:
            return await memory.search(PLATE.text, stream_ids=["pushed"], k=100)
        finally:
            await memory.close()

    showing = [hit for hit in asyncio.run(search()) if PLATE.text in hit.text]
    assert showing, "the plate was read in no pushed clip"
    assert all(PLATE.start_s <= hit.start_s and hit.end_s <= PLATE.end_s for hit in showing)


def test_the_cli_pushes_a_video_as_jpeg_and_the_stream_finishes(services, video, capsys):
    addresses = ["--perception", services["perception"], "--memory", services["memory"]]
    assert cli.main(["push", "cli-pushed", str(video), "--sample-fps", "1", *addresses]) == 0
    assert f"{int(DURATION_S * FPS)} frames pushed, finished" in capsys.readouterr().out

    async def clips():
        memory = MemoryClient(services["memory"])
        try:
            return await clip_spans(memory, "cli-pushed")
        finally:
            await memory.close()

    assert any(SIGN.text in text for _, _, text in asyncio.run(clips()))


def _push_raw(address: str, messages: list[perception_pb2.PushFramesRequest]) -> tuple[grpc.StatusCode, str]:
    with grpc.insecure_channel(address) as channel:
        stub = perception_pb2_grpc.PerceptionServiceStub(channel)
        try:
            stub.PushFrames(iter(messages), timeout=60)
        except grpc.RpcError as exc:
            return exc.code(), exc.details()
    return grpc.StatusCode.OK, ""


def _start(stream_id: str) -> perception_pb2.PushFramesRequest:
    return perception_pb2.PushFramesRequest(start=perception_pb2.PushStart(stream_id=stream_id))


def _jpeg_frame(t_s: float, jpeg: bytes) -> perception_pb2.PushFramesRequest:
    return perception_pb2.PushFramesRequest(frame=perception_pb2.PushedFrame(t_s=t_s, jpeg=jpeg))


def test_bad_pushes_are_invalid_argument_saying_what_to_change(services):
    address = services["perception"]
    grey = PushedFrame(t_s=0.0, rgb=bytes(8 * 8 * 3), width=8, height=8)
    raw = perception_pb2.PushFramesRequest(
        frame=perception_pb2.PushedFrame(t_s=0.0, raw=perception_pb2.RawImage(width=8, height=8, rgb=grey.rgb))
    )
    cases = [
        ([raw], "first PushFrames message must be a start"),
        ([_start("bad one")], "stream_id"),
        ([_start("big"), _jpeg_frame(0.0, b"\xff" * (9 * 1024 * 1024))], "the limit is 8388608 bytes"),
        ([_start("order"), raw, raw], "not after the previous frame's 0.0 s"),
        (
            [
                _start("short-raw"),
                perception_pb2.PushFramesRequest(
                    frame=perception_pb2.PushedFrame(raw=perception_pb2.RawImage(width=8, height=8, rgb=b"\0"))
                ),
            ],
            "needs 192 bytes",
        ),
        ([_start("png"), _jpeg_frame(0.0, b"\x89PNG\r\n\x1a\n" + b"\0" * 64)], "not an image"),
        ([_start("twice"), _start("twice")], "a second start"),
    ]
    for messages, message in cases:
        code, details = _push_raw(address, messages)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and message in details, (message, code, details)

    with grpc.insecure_channel(address) as channel:
        stub = perception_pb2_grpc.PerceptionServiceStub(channel)
        for request, message in [
            (perception_pb2.DescribeRequest(stream_id="order", instruction="x", start_s=5, end_s=1), "end_s after"),
            (perception_pb2.DescribeRequest(stream_id="order", keyframe_ids=["dock@1#k0"], instruction="x"), "not one"),
            (perception_pb2.DescribeRequest(stream_id="order", start_s=0, end_s=4), "instruction is empty"),
            (perception_pb2.GetOverviewRequest(stream_id="bad one"), "stream_id"),
        ]:
            method = stub.GetOverview if isinstance(request, perception_pb2.GetOverviewRequest) else stub.Describe
            with pytest.raises(grpc.RpcError) as refused:
                method(request, timeout=30)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in refused.value.details()

    async def after():
        perception = PerceptionClient(address)
        try:
            with pytest.raises(NotFound, match="no stream named 'ghost'"):
                await perception.overview("ghost")
            return (await perception.list_streams(["order"]))[0]
        finally:
            await perception.close()

    order = asyncio.run(after())
    # The refused frame ended its call; the stream fails with the reason once its one frame's clip is written.
    assert order.source.startswith("push:") and order.state in (StreamState.FAILED, StreamState.RUNNING)


def test_the_pushed_streams_overview_and_a_describe_of_its_plate(services, ingested, tmp_path, capsys):
    async def scenario():
        perception = PerceptionClient(services["perception"])
        try:
            overview = await perception.overview("pushed", include_jpeg=True)
            light = await perception.overview("pushed")
            look = await perception.describe(
                "pushed", "read the number plate", start_s=PLATE.start_s, end_s=PLATE.end_s
            )
            return overview, light, look
        finally:
            await perception.close()

    overview, light, look = asyncio.run(scenario())
    assert overview.stream_id == "pushed" and overview.frames_merged > 0
    assert 0 < len(overview.slots) <= overview.max_slots and len(overview.details) <= overview.max_details
    assert all(detail.jpeg[:2] == b"\xff\xd8" for detail in overview.details)
    assert all(detail.jpeg == b"" for detail in light.details) and light.slots == overview.slots
    assert look.keyframe_ids and all(kid.startswith("pushed@") for kid in look.keyframe_ids), look
    assert PLATE.text in look.text or PLATE.text in look.lines, look

    addresses = ["--perception", services["perception"], "--memory", services["memory"]]
    saved = tmp_path / "keyframes"
    assert cli.main(["overview", "pushed", "--save-keyframes", str(saved), *addresses]) == 0
    assert "pushed:" in capsys.readouterr().out and len(list(saved.glob("*.jpg"))) == len(overview.details)
