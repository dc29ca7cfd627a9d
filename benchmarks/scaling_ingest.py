"""The perception half of benchmarks.scaling: per-frame cost along one long stream, throughput of 1 and
of N streams at once, and the frame-reuse rate on a static scene. Everything through AddStream and
ListStreams; each section returns (Markdown, figures for the JSON)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.common import table
from benchmarks.scaling_history import store_sizes
from benchmarks.scaling_plot import plot_ingest
from benchmarks.scaling_video import VideoSpec, WrittenVideo, write_video
from longwatch.client import LongwatchClient
from longwatch.sample import make_sample
from longwatch.types import StreamState, StreamStatus

POLL_S = 0.2  # between ListStreams calls while following a stream
NEAR_FRAME = 1_000
WINDOW_FRAMES = 1_200  # frames per cost window: a multiple of the text period, so each window holds
TEXT_PERIOD_FRAMES = 600  # exactly two text changes (the text changes every minute at 10 fps)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Poll:
    wall_s: float  # since AddStream returned
    frames_seen: int
    position_s: float
    perception_cpu_s: float = 0.0  # CPU seconds the process has used since it started
    memory_cpu_s: float = 0.0


# What a frame costs, each a Poll field: wall time, and the CPU time of the two processes that do the work.
COSTS = ("wall_s", "perception_cpu_s", "memory_cpu_s")
COST_LABELS = ("wall ms / frame", "perception CPU ms / frame", "memory CPU ms / frame")


def process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc (Linux); 0 when unknown.
    The benchmark started these processes, so it may watch them: on a shared machine CPU time per frame
    is steadier than wall time, which the other tenants' load moves."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, in clock ticks


async def follow(
    client: LongwatchClient, stream_id: str, pids: Mapping[str, int] | None = None
) -> tuple[list[Poll], StreamStatus]:
    """Polls the stream until it is final; every poll, and the final status (which must be FINISHED).
    `pids` (service name → process id) adds the perception and memory processes' CPU time to each poll."""
    pids = pids or {}
    polls: list[Poll] = []
    started = time.perf_counter()
    while True:
        (status,) = await client.perception.list_streams([stream_id])
        wall_s = time.perf_counter() - started
        cpu_s = [process_cpu_s(pids.get(name)) for name in ("perception", "memory")]
        polls.append(Poll(wall_s, status.frames_seen, status.position_s, *cpu_s))
        if status.state.is_final:
            break
        await asyncio.sleep(POLL_S)
    if status.state is not StreamState.FINISHED:
        raise RuntimeError(f"stream {stream_id} ended {status.state.value}: {status.error}")
    return polls, status


def value_at(polls: Sequence[Poll], frame: int, name: str) -> float:
    """Poll field `name` when `frame` frames had been seen, interpolated between polls. Of polls that
    show the same count only the first is kept: the count was reached by then."""
    firsts: dict[int, float] = {}
    for poll in polls:
        firsts.setdefault(poll.frames_seen, getattr(poll, name))
    frames, values = zip(*sorted(firsts.items()), strict=True)
    return float(np.interp(frame, frames, values))


def cost(polls: Sequence[Poll], first: int, last: int) -> tuple[float, ...]:
    """ms per frame of each of COSTS, from frame `first` to frame `last`."""
    return tuple((value_at(polls, last, name) - value_at(polls, first, name)) * 1000 / (last - first) for name in COSTS)


