"""How cost grows with stream length, history and the number of streams; each answer a ratio measured
side by side in one run (issue 11, "Measured answers").

    .venv/bin/python -m benchmarks.scaling [--quick|--full] [--profile cpu|tiny] [--results DIR]

Starts the three real services (as `longwatch up` does) on free loopback ports in a temporary data
directory and measures only through the public gRPC API (longwatch.client), plus the sizes on disk of
memory's stores under <data dir>/memory/ and the CPU time (/proc) of the perception and memory processes it
started, which on a shared machine is steadier than wall time. Prints a Markdown section (tables, each
with a one-line reading) and writes it with the figures to <results>/scaling.{md,json}; plots go to docs/.
1. Per-frame ingest cost at frame 1,000 and at frame 20,000 (quick) or 100,000 (full) of one stream:
   a long synthetic video, its frames_seen polled every 0.2 s. Plot: docs/scaling_ingest.png.
2. Ask and Search latency for streams of 10 minutes, 2 hours and 24 hours of synthetic history written
   through WriteClips, needles planted at known times. Plot: docs/scaling_ask.png.
3. Bytes stored per stream-hour, per store: on-disk sizes before and after the long video's ingest and
   before and after writing the 24 h stream.
4. Throughput: the 48 s sample as 1 stream, then as 8 streams at once, then as 1 again (drift check).
5. Frame reuse on a static scene (noise only).

Quick mode (the default) takes four to six minutes on two shared cores: its 24 h history has a clip every
60 s instead of perception's 4 s. Full mode writes 4 s clips (about 23,500 at 40-60 ms each, 16-24 minutes)
and a 101,200-frame video (about 5 minutes to ingest): 25-35 minutes on two cores (estimated from quick runs).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from benchmarks.common import DOCS_DIR, RESULTS_DIR, command_block, write_result
from benchmarks.scaling_history import HistoryPlan, bytes_section, history_section
from benchmarks.scaling_ingest import frame_reuse_section, ingest_cost_section, throughput_section
from longwatch.client import LongwatchClient
from longwatch_cli.eval.system import local_system
from orchestration.launcher import Launcher

HISTORY_HOURS = (10 / 60, 2.0, 24.0)  # the 10 minutes and 24 hours, and a middle point
CONCURRENT_STREAMS = 8


@dataclass(frozen=True)
class Mode:
    name: str
    far_frame: int  # the second point of the per-frame cost (the first is frame 1,000)
    history: HistoryPlan
    static_s: float  # length of the static-scene video
    description: str


QUICK = Mode(
    "quick",
    far_frame=20_000,
    history=HistoryPlan(HISTORY_HOURS, clip_s=60.0, repeats=10),
    static_s=120.0,
    description=(
        "Quick mode: per-frame cost at frame 20,000 (not 100,000), and a synthetic history clip every 60 s "
        "(perception writes one every 4 s) so that 26 h of history is written in about a minute."
    ),
)
FULL = Mode(
    "full",
    far_frame=100_000,
    history=HistoryPlan(HISTORY_HOURS, clip_s=4.0, repeats=20),
    static_s=600.0,
    description="Full mode: the issue's sizes; synthetic history clips 4 s long, as perception writes them.",
)


def progress(message: str) -> None:
    """A progress line on stderr; stdout carries only the Markdown."""
    print(f"[scaling {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def measure(launcher: Launcher, root: Path, mode: Mode, plots_dir: Path) -> tuple[list[str], dict]:
    """Runs the five measurements in order; their Markdown sections and figures."""
    memory_dir = launcher.config.data_dir / "memory"
    pids = launcher.pids
    steps = {
        "ingest_cost": lambda: ingest_cost_section(client, root, mode.far_frame, memory_dir, pids, plots_dir, progress),
        "history": lambda: history_section(client, mode.history, memory_dir, plots_dir, progress),
        "throughput": lambda: throughput_section(client, root, CONCURRENT_STREAMS, pids, progress),
        "frame_reuse": lambda: frame_reuse_section(client, root, mode.static_s, progress),
    }
    sections, data = {}, {}
    async with LongwatchClient.connect(**launcher.addresses) as client:
        for name, step in steps.items():
            started = time.perf_counter()
            sections[name], data[name] = await step()
            data[name]["section_wall_s"] = round(time.perf_counter() - started, 1)
            progress(f"{name} done in {data[name]['section_wall_s']:.0f} s")
    sections["bytes"], data["bytes"] = bytes_section(data["ingest_cost"], data["history"])
    order = ("ingest_cost", "history", "bytes", "throughput", "frame_reuse")
    return [sections[name] for name in order], data


def command_line(args: argparse.Namespace) -> str:
    profile = f" --profile {args.profile}" if args.profile != "cpu" else ""
    return f".venv/bin/python -m benchmarks.scaling --{args.mode}{profile}"


def run(args: argparse.Namespace) -> None:
    mode = FULL if args.mode == "full" else QUICK
    started = time.perf_counter()
    with TemporaryDirectory(prefix="longwatch-scaling-") as tmp:
        progress(f"{mode.name} mode, profile {args.profile}: starting the services")
        with local_system(Path(tmp) / "data", profile=args.profile, log_level="WARNING") as launcher:
            start_s = time.perf_counter() - started
            progress(f"services SERVING after {start_s:.0f} s")
            sections, data = asyncio.run(measure(launcher, Path(tmp), mode, args.plots))
    total_s = time.perf_counter() - started
    data.update(mode=mode.name, profile=args.profile, service_start_s=round(start_s, 1), total_wall_s=round(total_s, 1))
    header = (
        f"## Scaling: cost against stream length, history and streams\n\n{command_block(command_line(args))}\n\n"
        f"Profile `{args.profile}`. {mode.description} The whole run took {total_s:.0f} s, {start_s:.0f} s of it "
        "starting the services; every ratio below compares rows measured in this one run."
    )
    write_result("scaling", "\n\n".join([header, *sections]), data, args.results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", dest="mode", action="store_const", const="quick", help="about 5 min (default)")
    sizes.add_argument("--full", dest="mode", action="store_const", const="full", help="the issue's sizes")
    parser.set_defaults(mode="quick")
    parser.add_argument("--profile", default="cpu", choices=("cpu", "tiny"))
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where scaling.md and scaling.json go")
    parser.add_argument("--plots", type=Path, default=DOCS_DIR, help="where the two PNG plots go (default docs/)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
