"""Fakes through perception's Protocols, and a tiny video writer."""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

import av
import numpy as np

from longwatch.types import ClipRecord
from perception.core.captioners.base import Captioner
from perception.core.compute import Compute
from perception.core.encoders.base import VisionEncoder, l2_normalise
from perception.core.frame_cache import CacheConfig
from perception.core.sampler import SamplerConfig
from perception.core.stream_worker import WorkerConfig
from perception.core.types import DecodedFrame


def solid(colour: tuple[int, int, int], height: int = 48, width: int = 64) -> np.ndarray:
    """(H, W, 3) uint8 image of one colour."""
    return np.broadcast_to(np.array(colour, dtype=np.uint8), (height, width, 3)).copy()


def colour_at(time_s: float, scenes: Sequence[tuple[float, tuple[int, int, int]]]) -> tuple[int, int, int]:
    """The colour of the last scene starting at or before `time_s`; scenes are (start_s, colour)."""
    current = scenes[0][1]
    for start_s, colour in scenes:
        if time_s + 1e-9 >= start_s:
            current = colour
    return current


def write_video(path: Path, duration_s: float, fps: int, scenes: Sequence[tuple[float, tuple[int, int, int]]]) -> Path:
    """A tiny H.264 MP4 (64 x 48) whose colour changes at the scenes' start times."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(round(duration_s * fps)):
            image = solid(colour_at(index / fps, scenes))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


class FakeEncoder(VisionEncoder):
    """Features are the mean colour: equal colours, equal features. Counts its calls."""

    name = "fake"
    dim = 3

    def __init__(self) -> None:
        self.images_encoded = 0
        self.encoded_refs: list[weakref.ref] = []  # to check that nothing holds a stream's frames after it ends

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        self.images_encoded += len(images)
        self.encoded_refs.extend(weakref.ref(image) for image in images)
        means = np.stack([image.reshape(-1, 3).mean(axis=0) + 1.0 for image in images])  # (N, 3)
        return l2_normalise(means)

    patch_dim = 0  # no patch tokens, like pixel statistics

    def encode_with_patches(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        return self.encode(images), None


class FakeCaptioner(Captioner):
    """Reads the text "RGB r g b" off each frame (its top-left pixel, rounded to 50 levels so that video
    compression does not change it), so the text follows the scene."""

    name = "fake"

    def __init__(self) -> None:
        self.images_read = 0

    def read_text(self, images: Sequence[np.ndarray], context: str = "") -> list[tuple[str, ...]]:
        self.images_read += len(images)
        return [("RGB " + " ".join(str(50 * round(value / 50)) for value in image[0, 0]),) for image in images]

    def caption(self, images: Sequence[np.ndarray], ocr_lines: Sequence[str]) -> str:
        return f"{len(images)} distinct frames"

    def describe(self, images: Sequence[np.ndarray], instruction: str) -> str:
        return f"{instruction}: {len(images)} frames"


def fake_compute() -> Compute:
    return Compute(FakeEncoder(), FakeCaptioner())


def worker_config(sample_fps: float = 1.0, clip_max_s: float = 4.0, **overrides) -> WorkerConfig:
    return WorkerConfig(
        sampler=SamplerConfig(sample_fps=sample_fps, thumbnail_width_px=16),
        cache=CacheConfig(),
        clip_max_s=clip_max_s,
        **overrides,
    )


class RecordingSink:
    """A ClipSink that acknowledges only while `is_up` is set (memory reachable): while it is clear,
    `write` waits, as the real writer does while it reconnects."""

    def __init__(self, is_up: bool = True) -> None:
        self.clips: list[ClipRecord] = []
        self.is_up = asyncio.Event()
        self.waiting = 0
        if is_up:
            self.is_up.set()

    async def write(self, clip: ClipRecord) -> None:
        self.waiting += 1
        try:
            await self.is_up.wait()
        finally:
            self.waiting -= 1
        self.clips.append(clip)


class RefusingSink:
    async def write(self, clip: ClipRecord) -> None:
        from longwatch.errors import InvalidArgument

        raise InvalidArgument(f"clip {clip.clip_id} is too long")


class FakeSource:
    """A FrameSource over generated frames: `colours` at `fps`; raises `error` after `fail_after` frames.

    A live one keeps producing frames at `fps` in real time until stopped.
    """

    def __init__(
        self,
        scenes: Sequence[tuple[float, tuple[int, int, int]]],
        duration_s: float,
        fps: int = 10,
        is_live: bool = False,
        fail_after: int | None = None,
        location: str = "/videos/fake.mp4",
    ) -> None:
        self.location = location
        self.display = location
        self.is_live = is_live
        self.source_key = "" if is_live else "fake-file"
        self.duration_s = 0.0 if is_live else duration_s
        self._scenes = scenes
        self._frame_count = round(duration_s * fps)
        self._fps = fps
        self._fail_after = fail_after
        self._alive = time.monotonic()
        self.runs = 0  # times frames() was started (the watchdog restarts it)

    @property
    def last_alive_monotonic(self) -> float:
        return self._alive

    @property
    def problem(self) -> str:
        return ""

    def frames(self, stop: threading.Event) -> Iterator[DecodedFrame]:
        self.runs += 1
        index = 0
        while (self.is_live or index < self._frame_count) and not stop.is_set():
            if self._fail_after is not None and index >= self._fail_after:
                raise OSError(f"corrupt packet in {self.location}")
            time_s = index / self._fps
            self._alive = time.monotonic()
            yield DecodedFrame.from_rgb(time_s, solid(colour_at(time_s, self._scenes)))
            index += 1
            if self.is_live:
                stop.wait(1.0 / self._fps)


class PatchEncoder(FakeEncoder):
    """The fake encoder with patch tokens: a 4 x 4 grid of cell mean colours, (N, 16, 3)."""

    patch_dim = 3

    def encode_with_patches(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        cells = []
        for image in images:
            height, width = image.shape[0] // 4 * 4, image.shape[1] // 4 * 4
            grid = image[:height, :width].reshape(4, height // 4, 4, width // 4, 3).astype(np.float32)
            cells.append(grid.mean(axis=(1, 3)).reshape(16, 3))  # (16, 3)
        return self.encode(images), np.stack(cells)  # (N, D), (N, 16, 3)


def patch_compute(encoder: FakeEncoder | None = None) -> Compute:
    """A Compute over a fake captioner whose encoder gives patch tokens (PatchEncoder unless given)."""
    return Compute(encoder or PatchEncoder(), FakeCaptioner())
