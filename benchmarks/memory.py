"""Memory: the hierarchy at 10 minutes and 24 hours, bytes per stream-hour, and group commit.

    .venv/bin/python -m benchmarks.memory --quick    # what `make bench` runs: 10 search rounds, 2 s commit runs
    .venv/bin/python -m benchmarks.memory            # `make bench-full`: 25 search rounds, 5 s commit runs

One process drives the in-process `Memory` facade, built as memory_service/app.py builds it: default
MemorySettings in a temporary data directory, the cpu profile's text embedder (MiniLM, loaded once), embedded
chromadb. Synthetic clips (benchmarks/memory_synthetic.py), one every 4 s of stream time, go through
`Memory.write`; three parts, each on a data directory of its own:
1. Search over history: a 10-minute and a 24-hour stream (150 and 21,600 clips), written at once; once
   consolidated, rounds of six searches (three needle questions, two scene questions, a code lookup) against
   the two streams interleaved: latency, nodes read, whether the top hit is the needle's clip. --quick makes
   the long stream shorter only when a write probe says writing both would take over 6 minutes.
2. Bytes per stream-hour: 900 clips with one 480x270 JPEG keyframe each; memory's Stats and the bytes on disk.
3. Group commit: records acknowledged per second by 1 stream and by 100 streams writing at once, each stream
   one write at a time (as one WriteClips call writes), and log fsync batches per record.
Writes `memory.md` and `memory.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from benchmarks.common import RESULTS_DIR, command_block, write_result
from benchmarks.memory_report import markdown
from benchmarks.memory_synthetic import FrameMaker, Query, SyntheticStream
from longwatch.types import SearchResult
from memory_service.app import build_memory
from memory_service.core.embedders import TextEmbedder, embedder_name_for, load_embedder
from memory_service.core.memory import Memory
from memory_service.core.types import EmbedderOptions, SearchQuery
from memory_service.settings import MemorySettings

CLIP_S = 4.0  # perception's longest clip (clip_max_s): a static camera writes one this often
SHORT_HOURS, LONG_HOURS = 10 / 60, 24.0
# Writes of one stream kept in flight while history is built. Submitted in time order they reach the log in
# that order (tasks start in the order created; Memory's batchers are first in, first out) and share batches,
# so 24 h takes minutes, not the ~20 min one write at a time per stream takes here. Part 3 measures that.
IN_FLIGHT = 64
QUICK_WRITE_LIMIT_S = 360.0  # --quick shortens the long stream when writing history would take longer
PROBE_CLIPS = 1024  # written (and deleted) to measure the write rate before the history is planned
PROBE_WARM_UP_CLIPS = 256  # written first, unmeasured: the first batches run at half the later rate
ROUNDS = {True: 10, False: 25}  # of the six searches per stream, by --quick
COMMIT_S = {True: 2.0, False: 5.0}  # seconds per group-commit run, by --quick
COMMIT_ROUNDS = 2  # each case runs this often, the cases alternating, so drift hits both alike
COMMIT_STREAMS = (1, 100)
KEYFRAME_POOL = 32  # distinct frames the group-commit writers cycle through
SEARCH_K = 10
CONSOLIDATE_TIMEOUT_S = 1800.0


def progress(message: str) -> None:
    """A progress line on stderr; stdout carries only the Markdown."""
    print(f"[memory {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class WarningCount(logging.Handler):
    """Counts the warnings and errors memory (or chromadb) logs during the run, and keeps the first few."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname] += 1
        if len(self.first) < 5:
            self.first.append(f"{record.name}: {record.getMessage()[:300]}")


async def started_memory(root: Path, name: str, embedder: TextEmbedder) -> tuple[Memory, MemorySettings]:
    settings = MemorySettings(data_dir=root / name)
    memory = build_memory(settings, embedder)
    await memory.start()
    return memory, settings


async def write_in_order(
    memory: Memory, stream: SyntheticStream, keyframes: Sequence[bytes], in_flight: int, bar: tqdm
) -> None:
    """Writes every clip of `stream` in time order, `in_flight` writes at a time."""
    window = asyncio.Semaphore(in_flight)

    async def one(index: int) -> None:
        try:
            await memory.write(stream.clip(index, keyframes[index % len(keyframes)] if keyframes else b""))
            bar.update()
        finally:
            window.release()

    tasks = []
    for index in range(stream.clip_count):
        await window.acquire()
        tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)


async def write_streams(
    memory: Memory, streams: Sequence[SyntheticStream], label: str, keyframes: Sequence[bytes] = ()
) -> dict:
    """Writes the streams at once, then waits for consolidation to catch up; the seconds of each."""
    clips = sum(stream.clip_count for stream in streams)
    batches = memory.commit_batches
    with tqdm(total=clips, desc=label, unit="clip", file=sys.stderr, mininterval=2.0) as bar:
        started = time.perf_counter()
        await asyncio.gather(*(write_in_order(memory, stream, keyframes, IN_FLIGHT, bar) for stream in streams))
        written = time.perf_counter()
    is_consolidated = await memory.wait_consolidated(CONSOLIDATE_TIMEOUT_S)
    return {
        "clips": clips,
        "write_s": written - started,
        "consolidate_s": time.perf_counter() - written,
        "is_consolidated": is_consolidated,
        "commit_batches": memory.commit_batches - batches,
    }


