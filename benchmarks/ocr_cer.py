"""OCR character error rate on generated frames with known text, old reader against new, in one run.

Frames (640 x 360 and 1280 x 720) carry codes, plates and sign words drawn with DejaVu Sans at several
text heights (cap height 8-20 px), contrasts (down to 30 grey levels from the background), Gaussian blur
(radius 1-2) and JPEG compression, from fixed seeds. Per condition: character error rate (edit distance
over reference length, the best-matching line read for each reference line), lines read exactly, lines
read that match nothing (spurious) and milliseconds per frame, for

- old: today's reader until issue 9: the whole frame upscaled to a 720 px shorter side, RapidOCR's own
  pipeline, lines under 0.7 confidence dropped;
- new: perception.core.captioners.ocr.TextReader, stateless (every frame read whole).

A last part reads a static 1280 x 720 "camera" whose code changes halfway, frame by frame as one stream:
the new reader with the stream as context re-reads only the changed tiles.

    .venv/bin/python -m benchmarks.ocr_cer [--quick]
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from rapidfuzz.distance import Levenshtein

from benchmarks.common import RESULTS_DIR, command_block, table, write_result
from perception.core.captioners.ocr import OcrConfig, TextReader
from perception.core.text_lines import tidy_line

logger = logging.getLogger(__name__)

FONT_PATH = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
TEXTS = (
    "LOCKER 42 CODE 5531",
    "EXIT 7",
    "AB12 CDE",
    "GATE B CLOSED",
    "KX59 RTE",
    "ALARM CODE 7315",
    "ROOM 214",
    "BAY 3 LOAD 18",
)
FRAME_SIZES = ((640, 360), (1280, 720))
LINES_PER_FRAME = 3
HIGH_CONTRAST_LEVELS = 150


@dataclass(frozen=True)
class Condition:
    name: str
    cap_px: int  # height of a capital letter, in pixels
    contrast_levels: int  # grey levels between the text and the background under it
    blur_radius_px: float = 0.0  # Gaussian blur after drawing
    jpeg_quality: int = 95  # JPEG round trip at this quality


CONDITIONS = (
    Condition("clean, 20 px", 20, HIGH_CONTRAST_LEVELS),
    Condition("small, 14 px", 14, HIGH_CONTRAST_LEVELS),
    Condition("small, 10 px", 10, HIGH_CONTRAST_LEVELS),
    Condition("small, 8 px", 8, HIGH_CONTRAST_LEVELS),
    Condition("low contrast (30), 16 px", 16, 30),
    Condition("low contrast (30), 12 px", 12, 30),
    Condition("blur r=1, 14 px", 14, HIGH_CONTRAST_LEVELS, blur_radius_px=1.0),
    Condition("blur r=2, 18 px", 18, HIGH_CONTRAST_LEVELS, blur_radius_px=2.0),
    Condition("JPEG q=30, 12 px", 12, HIGH_CONTRAST_LEVELS, jpeg_quality=30),
    Condition("all: 12 px, contrast 30, blur 1, JPEG 50", 12, 30, blur_radius_px=1.0, jpeg_quality=50),
)


# Frames ---------------------------------------------------------------------------------------------


def font_for_cap_height(cap_px: int) -> ImageFont.FreeTypeFont:
    probe = ImageFont.truetype(str(FONT_PATH), 100)
    left, top, right, bottom = probe.getbbox("H")
    return ImageFont.truetype(str(FONT_PATH), max(1, round(cap_px * 100 / (bottom - top))))


def background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """(H, W) float grey: a gradient between two random levels, some flat clutter boxes, sensor noise."""
    width, height = size
    low, high = sorted(rng.uniform(60, 190, 2))
    grey = np.tile(np.linspace(low, high, width), (height, 1))  # (H, W)
    for _ in range(4):
        x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
        grey[y : y + int(rng.integers(20, 80)), x : x + int(rng.integers(20, 120))] = rng.uniform(60, 190)
    return grey + rng.normal(0, 3, grey.shape)


def draw_frame(
    size: tuple[int, int], texts: Sequence[str], condition: Condition, rng: np.random.Generator
) -> np.ndarray:
    """(H, W, 3) uint8 RGB with `texts` drawn in separate horizontal bands, then blurred and compressed."""
    width, height = size
    grey = background(size, rng)
    image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(image)
    font = font_for_cap_height(condition.cap_px)
    band = height // len(texts)
    for index, text in enumerate(texts):
        text_width = draw.textlength(text, font=font)
        x = int(rng.integers(8, max(9, width - int(text_width) - 8)))
        y = index * band + int(rng.integers(4, max(5, band - 2 * condition.cap_px)))
        under = float(grey[y : y + condition.cap_px * 2, x : x + int(text_width) + 1].mean())
        level = (
            under + condition.contrast_levels
            if under + condition.contrast_levels <= 255
            else under - condition.contrast_levels
        )
        draw.text((x, y), text, font=font, fill=(round(level),) * 3)
    if condition.blur_radius_px:
        image = image.filter(ImageFilter.GaussianBlur(condition.blur_radius_px))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=condition.jpeg_quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


# Readers --------------------------------------------------------------------------------------------


class OldReader:
    """The reader perception used until issue 9, kept here as the baseline."""

    min_side_px = 720
    min_confidence = 0.7

    def __init__(self) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self._engine = RapidOCR()

    def read(self, image: np.ndarray, context: str = "") -> tuple[str, ...]:
        height, width = image.shape[:2]
        if min(height, width) < self.min_side_px:
            scale = self.min_side_px / min(height, width)
            size = (round(width * scale), round(height * scale))
            image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC))
        result, _ = self._engine(np.ascontiguousarray(image[..., ::-1]))
        lines = (tidy_line(text) for _box, text, score in result or () if score >= self.min_confidence)
        return tuple(line for line in lines if line)


# Scoring --------------------------------------------------------------------------------------------


def key(line: str) -> str:
    return " ".join(line.split()).casefold()


def score_frame(references: Sequence[str], reads: Sequence[str]) -> dict:
    """Edit distance of the best read for each reference (capped at its length), exact lines, spurious reads."""
    errors = exact = 0
    for reference in references:
        distances = [Levenshtein.distance(key(reference), key(read)) for read in reads]
        best = min(distances, default=len(reference))
        errors += min(best, len(reference))
        exact += best == 0
    spurious = sum(
        all(Levenshtein.normalized_distance(key(read), key(reference)) > 0.5 for reference in references)
        for read in reads
    )
    return {
        "errors": errors,
        "chars": sum(len(r) for r in references),
        "exact": exact,
        "lines": len(references),
        "spurious": spurious,
    }


def measure(
    read: Callable[[np.ndarray], tuple[str, ...]], frames: Sequence[tuple[np.ndarray, tuple[str, ...]]]
) -> dict:
    totals = {"errors": 0, "chars": 0, "exact": 0, "lines": 0, "spurious": 0, "seconds": 0.0}
    misreads: list[str] = []
    for image, references in frames:
        started = time.perf_counter()
        reads = read(image)
        totals["seconds"] += time.perf_counter() - started
        for name, value in score_frame(references, reads).items():
            totals[name] += value
        if len(misreads) < 3 and set(map(key, references)) - set(map(key, reads)):
            misreads.append(" / ".join(reads) or "(nothing)")
    return totals | {
        "cer": totals["errors"] / max(totals["chars"], 1),
        "ms_per_frame": 1000 * totals["seconds"] / max(len(frames), 1),
        "frames": len(frames),
        "misread_examples": misreads,
    }


def condition_frames(condition: Condition, index: int, per_size: int) -> list[tuple[np.ndarray, tuple[str, ...]]]:
    rng = np.random.default_rng(1000 + index)  # fixed per condition: the same frames every run
    frames = []
    for size in FRAME_SIZES:
        for _ in range(per_size):
            texts = tuple(str(text) for text in rng.choice(TEXTS, LINES_PER_FRAME, replace=False))
            frames.append((draw_frame(size, texts, condition, rng), texts))
    return frames


def conditions_part(readers: dict[str, Callable], per_size: int) -> list[dict]:
    rows = []
    for index, condition in enumerate(CONDITIONS):
        frames = condition_frames(condition, index, per_size)
        row = {"condition": asdict(condition)}
        for name, read in readers.items():
            row[name] = measure(read, frames)
        rows.append(row)
        logger.warning("%s: %s", condition.name, {name: round(row[name]["cer"], 3) for name in readers})
    return rows


def stream_part(frame_count: int) -> dict:
    """A static camera (four signs, sensor noise) whose code changes halfway, read frame by frame."""
    rng = np.random.default_rng(7)
    size, condition = (1280, 720), Condition("stream, 14 px", 14, HIGH_CONTRAST_LEVELS)
    before = ("LOCKER 42 CODE 5531", "EXIT 7", "AB12 CDE", "ROOM 214")
    after = ("LOCKER 42 CODE 5532", *before[1:])
    scenes = [draw_frame(size, texts, condition, np.random.default_rng(11)) for texts in (before, after)]
    frames = []
    for index in range(frame_count):
        texts = before if index < frame_count // 2 else after
        noisy = scenes[texts is after].astype(np.int16) + rng.normal(0, 2, scenes[0].shape).astype(np.int16)
        frames.append((np.clip(noisy, 0, 255).astype(np.uint8), texts))
    old, new = OldReader(), TextReader(OcrConfig())
    return {
        "frames": frame_count,
        "old": measure(old.read, frames),
        "new, stateless": measure(new.read, frames),
        "new, stream as context": measure(lambda image: new.read(image, "camera-1"), frames),
    }


# Report ---------------------------------------------------------------------------------------------


def markdown(figures: dict, command: str) -> str:
    header = [
        "condition",
        "CER old",
        "CER new",
        "exact old",
        "exact new",
        "spurious old/new",
        "ms/frame old",
        "ms/frame new",
    ]
    rows = []
    for row in figures["conditions"]:
        old, new = row["old"], row["new"]
        rows.append(
            [
                row["condition"]["name"],
                f"{old['cer']:.3f}",
                f"{new['cer']:.3f}",
                f"{old['exact']}/{old['lines']}",
                f"{new['exact']}/{new['lines']}",
                f"{old['spurious']}/{new['spurious']}",
                f"{old['ms_per_frame']:.0f}",
                f"{new['ms_per_frame']:.0f}",
            ]
        )
    stream = figures["stream"]
    stream_rows = [
        [name, f"{result['cer']:.3f}", f"{result['exact']}/{result['lines']}", f"{result['ms_per_frame']:.0f}"]
        for name, result in stream.items()
        if isinstance(result, dict)
    ]
    return "\n\n".join(
        [
            "## OCR character error rate",
            command,
            f"{figures['frames_per_condition']} frames per condition (half 640 x 360, half 1280 x 720), "
            f"{LINES_PER_FRAME} lines each; CER = edit distance / reference characters (case and runs of spaces "
            "ignored), exact = lines read exactly, spurious = lines read that match no reference.",
            table(header, rows),
            f"A static 1280 x 720 camera, {stream['frames']} frames read in order, its code changing halfway:",
            table(["reader", "CER", "exact", "ms/frame"], stream_rows),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick", action="store_true", help="1 frame per size and condition, 6 stream frames (else 3 and 12)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where ocr_cer.md and ocr_cer.json go")
    args = parser.parse_args()
    command = " ".join([".venv/bin/python -m benchmarks.ocr_cer", *sys.argv[1:]])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    per_size = 1 if args.quick else 3
    started = time.perf_counter()
    old, new = OldReader(), TextReader(OcrConfig())
    figures = {
        "conditions": conditions_part({"old": old.read, "new": new.read}, per_size),
        "stream": stream_part(6 if args.quick else 12),
        "frames_per_condition": per_size * len(FRAME_SIZES),
    }
    figures |= {"command": command, "wall_s": time.perf_counter() - started, "is_quick": args.quick}
    write_result("ocr_cer", markdown(figures, command_block(command)), figures, args.results)


if __name__ == "__main__":
    main()
