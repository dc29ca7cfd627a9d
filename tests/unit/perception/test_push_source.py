"""Pushed frames: checks a client is told about, the bounded queue that slows a fast client, and the end."""

from __future__ import annotations

import asyncio
import io
import threading

import numpy as np
import pytest
from PIL import Image
from prometheus_client import REGISTRY

from longwatch.errors import FailedPrecondition, InvalidArgument
from longwatch.types import PushedFrame
from perception.core.sources.push_source import PushOptions, PushSource, PushSourceClosed, check_image
from tests.unit.perception.fakes import solid

OPTIONS = PushOptions(max_frame_bytes=64 * 1024, max_image_side_px=2000, queue_frames=2, max_frame_side_px=32)


def jpeg_of(image: np.ndarray, image_format: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=image_format)
    return buffer.getvalue()


def raw(t_s: float, colour=(10, 200, 30), width: int = 16, height: int = 12) -> PushedFrame:
    return PushedFrame(t_s=t_s, rgb=solid(colour, height, width).tobytes(), width=width, height=height)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (PushedFrame(t_s=0.0), "either jpeg bytes or raw"),
        (PushedFrame(t_s=0.0, jpeg=b"x", rgb=b"abc", width=1, height=1), "not both"),
        (PushedFrame(t_s=0.0, rgb=b"\0" * 10, width=2, height=2), "needs 12 bytes of RGB"),
        (PushedFrame(t_s=0.0, rgb=b"", width=2, height=2), "needs 12 bytes"),
        (PushedFrame(t_s=0.0, rgb=b"\0" * 3 * 3000, width=3000, height=1), "each side must be 1 to 2000"),
        (PushedFrame(t_s=0.0, jpeg=b"\xff" * (64 * 1024 + 1)), "the limit is 65536 bytes"),
        (PushedFrame(t_s=0.0, jpeg=b"not an image at all"), "not an image"),
        (PushedFrame(t_s=0.0, jpeg=jpeg_of(solid((1, 2, 3), 8, 8), "PNG")), "'PNG', not JPEG"),
    ],
)
def test_bad_frames_are_refused_saying_what_to_change(frame, message):
    with pytest.raises(InvalidArgument, match=message):
        check_image(frame, OPTIONS)


def test_a_jpeg_claiming_a_huge_size_is_refused_before_decoding():
    # A real JPEG header patched to claim 60000 x 60000 pixels: the pixels are never decoded.
    jpeg = bytearray(jpeg_of(solid((9, 9, 9), 8, 8)))
    marker = jpeg.index(b"\xff\xc0")
    jpeg[marker + 5 : marker + 9] = (60000).to_bytes(2, "big") * 2
    with pytest.raises(InvalidArgument, match="each side must be 1 to 2000"):
        check_image(PushedFrame(t_s=0.0, jpeg=bytes(jpeg)), OPTIONS)
    jpeg[marker + 5 : marker + 9] = (3000).to_bytes(2, "big") * 2  # under Pillow's bomb limit, over ours
    with pytest.raises(InvalidArgument, match="3000x3000 pixels; each side must be 1 to 2000"):
        check_image(PushedFrame(t_s=0.0, jpeg=bytes(jpeg)), OPTIONS)


def test_frames_out_of_time_order_and_bad_times_are_refused():
    async def scenario():
        source = PushSource("robot", OPTIONS)
        await source.put(raw(1.0))
        with pytest.raises(InvalidArgument, match="not after the previous frame's 1.0 s"):
            await source.put(raw(1.0))
        with pytest.raises(InvalidArgument, match="not after the previous"):
            await source.put(raw(0.5))
        with pytest.raises(InvalidArgument, match="t_s must be a number of seconds"):
            await source.put(raw(float("nan")))
        with pytest.raises(InvalidArgument, match="wall_ms must be 0"):
            await source.put(PushedFrame(t_s=2.0, rgb=raw(2.0).rgb, width=16, height=12, wall_ms=5))
        assert source.frames_accepted == 1

    asyncio.run(scenario())


def test_frames_come_out_decoded_scaled_and_in_order_then_end():
    async def scenario():
        source = PushSource("robot", OPTIONS, peer="ipv4:127.0.0.1:5000")
        assert source.display == "push:ipv4:127.0.0.1:5000" and not source.is_live
        await source.put(raw(0.0, (200, 0, 0), width=64, height=48))  # scaled to 32 x 24
        await source.put(PushedFrame(t_s=0.5, jpeg=jpeg_of(solid((0, 0, 200), 16, 16)), wall_ms=1_700_000_000_000))
        source.close()
        frames = list(source.frames(threading.Event()))
        assert [frame.time_s for frame in frames] == [0.0, 0.5]
        assert frames[0].image.shape == (24, 32, 3) and tuple(frames[0].image[0, 0]) == (200, 0, 0)
        assert frames[1].image.shape == (16, 16, 3) and frames[1].wall_ms == 1_700_000_000_000
        assert abs(int(frames[1].image[8, 8, 2]) - 200) < 8  # JPEG is lossy, but not that lossy

    asyncio.run(scenario())


