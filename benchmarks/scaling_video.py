"""Cheap synthetic videos for benchmarks.scaling: a fixed camera with sensor noise, and optionally a
line of on-screen text that changes every `text_period_frames` frames.

Every frame is one of a few pre-rendered images (one per text) plus one of a few pre-drawn noise
patterns, so writing a long video costs only the H.264 encode ('ultrafast' preset, small frames).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

NOISE_SIGMA = 2.0  # 8-bit grey levels, as in longwatch.sample: below the sampler's change threshold
NOISE_PATTERNS = 4  # pre-drawn patterns, cycled
TEXT_VARIANTS = 8  # distinct texts, cycled when the text changes


@dataclass(frozen=True)
class VideoSpec:
    frames: int
    fps: int = 10
    width: int = 320
    height: int = 180
    text_period_frames: int = 0  # the text changes every this many frames; 0 = no text (a static scene)


@dataclass(frozen=True)
class WrittenVideo:
    path: Path
    spec: VideoSpec
    write_s: float  # wall seconds it took to write

    @property
    def duration_s(self) -> float:
        return self.spec.frames / self.spec.fps


def _scene(spec: VideoSpec, text: str) -> np.ndarray:
    """(H, W, 3) uint8: wall, floor, a dark panel, and `text` on the panel when given."""
    image = Image.new("RGB", (spec.width, spec.height), (96, 98, 102))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, spec.width, spec.height // 3), fill=(150, 140, 128))
    panel = (spec.width // 10, spec.height // 12, spec.width * 9 // 10, spec.height * 5 // 12)
    draw.rectangle(panel, fill=(20, 22, 26))
    if text:
        font = ImageFont.load_default(size=max(12, spec.height // 8))
        draw.text((panel[0] + 8, panel[1] + 8), text, fill=(255, 220, 60), font=font)
    return np.asarray(image)


def _texts(spec: VideoSpec) -> list[str]:
    if not spec.text_period_frames:
        return [""]
    return [f"BAY {index + 1} COUNT {4100 + 37 * index}" for index in range(TEXT_VARIANTS)]


def _frames(spec: VideoSpec, seed: int) -> list[list[av.VideoFrame]]:
    """[text][noise] pre-built frames: (H, W, 3) scene plus (H, W, 3) noise, clipped to uint8."""
    rng = np.random.default_rng(seed)
    noise = np.rint(rng.normal(0.0, NOISE_SIGMA, size=(NOISE_PATTERNS, spec.height, spec.width, 3)))
    frames = []
    for text in _texts(spec):
        scene = _scene(spec, text).astype(np.int16)
        noisy = [np.clip(scene + pattern, 0, 255).astype(np.uint8) for pattern in noise.astype(np.int16)]
        frames.append([av.VideoFrame.from_ndarray(pixels, format="rgb24") for pixels in noisy])
    return frames


def write_video(path: Path, spec: VideoSpec, seed: int = 0) -> WrittenVideo:
    """Writes `spec` as H.264 in MP4 at `path`; returns it with the time the writing took."""
    started = time.perf_counter()
    frames = _frames(spec, seed)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.options = {"crf": "28", "preset": "ultrafast"}
        for index in range(spec.frames):
            text_index = (index // spec.text_period_frames) % len(frames) if spec.text_period_frames else 0
            frame = frames[text_index][index % NOISE_PATTERNS]
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return WrittenVideo(path, spec, time.perf_counter() - started)
