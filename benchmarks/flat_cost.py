"""Perception's per-frame cost and resident memory at the 1,000th and at the 100,000th frame of one stream,
measured in one run (issue 9: ratio <= 1.1, memory flat).

    .venv/bin/python -m benchmarks.flat_cost [--quick] [--results DIR]    (--quick: stop at frame 20,000)

The real in-process path: a StreamWorker with the real pixel-statistics encoder (through Compute), the
sampler, the frame cache, the Flash Memory (default K and D), token merging where the encoder gives patch
tokens, the clip assembler and the keyframes' JPEG encoding; a captioner that reads no text (OCR would
dominate and is measured in benchmarks.ingest) and a sink that acknowledges and forgets each clip. Frames
come from a generator: 160x90 RGB at 25 fps, every frame sampled (sample_fps = 25); the scene changes every
200 frames among 16 recurring views, and a small object moves every 10 frames, so about one frame in ten
goes through the encoder and the rest reuse cached features. Cost is the process's CPU time
(time.process_time: every thread) per frame, over 10 windows of 100 frames centred on each point (each
window holds one clip's captioning and delivery); the ratio is of the fastest windows, the least disturbed
by other processes on a shared machine (the load average at each point is shown), and of the medians; a
fixed calibration workload (pixel statistics of 50 frames, on the source's thread) is timed before and after
each point's windows, to tell a slower pipeline from a busier machine;
resident memory is VmRSS from /proc/self/status when the point's frame is generated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.common import RESULTS_DIR, command_block, table, write_result
from longwatch.types import ClipRecord, StreamState
from perception.core.compute import Compute
from perception.core.encoders.pixel_stats import PixelStatsEncoder
from perception.core.frame_cache import CacheConfig
from perception.core.sampler import SamplerConfig
from perception.core.stream_worker import StreamWorker, WorkerConfig
from perception.core.types import DecodedFrame

FPS = 25  # source rate, and the sample rate: every frame goes through the pipeline
WIDTH_PX, HEIGHT_PX = 160, 90
SCENE_FRAMES = 200  # frames per view before the scene changes
VIEWS = 16  # distinct views, recurring in a shuffled order
MOVE_FRAMES = 10  # the object moves every this many frames: a frame-cache miss, not a scene change
WINDOWS = 10  # windows per point
WINDOW_FRAMES = 100  # frames per window
EARLY_FRAME = 1_000
LATE_FRAME = 100_000
QUICK_LATE_FRAME = 20_000


def rss_bytes() -> int:
    """This process's resident set size, from /proc/self/status (VmRSS, in kB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status: this benchmark needs Linux")


@dataclass
class Probe:
    """CPU time at window boundaries and RSS at the measured points, filled in by the source's thread."""

    boundaries: set[int]
    points: set[int]
    cpu_s: dict[int, float] = field(default_factory=dict)
    rss: dict[int, int] = field(default_factory=dict)
    load: dict[int, float] = field(default_factory=dict)  # 1-minute load average of the machine
    # A fixed workload timed before and after each point's windows: how fast the shared machine is then.
    calibrate_at: set[int] = field(default_factory=set)
    calibration_ms: dict[int, float] = field(default_factory=dict)

    def at(self, index: int) -> None:
        if index in self.calibrate_at:
            self.calibration_ms[index] = calibration_ms()
        if index in self.boundaries:
            self.cpu_s[index] = time.process_time()
        if index in self.points:
            self.rss[index] = rss_bytes()
            self.load[index] = os.getloadavg()[0]


_CALIBRATION_FRAMES = [np.full((HEIGHT_PX, WIDTH_PX, 3), level, dtype=np.uint8) for level in range(0, 250, 5)]


def calibration_ms() -> float:
    """CPU ms of this thread to encode 50 frames with pixel statistics (PIL and numpy, like the pipeline)."""
    encoder = PixelStatsEncoder()
    started = time.thread_time()
    encoder.encode(_CALIBRATION_FRAMES)
    return (time.thread_time() - started) * 1e3


