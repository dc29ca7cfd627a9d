"""Describe: keyframes by id or spread over a range, decoded and shown to the captioner; bad requests
get errors that say what to change."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence

import numpy as np
import pytest
from PIL import Image

from longwatch.errors import FailedPrecondition, InvalidArgument, NotFound
from longwatch.types import KeyframeData
from perception.core.describe import Describer, Description


def jpeg(level: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (level, level, level)).save(buffer, format="JPEG")
    return buffer.getvalue()


class FakeReader:
    """Keyframes of stream "cam", one per clip every 4 s (clip ids by start time), and one of "other"."""

    def __init__(self, clip_count: int = 20) -> None:
        self.stored = {
            f"cam:{4 * i}#k0": KeyframeData(f"cam:{4 * i}#k0", "cam", 4.0 * i + 1, jpeg(10 * i))
            for i in range(clip_count)
        }
        self.stored["other:0#k0"] = KeyframeData("other:0#k0", "other", 1.0, jpeg(200))
        self.asked: list[tuple[str, ...]] = []

    async def keyframes(self, keyframe_ids: Sequence[str]) -> list[KeyframeData]:
        self.asked.append(tuple(keyframe_ids))
        return [self.stored[key] for key in keyframe_ids if key in self.stored]

    async def keyframe_ids_in_range(self, stream_id: str, start_s: float, end_s: float, limit: int) -> list[str]:
        return [
            key
            for key, frame in self.stored.items()
            if frame.stream_id == stream_id and frame.t_s >= start_s and (end_s == 0 or frame.t_s < end_s)
        ]


class FakeCompute:
    """Reads each image's grey level as its text; describes with the instruction and the levels."""

    def __init__(self) -> None:
        self.described: list[tuple[str, int, str]] = []

    async def read_text(
        self, stream_id: str, images: Sequence[np.ndarray], *, keep_state: bool = True
    ) -> list[tuple[str, ...]]:
        assert not keep_state, "Describe must not touch the live stream's OCR state"
        return [(f"LEVEL {round(int(image.mean()) / 10) * 10}", "EXIT 7") for image in images]

    async def describe(self, stream_id: str, images: Sequence[np.ndarray], instruction: str) -> str:
        assert all(image.shape == (24, 32, 3) and image.dtype == np.uint8 for image in images)
        self.described.append((stream_id, len(images), instruction))
        return f"{instruction} -> {len(images)} frames"


def describe(describer: Describer, *args) -> Description:
    return asyncio.run(describer.describe(*args))


def test_named_keyframes_are_described_in_time_order_with_the_text_read_on_them():
    compute = FakeCompute()
    describer = Describer(compute, FakeReader())
    result = describe(describer, "cam", ["cam:8#k0", "cam:0#k0", "cam:8#k0"], 0.0, 0.0, "  read the sign  ")
    assert result.keyframe_ids == ("cam:0#k0", "cam:8#k0")
    assert result.lines == ("LEVEL 0", "EXIT 7", "LEVEL 20")
    assert result.text == "read the sign -> 2 frames"
    assert compute.described == [("cam", 2, "read the sign")]


def test_a_range_is_sampled_evenly_up_to_the_bound():
    reader = FakeReader(clip_count=20)
    describer = Describer(FakeCompute(), reader, max_keyframes=4)
    result = describe(describer, "cam", [], 0.0, 80.0, "what changed?")
    assert result.keyframe_ids == ("cam:0#k0", "cam:24#k0", "cam:52#k0", "cam:76#k0")  # first and last included
    narrow = describe(describer, "cam", [], 10.0, 20.0, "what changed?")
    assert narrow.keyframe_ids == ("cam:12#k0", "cam:16#k0")


def test_unknown_keyframes_are_not_found_by_name():
    describer = Describer(FakeCompute(), FakeReader())
    with pytest.raises(NotFound, match=r"cam:999#k0, cam:1000#k3"):
        describe(describer, "cam", ["cam:0#k0", "cam:999#k0", "cam:1000#k3"], 0.0, 0.0, "look")


def test_a_range_without_keyframes_is_not_found():
    describer = Describer(FakeCompute(), FakeReader(clip_count=3))
    with pytest.raises(NotFound, match="no stored keyframes from 500.0 s to the end"):
        describe(describer, "cam", [], 500.0, 0.0, "look")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cam", ["cam:0#k0"], 0.0, 0.0, "   "), "instruction is empty"),
        (("cam", ["cam:0#k0"], 0.0, 0.0, "x" * 3000), "keep it to 2000"),
        (("", ["cam:0#k0"], 0.0, 0.0, "look"), "stream_id is empty"),
        (("cam", ["other:0#k0"], 0.0, 0.0, "look"), "not of stream 'cam'"),
        (("cam", [], 30.0, 10.0, "look"), "start_s .* is after end_s"),
        (("cam", [f"cam:{4 * i}#k0" for i in range(9)], 0.0, 0.0, "look"), "at most at 8: pass fewer"),
        (("cam", ["has space"], 0.0, 0.0, "look"), "not an id memory gives"),
    ],
)
def test_bad_requests_say_what_to_change(args, message):
    with pytest.raises(InvalidArgument, match=message):
        describe(Describer(FakeCompute(), FakeReader()), *args)


def test_a_keyframe_that_is_not_a_jpeg_fails_with_its_id():
    reader = FakeReader()
    reader.stored["cam:0#k0"] = KeyframeData("cam:0#k0", "cam", 1.0, b"not a jpeg")
    with pytest.raises(FailedPrecondition, match="cam:0#k0 in memory is not a readable JPEG"):
        describe(Describer(FakeCompute(), reader), "cam", ["cam:0#k0"], 0.0, 0.0, "look")
