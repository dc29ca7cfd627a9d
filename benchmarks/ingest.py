"""Perception's ingest speed on a camera-like stream, measured side by side in one run (issue 9's numbers).

    .venv/bin/python -m benchmarks.ingest [--quick|--full] [--results DIR]

The video (benchmarks.ingest_video): 1280x720, 25 fps H.264 with a keyframe every 2 s, a fixed textured scene
with sensor noise and a text event every two minutes (a line with its own code, on screen for 8 s), sampled at
1 fps with the `cpu` profile. In order:
1. Decoding alone, in this process: every frame (the old ceiling: perception decoded every frame) and keyframes
   only.
2. One stream, through the real services (`longwatch up`'s launcher, free loopback ports): perception started
   once per file decoding mode (`LONGWATCH_PERCEPTION_FILE_DECODE`), and once with the frame cache off
   (`LONGWATCH_PERCEPTION_FRAME_CACHE=false`), the file ingested to FINISHED: video seconds per wall second,
   frames decoded, encoded and reused, and whether memory's search finds every event's code in its time span.
3. Eight live streams at once in real time: the same file served by eight live HTTP MPEG-TS cameras on loopback
   (paced at real time), ingested for a while: frames dropped, lag, and stream time against wall time.

Quick mode: a 6-minute video and 90 s of live streams; full: 20 minutes and 5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import av

from benchmarks.common import RESULTS_DIR, command_block, table, write_result
from benchmarks.ingest_video import CameraSpec, Event, write_camera_video
from benchmarks.scaling_ingest import follow, process_cpu_s
from longwatch.client import LongwatchClient
from longwatch_cli.eval.system import local_system
from tests.integration.live_camera import LiveCamera

LIVE_STREAMS = 8
POLL_S = 1.0  # between ListStreams calls while live streams run


@dataclass(frozen=True)
class Mode:
    name: str
    video_s: int
    live_s: float


QUICK = Mode("quick", video_s=360, live_s=90.0)
FULL = Mode("full", video_s=1200, live_s=300.0)
# Perception configurations of section 2: a label and the environment perception starts with.
CONFIGS: tuple[tuple[str, dict[str, str]], ...] = (
    ("full decoding", {"LONGWATCH_PERCEPTION_FILE_DECODE": "full"}),
    ("keyframes first (default)", {}),
    ("keyframes first, frame cache off", {"LONGWATCH_PERCEPTION_FRAME_CACHE": "false"}),
)


def progress(message: str) -> None:
    """A progress line on stderr; stdout carries only the Markdown."""
    print(f"[ingest {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# 1. Decoding alone ---------------------------------------------------------------------------------


def decode_speed(path: Path, duration_s: float, keyframes_only: bool) -> dict:
    """Video seconds per wall second of decoding `path` in this process (frame threads, as perception)."""
    started = time.perf_counter()
    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if keyframes_only:
            stream.codec_context.skip_frame = "NONKEY"
        for _ in container.decode(stream):
            frames += 1
    wall_s = time.perf_counter() - started
    return {"keyframes_only": keyframes_only, "frames": frames, "wall_s": wall_s, "speed": duration_s / wall_s}


def decode_section(path: Path, spec: CameraSpec) -> tuple[str, dict]:
    runs = [decode_speed(path, spec.duration_s, keyframes_only) for keyframes_only in (False, True, False)]
    full_s = (runs[0]["wall_s"] + runs[2]["wall_s"]) / 2  # before and after: the machine's drift
    rows = [
        ["every frame", f"{runs[0]['frames']:,}", f"{spec.duration_s / full_s:.1f}", "1.00"],
        ["keyframes only", f"{runs[1]['frames']:,}", f"{runs[1]['speed']:.1f}", f"{full_s / runs[1]['wall_s']:.1f}"],
    ]
    markdown = "\n\n".join(
        [
            "### Decoding alone",
            f"The {spec.duration_s} s file decoded in this process with PyAV's frame threads, every frame (twice, "
            "before and after, averaged) and keyframes only (`skip_frame`); no conversion of the pixels.",
            table(["decoded", "frames", "video s / wall s", "speed-up"], rows),
        ]
    )
    return markdown, {"runs": runs}


# 2. One stream per configuration ----------------------------------------------------------------


async def events_found(client: LongwatchClient, stream_id: str, events: Sequence[Event]) -> list[bool]:
    """For each event, whether memory's search for its line finds a clip holding its code in its time span."""
    found = []
    for event in events:
        hits = await client.memory.search(event.text, stream_ids=[stream_id], k=10)
        found.append(
            any(event.code in hit.text and hit.start_s < event.end_s and hit.end_s > event.start_s for hit in hits)
        )
    return found


