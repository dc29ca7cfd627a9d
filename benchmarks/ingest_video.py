"""A camera-like H.264 file for benchmarks.ingest: 1280x720 at 25 fps with a keyframe every 2 s, a fixed scene
with sensor noise, and a text event every few minutes (a line with a code of its own shows for a few seconds).

Every frame is one of a few pre-rendered images plus one of a few pre-drawn noise patterns, so writing costs
only the encode. Keyframes are placed by the encoder's own settings (keyint = min-keyint, no scene cut), as a
camera's fixed GOP would. The file is cached by its parameters: a rerun reuses it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

NOISE_SIGMA = 2.0  # 8-bit grey levels: below the sampler's change threshold, as a good camera's noise
NOISE_PATTERNS = 8  # pre-drawn patterns, cycled


@dataclass(frozen=True)
class CameraSpec:
    duration_s: int
    fps: int = 25
    width: int = 1280
    height: int = 720
    keyframe_every_s: float = 2.0
    event_every_s: float = 120.0  # a text event starts every this many seconds, the first at half of it
    event_length_s: float = 8.0  # how long each event's line stays on screen

    @property
    def frames(self) -> int:
        return self.duration_s * self.fps

    def events(self) -> list[Event]:
        """The events, in time order; each with a code of its own."""
        starts = np.arange(self.event_every_s / 2, self.duration_s - self.event_length_s, self.event_every_s)
        return [
            Event(float(start), float(start) + self.event_length_s, f"GATE {index + 3} CODE {4817 + 293 * index}")
            for index, start in enumerate(starts)
        ]


@dataclass(frozen=True)
class Event:
    start_s: float
    end_s: float
    text: str

    @property
    def code(self) -> str:
        return self.text.rsplit(" ", 1)[-1]


def _scene(spec: CameraSpec, text: str) -> np.ndarray:
    """(H, W, 3) uint8: a textured yard, a gate and a dark sign board, `text` on the board when given."""
    image = Image.fromarray(_texture(spec))
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (spec.width * 3 // 5, spec.height // 5, spec.width * 4 // 5, spec.height * 3 // 5), fill=(70, 60, 50)
    )
    board = (spec.width // 12, spec.height // 10, spec.width // 2, spec.height // 4)
    draw.rectangle(board, fill=(18, 20, 24))
    if text:
        font = ImageFont.load_default(size=spec.height // 20)  # 36 px on 720 p: a sign read from across a yard
        draw.text((board[0] + 16, board[1] + 16), text, fill=(250, 230, 90), font=font)
    return np.asarray(image)


def _texture(spec: CameraSpec) -> np.ndarray:
    """(H, W, 3) uint8 gravel and brick-like detail: a real yard has texture, which is what makes a camera's
    keyframes (and its noise-laden P-frames) cost what they do to decode. Fixed: it is part of the scene."""
    rng = np.random.default_rng(12345)
    cells = rng.integers(60, 170, size=(spec.height // 4, spec.width // 4, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(cells).resize((spec.width, spec.height), Image.Resampling.BICUBIC))


def _noisy_frames(scene: np.ndarray, noise: np.ndarray) -> list[av.VideoFrame]:
    base = scene.astype(np.int16)
    return [
        av.VideoFrame.from_ndarray(np.clip(base + pattern, 0, 255).astype(np.uint8), format="rgb24")
        for pattern in noise
    ]


def write_camera_video(directory: Path, spec: CameraSpec, seed: int = 0) -> Path:
    """The video for `spec` under `directory`, written unless a file for the same spec and seed is there."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"camera-{spec.width}x{spec.height}-{spec.fps}fps-{spec.duration_s}s-seed{seed}.mp4"
    stamp = path.with_suffix(".json")
    wanted = json.dumps({**asdict(spec), "seed": seed}, sort_keys=True)
    if path.exists() and stamp.exists() and stamp.read_text() == wanted:
        return path
    rng = np.random.default_rng(seed)
    noise = np.rint(rng.normal(0.0, NOISE_SIGMA, size=(NOISE_PATTERNS, spec.height, spec.width, 3))).astype(np.int16)
    quiet = _noisy_frames(_scene(spec, ""), noise)
    events = spec.events()
    keyint = round(spec.keyframe_every_s * spec.fps)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.options = {
            "crf": "20",
            "preset": "ultrafast",
            "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0",
        }
        showing: tuple[Event | None, list[av.VideoFrame]] = (None, quiet)
        for index in range(spec.frames):
            time_s = index / spec.fps
            event = next((e for e in events if e.start_s <= time_s < e.end_s), None)
            if event is not showing[0]:
                showing = (event, quiet if event is None else _noisy_frames(_scene(spec, event.text), noise))
            frame = showing[1][index % NOISE_PATTERNS]
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    stamp.write_text(wanted)
    return path