def test_a_full_queue_slows_the_client_until_the_decode_thread_takes_a_frame():
    async def scenario():
        source = PushSource("slow-robot", OPTIONS)  # room for 2
        await source.put(raw(0.0))
        await source.put(raw(1.0))
        third = asyncio.create_task(source.put(raw(2.0)))
        await asyncio.sleep(0.05)
        assert not third.done()  # waiting for room, not dropped, not refused
        stop = threading.Event()
        taken: list[float] = []

        def take_one():
            taken.append(next(source.frames(stop)).time_s)

        await asyncio.to_thread(take_one)
        await asyncio.wait_for(third, 2.0)
        assert taken == [0.0] and source.frames_accepted == 3
        labels = {"stream_id": "slow-robot"}
        assert REGISTRY.get_sample_value("perception_pushed_frames_total", labels) == 3
        assert REGISTRY.get_sample_value("perception_push_wait_seconds_total", labels) >= 0.04  # it was slowed

    asyncio.run(scenario())


def test_a_failed_call_drains_its_frames_then_fails_the_source():
    async def scenario():
        source = PushSource("robot", OPTIONS)
        await source.put(raw(0.0))
        source.fail("the client went away")
        frames = source.frames(threading.Event())
        assert next(frames).time_s == 0.0
        with pytest.raises(PushSourceClosed, match="the client went away"):
            next(frames)
        with pytest.raises(InvalidArgument, match="after the push ended"):
            await source.put(raw(1.0))

    asyncio.run(scenario())


def test_a_waiting_put_is_told_when_the_stream_is_final():
    async def scenario():
        source = PushSource("robot", OPTIONS)
        await source.put(raw(0.0))
        await source.put(raw(1.0))
        waiting = asyncio.create_task(source.put(raw(2.0)))
        await asyncio.sleep(0.02)
        source.abandon("stream 'robot' is stopped")
        with pytest.raises(FailedPrecondition, match="is stopped"):
            await asyncio.wait_for(waiting, 2.0)

    asyncio.run(scenario())


def test_stop_ends_frames_while_waiting_for_the_client():
    source = PushSource("robot", OPTIONS, is_live=True)
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    assert list(source.frames(stop)) == []  # returns within a poll of the stop, no frame needed
    assert source.problem == ""  # not idle long enough to be a problem yet


def test_an_undecodable_jpeg_body_fails_the_stream_with_its_time():
    async def scenario():
        source = PushSource("robot", OPTIONS)
        noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
        good = jpeg_of(noise)
        await source.put(PushedFrame(t_s=3.0, jpeg=good[: len(good) // 2]))  # header intact, body cut off
        source.close()
        frame = next(source.frames(threading.Event()))
        with pytest.raises(PushSourceClosed, match="the frame at 3.0 s is not a decodable JPEG"):
            _ = frame.image

    asyncio.run(scenario())


def test_the_push_command_reads_a_video_with_its_frame_times_and_a_folder_of_jpegs(tmp_path):
    from longwatch_cli.perception_commands import local_frames
    from tests.unit.perception.fakes import write_video

    video = write_video(tmp_path / "v.mp4", duration_s=1.0, fps=5, scenes=[(0.0, (200, 0, 0))])
    raw_frames = list(local_frames(video, fps=1.0, as_raw=True, jpeg_quality=90))
    assert [round(f.t_s, 3) for f in raw_frames] == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert all(check_image(f, OPTIONS) is None for f in raw_frames)  # each one a frame PushFrames takes
    jpeg_frames = list(local_frames(video, fps=1.0, as_raw=False, jpeg_quality=80))
    assert [f.t_s for f in jpeg_frames] == [f.t_s for f in raw_frames] and jpeg_frames[0].jpeg[:2] == b"\xff\xd8"
    folder = tmp_path / "frames"
    folder.mkdir()
    for name in ("b.jpg", "a.JPEG", "notes.txt"):
        (folder / name).write_bytes(jpeg_of(solid((9, 9, 9), 8, 8)) if name != "notes.txt" else b"x")
    assert [f.t_s for f in local_frames(folder, fps=4.0, as_raw=False, jpeg_quality=90)] == [0.0, 0.25]
    with pytest.raises(InvalidArgument, match="holds no .jpg"):
        list(local_frames(tmp_path, fps=1.0, as_raw=False, jpeg_quality=90))
