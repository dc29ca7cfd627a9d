"""Keyframe-first decoding: a static file costs its keyframes, a change is still found at the sample rate,
and the sampler keeps the same frames (times and scene changes) as with full decoding."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import pytest

from longwatch.errors import InvalidArgument
from longwatch.types import StreamState
from perception.core.sampler import Sampler, SamplerConfig
from perception.core.sources import SourceOptions, open_source
from perception.core.sources.keyframe_first import SampleGrid
from perception.core.stream_worker import StreamWorker
from perception.core.types import DecodedFrame
from tests.unit.perception.fakes import RecordingSink, colour_at, fake_compute, worker_config

GREY, BLUE = (100, 100, 100), (30, 30, 200)  # far apart in grey levels too (the thumbnails are grey)
FPS = 10
WIDTH, HEIGHT = 160, 90


def write_gop_video(
    path: Path,
    duration_s: float,
    gop_frames: int,
    scenes: Sequence[tuple[float, tuple[int, int, int]]] = ((0.0, GREY),),
    fps: int = FPS,
    x264_params: str = "",
    faststart: bool = False,
) -> Path:
    """A 160 x 90 H.264 MP4 with a keyframe every `gop_frames` frames (B-frames on: x264's defaults),
    colour changing at the scenes' start times, with sensor-like noise (2 grey levels)."""
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 2.0, size=(4, HEIGHT, WIDTH, 3)).round().astype(np.int16)  # (4, H, W, 3)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"g": str(gop_frames), "keyint_min": str(gop_frames), "sc_threshold": "0"}
        if x264_params:
            stream.options = {**stream.options, "x264-params": x264_params}
        for index in range(round(duration_s * fps)):
            colour = np.array(colour_at(index / fps, scenes), dtype=np.int16)
            image = np.clip(colour + noise[index % 4], 0, 255).astype(np.uint8)  # (H, W, 3)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def options(decode: str, sample_fps: float = 1.0, **overrides) -> SourceOptions:
    return SourceOptions(max_frame_side_px=64, sample_fps=sample_fps, file_decode=decode, **overrides)


def sampled(path: Path, opts: SourceOptions, sample_fps: float = 1.0):
    """(source, [(time_s, is_scene_change, mean colour)]) of the frames a sampler keeps."""
    source = open_source("s", str(path), opts)
    sampler = Sampler(SamplerConfig(sample_fps=sample_fps, thumbnail_width_px=16))
    kept = []
    for frame in source.frames(threading.Event()):
        result = sampler.offer(frame)
        if result is not None:
            mean = tuple(int(v) for v in result.frame.image.reshape(-1, 3).mean(axis=0).round(-1))
            kept.append((round(result.frame.time_s, 3), result.is_scene_change, mean))
    return source, kept


@pytest.mark.parametrize("sample_fps", [1.0, 0.0])
def test_a_static_file_costs_its_keyframes_and_samples_as_full_decoding(tmp_path, sample_fps):
    video = write_gop_video(tmp_path / "static.mp4", duration_s=20.0, gop_frames=20)  # a keyframe every 2 s
    with av.open(str(video)) as container:
        assert container.streams.video[0].codec_context.has_b_frames  # frames come out of decode order
    full, full_kept = sampled(video, options("full"))
    fast, fast_kept = sampled(video, options("auto", sample_fps=sample_fps))
    assert [k[:2] for k in fast_kept] == [k[:2] for k in full_kept]
    assert len(fast_kept) == 20 and full.frames_decoded == 200
    # 10 keyframes, and the last GOP (no keyframe after it to compare with) decoded fully: 20 frames.
    assert fast.stats.keyframes_decoded == 10 and fast.stats.gops_decoded_fully == 1
    assert fast.frames_decoded == 10 + 20
    if sample_fps:  # told the rate, the source yields the grid's frames of a static GOP only
        assert fast.stats.frames_yielded == 9 * 2 + 20  # 2 a static GOP (2 s at 1 fps), all of the last


def test_a_change_inside_one_gop_decodes_that_gop_and_is_found_within_a_sample_period(tmp_path):
    video = write_gop_video(tmp_path / "event.mp4", duration_s=20.0, gop_frames=20, scenes=[(0.0, GREY), (7.3, BLUE)])
    _, full_kept = sampled(video, options("full"), sample_fps=2.0)
    fast, fast_kept = sampled(video, options("auto", sample_fps=2.0), sample_fps=2.0)
    assert fast_kept == full_kept
    assert fast.stats.gops_decoded_fully == 2  # [6 s, 8 s) whose keyframes differ, and the last
    assert fast.frames_decoded == 10 + 20 + 20
    changes = [time_s for time_s, is_change, _ in fast_kept if is_change and time_s > 0]
    assert len(changes) == 1 and 7.3 <= changes[0] < 7.3 + 0.5
    blue_from = min(time_s for time_s, _, mean in fast_kept if mean[2] > 150)
    assert blue_from == changes[0]


def test_sparse_keyframes_fall_back_to_full_decoding(tmp_path):
    video = write_gop_video(tmp_path / "sparse.mp4", duration_s=30.0, gop_frames=150)  # one every 15 s
    _, full_kept = sampled(video, options("full"))
    auto, auto_kept = sampled(video, options("auto"))
    assert auto_kept == full_kept
    assert "more than 4 s apart" in auto.stats.fallback
    assert auto.stats.keyframes_decoded == 1 and auto.frames_decoded == 1 + 300  # then all went to full decoding
    forced, forced_kept = sampled(video, options("keyframes-first"))
    assert forced_kept == full_kept and forced.stats.fallback == ""
    assert forced.stats.gops_decoded_fully == 2 and forced.frames_decoded == 300 + 2  # + its 2 keyframes


