"""Synthetic camera history for benchmarks.memory: a loading dock that mostly does nothing.

Every clip shows the same scene and the same two signs; a third on-screen line is filler drawn per clip
from a small vocabulary (so the vectors are not all identical); about one clip in `EVENT_EVERY` shows a
distinct event instead of the still scene; three needles with codes of their own per stream sit at known
fractions of the stream's length. Keyframes are textured 480x270 JPEGs (gradients, boxes, a moving car,
sensor noise), the size a real camera frame has at quality 75, not a flat colour that compresses to nothing.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image, ImageDraw

from longwatch.types import ClipRecord, Keyframe

SCENE = "a loading dock with a closed grey shutter door and a forklift parked by the wall"
SCENE_LINES = ("DOCK 3", "NO PARKING")  # signs always in view: a static scene repeats itself
# None of the needles' words or codes; numbers below 1,000, the needles' codes above.
_FILLER_WORDS = (
    "BAY LEVEL ZONE DOOR LIFT STAIRS NORTH SOUTH EAST WEST VISITOR STAFF LOADING ENTRY RAMP FLOOR ROOF "
    "CHARGING TICKETS PAY HERE OPEN MAX HEIGHT SPEED LIMIT WAITING DELIVERIES RESERVED"
).split()
EVENTS = (
    "a delivery van backs up to the dock",
    "a worker in a yellow vest walks across the yard",
    "the forklift moves a pallet of boxes",
    "the shutter door opens and closes again",
    "a cyclist rides past the gate",
    "rain starts falling on the yard",
)
EVENT_EVERY = 37  # clips per distinct event on average: one every 2.5 min of 4 s clips
SCENE_QUESTIONS = ("Is the shutter door of the loading dock open?", "What is happening in the yard?")


@dataclass(frozen=True)
class Needle:
    """One planted clip: its text, where it sits (a fraction of the stream's length), and its question."""

    name: str
    fraction: float
    caption: str
    line: str
    question: str


@dataclass(frozen=True)
class Query:
    """One search of the mix: `needle` is the clip its top hit must overlap, None for a scene question."""

    kind: str
    text: str
    needle: Needle | None


@dataclass(frozen=True)
class SyntheticStream:
    """`hours` of clips `clip_s` long; `seed` picks the needles' codes and the events' places."""

    stream_id: str
    hours: float
    clip_s: float
    seed: int

    @property
    def clip_count(self) -> int:
        return round(self.hours * 3600 / self.clip_s)

    @cached_property
    def needles(self) -> tuple[Needle, ...]:
        plate, code = f"KPL {4721 + 101 * self.seed}", f"{7315 + 111 * self.seed}-Q"
        return (
            Needle(
                "fire engine",
                0.23,
                "a red fire engine stops at the gate with its lights flashing",
                "",
                "When did the red fire engine stop at the gate?",
            ),
            Needle(
                "plate",
                0.61,
                "a white van waits at the barrier",
                plate,
                f"When was the van with number plate {plate} at the barrier?",
            ),
            Needle(
                "alarm", 0.83, "the panel by the door shows an alarm", f"ALARM CODE {code}", "What was the alarm code?"
            ),
        )

    @property
    def code(self) -> str:
        return self.needles[2].line.removeprefix("ALARM CODE ")

    def queries(self) -> list[Query]:
        """The mix asked of the stream each round: three needle questions, two scene questions, a code lookup."""
        mix = [Query(needle.name, needle.question, needle) for needle in self.needles]
        mix += [Query("scene", question, None) for question in SCENE_QUESTIONS]
        return [*mix, Query("code lookup", self.code, self.needles[2])]

    def needle_index(self, needle: Needle) -> int:
        return min(self.clip_count - 1, int(needle.fraction * self.clip_count))

    def span_s(self, index: int) -> tuple[float, float]:
        return index * self.clip_s, (index + 1) * self.clip_s

    @cached_property
    def _needle_at(self) -> dict[int, Needle]:
        return {self.needle_index(needle): needle for needle in self.needles}

    def clip(self, index: int, keyframe: bytes = b"") -> ClipRecord:
        caption, lines = SCENE, [*SCENE_LINES]
        needle = self._needle_at.get(index)
        draw = random.Random(self.seed * 1_000_003 + index)
        if needle is not None:
            caption = needle.caption
            lines += [needle.line] if needle.line else []
        elif draw.random() < 1 / EVENT_EVERY:
            caption = draw.choice(EVENTS)
        lines.append(f"{' '.join(draw.sample(_FILLER_WORDS, 3))} {index % 997}")
        start_s, end_s = self.span_s(index)
        frames = (Keyframe(t_s=start_s + self.clip_s / 2, jpeg=keyframe),) if keyframe else ()
        return ClipRecord(self.stream_id, start_s, end_s, caption, tuple(lines), frame_count=4, keyframes=frames)


FRAME_W, FRAME_H = 480, 270  # perception's keyframe_max_side_px at 16:9
JPEG_QUALITY = 75  # perception's keyframe_jpeg_quality
FRAME_NOISE = 12.0  # sensor-noise sigma in grey levels: ~27 KB per frame at quality 75, as a real camera's


class FrameMaker:
    """Textured camera-like frames: a fixed background of gradients and boxes, a car that moves, fresh noise."""

    def __init__(self, seed: int = 0) -> None:
        y, x = np.mgrid[0:FRAME_H, 0:FRAME_W]
        channels = (90 + 60 * np.sin(x / 37.0), 110 + 40 * np.cos(y / 23.0), 100 + 0.2 * x)
        background = Image.fromarray(np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8))  # (H, W, 3)
        draw, rng = ImageDraw.Draw(background), np.random.default_rng(seed)
        for _ in range(25):
            x0, y0 = int(rng.integers(0, FRAME_W)), int(rng.integers(0, FRAME_H))
            x1, y1 = x0 + int(rng.integers(10, 120)), y0 + int(rng.integers(10, 80))
            draw.rectangle((x0, y0, x1, y1), fill=tuple(int(v) for v in rng.integers(0, 255, 3)), outline=(0, 0, 0))
        self._background = background
        self._seed = seed

    def jpeg(self, index: int) -> bytes:
        frame = self._background.copy()
        left = (index * 7) % FRAME_W
        ImageDraw.Draw(frame).rectangle((left, 150, left + 60, 190), fill=(200, 30, 30))
        noise = np.random.default_rng((self._seed, index)).normal(0.0, FRAME_NOISE, (FRAME_H, FRAME_W, 3))
        pixels = np.clip(np.asarray(frame, dtype=np.float32) + noise, 0, 255).astype(np.uint8)  # (H, W, 3)
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, "JPEG", quality=JPEG_QUALITY)
        return out.getvalue()
