"""A stream worker over a small real video and fake sources, with fake models and a fake ClipSink."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest

from longwatch.types import StreamState
from perception.core.sources import SourceOptions, open_source
from perception.core.stream_worker import StreamWorker
from tests.unit.perception.fakes import (
    FakeCaptioner,
    FakeEncoder,
    FakeSource,
    RecordingSink,
    RefusingSink,
    fake_compute,
    patch_compute,
    worker_config,
    write_video,
)

GREY, RED, BLUE = (100, 100, 100), (200, 30, 30), (30, 30, 200)
SCENES = [(0.0, GREY), (2.0, RED), (4.0, BLUE)]


async def eventually(predicate, timeout_s: float = 20.0) -> None:
    """Waits until `predicate()` holds; fails the test if it never does."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition never held")
        await asyncio.sleep(0.01)


def all_collected(refs) -> bool:
    gc.collect()
    return all(ref() is None for ref in refs)


@pytest.fixture
def video(tmp_path):
    return write_video(tmp_path / "small.mp4", duration_s=5.0, fps=10, scenes=SCENES)


def test_clips_cover_the_video_and_follow_its_scenes(video):
    compute = fake_compute()
    sink = RecordingSink()

    source = open_source("yard", str(video), SourceOptions())

    async def run():
        worker = StreamWorker("yard", source, worker_config(sample_fps=2.0, clip_max_s=1.5), compute, sink)
        worker.start()
        return await worker.wait()

    status = asyncio.run(run())
    assert status.state is StreamState.FINISHED, status.error
    spans = [(clip.start_s, clip.end_s) for clip in sink.clips]
    # 2 fps with 1.5 s clips, cut at the scene changes at 2 s and 4 s; together they cover the 5 s.
    assert spans == [(0.0, 1.5), (1.5, 2.0), (2.0, 3.5), (3.5, 4.0), (4.0, 5.0)]
    assert [clip.ocr_lines for clip in sink.clips] == [
        ("RGB 100 100 100",),
        ("RGB 100 100 100",),
        ("RGB 200 50 50",),
        ("RGB 200 50 50",),
        ("RGB 50 50 200",),
    ]
    assert sum(clip.frame_count for clip in sink.clips) == 10
    assert status.frames_seen == 50 and status.position_s == pytest.approx(4.9)
    assert status.clips_written == 5 and status.lag_s == 0.0
    # One encoder call and one text reading per scene: every other frame came from the cache.
    assert (status.frames_encoded, status.frames_reused) == (3, 7)
    assert compute.encoder.images_encoded == 3
    assert compute.captioner.images_read == 3
    assert all(len(clip.visual_embedding) == FakeEncoder.dim for clip in sink.clips)
    assert sink.clips[0].caption == "1 distinct frames"
    assert {clip.source_key for clip in sink.clips} == {source.source_key} and len(source.source_key) == 32


def test_a_finished_stream_lets_go_of_its_frames(video):
    # It stays listed until removed; a process that ingests many files must not keep an image per file.
    compute = fake_compute()

    async def run():
        source = open_source("yard", str(video), SourceOptions())
        worker = StreamWorker("yard", source, worker_config(sample_fps=2.0), compute, RecordingSink())
        worker.start()
        status = await worker.wait()
        await eventually(lambda: all_collected(compute.encoder.encoded_refs))  # the decode thread may be ending
        return worker, status

    worker, status = asyncio.run(run())
    assert status.state is StreamState.FINISHED
    assert compute.encoder.encoded_refs, "the encoder saw no frames"


def test_finished_waits_until_memory_acknowledges_every_clip(video):
    sink = RecordingSink(is_up=False)  # memory unreachable: the writer keeps retrying

    async def run():
        source = open_source("yard", str(video), SourceOptions())
        config = worker_config(sample_fps=2.0, clip_max_s=1.5, max_unacked_clips=1, frame_queue_size=1)
        worker = StreamWorker("yard", source, config, fake_compute(), sink)
        worker.start()
        await eventually(lambda: sink.waiting == 1)  # the one unacknowledged slot is taken
        await asyncio.sleep(0.2)  # give a wrongly finishing worker the chance to
        held = worker.status()
        sink.is_up.set()  # memory is back
        return held, await worker.wait()

    held, status = asyncio.run(run())
    assert held.state is StreamState.RUNNING
    assert held.clips_written == 0 and held.lag_s > 0
    assert held.position_s < 4.9  # backpressure: the file waits, nothing is dropped
    assert status.state is StreamState.FINISHED
    assert [clip.start_s for clip in sink.clips] == [0.0, 1.5, 2.0, 3.5, 4.0]
    assert status.frames_dropped == 0


def test_a_decode_error_fails_the_stream_after_writing_what_came_before():
    sink = RecordingSink()
    source = FakeSource(SCENES, duration_s=5.0, fail_after=25, location="rtsp://u:secret@cam/x")
    source.display = "rtsp://***@cam/x"

    async def run():
        worker = StreamWorker("yard", source, worker_config(sample_fps=1.0), fake_compute(), sink)
        worker.start()
        return await worker.wait()

    status = asyncio.run(run())
    assert status.state is StreamState.FAILED
    assert "decoding failed at 2.4 s" in status.error and "corrupt packet" in status.error
    assert "secret" not in status.error
    assert [(clip.start_s, clip.end_s) for clip in sink.clips] == [(0.0, 2.0), (2.0, 3.0)]


