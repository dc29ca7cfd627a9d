"""Load: N streams ingesting and M askers asking at once for T minutes, on loopback.

    .venv/bin/python -m benchmarks.load --quick     # 8 streams, 4 askers, 2 minutes, cpu profile
    .venv/bin/python -m benchmarks.load [--streams N] [--askers M] [--minutes T] [--deadline-ms D]
                                        [--profile cpu|tiny] [--results DIR]

Starts the three real services on free loopback ports in a temporary data directory. Each of the N
stream slots ingests the 48 s synthetic sample and, when it finishes, adds it again under a new stream
id, so ingest stays busy for all T minutes (perception keeps the finished streams in its list, as it
does for a user who never removes them). Each of the M askers is a closed loop (no pause) asking the
sample's questions over every stream with a deadline (`--deadline-ms`, 1500 by default; 0 sends none, so
the reasoner uses its own default). At T minutes the askers stop and the streams still
running are removed. Every few seconds the resident memory (RSS) of each service's process tree and the
streams' lag are sampled; the series are in the JSON.

It reports errors (asks by kind, ingest), frames dropped (files wait rather than drop, so only a live
source can drop), the largest lag (stream time decoded but not yet acknowledged by memory), video seconds
ingested per wall second, ask latency, and each service's RSS when the load began and ended, its peak, and
after the streams were removed. Writes `load.md` and `load.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks.common import RESULTS_DIR, command_block, percentile, table, write_result
from longwatch.client import LongwatchClient
from longwatch.progress import wait_until_final
from longwatch.sample import EVENTS, make_sample
from longwatch.types import StreamState, StreamStatus
from longwatch_cli.demo import EventResult
from longwatch_cli.eval.system import local_system
from reasoner.settings import ReasonerSettings

QUICK = {"streams": 8, "askers": 4, "minutes": 2.0}
ASK_DEADLINE_MS = 1500  # about one LLM step on a laptop CPU (benchmarks.end_to_end uses the same)
DEADLINE_MARGIN = 0.10  # of the deadline: an answer later than deadline + margin is late (issue 12.7's bar)
SAMPLE_EVERY_S = 5.0  # between RSS and lag samples: a 2-minute run gives about 25 points
STATUS_POLL_S = 1.0  # between a stream slot's ListStreams calls while it waits for its stream to finish
MIB = 2**20


@dataclass
class AskLog:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    hits: int = 0  # answers whose top evidence overlaps the asked event (in any copy of the sample)


@dataclass
class IngestLog:
    added: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # AddStream refused, or a stream ended FAILED
    error_messages: list[str] = field(default_factory=list)


@dataclass
class Samples:
    """What the sampler saw: RSS per service (bytes, process and its children) and the largest lag."""

    times_s: list[float] = field(default_factory=list)
    rss_bytes: dict[str, list[int]] = field(default_factory=dict)
    max_lag_s: list[float] = field(default_factory=list)


def _error_kind(exc: BaseException) -> str:
    return type(exc).__name__


async def feed_slot(client: LongwatchClient, video: Path, slot: int, log: IngestLog) -> None:
    """Adds the video under a fresh stream id each time the last one is final; runs until cancelled."""
    for round_index in range(1_000_000):
        stream_id = f"load-{slot:02d}-{round_index:04d}"
        try:
            await client.perception.add_stream(stream_id, str(video))
            log.added += 1
            final = await wait_until_final(client.perception, stream_id, show_progress=False, poll_s=STATUS_POLL_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - counted by kind; the slot carries on
            log.errors[_error_kind(exc)] += 1
            log.error_messages.append(f"{stream_id}: {exc}")
            await asyncio.sleep(STATUS_POLL_S)
            continue
        if final.state is StreamState.FAILED:
            log.errors["stream failed"] += 1
            log.error_messages.append(f"{stream_id}: {final.error}")


async def ask_loop(client: LongwatchClient, asker: int, stop_at: float, deadline_ms: int, log: AskLog) -> None:
    """Asks the sample's questions in turn, over every stream, until `stop_at` (monotonic)."""
    index = asker  # askers start on different questions
    while time.monotonic() < stop_at:
        event = EVENTS[index % len(EVENTS)]
        index += 1
        started = time.perf_counter()
        try:
            answer = await client.reasoner.ask(event.question, deadline_ms=deadline_ms)
        except Exception as exc:  # noqa: BLE001 - counted by kind; the asker carries on
            log.errors[_error_kind(exc)] += 1
            await asyncio.sleep(0.1)  # a service that refuses at once must not make this a busy loop
            continue
        log.latencies_ms.append((time.perf_counter() - started) * 1000.0)
        log.hits += EventResult(event, answer).is_hit


