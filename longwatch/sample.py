"""A deterministic synthetic surveillance video with on-screen text at known times.

`longwatch make-sample` writes it with a ground-truth JSON beside it; the demo and the
tests ingest it and check that answers cite evidence inside the right event. The scene
is a fixed camera on a car park: asphalt, a wall, a monitor on the wall and a sign post,
with mild sensor noise. Events (a car with a number plate, a sign, a code on the monitor,
a delivery truck, an exit sign) appear and disappear at set times.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 360
FPS = 10
DURATION_S = 48.0
# Sensor noise, in 8-bit grey levels: enough that no two frames are byte-identical.
NOISE_SIGMA = 2.0
# Noise patterns drawn once and picked at random per frame: drawing fresh noise for every
# frame would dominate the time to write the sample.
NOISE_PATTERNS = 8


@dataclass(frozen=True)
class Event:
    """Something with text on screen during [start_s, end_s), and a question it answers."""

    id: str
    kind: str
    text: str
    start_s: float
    end_s: float
    question: str
    answer: str


# One event per two lines reads as a table.
# fmt: off
EVENTS: tuple[Event, ...] = (
    Event("car", "number_plate", "KPL 4721", 3.0, 9.0,
          "When was the car with number plate KPL 4721 in view?", "0:03-0:09"),
    Event("gate_sign", "sign", "GATE B CLOSED", 12.0, 18.0,
          "What did the sign at the gate say?", "GATE B CLOSED"),
    Event("alarm", "screen", "ALARM CODE 7315", 21.0, 27.0,
          "What was the alarm code on the screen?", "7315"),
    Event("truck", "number_plate", "DELIVERY MXD 3390", 30.0, 36.0,
          "What was the number plate of the delivery truck?", "MXD 3390"),
    Event("exit_sign", "sign", "EXIT 42", 39.0, 45.0,
          "Which exit number was shown on the sign?", "42"),
)
# fmt: on


@dataclass(frozen=True)
class GroundTruth:
    video: str
    seed: int
    fps: int
    duration_s: float
    width: int
    height: int
    events: tuple[Event, ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> GroundTruth:
        data = json.loads(text)
        data["events"] = tuple(Event(**event) for event in data["events"])
        return cls(**data)


def _font(size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size_px)


def _background() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), (96, 98, 102))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 120), fill=(150, 140, 128))  # wall
    draw.rectangle((440, 20, 620, 100), fill=(30, 32, 36))  # monitor, off
    draw.rectangle((40, 60, 46, 200), fill=(70, 70, 70))  # sign post
    for x in range(0, WIDTH, 80):  # parking bay lines
        draw.rectangle((x, 240, x + 4, HEIGHT), fill=(220, 220, 210))
    return image


def _draw_plate(draw: ImageDraw.ImageDraw, x: int, y: int, text: str) -> None:
    font = _font(30)
    width = int(draw.textlength(text, font=font)) + 24
    draw.rectangle((x, y, x + width, y + 42), fill=(245, 245, 240), outline=(0, 0, 0), width=2)
    draw.text((x + 12, y + 5), text, fill=(10, 10, 10), font=font)


def _draw_car(draw: ImageDraw.ImageDraw, event: Event) -> None:
    draw.rounded_rectangle((150, 170, 450, 300), radius=24, fill=(40, 70, 160))
    draw.ellipse((180, 280, 230, 330), fill=(20, 20, 20))
    draw.ellipse((370, 280, 420, 330), fill=(20, 20, 20))
    _draw_plate(draw, 220, 230, event.text)


def _draw_sign(draw: ImageDraw.ImageDraw, event: Event) -> None:
    font = _font(34)
    width = int(draw.textlength(event.text, font=font)) + 30
    draw.rectangle((60, 130, 60 + width, 185), fill=(20, 110, 40), outline=(255, 255, 255), width=3)
    draw.text((75, 138), event.text, fill=(255, 255, 255), font=font)


def _draw_screen(draw: ImageDraw.ImageDraw, event: Event) -> None:
    draw.rectangle((300, 20, 620, 100), fill=(10, 10, 10))
    draw.text((315, 40), event.text, fill=(255, 60, 60), font=_font(32))


def _draw_truck(draw: ImageDraw.ImageDraw, event: Event) -> None:
    label, plate = event.text.split(" ", 1)
    draw.rectangle((90, 130, 520, 300), fill=(230, 200, 40))
    draw.text((130, 150), label, fill=(20, 20, 20), font=_font(48))
    draw.ellipse((130, 285, 190, 345), fill=(20, 20, 20))
    draw.ellipse((420, 285, 480, 345), fill=(20, 20, 20))
    _draw_plate(draw, 230, 235, plate)


_PAINTERS: dict[str, Callable[[ImageDraw.ImageDraw, Event], None]] = {
    "car": _draw_car,
    "gate_sign": _draw_sign,
    "alarm": _draw_screen,
    "truck": _draw_truck,
    "exit_sign": _draw_sign,
}


def noise_patterns(rng: np.random.Generator) -> np.ndarray:
    """(NOISE_PATTERNS, H, W, 3) int16 sensor noise."""
    noise = rng.normal(0.0, NOISE_SIGMA, size=(NOISE_PATTERNS, HEIGHT, WIDTH, 3))
    return np.rint(noise).astype(np.int16)


def render_frame(t_s: float, background: Image.Image, noise: np.ndarray) -> np.ndarray:
    """The frame at stream time `t_s` with one (H, W, 3) noise pattern added, as (H, W, 3) uint8."""
    image = background.copy()
    draw = ImageDraw.Draw(image)
    for event in EVENTS:
        if event.start_s <= t_s < event.end_s:
            _PAINTERS[event.id](draw, event)
    pixels = np.asarray(image, dtype=np.int16) + noise  # (H, W, 3)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def make_sample(video_path: Path, seed: int = 0) -> GroundTruth:
    """Writes the video (H.264 in MP4) and `<video>.json` with the ground truth; returns it."""
    video_path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    noise = noise_patterns(rng)
    background = _background()
    with av.open(str(video_path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        # Fixed encoder settings and one thread keep the bytes the same for the same seed.
        stream.options = {"crf": "23", "preset": "veryfast", "threads": "1"}
        for index in range(int(DURATION_S * FPS)):
            image = render_frame(index / FPS, background, noise[rng.integers(NOISE_PATTERNS)])
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    truth = GroundTruth(video_path.name, seed, FPS, DURATION_S, WIDTH, HEIGHT, EVENTS)
    ground_truth_path(video_path).write_text(truth.to_json())
    return truth


def ground_truth_path(video_path: Path) -> Path:
    return video_path.with_suffix(".json")
