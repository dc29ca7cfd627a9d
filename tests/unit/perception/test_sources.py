"""Sources are chosen from the source string and bad input is refused at once, saying what to pass."""

from __future__ import annotations

import os
import threading

import pytest

from longwatch.errors import InvalidArgument, NotFound
from perception.core.sources import SOURCE_BY_SCHEME, SourceOptions, open_source, source_backend_for
from tests.unit.perception.fakes import write_video

OPTIONS = SourceOptions()
GREY, RED = (100, 100, 100), (200, 30, 30)


@pytest.mark.parametrize(
    ("source", "backend"),
    [
        ("/videos/gate.mp4", "file"),
        ("rtsp://cam.local/stream1", "live"),
        ("RTSPS://cam.local/stream1", "live"),
        ("http://cam.local/video.mjpg", "live"),
        ("https://cdn.example/live.m3u8", "live"),
        ("udp://239.0.0.1:1234", "live"),
    ],
)
def test_backend_comes_from_the_table(source, backend):
    assert source_backend_for(source) == backend


def test_unknown_scheme_lists_the_supported_ones_without_credentials():
    with pytest.raises(InvalidArgument) as caught:
        source_backend_for("ftp://bob:hunter2@files.example/a.mp4")
    message = str(caught.value)
    assert "'ftp'" in message and all(f"{scheme}://" in message for scheme in SOURCE_BY_SCHEME)
    assert "hunter2" not in message


@pytest.mark.parametrize("source", ["videos/gate.mp4", "gate.mp4", "./gate.mp4"])
def test_relative_paths_are_refused(source):
    with pytest.raises(InvalidArgument, match="absolute path"):
        open_source("s", source, OPTIONS)


def test_empty_source_is_refused():
    with pytest.raises(InvalidArgument, match="empty"):
        open_source("s", "  ", OPTIONS)


def test_missing_file_is_not_found(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(NotFound, match=f"no such file: '{missing}' — pass an absolute path to a video file"):
        open_source("s", str(missing), OPTIONS)


def test_a_text_file_is_refused_naming_it(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video\n" * 50)
    with pytest.raises(InvalidArgument, match=f"'{notes}' is not a video file"):
        open_source("s", str(notes), OPTIONS)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(InvalidArgument, match="is a directory"):
        open_source("s", str(tmp_path), OPTIONS)


def test_a_name_too_long_for_the_file_system_is_refused(tmp_path):
    with pytest.raises(InvalidArgument, match="File name too long; pass a readable video file"):
        open_source("s", str(tmp_path / ("a" * 300 + ".mp4")), OPTIONS)


def test_a_live_url_needs_a_host():
    with pytest.raises(InvalidArgument, match="names no host"):
        open_source("s", "rtsp:///stream", OPTIONS)
    assert open_source("s", "rtsp://u:secret@cam.local/s", OPTIONS).display == "rtsp://***@cam.local/s"


def test_a_file_is_keyed_by_its_content_not_its_path(tmp_path):
    video = write_video(tmp_path / "day1.mp4", duration_s=1.0, fps=10, scenes=[(0.0, GREY)])
    copy = tmp_path / "copy" / "day1.mp4"
    copy.parent.mkdir()
    copy.write_bytes(video.read_bytes())
    other = write_video(tmp_path / "day2.mp4", duration_s=1.0, fps=10, scenes=[(0.0, RED)])
    key = open_source("s", str(video), OPTIONS).source_key
    assert len(key) == 32
    assert open_source("s", str(copy), OPTIONS).source_key == key
    assert open_source("s", str(other), OPTIONS).source_key != key
    assert open_source("s", "rtsp://cam.local/s", OPTIONS).source_key == ""


def test_a_file_decodes_on_the_fly_with_its_times_and_duration(tmp_path):
    video = write_video(tmp_path / "clip.mp4", duration_s=3.0, fps=10, scenes=[(0.0, GREY), (2.0, RED)])
    source = open_source("s", str(video), SourceOptions(max_frame_side_px=32))
    assert source.duration_s == pytest.approx(3.0, abs=0.1)
    assert not source.is_live
    frames = list(source.frames(threading.Event()))
    assert [round(frame.time_s, 2) for frame in frames] == [round(i / 10, 2) for i in range(30)]
    assert frames[0].image.shape == (24, 32, 3)  # scaled down to the longer side's limit
    assert frames[25].image[12, 16, 0] > 150  # the red scene


def test_stop_ends_a_file_early(tmp_path):
    video = write_video(tmp_path / "clip.mp4", duration_s=2.0, fps=10, scenes=[(0.0, GREY)])
    stop = threading.Event()
    seen = 0
    for _frame in open_source("s", str(video), OPTIONS).frames(stop):
        seen += 1
        stop.set()
    assert seen == 1


def test_a_fifo_is_refused_rather_than_blocking_the_open(tmp_path):
    fifo = tmp_path / "camera.pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidArgument, match=f"'{fifo}' is not a regular file"):
        open_source("s", str(fifo), OPTIONS)