def cost_windows(polls: Sequence[Poll], frames: int) -> list[tuple[float, ...]]:
    """(window centre, ms per frame of each of COSTS) for back-to-back windows of WINDOW_FRAMES."""
    starts = range(0, frames - WINDOW_FRAMES + 1, WINDOW_FRAMES)
    return [(start + WINDOW_FRAMES // 2, *cost(polls, start, start + WINDOW_FRAMES)) for start in starts]


async def ingest_cost_section(
    client: LongwatchClient,
    root: Path,
    far_frame: int,
    memory_dir: Path,
    pids: Mapping[str, int],
    plots_dir: Path,
    progress: Progress,
) -> tuple[str, dict]:
    spec = VideoSpec(frames=far_frame + WINDOW_FRAMES, text_period_frames=TEXT_PERIOD_FRAMES)
    video = write_video(root / "long.mp4", spec)
    progress(f"wrote the {spec.frames}-frame video ({video.duration_s:.0f} s) in {video.write_s:.1f} s")
    before = store_sizes(memory_dir)
    await client.perception.add_stream("long", str(video.path))
    polls, status = await follow(client, "long", pids)
    after = store_sizes(memory_dir)
    half = WINDOW_FRAMES // 2
    near = cost(polls, NEAR_FRAME - half, NEAR_FRAME + half)
    far = cost(polls, far_frame - half, far_frame + half)
    windows = cost_windows(polls, status.frames_seen)
    title = f"one {spec.width}x{spec.height} {spec.fps} fps stream, {WINDOW_FRAMES:,}-frame windows"
    plot = plot_ingest(plots_dir / "scaling_ingest.png", windows, COST_LABELS, title)
    rows = [
        _cost_row(f"{NEAR_FRAME:,}", f"{NEAR_FRAME - half:,}–{NEAR_FRAME + half:,}", near, near),
        _cost_row(f"{far_frame:,}", f"{far_frame - half:,}–{far_frame + half:,}", far, near),
        _cost_row("whole stream", f"0–{status.frames_seen:,}", cost(polls, 0, status.frames_seen), near),
        _spread_row(windows),
    ]
    figures = {
        "video": {**asdict(spec), "write_s": round(video.write_s, 2)},
        "ms_per_frame": {"costs": COSTS, "near": near, "far": far},
        "final_status": asdict(status),
        "windows": windows,
        "polls": [asdict(poll) for poll in polls],
        "store_bytes_before": before,
        "store_bytes_after": after,
        "stream_hours": video.duration_s / 3600,
    }
    return _ingest_markdown(video, status, rows, [f / n for f, n in zip(far, near, strict=True)], plot), figures


def _cost_row(label: str, window: str, got: Sequence[float], base: Sequence[float]) -> list[str]:
    return [label, window, *(f"{value:.2f} ({value / ref:.2f})" for value, ref in zip(got, base, strict=True))]


def _spread_row(windows: Sequence[Sequence[float]]) -> list[str]:
    """The lowest and highest window of each cost: how far apart two windows of one run can lie."""
    columns = range(1, len(COSTS) + 1)
    spread = [f"{min(w[column] for w in windows):.2f}–{max(w[column] for w in windows):.2f}" for column in columns]
    return [f"each of the {len(windows)} windows", "lowest–highest", *spread]


def _ingest_markdown(
    video: WrittenVideo, status: StreamStatus, rows: list[list[str]], ratios: Sequence[float], plot: Path
) -> str:
    spec = video.spec
    wall, perception, memory = ratios
    header = ["at frame", "window (frames)", *COST_LABELS]
    return "\n\n".join(
        [
            "### Per-frame ingest cost along one stream",
            f"One synthetic {spec.width}x{spec.height} video at {spec.fps} fps, {spec.frames:,} frames "
            f"({video.duration_s / 60:.0f} min; written in {video.write_s:.0f} s): a static scene with sensor noise "
            f"and a line of text that changes every {TEXT_PERIOD_FRAMES // spec.fps} s, sampled at "
            f"{status.sample_fps:g} fps. Cost per decoded frame over a {WINDOW_FRAMES:,}-frame window, of "
            "everything ingest does (decode, sampling, frame cache, OCR, clip writes, memory's embedding and "
            f"storing): wall time from frames_seen polled every {POLL_S} s, and the CPU time of the perception "
            f"and memory processes (/proc). {status.frames_encoded} frames encoded, {status.frames_reused} "
            f"reused, {status.clips_written} clips written. In brackets: the ratio to frame 1,000.",
            table(header, rows),
            f"At frame {rows[1][0]} a frame costs {perception:.2f} times the perception CPU, {memory:.2f} times the "
            f"memory CPU and {wall:.2f} times the wall time it cost at frame 1,000 "
            f"({_verdict(perception)} for perception, {_verdict(memory)} for memory, to be read against the "
            "spread between windows in the last row; wall time also moves with the other work on this shared "
            "machine).",
            f"![per-frame ingest cost against frames seen]({plot.name})",
        ]
    )


def _verdict(ratio: float) -> str:
    return "flat" if 0.8 <= ratio <= 1.25 else ("higher" if ratio > 1 else "lower") + " later in the stream"


@dataclass(frozen=True)
class IngestRun:
    streams: int
    wall_s: float
    cpu_s: float  # perception + memory CPU seconds used meanwhile
    frames_seen: int
    video_s: float  # all streams together

    @property
    def speed(self) -> float:
        return self.video_s / self.wall_s  # video seconds per wall second


async def _ingest_all(
    client: LongwatchClient, video: Path, duration_s: float, stream_ids: Sequence[str], pids: Mapping[str, int]
) -> IngestRun:
    """Ingests `video` once per stream id, all at once."""
    cpu_before = sum(process_cpu_s(pids.get(name)) for name in ("perception", "memory"))
    started = time.perf_counter()
    for stream_id in stream_ids:
        await client.perception.add_stream(stream_id, str(video))
    finals = await asyncio.gather(*(follow(client, stream_id) for stream_id in stream_ids))
    wall_s = time.perf_counter() - started
    cpu_s = sum(process_cpu_s(pids.get(name)) for name in ("perception", "memory")) - cpu_before
    seen = sum(status.frames_seen for _, status in finals)
    return IngestRun(len(stream_ids), wall_s, cpu_s, seen, duration_s * len(stream_ids))


async def throughput_section(
    client: LongwatchClient, root: Path, streams: int, pids: Mapping[str, int], progress: Progress
) -> tuple[str, dict]:
    """1 stream, then `streams` at once, then 1 again: the two single runs show how far the machine's
    load drifted meanwhile, and the ratio is to their mean."""
    truth = make_sample(root / "sample.mp4")
    runs = []
    for index, count in enumerate((1, streams, 1)):
        ids = [f"sample-{index}-{i}" for i in range(count)]
        runs.append(await _ingest_all(client, root / "sample.mp4", truth.duration_s, ids, pids))
        progress(f"{count} stream(s) of the sample: {runs[-1].wall_s:.1f} s")
    base = IngestRun(1, (runs[0].wall_s + runs[2].wall_s) / 2, (runs[0].cpu_s + runs[2].cpu_s) / 2, 0, truth.duration_s)
    rows = [_throughput_row(run, base) for run in runs]
    ratio = runs[1].speed / base.speed
    header = ["streams at once", "wall s", "video s / wall s", "ratio to 1 stream", "CPU s / video s", "ratio"]
    markdown = "\n\n".join(
        [
            f"### Throughput: 1 and {streams} concurrent streams",
            f"The {truth.duration_s:.0f} s sample ({truth.width}x{truth.height}, {truth.fps} fps) as 1 stream, "
            f"then as {streams} streams added at once, then as 1 stream again; video seconds per wall second, all "
            "streams together, and CPU seconds (perception + memory) per video second. Ratios are to the mean "
            "of the two single-stream runs.",
            table(header, rows),
            f"{streams} streams at once give {ratio:.2f} times the total throughput of one on {os.cpu_count()} "
            "cores: " + ("they share the CPU one stream already keeps busy." if ratio < 1.5 else "streams add up."),
        ]
    )
    return markdown, {"runs": [asdict(run) for run in runs]}


def _throughput_row(run: IngestRun, base: IngestRun) -> list[str]:
    cpu_per_video_s, base_cpu = run.cpu_s / run.video_s, base.cpu_s / base.video_s
    return [
        str(run.streams),
        f"{run.wall_s:.1f}",
        f"{run.speed:.1f}",
        f"{run.speed / base.speed:.2f}",
        f"{cpu_per_video_s:.3f}",
        f"{cpu_per_video_s / base_cpu:.2f}",
    ]


async def frame_reuse_section(
    client: LongwatchClient, root: Path, static_s: float, progress: Progress
) -> tuple[str, dict]:
    spec = VideoSpec(frames=round(static_s * 10), fps=10)
    video = write_video(root / "static.mp4", spec, seed=1)
    rows, figures = [], []
    for sample_fps in (0.0, float(spec.fps)):  # the default rate, then every decoded frame
        stream_id = f"static-{sample_fps:g}"
        await client.perception.add_stream(stream_id, str(video.path), sample_fps=sample_fps)
        _, status = await follow(client, stream_id)
        sampled = status.frames_encoded + status.frames_reused
        rows.append(
            [
                f"{status.sample_fps:g}",
                f"{status.frames_seen:,}",
                f"{sampled:,}",
                str(status.frames_encoded),
                f"{status.frames_reused:,}",
                f"{status.frames_reused / sampled:.3f}",
                f"{status.frames_reused / status.frames_seen:.3f}",
            ]
        )
        figures.append(asdict(status))
    progress("static scene ingested twice")
    header = ["sample fps", "seen", "sampled", "encoded", "reused", "reused / sampled", "reused / seen"]
    markdown = "\n\n".join(
        [
            "### Frame reuse on a static scene",
            f"A {video.duration_s:.0f} s {spec.width}x{spec.height} {spec.fps} fps video of one unchanging scene "
            "with sensor noise (σ 2 grey levels), at the default sample rate and with every frame sampled.",
            table(header, rows),
            f"The frame cache reused the features of {rows[0][5]} of the sampled frames at the default rate "
            f"({rows[0][3]} of {rows[0][2]} encoded) and of {rows[1][5]} with every frame sampled "
            f"({rows[1][3]} of {rows[1][2]} encoded).",
        ]
    )
    return markdown, {"rows": figures}