def tree_rss_bytes(pid: int) -> int:
    """RSS of a process and its children; 0 once it is gone."""
    try:
        process = psutil.Process(pid)
        return sum(item.memory_info().rss for item in [process, *process.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0


async def sample_once(client: LongwatchClient, pids: dict[str, int], samples: Samples, started: float) -> None:
    statuses = await client.perception.list_streams()
    samples.times_s.append(round(time.monotonic() - started, 1))
    samples.max_lag_s.append(max((status.lag_s for status in statuses), default=0.0))
    for name, pid in pids.items():
        samples.rss_bytes.setdefault(name, []).append(tree_rss_bytes(pid))


async def sample_loop(client: LongwatchClient, pids: dict[str, int], samples: Samples, started: float) -> None:
    while True:
        await asyncio.sleep(SAMPLE_EVERY_S)
        await sample_once(client, pids, samples, started)


async def final_statuses(client: LongwatchClient) -> list[StreamStatus]:
    """Every stream's last status; the ones still running are removed (stopped) first."""
    statuses = {status.stream_id: status for status in await client.perception.list_streams()}
    for stream_id, status in list(statuses.items()):
        if not status.state.is_final:
            statuses[stream_id] = await client.perception.remove_stream(stream_id)
    return list(statuses.values())


def video_seconds(status: StreamStatus) -> float:
    """Seconds of the stream whose clips memory acknowledged."""
    if status.state is StreamState.FINISHED:
        return max(status.position_s, status.duration_s)
    return max(0.0, status.position_s - status.lag_s)


async def run_load(client: LongwatchClient, video: Path, pids: dict[str, int], args: argparse.Namespace) -> dict:
    samples, asks, ingest = Samples(), AskLog(), IngestLog()
    started = time.monotonic()
    stop_at = started + args.minutes * 60.0
    await sample_once(client, pids, samples, started)  # the start: every service SERVING, nothing ingested
    feeders = [asyncio.create_task(feed_slot(client, video, slot, ingest)) for slot in range(args.streams)]
    sampler = asyncio.create_task(sample_loop(client, pids, samples, started))
    await asyncio.gather(*(ask_loop(client, asker, stop_at, args.deadline_ms, asks) for asker in range(args.askers)))
    await asyncio.sleep(max(0.0, stop_at - time.monotonic()))  # with no askers, ingest still runs T minutes
    for task in (*feeders, sampler):
        task.cancel()
    await asyncio.gather(*feeders, sampler, return_exceptions=True)
    load_wall_s = time.monotonic() - started
    await sample_once(client, pids, samples, started)  # the end of the load
    statuses = await final_statuses(client)
    after_removal = {name: tree_rss_bytes(pid) for name, pid in pids.items()}
    stored = await client.memory.list_streams()
    return {
        "wall_s": load_wall_s,
        "asks": asks,
        "ingest": ingest,
        "samples": samples,
        "statuses": statuses,
        "clips_in_memory": sum(summary.clip_count for summary in stored if summary.stream_id.startswith("load-")),
        "rss_after_removal": after_removal,
    }


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in counter.most_common()) or "none"


def ingest_rows(result: dict) -> tuple[list[list[str]], dict]:
    statuses: list[StreamStatus] = result["statuses"]
    ingest: IngestLog = result["ingest"]
    video_s = sum(video_seconds(status) for status in statuses)
    figures = {
        "streams_added": ingest.added,
        "streams_finished": sum(status.state is StreamState.FINISHED for status in statuses),
        "streams_stopped_at_end": sum(status.state is StreamState.STOPPED for status in statuses),
        "ingest_errors": dict(ingest.errors),
        "ingest_error_messages": ingest.error_messages[:20],
        "video_s": video_s,
        "video_s_per_wall_s": video_s / result["wall_s"],
        "frames_seen": sum(status.frames_seen for status in statuses),
        "frames_dropped": sum(status.frames_dropped for status in statuses),
        "max_lag_s": max(result["samples"].max_lag_s, default=0.0),
        "clips_written": sum(status.clips_written for status in statuses),
        "clips_in_memory": result["clips_in_memory"],
    }
    rows = [
        [
            "streams added / finished / stopped at the end",
            f"{ingest.added} / {figures['streams_finished']} / {figures['streams_stopped_at_end']}",
        ],
        ["ingest errors", _counts(ingest.errors)],
        ["video s ingested (clips acknowledged)", f"{video_s:.0f}"],
        ["video s per wall s (all streams)", f"{figures['video_s_per_wall_s']:.1f}"],
        ["frames seen / dropped", f"{figures['frames_seen']} / {figures['frames_dropped']}"],
        ["largest lag s (sampled)", f"{figures['max_lag_s']:.1f}"],
        [
            "clips acknowledged (perception) / listed by memory",
            f"{figures['clips_written']} / {result['clips_in_memory']}",
        ],
    ]
    return rows, figures


def effective_deadline_ms(deadline_ms: int) -> int:
    """The deadline the reasoner applies: the one sent, or its own default for 0 (read as the services
    started here read it, from the settings and the environment)."""
    return deadline_ms or ReasonerSettings().default_deadline_ms


def ask_rows(asks: AskLog, deadline_ms: int) -> tuple[list[list[str]], dict]:
    latencies = asks.latencies_ms
    late = sum(latency > deadline_ms for latency in latencies)
    bar_ms = deadline_ms * (1 + DEADLINE_MARGIN)
    figures = {
        "answered": len(latencies),
        "errors": dict(asks.errors),
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "max_ms": max(latencies, default=0.0),
        "deadline_ms": deadline_ms,
        "over_deadline": late,
        "over_deadline_and_margin": sum(latency > bar_ms for latency in latencies),
        "top_evidence_in_event": asks.hits,
    }
    rows = [
        ["answered / errors", f"{len(latencies)} / {sum(asks.errors.values())}"],
        ["errors by kind", _counts(asks.errors)],
        ["latency p50 / p95 / max ms", f"{figures['p50_ms']:.0f} / {figures['p95_ms']:.0f} / {figures['max_ms']:.0f}"],
        [f"answered after the {deadline_ms} ms deadline", str(late)],
        [
            f"answered after the deadline + {DEADLINE_MARGIN:.0%} ({bar_ms:.0f} ms)",
            str(figures["over_deadline_and_margin"]),
        ],
        [f"p95 within {bar_ms:.0f} ms", "yes" if figures["p95_ms"] <= bar_ms else "no"],
        ["top evidence inside the asked event", f"{asks.hits}/{len(latencies)}"],
    ]
    return rows, figures


def rss_rows(samples: Samples, after_removal: dict[str, int]) -> tuple[list[list[str]], dict]:
    """Per service: RSS when the load began and ended, its peak and growth, and after the streams were removed."""
    rows, figures = [], {}
    for name, series in samples.rss_bytes.items():
        start, end, peak, after = series[0], series[-1], max(series), after_removal[name]
        growth = end - start
        figures[name] = {
            "start_bytes": start,
            "end_bytes": end,
            "peak_bytes": peak,
            "growth_bytes": growth,
            "after_removal_bytes": after,
        }
        percent = f"{100.0 * growth / start:+.0f}%" if start else "-"
        mib = [f"{value / MIB:.0f}" for value in (start, end, peak)]
        rows.append([name, *mib, f"{growth / MIB:+.0f}", percent, f"{after / MIB:.0f}"])
    return rows, figures


def verdict(ingest: dict, asks: dict, rss: dict, minutes: float) -> str:
    errors = sum(asks["errors"].values()) + sum(ingest["ingest_errors"].values())
    grower = max(rss, key=lambda name: rss[name]["growth_bytes"])
    growth = rss[grower]
    return (
        f"Verdict: {errors} errors ({sum(asks['errors'].values())} asks, {sum(ingest['ingest_errors'].values())} "
        f"ingest), {ingest['frames_dropped']} frames dropped, largest lag {ingest['max_lag_s']:.1f} s; "
        f"{grower} grew most, {growth['growth_bytes'] / MIB:+.0f} MiB "
        f"({100.0 * growth['growth_bytes'] / max(1, growth['start_bytes']):+.0f}%) in {minutes:g} min."
    )


def report(result: dict, args: argparse.Namespace, command: str) -> tuple[str, dict]:
    ingest_table, ingest = ingest_rows(result)
    deadline_ms = effective_deadline_ms(args.deadline_ms)
    ask_table, asks = ask_rows(result["asks"], deadline_ms)
    rss_table, rss = rss_rows(result["samples"], result["rss_after_removal"])
    rss_header = ["service", "RSS start MiB", "end MiB", "peak MiB", "growth MiB", "growth", "streams removed MiB"]
    setup = (
        f"{args.streams} streams (the 48 s sample, re-added under a new stream id whenever one finishes), "
        f"{args.askers} closed-loop askers (the sample's 5 questions over every stream, deadline "
        f"{deadline_ms} ms{'' if args.deadline_ms else ', the reasoner default'}), "
        f"{args.minutes:g} min, profile {args.profile}; "
        f"measured {result['wall_s']:.0f} s of load. Files never drop frames (perception waits instead)."
    )
    markdown = "\n\n".join(
        [
            "## Load",
            command_block(command),
            setup,
            table(["ingest", "value"], ingest_table),
            table(["asks", "value"], ask_table),
            table(rss_header, rss_table),
            verdict(ingest, asks, rss, args.minutes),
        ]
    )
    samples: Samples = result["samples"]
    data = {
        "command": command,
        "config": {**vars(args), "results": str(args.results), "ask_deadline_ms": deadline_ms},
        "wall_s": result["wall_s"],
        "ingest": ingest,
        "asks": {**asks, "latencies_ms": result["asks"].latencies_ms},
        "rss": rss,
        "series": {"t_s": samples.times_s, "rss_bytes": samples.rss_bytes, "max_lag_s": samples.max_lag_s},
    }
    return markdown, data


async def run(addresses: dict[str, str], video: Path, pids: dict[str, int], args: argparse.Namespace) -> dict:
    async with LongwatchClient.connect(**addresses) as client:
        return await run_load(client, video, pids, args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="8 streams, 4 askers, 2 minutes (unless given)")
    parser.add_argument("--streams", type=int, help="streams ingesting at once (default 8)")
    parser.add_argument("--askers", type=int, help="concurrent askers (default 4)")
    parser.add_argument("--minutes", type=float, help="minutes of load (default 10; 2 with --quick)")
    parser.add_argument(
        "--deadline-ms",
        type=int,
        default=ASK_DEADLINE_MS,
        metavar="D",
        help=f"per ask (default {ASK_DEADLINE_MS}); 0 sends none, so the reasoner applies its own default",
    )
    parser.add_argument("--profile", default="cpu", choices=("tiny", "cpu"))
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where load.md and load.json go")
    args = parser.parse_args()
    defaults = {**QUICK, "minutes": QUICK["minutes"] if args.quick else 10.0}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main() -> None:
    args = parse_args()
    command = " ".join([".venv/bin/python -m benchmarks.load", *sys.argv[1:]])
    with tempfile.TemporaryDirectory(prefix="longwatch-load-") as root:
        video = Path(root) / "sample.mp4"
        make_sample(video)
        with local_system(Path(root) / "data", profile=args.profile, log_level="WARNING") as launcher:
            result = asyncio.run(run(launcher.addresses, video, launcher.pids, args))
    markdown, data = report(result, args, command)
    write_result("load", markdown, data, args.results)


if __name__ == "__main__":
    main()