async def plan_long_hours(memory: Memory, is_quick: bool) -> tuple[float, dict]:
    """The long stream's hours: 24, unless --quick and the probe's rate says writing would take too long."""
    warm = SyntheticStream("write-warm-up", PROBE_WARM_UP_CLIPS * CLIP_S / 3600, CLIP_S, seed=98)
    probe = SyntheticStream("write-probe", PROBE_CLIPS * CLIP_S / 3600, CLIP_S, seed=99)
    await write_streams(memory, [warm], "write warm-up")
    timing = await write_streams(memory, [probe], "write probe")
    for stream in (warm, probe):
        await memory.delete_stream(stream.stream_id)
    clips_per_s = timing["clips"] / (timing["write_s"] + timing["consolidate_s"])
    planned = round((LONG_HOURS + SHORT_HOURS) * 3600 / CLIP_S)
    timing |= {"clips_per_s": clips_per_s, "estimate_s": planned / clips_per_s}
    if not is_quick or timing["estimate_s"] <= QUICK_WRITE_LIMIT_S:
        return LONG_HOURS, timing
    fitting_h = QUICK_WRITE_LIMIT_S * clips_per_s * CLIP_S / 3600 - SHORT_HOURS
    return max(1.0, math.floor(fitting_h * 2) / 2), timing  # whole half hours


def is_needle_found(stream: SyntheticStream, query: Query, result: SearchResult) -> bool | None:
    """Whether the top hit overlaps the needle's clip; None for a question without one."""
    if query.needle is None:
        return None
    if not result.hits:
        return False
    start_s, end_s = stream.span_s(stream.needle_index(query.needle))
    top = result.hits[0]
    return top.start_s < end_s and top.end_s > start_s


async def timed_search(memory: Memory, stream: SyntheticStream, query: Query) -> dict:
    started = time.perf_counter()
    result = await memory.search(SearchQuery(text=query.text, stream_ids=(stream.stream_id,), k=SEARCH_K))
    return {
        "stream_id": stream.stream_id,
        "kind": query.kind,
        "ms": (time.perf_counter() - started) * 1000,
        "nodes_read": result.nodes_read,
        "found": is_needle_found(stream, query, result),
        "top_level": result.hits[0].level if result.hits else None,
    }


async def run_searches(memory: Memory, streams: Sequence[SyntheticStream], rounds: int) -> list[dict]:
    """`rounds` of each stream's query mix, one query of every stream in turn; one unmeasured round first."""
    for stream in streams:
        for query in stream.queries():
            await timed_search(memory, stream, query)  # warm-up: first reads of each store and level
    records = []
    for _ in range(rounds):
        for position in range(len(streams[0].queries())):
            for stream in streams:
                records.append(await timed_search(memory, stream, stream.queries()[position]))
    return records


async def history_part(embedder: TextEmbedder, root: Path, is_quick: bool) -> dict:
    memory, _ = await started_memory(root, "history", embedder)
    long_hours, probe = await plan_long_hours(memory, is_quick)
    progress(f"probe: {probe['clips_per_s']:.0f} clips/s; history estimated at {probe['estimate_s']:.0f} s")
    streams = [
        SyntheticStream("dock-10min", SHORT_HOURS, CLIP_S, seed=0),
        SyntheticStream(f"dock-{long_hours:g}h", long_hours, CLIP_S, seed=1),
    ]
    timing = await write_streams(memory, streams, "history")
    progress(f"history: wrote {timing['clips']:,} clips in {timing['write_s']:.0f} s")
    stats = await memory.stats([stream.stream_id for stream in streams])
    searches = await run_searches(memory, streams, ROUNDS[is_quick])
    await memory.close()
    return {
        "probe": probe,
        "in_flight": IN_FLIGHT,
        "quick_limit_s": QUICK_WRITE_LIMIT_S,
        "long_hours": long_hours,
        "is_shortened": long_hours < LONG_HOURS,
        "streams": [{"stream_id": s.stream_id, "hours": s.hours, "clips": s.clip_count} for s in streams],
        "nodes_per_level": {s.stream_id: list(s.nodes_per_level) for s in stats.streams},
        "window_clips": {s.stream_id: s.window_clips for s in stats.streams},
        "write": timing,
        "rounds": ROUNDS[is_quick],
        "searches": searches,
    }


def store_bytes(settings: MemorySettings) -> dict[str, int]:
    """Blocks allocated under the memory data directory, by store."""
    parts = {
        "chroma/": [settings.chroma_dir],
        "keyframes/": [settings.keyframe_dir],
        "wal/": [settings.wal_dir],
        "streams.sqlite3*": sorted(settings.memory_dir.glob("streams.sqlite3*")),
    }
    sizes = {name: sum(_allocated(path) for path in paths) for name, paths in parts.items()}
    return sizes | {"other": _allocated(settings.memory_dir) - sum(sizes.values())}