async def ingest_once(
    client: LongwatchClient, path: Path, spec: CameraSpec, stream_id: str, pids: Mapping[str, int]
) -> dict:
    cpu_before = process_cpu_s(pids.get("perception"))
    started = time.perf_counter()
    await client.perception.add_stream(stream_id, str(path))
    _, status = await follow(client, stream_id)
    wall_s = time.perf_counter() - started
    found = await events_found(client, stream_id, spec.events())
    sampled = status.frames_encoded + status.frames_reused
    return {
        "wall_s": wall_s,
        "speed": spec.duration_s / wall_s,
        "perception_cpu_s": process_cpu_s(pids.get("perception")) - cpu_before,
        "events_found": sum(found),
        "events": len(found),
        "reused_fraction": status.frames_reused / sampled if sampled else 0.0,
        "status": asdict(status),
    }


def one_stream_section(runs: Sequence[tuple[str, dict]], spec: CameraSpec) -> tuple[str, dict]:
    base = runs[0][1]
    rows = []
    for label, run in runs:
        status = run["status"]
        rows.append(
            [
                label,
                f"{run['speed']:.1f}",
                f"{base['wall_s'] / run['wall_s']:.2f}",
                f"{run['perception_cpu_s'] / spec.duration_s:.3f}",
                f"{status['frames_seen']:,}",
                f"{status['frames_encoded']:,}",
                f"{status['frames_reused']:,}",
                f"{run['reused_fraction']:.3f}",
                f"{run['events_found']}/{run['events']}",
            ]
        )
    header = [
        "perception",
        "video s / wall s",
        "speed-up",
        "perception CPU s / video s",
        "frames seen",
        "encoded",
        "reused",
        "reused / sampled",
        "events found",
    ]
    markdown = "\n\n".join(
        [
            "### One stream, sampled at 1 fps",
            f"The {spec.duration_s} s file ingested to FINISHED through the real services, with perception started "
            "once per row (ratios to the first row). Frames seen counts the frames the source handed on (decoded, "
            "or a keyframe's image standing for the frames of a GOP that did not change). An event is found when "
            "memory's search for its line returns a clip holding its code within its time span.",
            table(header, rows),
        ]
    )
    return markdown, {label: run for label, run in runs}


# 3. Live streams ---------------------------------------------------------------------------------


