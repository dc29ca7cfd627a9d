"""decord as the file decoder gives PyAV's frame times and images, and PyAV takes over when decord cannot."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from perception.core.sources import SourceOptions, open_source
from perception.core.sources import file_source as file_source_module
from perception.core.sources.decord_frames import DecordUnavailable
from tests.unit.perception.test_keyframe_first import BLUE, GREY, write_gop_video

pytest.importorskip("decord")


def decode(path, decoder: str, decode_mode: str, sample_fps: float, max_side_px: int = 64):
    opts = SourceOptions(max_side_px, sample_fps=sample_fps, file_decode=decode_mode, file_decoder=decoder)
    source = open_source("s", str(path), opts)
    frames = list(source.frames(threading.Event()))
    return source, [round(frame.time_s, 3) for frame in frames], [frame.image.astype(np.int16) for frame in frames]


@pytest.mark.parametrize(("sample_fps", "max_side_px"), [(0.0, 64), (1.0, 64), (2.0, 160)])
def test_decord_gives_pyavs_times_and_images(tmp_path, sample_fps, max_side_px):
    video = write_gop_video(tmp_path / "v.mp4", duration_s=6.0, gop_frames=20, scenes=[(0.0, GREY), (3.3, BLUE)])
    pyav, pyav_times, pyav_images = decode(video, "pyav", "full", 0.0, max_side_px)
    fast, times, images = decode(video, "decord", "auto", sample_fps, max_side_px)
    assert fast.stats.decoder == "decord" and pyav.stats.decoder == "full"
    if sample_fps:  # the sampler's grid: the first frame at or after every 1 / sample_fps
        step = round(10 / sample_fps)
        assert times == pyav_times[::step]
        pyav_images = pyav_images[::step]
    else:
        assert times == pyav_times
    for image, reference in zip(images, pyav_images, strict=True):
        assert image.shape == reference.shape
        # Two scalers of the same decoded pixels: JPEG-level differences at most.
        assert np.abs(image - reference).mean() < 3.0
    assert images[-1][..., 2].mean() > 150  # the blue scene, where PyAV has it


def test_pyav_takes_over_when_decord_cannot_open_the_file(tmp_path, monkeypatch, caplog):
    video = write_gop_video(tmp_path / "v.mp4", duration_s=2.0, gop_frames=10)

    def refuse(path, max_side_px):
        raise DecordUnavailable("decord cannot read this file (unsupported container)")

    monkeypatch.setattr(file_source_module, "open_reader", refuse)
    with caplog.at_level(logging.WARNING, logger=file_source_module.__name__):
        source, times, _ = decode(video, "decord", "auto", 0.0)
    assert source.stats.decoder == "keyframes-first" and times == [round(i / 10, 3) for i in range(20)]
    assert "decoding " + str(video) + " with PyAV: decord cannot read this file" in caplog.text


def test_auto_decodes_with_pyav_keyframes_first(tmp_path):
    video = write_gop_video(tmp_path / "v.mp4", duration_s=4.0, gop_frames=10)
    source, _, _ = decode(video, "auto", "auto", 1.0)
    assert source.stats.decoder == "keyframes-first"