def test_a_clip_memory_refuses_fails_the_stream_and_lets_go_of_its_frames():
    compute = fake_compute()

    async def run():
        source = FakeSource(SCENES, duration_s=5.0)
        worker = StreamWorker("yard", source, worker_config(), compute, RefusingSink())
        worker.start()
        status = await worker.wait()
        await eventually(lambda: all_collected(compute.encoder.encoded_refs))  # the decode thread may be ending
        return worker, status

    worker, status = asyncio.run(run())
    assert status.state is StreamState.FAILED
    assert "memory did not take a clip" in status.error and "too long" in status.error
    assert compute.encoder.encoded_refs, "the encoder saw no frames"


class SlowEncoder(FakeEncoder):
    def encode(self, images):
        time.sleep(0.05)
        return super().encode(images)


def test_a_live_stream_drops_the_oldest_frames_when_behind_and_stops_cleanly():
    from perception.core.compute import Compute

    sink = RecordingSink()
    # Every frame is a new scene, so none is reused from the cache and the slow encoder falls behind.
    flicker = [(i / 100, (i * 50 % 256,) * 3) for i in range(2000)]
    source = FakeSource(flicker, duration_s=20.0, fps=100, is_live=True)

    async def run():
        config = worker_config(sample_fps=100.0, clip_max_s=10.0, frame_queue_size=2)
        worker = StreamWorker("cam", source, config, Compute(SlowEncoder(), FakeCaptioner()), sink)
        worker.start()
        await eventually(lambda: worker.status().frames_dropped >= 5)
        return await worker.stop(timeout_s=10.0)

    status = asyncio.run(run())
    assert status.state is StreamState.STOPPED and status.is_live
    assert status.frames_dropped >= 5
    assert status.clips_written == len(sink.clips) >= 1  # the open clip was written on stop


class StallingSource(FakeSource):
    """Sends a few frames, then hangs without a sign of life (until stopped)."""

    def frames(self, stop: threading.Event):
        for index, frame in enumerate(super().frames(stop)):
            if index == 3:
                break
            yield frame
        stop.wait()


def test_the_watchdog_restarts_a_stalled_live_decoder(caplog):
    source = StallingSource([(0.0, GREY)], duration_s=1.0, fps=10, is_live=True)

    async def run():
        config = worker_config(watchdog_stall_s=0.2)
        worker = StreamWorker("cam", source, config, fake_compute(), RecordingSink())
        worker.start()
        await eventually(lambda: source.runs >= 3)
        return await worker.stop(timeout_s=5.0)

    status = asyncio.run(run())
    assert status.state is StreamState.STOPPED
    assert "restarting it" in caplog.text


def test_stopping_a_file_midway_writes_the_open_clip(video):
    sink = RecordingSink()

    async def run():
        source = FakeSource([(0.0, GREY)], duration_s=600.0, fps=10)  # long: it cannot finish first
        worker = StreamWorker("yard", source, worker_config(sample_fps=1.0, clip_max_s=60.0), fake_compute(), sink)
        worker.start()
        await eventually(lambda: worker.status().frames_encoded + worker.status().frames_reused >= 3)
        return await worker.stop(timeout_s=5.0)

    status = asyncio.run(run())
    assert status.state is StreamState.STOPPED
    assert len(sink.clips) == 1 and sink.clips[0].start_s == 0.0
    assert status.clips_written == 1


def test_the_overview_shows_the_streams_flash_memory():
    # Fake features are the mean colour: grey, red and blue are three slots; 10 sampled frames in all.
    source = FakeSource(SCENES, duration_s=5.0)

    async def run():
        worker = StreamWorker(
            "yard", source, worker_config(sample_fps=2.0), patch_compute(FakeEncoder()), RecordingSink()
        )
        assert worker.overview().slots == ()  # before any frame
        worker.start()
        await worker.wait()
        return worker.overview()

    overview = asyncio.run(run())
    assert overview.stream_id == "yard" and (overview.max_slots, overview.max_details) == (60, 30)
    assert overview.frames_merged == 10
    spans = sorted((slot.start_s, slot.end_s, slot.weight) for slot in overview.slots)
    assert spans == [(0.0, 1.5, 4), (2.0, 3.5, 4), (4.0, 4.5, 2)]
    assert [detail.t_s for detail in overview.details] == [0.0, 2.0, 4.0]  # each scene's first frame
    assert all(detail.jpeg.startswith(b"\xff\xd8") for detail in overview.details)  # JPEG


def test_the_flash_memory_settings_reach_the_worker():
    from perception.app import PerceptionApp
    from perception.settings import PerceptionSettings

    settings = PerceptionSettings(flash_slots=2, flash_detail_frames=1, tokens_per_frame=8)
    app = PerceptionApp(settings)
    app.compute, app.writer = patch_compute(), RecordingSink()

    async def run():
        worker = app._make_worker("yard", FakeSource(SCENES, duration_s=5.0), sample_fps=2.0)
        worker.start()
        await worker.wait()
        return worker.overview()

    try:
        overview = asyncio.run(run())
    finally:
        app.compute.close()
    assert (overview.max_slots, overview.max_details) == (2, 1)
    assert len(overview.slots) == 2 and len(overview.details) == 1
    assert sum(slot.weight for slot in overview.slots) == 10
    with pytest.raises(ValueError, match="flash_detail_frames"):
        PerceptionSettings(flash_slots=2, flash_detail_frames=3)