async def live_section(client: LongwatchClient, path: Path, live_s: float, pids: Mapping[str, int]) -> tuple[str, dict]:
    cameras = [LiveCamera(path).start() for _ in range(LIVE_STREAMS)]
    ids = [f"live-{index}" for index in range(LIVE_STREAMS)]
    try:
        cpu_before = process_cpu_s(pids.get("perception"))
        for stream_id, camera in zip(ids, cameras, strict=True):
            await client.perception.add_stream(stream_id, camera.url)
        started = time.perf_counter()
        max_lag_s = 0.0
        while time.perf_counter() - started < live_s:
            await asyncio.sleep(POLL_S)
            statuses = await client.perception.list_streams(ids)
            max_lag_s = max([max_lag_s, *(status.lag_s for status in statuses)])
        wall_s = time.perf_counter() - started
        cpu_s = process_cpu_s(pids.get("perception")) - cpu_before
        statuses = await client.perception.list_streams(ids)
        for stream_id in ids:
            await client.perception.remove_stream(stream_id)
    finally:
        for camera in cameras:
            camera.stop()
    rows = [
        [
            status.stream_id,
            f"{status.position_s:.1f}",
            f"{status.frames_seen:,}",
            f"{status.frames_encoded + status.frames_reused:,}",
            str(status.frames_dropped),
            str(status.clips_written),
            f"{status.lag_s:.1f}",
        ]
        for status in statuses
    ]
    dropped = sum(status.frames_dropped for status in statuses)
    markdown = "\n\n".join(
        [
            f"### {LIVE_STREAMS} live streams at once, in real time",
            f"{LIVE_STREAMS} live HTTP MPEG-TS cameras on loopback, each serving the file at real time, ingested "
            f"for {wall_s:.0f} s of wall time. Perception used {cpu_s / wall_s:.2f} CPU cores meanwhile; the "
            f"highest lag seen was {max_lag_s:.1f} s.",
            table(["stream", "stream time s", "frames seen", "sampled", "dropped", "clips", "lag s"], rows),
            f"{dropped} frames dropped in all"
            + (": every stream kept up in real time." if dropped == 0 else ": the streams did not keep up."),
        ]
    )
    figures = {"wall_s": wall_s, "cpu_s": cpu_s, "max_lag_s": max_lag_s, "streams": [asdict(s) for s in statuses]}
    return markdown, figures


# The run -----------------------------------------------------------------------------------------


Work = Callable[[LongwatchClient, Mapping[str, int]], Awaitable[tuple[str, dict] | dict]]


async def measure_config(data_dir: Path, env: dict[str, str], work: Work):
    """Starts the services with `env` for perception, runs `work(client, pids)`, stops them."""
    with local_system(data_dir, profile="cpu", log_level="WARNING", env=env) as launcher:
        async with LongwatchClient.connect(**launcher.addresses) as client:
            return await work(client, launcher.pids)


def run(args: argparse.Namespace) -> None:
    mode = FULL if args.mode == "full" else QUICK
    spec = CameraSpec(duration_s=mode.video_s)
    started = time.perf_counter()
    progress(f"{mode.name} mode: writing (or reusing) the {spec.duration_s} s video")
    path = write_camera_video(args.results / "videos", spec)
    sections, data = [], {}
    decoding = decode_section(path, spec)
    sections.append(decoding[0])
    data["decoding"] = decoding[1]
    runs = []
    live: tuple[str, dict] | None = None
    with TemporaryDirectory(prefix="longwatch-ingest-") as tmp:
        for index, (label, env) in enumerate(CONFIGS):
            progress(f"one stream: {label}")
            runs.append(
                (
                    label,
                    asyncio.run(
                        measure_config(
                            Path(tmp) / f"data-{index}", env, lambda c, p: ingest_once(c, path, spec, "camera", p)
                        )
                    ),
                )
            )
        progress(f"{LIVE_STREAMS} live streams for {mode.live_s:.0f} s")
        live = asyncio.run(
            measure_config(Path(tmp) / "data-live", {}, lambda c, p: live_section(c, path, mode.live_s, p))
        )
    one = one_stream_section(runs, spec)
    sections += [one[0], live[0]]
    data.update(one_stream=one[1], live=live[1], mode=mode.name, total_wall_s=time.perf_counter() - started)
    header = (
        f"## Ingest: a 720p camera, keyframes first\n\n{command_block(command_line(args))}\n\n"
        f"Profile `cpu`, a {spec.width}x{spec.height} {spec.fps} fps H.264 file with a keyframe every "
        f"{spec.keyframe_every_s:g} s, {spec.duration_s} s long with {len(spec.events())} text events, sampled at "
        f"1 fps. The whole run took {data['total_wall_s']:.0f} s."
    )
    write_result("ingest", "\n\n".join([header, *sections]), data, args.results)


def command_line(args: argparse.Namespace) -> str:
    return f".venv/bin/python -m benchmarks.ingest --{args.mode}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", dest="mode", action="store_const", const="quick", help="about 6 min (default)")
    sizes.add_argument("--full", dest="mode", action="store_const", const="full", help="the issue's sizes")
    parser.set_defaults(mode="quick")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where ingest.md and ingest.json go")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
