"""OCR that holds up: change-only re-reading, the more confident reading kept, bounded per-stream state;
and the RapidOCR reader itself on drawn text (marked slow: it loads RapidOCR's ONNX models)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from perception.core.captioners.ocr_regions import (
    ChangeConfig,
    Reading,
    TextState,
    TextStates,
    changed_tiles,
    grey_thumbnail,
    in_reading_order,
    merge_reread,
)

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def text_frame(lines: dict[tuple[int, int], str], size=(640, 360), font_px: int = 14, fill: int = 240) -> np.ndarray:
    """(H, W, 3) uint8: a grey frame with each text drawn at its (x, y)."""
    image = Image.new("RGB", size, (90, 90, 90))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), font_px)
    for position, text in lines.items():
        draw.text(position, text, font=font, fill=(fill,) * 3)
    return np.asarray(image)


def test_only_the_tiles_that_changed_are_reported_and_sensor_noise_is_not_a_change():
    rng = np.random.default_rng(0)
    before = text_frame({(50, 50): "EXIT 7"})
    noisy = np.clip(before.astype(np.int16) + rng.integers(-4, 5, before.shape), 0, 255).astype(np.uint8)
    config = ChangeConfig(tile_px=64)
    assert changed_tiles(grey_thumbnail(before), grey_thumbnail(noisy), config) == []
    after = text_frame({(50, 50): "EXIT 7", (400, 300): "CODE 5531"})
    tiles = changed_tiles(grey_thumbnail(before), grey_thumbnail(after), config)
    assert tiles and all(x0 >= 384 and y0 >= 256 for x0, y0, _x1, _y1 in tiles)


def test_a_line_read_again_keeps_the_more_confident_reading_unless_its_text_changed():
    old = [Reading((10, 10, 200, 30), "LOCKER 42 CODE 5531", 0.98)]
    worse = [Reading((11, 10, 199, 31), "LOCKER 42 C0DE 5531", 0.80)]
    assert [r.text for r in merge_reread(old, worse, changed=[(0, 0, 64, 64)])] == ["LOCKER 42 CODE 5531"]
    better = [Reading((11, 10, 199, 31), "LOCKER 42 CODE 5531", 0.99)]
    assert merge_reread(old, better, changed=[(0, 0, 64, 64)])[0].confidence == 0.99
    new_code = [Reading((10, 10, 200, 30), "LOCKER 42 CODE 5532", 0.75)]  # one digit changed: a new code
    assert [r.text for r in merge_reread(old, new_code, changed=[(0, 0, 64, 64)])] == ["LOCKER 42 CODE 5532"]


def test_an_old_line_not_read_again_survives_only_where_nothing_changed():
    old = [Reading((10, 10, 60, 30), "EXIT 7", 0.9), Reading((300, 10, 360, 30), "ROOM 214", 0.9)]
    kept = merge_reread(old, [], changed=[(0, 0, 64, 64)])
    assert [r.text for r in kept] == ["ROOM 214"]  # EXIT 7's tile changed and nothing is read there now


def test_lines_come_top_to_bottom_then_left_to_right():
    readings = [
        Reading((300, 12, 360, 30), "B", 0.9),
        Reading((10, 100, 60, 120), "C", 0.9),
        Reading((10, 10, 60, 30), "A", 0.9),
    ]
    assert [r.text for r in in_reading_order(readings)] == ["A", "B", "C"]


def test_per_stream_state_is_bounded_least_recently_read_dropped_first():
    states = TextStates(max_streams=2)
    state = TextState(np.zeros((2, 2), np.uint8), (8, 8), ())
    states.put("a", state)
    states.put("b", state)
    assert states.get("a") is state  # a is now the most recent
    states.put("c", state)
    assert len(states) == 2 and states.get("b") is None and states.get("a") is state
    with pytest.raises(ValueError, match="max_streams"):
        TextStates(0)


# The real reader ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader():
    from perception.core.captioners.ocr import OcrConfig, TextReader

    return TextReader(OcrConfig())


def key(line: str) -> str:
    return "".join(line.split()).casefold()


@pytest.mark.slow
def test_small_text_is_read_with_its_spaces(reader):
    frame = text_frame({(40, 60): "EXIT 42 BAY 5531", (300, 250): "AB12 CDE"}, font_px=13)
    assert reader.read(frame) == ("EXIT 42 BAY 5531", "AB12 CDE")


@pytest.mark.slow
def test_with_a_stream_as_context_only_changed_regions_are_read_again(reader, monkeypatch):
    regions: list[tuple[int, int, int, int]] = []
    read_region = reader._read_region
    monkeypatch.setattr(
        reader, "_read_region", lambda image, region: regions.append(region) or read_region(image, region)
    )
    first = text_frame({(40, 60): "GATE 42 BAY 5531", (400, 250): "EXIT 7"}, font_px=16)
    assert reader.read(first, "cam-1") == ("GATE 42 BAY 5531", "EXIT 7")
    assert reader.read(first.copy(), "cam-1") == ("GATE 42 BAY 5531", "EXIT 7")
    assert len(regions) == 1  # the unchanged frame was not read at all
    second = text_frame({(40, 60): "GATE 42 BAY 5531", (400, 250): "EXIT 8"}, font_px=16)
    assert [key(line) for line in reader.read(second, "cam-1")] == ["gate42bay5531", "exit8"]
    x0, y0, x1, y1 = regions[-1]
    assert x0 > 0 and (x1 - x0) * (y1 - y0) < 640 * 360 / 4  # only around the changed sign
    assert reader.read(first, "cam-2") == ("GATE 42 BAY 5531", "EXIT 7")  # streams do not share state


@pytest.mark.slow
def test_the_ocr_captioner_describes_with_the_text_it_reads(reader):
    from perception.core.captioners.ocr import OcrCaptioner

    captioner = OcrCaptioner(reader)
    frame = text_frame({(40, 60): "GATE B CLOSED"}, font_px=18)
    assert captioner.describe([frame, frame], "what does the sign say?") == "GATE B CLOSED"
    assert captioner.caption([frame], ["GATE B CLOSED"]) == ""


@pytest.mark.slow
def test_a_line_missed_on_a_static_frame_is_found_at_the_next_whole_frame_read(monkeypatch):
    from perception.core.captioners.ocr import OcrConfig, TextReader

    reader = TextReader(OcrConfig(full_read_every=3))
    exit_sign, code = Reading((10, 10, 60, 30), "EXIT 7", 0.9), Reading((300, 200, 400, 220), "CODE 5531", 0.9)
    regions: list[tuple[int, int, int, int]] = []
    results = iter([[exit_sign], [exit_sign, code]])  # the first read misses the code
    monkeypatch.setattr(reader, "_read_region", lambda image, region: regions.append(region) or next(results))
    frame = text_frame({})
    reads = [reader.read(frame, "cam") for _ in range(4)]
    assert reads == [("EXIT 7",), ("EXIT 7",), ("EXIT 7",), ("EXIT 7", "CODE 5531")]
    assert regions == [(0, 0, 640, 360)] * 2  # two whole-frame reads, none in between (nothing changed)
