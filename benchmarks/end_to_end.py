"""The whole system, measured side by side in one run: ingest cost, memory size against search time,
and question latency against the deadline.

    .venv/bin/python -m benchmarks.end_to_end [--profile cpu] [--streams 4] [--bulk-clips 2000] [--repeats 3]

Starts the three real services (as `longwatch up` does) on free loopback ports in a temporary data
directory, then prints three tables. Every figure that matters is a ratio between rows of one run,
because these machines are shared and absolute times drift from run to run.
1. Ingest: the synthetic sample as 1 stream, then as N streams at once; video seconds per wall second.
2. Memory: search latency with only the sample stored, then after bulk writes of synthetic clips.
3. Ask: latency and correctness of the sample's questions, with the default deadline and two tighter ones.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from benchmarks.common import command_block, percentile, table, write_result
from longwatch.client import LongwatchClient
from longwatch.progress import wait_until_final
from longwatch.sample import EVENTS, make_sample
from longwatch.settings import default_model_cache_dir
from longwatch.types import Answer, ClipRecord, StreamState
from longwatch_cli.demo import EventResult
from orchestration.health import free_port
from orchestration.launcher import SERVICES, LaunchConfig, Launcher

SEARCHES_PER_SIZE = 20
WRITE_BATCH = 64
# Asked with the default deadline (0), one about as long as an LLM step on a laptop CPU, and one far shorter.
DEADLINES_MS = (0, 1500, 300)
# Words for the bulk clips: varied enough that search has to rank, none of them the sample's answers.
_BULK_WORDS = "PARKING BAY LEVEL ZONE DOOR LIFT STAIRS NORTH SOUTH EAST WEST VISITOR STAFF LOADING".split()


def _ms(seconds: float) -> float:
    return seconds * 1000.0


async def _ingest(client: LongwatchClient, video: Path, stream_ids: Sequence[str]) -> tuple[float, int, int, int]:
    """Ingests `video` once per stream id, all at once; (wall s, frames seen, encoded, reused) in total."""
    started = time.perf_counter()
    for stream_id in stream_ids:
        await client.perception.add_stream(stream_id, str(video))
    finals = await asyncio.gather(
        *(wait_until_final(client.perception, stream_id, show_progress=False) for stream_id in stream_ids)
    )
    wall_s = time.perf_counter() - started
    for status in finals:
        if status.state is not StreamState.FINISHED:
            raise RuntimeError(f"{status.stream_id} ended {status.state.value}: {status.error}")
    return (
        wall_s,
        sum(status.frames_seen for status in finals),
        sum(status.frames_encoded for status in finals),
        sum(status.frames_reused for status in finals),
    )


async def ingest_table(client: LongwatchClient, video: Path, duration_s: float, streams: int) -> str:
    rows = []
    baseline = 0.0
    for count in (1, streams):
        stream_ids = [f"ingest-{count}-{index}" for index in range(count)]
        wall_s, seen, encoded, reused = await _ingest(client, video, stream_ids)
        speed = count * duration_s / wall_s  # video seconds per wall second, all streams together
        baseline = baseline or speed
        rows.append(
            [
                str(count),
                f"{wall_s:.1f}",
                f"{speed:.1f}",
                f"{speed / baseline:.2f}",
                str(seen),
                str(encoded),
                str(reused),
            ]
        )
    header = ["streams at once", "wall s", "video s / wall s", "ratio to 1 stream", "seen", "encoded", "reused"]
    return table(header, rows)


def _bulk_clip(index: int) -> ClipRecord:
    words = [_BULK_WORDS[(index * 7 + offset) % len(_BULK_WORDS)] for offset in range(3)]
    start_s = 4.0 * index
    return ClipRecord(
        stream_id="bulk",
        start_s=start_s,
        end_s=start_s + 3.9,
        caption="",
        ocr_lines=(f"{' '.join(words)} {index % 997}",),
        frame_count=4,
    )


async def _search_ms(client: LongwatchClient, stream_ids: Sequence[str]) -> list[float]:
    latencies = []
    for index in range(SEARCHES_PER_SIZE):
        event = EVENTS[index % len(EVENTS)]
        started = time.perf_counter()
        await client.memory.search(event.question, stream_ids=stream_ids, k=8)
        latencies.append(_ms(time.perf_counter() - started))
    return latencies


async def memory_table(client: LongwatchClient, bulk_clips: int) -> str:
    rows = []
    baseline = 0.0
    written = 0
    stored_before = sum(summary.clip_count for summary in await client.memory.list_streams())
    for target in (0, bulk_clips // 4, bulk_clips):
        added = target - written
        write_started = time.perf_counter()
        while written < target:
            batch = [_bulk_clip(index) for index in range(written, min(target, written + WRITE_BATCH))]
            await client.memory.write_clips(batch)
            written += len(batch)
        write_s = time.perf_counter() - write_started
        everywhere = await _search_ms(client, ())
        p50 = statistics.median(everywhere)
        baseline = baseline or p50
        per_clip = f"{_ms(write_s) / added:.1f}" if added else "-"
        rows.append(
            [
                str(stored_before + target),
                per_clip,
                f"{p50:.1f}",
                f"{percentile(everywhere, 0.95):.1f}",
                f"{p50 / baseline:.2f}",
            ]
        )
    header = ["clips stored", "write ms / clip", "search p50 ms", "search p95 ms", "p50 ratio to first"]
    return table(header, rows)


async def _timed_answers(
    ask: Callable[[str], Awaitable[Answer]], repeats: int
) -> tuple[list[float], list[EventResult]]:
    latencies, results = [], []
    for _ in range(repeats):
        for event in EVENTS:
            started = time.perf_counter()
            answer = await ask(event.question)
            latencies.append(_ms(time.perf_counter() - started))
            results.append(EventResult(event, answer))
    return latencies, results


async def ask_table(client: LongwatchClient, stream_id: str, repeats: int) -> str:
    rows = []
    baseline = 0.0
    for deadline_ms in DEADLINES_MS:
        label = f"{deadline_ms} ms" if deadline_ms else "default"

        def ask(question: str, deadline_ms: int = deadline_ms) -> Awaitable[Answer]:
            return client.reasoner.ask(question, stream_ids=[stream_id], deadline_ms=deadline_ms)

        latencies, results = await _timed_answers(ask, repeats)
        text_results = [result for result in results if not result.is_time_question]
        p50 = statistics.median(latencies)
        baseline = baseline or p50
        rows.append(
            [
                label,
                f"{p50:.0f}",
                f"{percentile(latencies, 0.95):.0f}",
                f"{max(latencies):.0f}",
                f"{p50 / baseline:.2f}",
                f"{sum(result.is_hit for result in results)}/{len(results)}",
                f"{sum(result.says_expected_text for result in text_results)}/{len(text_results)}",
            ]
        )
    header = [
        "deadline",
        "p50 ms",
        "p95 ms",
        "max ms",
        "p50 ratio to default",
        "top evidence in event",
        "text answer says it",
    ]
    return table(header, rows)


async def run(addresses: dict[str, str], video: Path, duration_s: float, args: argparse.Namespace) -> str:
    """The three tables, as one Markdown section."""
    async with LongwatchClient.connect(**addresses) as client:
        ingest = await ingest_table(client, video, duration_s, args.streams)
        memory = await memory_table(client, args.bulk_clips)
        ask = await ask_table(client, "ingest-1-0", args.repeats)
    command = (
        f".venv/bin/python -m benchmarks.end_to_end --profile {args.profile} --streams {args.streams} "
        f"--bulk-clips {args.bulk_clips} --repeats {args.repeats}"
    )
    return "\n\n".join(
        [
            "## End to end: the demo's sample, ingest, memory, ask",
            command_block(command),
            "### Ingest: the 48 s sample as 1 stream, then as N streams at once",
            ingest,
            "### Memory: search latency as the store grows",
            memory,
            "### Ask: the sample's five questions with the default deadline and two tighter ones",
            ask,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu", choices=("tiny", "cpu", "gpu"))
    parser.add_argument("--model-cache", type=Path, default=default_model_cache_dir())
    parser.add_argument("--streams", type=int, default=4, help="streams ingested at once in the second row")
    parser.add_argument("--bulk-clips", type=int, default=2000, help="synthetic clips written before the last search")
    parser.add_argument("--repeats", type=int, default=3, help="times each sample question is asked per deadline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="longwatch-bench-") as root:
        video = Path(root) / "sample.mp4"
        truth = make_sample(video)
        config = LaunchConfig(
            data_dir=Path(root) / "data",
            profile=args.profile,
            model_cache=args.model_cache,
            ports={name: free_port("127.0.0.1") for name in SERVICES},
            log_level="WARNING",
        )
        print(f"# longwatch end-to-end benchmark: profile {args.profile}, sample {truth.duration_s:.0f} s")
        with Launcher(config) as launcher:
            launcher.start()
            write_result("end_to_end", asyncio.run(run(launcher.addresses, video, truth.duration_s, args)), {})


if __name__ == "__main__":
    main()