class SyntheticSource:
    """A FrameSource of generated frames (a file-like source: backpressure, no drops)."""

    location = display = "synthetic://flat-cost"
    is_live = False
    source_key = "flat-cost"
    problem = ""

    def __init__(self, frame_count: int, probe: Probe) -> None:
        self.duration_s = frame_count / FPS
        self._frame_count = frame_count
        self._probe = probe
        rng = np.random.default_rng(0)
        self._views = [self._view(rng) for _ in range(VIEWS)]  # (VIEWS, H, W, 3) rendered once
        self._order = rng.permutation(np.arange(frame_count // SCENE_FRAMES + 1) % VIEWS)
        self._alive = time.monotonic()

    @property
    def last_alive_monotonic(self) -> float:
        return self._alive

    def frames(self, stop: threading.Event) -> Iterator[DecodedFrame]:
        for index in range(self._frame_count):
            if stop.is_set():
                return
            self._probe.at(index)
            self._alive = time.monotonic()
            yield DecodedFrame.from_rgb(index / FPS, self._render(index))

    def _render(self, index: int) -> np.ndarray:
        """(H, W, 3) uint8: the scene's view with an 8 x 8 dark object at a place that changes every MOVE_FRAMES."""
        image = self._views[self._order[index // SCENE_FRAMES]].copy()
        step = (index % SCENE_FRAMES) // MOVE_FRAMES
        x, y = 8 + 7 * step % (WIDTH_PX - 20), 10 + 5 * step % (HEIGHT_PX - 20)
        image[y : y + 8, x : x + 8] = 15  # ~1% of the thumbnail: below the 2% of a scene change
        return image

    @staticmethod
    def _view(rng: np.random.Generator) -> np.ndarray:
        """A view: a colour gradient with a few boxes, different per view."""
        ramp = np.linspace(0, 1, WIDTH_PX)[None, :, None]  # (1, W, 1)
        low, high = rng.integers(0, 256, size=3), rng.integers(0, 256, size=3)
        image = np.broadcast_to(low + (high - low) * ramp, (HEIGHT_PX, WIDTH_PX, 3)).astype(np.uint8).copy()
        for _ in range(4):
            x, y = int(rng.integers(0, WIDTH_PX - 30)), int(rng.integers(0, HEIGHT_PX - 20))
            image[y : y + 20, x : x + 30] = rng.integers(0, 256, size=3)
        return image


class BlindCaptioner:
    """Reads no text and captions by frame count: the captioner's cost is measured elsewhere."""

    name = "blind"

    def read_text(self, images: Sequence[np.ndarray], context: str = "") -> list[tuple[str, ...]]:
        return [() for _ in images]

    def caption(self, images: Sequence[np.ndarray], ocr_lines: Sequence[str]) -> str:
        return f"{len(images)} distinct frames"

    def describe(self, images: Sequence[np.ndarray], instruction: str) -> str:
        return ""


class CountingSink:
    """Acknowledges each clip at once and keeps only counts (keeping clips would grow the heap)."""

    def __init__(self) -> None:
        self.clips = 0
        self.keyframes = 0
        self.keyframe_bytes = 0

    async def write(self, clip: ClipRecord) -> None:
        self.clips += 1
        self.keyframes += len(clip.keyframes)
        self.keyframe_bytes += sum(len(keyframe.jpeg) for keyframe in clip.keyframes)


def windows_around(point: int) -> list[tuple[int, int]]:
    """WINDOWS consecutive windows of WINDOW_FRAMES frames, centred on `point`."""
    first = point - WINDOWS * WINDOW_FRAMES // 2
    return [(first + k * WINDOW_FRAMES, first + (k + 1) * WINDOW_FRAMES) for k in range(WINDOWS)]


async def ingest(frame_count: int, probe: Probe) -> tuple[StreamWorker, CountingSink, float]:
    compute = Compute(PixelStatsEncoder(), BlindCaptioner())
    sink = CountingSink()
    config = WorkerConfig(sampler=SamplerConfig(sample_fps=FPS), cache=CacheConfig(), frame_queue_size=2)
    worker = StreamWorker("flat-cost", SyntheticSource(frame_count, probe), config, compute, sink)
    started = time.perf_counter()
    try:
        worker.start()
        status = await worker.wait()
    finally:
        compute.close()
    if status.state is not StreamState.FINISHED:
        raise RuntimeError(f"the stream ended {status.state.name}: {status.error}")
    return worker, sink, time.perf_counter() - started


def calibration_edges(point: int) -> tuple[int, int]:
    """Where the calibration runs for a point: at its first window's start and its last window's end."""
    windows = windows_around(point)
    return windows[0][0] - 1, windows[-1][1] + 1


def point_figures(probe: Probe, point: int) -> dict:
    per_frame_us = [
        (probe.cpu_s[end] - probe.cpu_s[begin]) / (end - begin) * 1e6 for begin, end in windows_around(point)
    ]
    return {
        "frame": point,
        "cpu_us_per_frame_min": min(per_frame_us),
        "cpu_us_per_frame_median": statistics.median(per_frame_us),
        "load_average": probe.load[point],
        "calibration_ms": statistics.mean(probe.calibration_ms[edge] for edge in calibration_edges(point)),
        "cpu_us_per_frame_windows": per_frame_us,
        "rss_mib": probe.rss[point] / 2**20,
    }


def report(args: argparse.Namespace, late: int, figures: dict) -> str:
    early_point, late_point = figures["points"]
    rows = [
        [
            f"{point['frame']:,}",
            f"{point['cpu_us_per_frame_min']:.0f}",
            f"{point['cpu_us_per_frame_median']:.0f}",
            f"{max(point['cpu_us_per_frame_windows']):.0f}",
            f"{point['rss_mib']:.1f}",
            f"{point['load_average']:.1f}",
            f"{point['calibration_ms']:.1f}",
        ]
        for point in (early_point, late_point)
    ]
    ratio, median_ratio, rss_growth = figures["cost_ratio"], figures["median_cost_ratio"], figures["rss_growth_mib"]
    speed = figures["calibration_ratio"]
    status = figures["status"]
    quick = " Quick mode: stopped at the 20,000th frame, not the 100,000th." if args.quick else ""
    command = ".venv/bin/python -m benchmarks.flat_cost" + (" --quick" if args.quick else "")
    return "\n\n".join(
        [
            "## Perception: flat cost on an endless stream",
            command_block(command),
            " ".join(__doc__.split("\n\n", 2)[2].split()) + quick,
            table(
                ["frame", "CPU us / frame: fastest window", "median", "slowest", "RSS MiB", "load", "calibration ms"],
                rows,
            ),
            f"Per-frame cost at frame {late:,} over frame {EARLY_FRAME:,}: **{ratio:.2f}** (target <= 1.1: "
            f"{'met' if ratio <= 1.1 else 'not met'}; of the medians {median_ratio:.2f}; the calibration workload took "
            f"{speed:.2f} times as long at the second point, so {ratio / speed:.2f} in a steady machine). "
            f"Resident memory grew by {rss_growth:+.1f} MiB between them. "
            f"{status['frames_seen']:,} frames in {figures['wall_s']:.0f} s wall: {status['frames_encoded']:,} "
            f"encoded, {status['frames_reused']:,} reused from the frame cache, {figures['clips']:,} clips with "
            f"{figures['keyframes']:,} keyframes ({figures['keyframe_mib']:.1f} MiB of JPEG sent). The Flash Memory "
            f"at the end: {figures['slots']} slots (max {figures['max_slots']}), {figures['details']} detail "
            f"frames (max {figures['max_details']}), {figures['frames_merged']:,} frames merged.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"stop at frame {QUICK_LATE_FRAME:,}, not {LATE_FRAME:,}")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where flat_cost.md and .json go")
    args = parser.parse_args()
    late = QUICK_LATE_FRAME if args.quick else LATE_FRAME
    points = (EARLY_FRAME, late)
    boundaries = {edge for point in points for window in windows_around(point) for edge in window}
    calibrate_at = {edge for point in points for edge in calibration_edges(point)}
    probe = Probe(boundaries=boundaries, points=set(points), calibrate_at=calibrate_at)
    frame_count = late + WINDOWS * WINDOW_FRAMES  # past the last window
    worker, sink, wall_s = asyncio.run(ingest(frame_count, probe))
    overview, status = worker.overview(), worker.status()
    early_point, late_point = (point_figures(probe, point) for point in points)
    figures = {
        "points": [early_point, late_point],
        "cost_ratio": late_point["cpu_us_per_frame_min"] / early_point["cpu_us_per_frame_min"],
        "median_cost_ratio": late_point["cpu_us_per_frame_median"] / early_point["cpu_us_per_frame_median"],
        "calibration_ratio": late_point["calibration_ms"] / early_point["calibration_ms"],
        "rss_growth_mib": late_point["rss_mib"] - early_point["rss_mib"],
        "wall_s": wall_s,
        "clips": sink.clips,
        "keyframes": sink.keyframes,
        "keyframe_mib": sink.keyframe_bytes / 2**20,
        "slots": len(overview.slots),
        "max_slots": overview.max_slots,
        "details": len(overview.details),
        "max_details": overview.max_details,
        "frames_merged": overview.frames_merged,
        "status": {
            "frames_seen": status.frames_seen,
            "frames_encoded": status.frames_encoded,
            "frames_reused": status.frames_reused,
            "frames_dropped": status.frames_dropped,
        },
        "quick": args.quick,
    }
    write_result("flat_cost", report(args, late, figures), figures, args.results)


if __name__ == "__main__":
    main()