def test_a_gop_over_the_byte_cap_is_decoded_fully(tmp_path):
    video = write_gop_video(tmp_path / "big.mp4", duration_s=10.0, gop_frames=20)
    _, full_kept = sampled(video, options("full"))
    capped, capped_kept = sampled(video, options("keyframes-first", max_gop_bytes=1))
    assert capped_kept == full_kept
    assert capped.stats.gops_decoded_fully == capped.stats.gops == 5
    assert capped.frames_decoded == 100 + 5


def test_an_open_gop_falls_back_to_full_decoding_with_the_same_samples(tmp_path):
    video = write_gop_video(
        tmp_path / "open.mp4", 12.0, gop_frames=20, scenes=[(0.0, GREY), (5.0, BLUE)], x264_params="open-gop=1"
    )
    _, full_kept = sampled(video, options("full"))
    fast, fast_kept = sampled(video, options("auto"))
    assert fast_kept == full_kept
    assert "open GOP" in fast.stats.fallback


def test_the_sample_grid_keeps_what_the_sampler_keeps():
    times = [index / 25 for index in range(250)]  # 10 s at 25 fps
    for sample_fps in (0.3, 1.0, 3.0, 7.0):
        grid = SampleGrid(sample_fps)
        sampler = Sampler(SamplerConfig(sample_fps=sample_fps, thumbnail_width_px=8))
        image = np.zeros((8, 8, 3), dtype=np.uint8)
        by_sampler = [t for t in times if sampler.offer(DecodedFrame.from_rgb(t, image)) is not None]
        assert [t for t in times if grid.wants(t)] == by_sampler


def test_a_static_file_gives_the_same_clips_as_full_decoding(tmp_path):
    video = write_gop_video(tmp_path / "clips.mp4", duration_s=12.0, gop_frames=20, scenes=[(0.0, GREY), (5.5, BLUE)])

    def clips(decode: str):
        sink = RecordingSink()

        async def run():
            source = open_source("yard", str(video), options(decode, sample_fps=2.0))
            worker = StreamWorker("yard", source, worker_config(sample_fps=2.0, clip_max_s=3.0), fake_compute(), sink)
            worker.start()
            return await worker.wait()

        status = asyncio.run(run())
        assert status.state is StreamState.FINISHED, status.error
        return [(round(clip.start_s, 3), round(clip.end_s, 3)) for clip in sink.clips]

    assert clips("auto") == clips("full")


def test_a_truncated_file_fails_its_stream_saying_so(tmp_path):
    whole = write_gop_video(tmp_path / "whole.mp4", duration_s=20.0, gop_frames=20, faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])
    for decode in ("auto", "full"):
        with pytest.raises(InvalidArgument, match="ends after .* s of video but its header says 20.0 s: the file is"):
            list(open_source("s", str(cut), options(decode)).frames(threading.Event()))
    sink = RecordingSink()

    async def run():
        source = open_source("yard", str(cut), options("auto"))
        worker = StreamWorker("yard", source, worker_config(), fake_compute(), sink)
        worker.start()
        return await asyncio.wait_for(worker.wait(), timeout=20)

    status = asyncio.run(run())
    assert status.state is StreamState.FAILED and "truncated" in status.error
    assert sink.clips  # what came before the cut was still written


def test_a_file_with_a_broken_header_is_refused_at_once(tmp_path):
    whole = write_gop_video(tmp_path / "whole.mp4", duration_s=2.0, gop_frames=20, faststart=True)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 64 + whole.read_bytes()[64:])
    with pytest.raises(InvalidArgument, match="is not a video file PyAV can read"):
        open_source("s", str(broken), options("auto"))


@pytest.mark.parametrize(("field", "value"), [("file_decode", "fast"), ("file_decoder", "ffmpeg")])
def test_an_unknown_decoding_choice_lists_the_valid_ones(tmp_path, field, value):
    video = write_gop_video(tmp_path / "v.mp4", duration_s=1.0, gop_frames=10)
    with pytest.raises(InvalidArgument, match=f"unknown {field} '{value}'; valid: auto, "):
        open_source("s", str(video), SourceOptions(**{field: value}))


def test_the_file_decoding_settings_reach_the_file_source(tmp_path):
    from perception.app import PerceptionApp
    from perception.settings import PerceptionSettings

    video = write_gop_video(tmp_path / "v.mp4", duration_s=4.0, gop_frames=10)
    for decode, decoder in (("full", "full"), ("auto", "keyframes-first")):
        app = PerceptionApp(PerceptionSettings(file_decode=decode, file_max_gop_bytes=1 << 16))
        source = app._open_source("s", str(video))
        list(source.frames(threading.Event()))
        assert source.stats.decoder == decoder
    with pytest.raises(ValueError, match="file_decode"):
        PerceptionSettings(file_decode="fast")


def test_a_stream_without_timestamps_is_decoded_fully(tmp_path):
    raw = tmp_path / "camera.h264"  # an elementary stream: its packets carry no timestamps
    with av.open(str(raw), mode="w", format="h264") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"g": "20", "keyint_min": "20", "sc_threshold": "0"}
        for index in range(60):
            image = np.full((HEIGHT, WIDTH, 3), GREY if index < 33 else BLUE, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    _, full_kept = sampled(raw, options("full"))
    fast, fast_kept = sampled(raw, options("auto"))
    assert fast_kept == full_kept and len(full_kept) >= 3
    assert fast.stats.fallback == "packets without timestamps" and fast.frames_decoded == 60