def _allocated(path: Path) -> int:
    files = [path] if path.is_file() else list(path.rglob("*")) if path.is_dir() else []
    return sum(item.stat().st_blocks * 512 for item in files if item.is_file())


async def bytes_part(embedder: TextEmbedder, root: Path) -> dict:
    memory, settings = await started_memory(root, "bytes", embedder)
    stream = SyntheticStream("dock-1h", 1.0, CLIP_S, seed=2)
    frames = FrameMaker(seed=2)
    keyframes = [frames.jpeg(index) for index in range(stream.clip_count)]
    timing = await write_streams(memory, [stream], "1 stream-hour with keyframes", keyframes)
    stats = (await memory.stats([stream.stream_id])).streams[0]
    running = store_bytes(settings)
    await memory.close()
    return {
        "hours": stream.hours,
        "clips": stream.clip_count,
        "keyframe_mean_bytes": sum(map(len, keyframes)) / len(keyframes),
        "write": timing,
        "stats": {
            "vector_bytes": stats.vector_bytes,
            "metadata_bytes": stats.metadata_bytes,
            "keyframe_bytes": stats.keyframe_bytes,
            "log_bytes": stats.log_bytes,
        },
        "nodes_per_level": list(stats.nodes_per_level),
        "disk_running": running,
        "disk_closed": store_bytes(settings),
    }


async def write_one_at_a_time(
    memory: Memory, stream: SyntheticStream, start: int, deadline: float, keyframes: Sequence[bytes]
) -> int:
    """Writes the stream's clips from `start` on, each after the last is acknowledged, until `deadline`."""
    index = start
    while time.perf_counter() < deadline:
        await memory.write(stream.clip(index, keyframes[index % len(keyframes)]))
        index += 1
    return index - start


async def commit_run(memory: Memory, streams: Sequence[SyntheticStream], next_index: Counter[str], seconds: float):
    frames = FrameMaker(seed=3)
    keyframes = [frames.jpeg(index) for index in range(KEYFRAME_POOL)]
    batches, started = memory.commit_batches, time.perf_counter()
    counts = await asyncio.gather(
        *(
            write_one_at_a_time(memory, stream, next_index[stream.stream_id], started + seconds, keyframes)
            for stream in streams
        )
    )
    elapsed = time.perf_counter() - started
    for stream, count in zip(streams, counts, strict=True):
        next_index[stream.stream_id] += count
    return sum(counts), elapsed, memory.commit_batches - batches


async def group_commit_part(embedder: TextEmbedder, root: Path, is_quick: bool) -> dict:
    memory, _ = await started_memory(root, "commit", embedder)
    next_index: Counter[str] = Counter()
    totals = {count: {"records": 0, "seconds": 0.0, "batches": 0} for count in COMMIT_STREAMS}
    for _ in range(COMMIT_ROUNDS):
        for count in COMMIT_STREAMS:
            streams = [SyntheticStream(f"commit-{count}-{k}", LONG_HOURS, CLIP_S, seed=10 + k) for k in range(count)]
            records, seconds, batches = await commit_run(memory, streams, next_index, COMMIT_S[is_quick])
            for key, value in (("records", records), ("seconds", seconds), ("batches", batches)):
                totals[count][key] += value
    await memory.close()
    return {"seconds_per_run": COMMIT_S[is_quick], "rounds": COMMIT_ROUNDS, "by_streams": totals}


async def run(args: argparse.Namespace, root: Path) -> dict:
    settings = MemorySettings(data_dir=root)
    name = embedder_name_for("cpu", None)
    options = EmbedderOptions(model_cache=settings.model_cache, batch_size=settings.embed_batch_size)
    started = time.perf_counter()
    embedder = await asyncio.to_thread(load_embedder, name, options)
    figures: dict = {"embedder": embedder.name, "embedder_load_s": time.perf_counter() - started}
    figures["settings"] = {"fanout": settings.fanout, "beam": settings.search_beam, "batch": settings.commit_batch}
    parts = {
        "history": lambda: history_part(embedder, root, args.quick),
        "bytes": lambda: bytes_part(embedder, root),
        "group_commit": lambda: group_commit_part(embedder, root, args.quick),
    }
    for part, work in parts.items():
        part_started = time.perf_counter()
        figures[part] = await work()
        figures[part]["part_wall_s"] = time.perf_counter() - part_started
        progress(f"{part} done in {figures[part]['part_wall_s']:.0f} s")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 search rounds, 2 s commit runs (else 25 and 5 s)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where memory.md and memory.json go")
    args = parser.parse_args()
    command = " ".join([".venv/bin/python -m benchmarks.memory", *sys.argv[1:]])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    warnings = WarningCount()
    logging.getLogger().addHandler(warnings)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="longwatch-memory-") as root:
        figures = asyncio.run(run(args, Path(root)))
    figures |= {"command": command, "wall_s": time.perf_counter() - started, "is_quick": args.quick}
    figures["warnings"] = {"counts": dict(warnings.counts), "first": warnings.first}
    write_result("memory", markdown(figures, command_block(command)), figures, args.results)


if __name__ == "__main__":
    main()
