"""File decoding speed: full decoding (the old ceiling), keyframe-only, keyframes-first as the source runs, decord.

One 1280x720 25 fps H.264 file with a keyframe every 2 s: a fixed camera with sensor noise, and a line
of text shown for 10 s every 90 s (the events). Each decoder runs through a Sampler at 1 fps, as the
stream worker consumes it (one grey thumbnail per yielded frame); an event counts as found when a
sampled frame within one sample period of its start is a scene change.

    .venv/bin/python -m benchmarks.decode [--quick]

--quick: 3 minutes of video, else 20. The video is cached under benchmarks/results/videos/.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from benchmarks.common import RESULTS_DIR, command_block, table, write_result
from perception.core.sampler import Sampler, SamplerConfig
from perception.core.sources import SourceOptions, open_source
from perception.core.sources.av_frames import decoded
from perception.core.types import DecodedFrame

WIDTH, HEIGHT, FPS = 1280, 720, 25
GOP_FRAMES = 50  # a keyframe every 2 s
EVENT_PERIOD_S = 90.0  # a text event every 90 s, first at half a period
EVENT_SHOWN_S = 10.0
NOISE_SIGMA = 2.0  # 8-bit grey levels: sensor noise a 64-pixel thumbnail averages away
NOISE_PATTERNS = 4
SAMPLE_FPS = 1.0


@dataclass(frozen=True)
class Row:
    name: str
    frames_decoded: int
    gops_decoded_fully: int
    gops: int
    wall_s: float
    video_s: float
    events_found: int
    events: int

    @property
    def decoded_fps(self) -> float:
        return self.frames_decoded / self.wall_s

    @property
    def x_real_time(self) -> float:
        return self.video_s / self.wall_s


def event_starts_s(duration_s: float) -> list[float]:
    return [start for start in np.arange(EVENT_PERIOD_S / 2, duration_s, EVENT_PERIOD_S).tolist()]


def _images() -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 scenes without and with the event's text."""
    scenes = []
    for text in ("", "GATE 3 OPEN  TRUCK 4417"):
        image = Image.new("RGB", (WIDTH, HEIGHT), (96, 98, 102))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, WIDTH, HEIGHT // 3), fill=(150, 140, 128))
        draw.rectangle((WIDTH // 10, HEIGHT // 12, WIDTH * 9 // 10, HEIGHT * 5 // 12), fill=(20, 22, 26))
        if text:
            draw.text((WIDTH // 10 + 24, HEIGHT // 12 + 40), text, fill=(255, 220, 60), font=ImageFont.load_default(72))
        scenes.append(np.asarray(image))
    return scenes[0], scenes[1]


def write_video(path: Path, duration_s: float) -> float:
    """Writes the benchmark video (unless cached); returns the seconds it took (0 when cached)."""
    if path.exists():
        return 0.0
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, NOISE_SIGMA, size=(NOISE_PATTERNS, HEIGHT, WIDTH, 3)).round().astype(np.int16)
    frames = [
        [
            av.VideoFrame.from_ndarray(np.clip(scene + pattern, 0, 255).astype(np.uint8), format="rgb24")
            for pattern in noise
        ]
        for scene in (image.astype(np.int16) for image in _images())
    ]  # [text shown][noise pattern]
    starts = event_starts_s(duration_s)
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "26", "g": str(GOP_FRAMES), "keyint_min": str(GOP_FRAMES)}
        stream.options = {**stream.options, "sc_threshold": "0"}
        for index in range(round(duration_s * FPS)):
            time_s = index / FPS
            shown = any(start <= time_s < start + EVENT_SHOWN_S for start in starts)
            frame = frames[int(shown)][index % NOISE_PATTERNS]
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.rename(path)
    return time.perf_counter() - started


def keyframes_only(path: Path, stop: threading.Event) -> Iterator[DecodedFrame]:
    """PyAV decoding keyframes alone (skip_frame NONKEY): the ceiling of keyframes-first."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for frame in container.decode(stream):
            if stop.is_set():
                return
            yield decoded(frame, frame.time or 0.0, max(WIDTH, HEIGHT))


def run(name: str, frames: Callable[[threading.Event], Iterator[DecodedFrame]], stats, video_s: float) -> Row:
    """Feeds the frames through a 1 fps sampler; counts events found and what decoding cost."""
    sampler = Sampler(SamplerConfig(sample_fps=SAMPLE_FPS, thumbnail_width_px=64))
    changes: list[float] = []
    started = time.perf_counter()
    yielded = 0
    for frame in frames(threading.Event()):
        yielded += 1
        kept = sampler.offer(frame)
        if kept is not None:
            _ = kept.frame.image  # the worker converts every sampled frame to RGB
            if kept.is_scene_change:
                changes.append(kept.frame.time_s)
    wall_s = time.perf_counter() - started
    starts = event_starts_s(video_s)
    found = sum(any(start <= t <= start + 1.0 / SAMPLE_FPS + 1e-6 for t in changes) for start in starts)
    current = stats() if stats else None
    return Row(
        name=name,
        frames_decoded=current.frames_decoded if current else yielded,
        gops_decoded_fully=current.gops_decoded_fully if current else 0,
        gops=current.gops if current else 0,
        wall_s=wall_s,
        video_s=video_s,
        events_found=found,
        events=len(starts),
    )


def file_run(path: Path, name: str, video_s: float, **options) -> Row:
    source = open_source("bench", str(path), SourceOptions(**options))
    return run(name, source.frames, lambda: source.stats, video_s)


def measure(path: Path, video_s: float) -> list[Row]:
    decord = {"file_decoder": "decord"}
    rows = [
        file_run(path, "full decoding, PyAV (the old ceiling)", video_s, file_decode="full"),
        run("keyframes only, PyAV skip_frame=NONKEY", lambda stop: keyframes_only(path, stop), None, video_s),
        file_run(
            path, "keyframes-first, sample rate known (1 fps)", video_s, file_decode="auto", sample_fps=SAMPLE_FPS
        ),
        file_run(path, "keyframes-first, sample rate unknown", video_s, file_decode="auto"),
        file_run(path, "decord, by index at the 1 fps grid (frames fetched)", video_s, **decord, sample_fps=SAMPLE_FPS),
        file_run(path, "decord, every frame", video_s, **decord),
    ]
    return rows


def report(rows: list[Row], command: str, video_s: float, write_s: float) -> tuple[str, dict]:
    header = [
        "decoding",
        "frames decoded",
        "GOPs decoded fully",
        "wall s",
        "decoded fps",
        "x real time",
        "events found",
    ]
    body = [
        [
            row.name,
            f"{row.frames_decoded:,}",
            f"{row.gops_decoded_fully} / {row.gops}" if row.gops else "-",
            f"{row.wall_s:.1f}",
            f"{row.decoded_fps:.0f}",
            f"{row.x_real_time:.1f}x",
            f"{row.events_found} / {row.events}",
        ]
        for row in rows
    ]
    markdown = "\n\n".join(
        [
            "## File decoding",
            command_block(command),
            f"{video_s / 60:.0f} min of 1280x720 {FPS} fps H.264, a keyframe every {GOP_FRAMES / FPS:g} s, a static "
            f"scene with noise and {EVENT_SHOWN_S:g} s of text every {EVENT_PERIOD_S:g} s; every decoder feeds a "
            f"{SAMPLE_FPS:g} fps sampler (a thumbnail per yielded frame, RGB per sampled frame). One run.",
            table(header, body),
        ]
    )
    data = {
        "video_s": video_s,
        "write_s": write_s,
        "rows": [asdict(row) | {"x_real_time": row.x_real_time} for row in rows],
    }
    return markdown, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 minutes of video instead of 20")
    args = parser.parse_args()
    video_s = 180.0 if args.quick else 1200.0
    path = (RESULTS_DIR / "videos" / f"decode-720p{FPS}-g{GOP_FRAMES}-{video_s:.0f}s.mp4").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_s = write_video(path, video_s)
    command = ".venv/bin/python -m benchmarks.decode" + (" --quick" if args.quick else "")
    markdown, data = report(measure(path, video_s), command, video_s, write_s)
    write_result("decode", markdown, data)


if __name__ == "__main__":
    main()
