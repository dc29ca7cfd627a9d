"""Synthetic history for benchmarks.scaling: streams of ClipRecords written through memory's WriteClips,
each with two needles planted at known times, and the Ask and Search latencies asked of them.

Filler clips carry on-screen text drawn from a small vocabulary (none of the needles' words), and no
visual embedding; a clip every `clip_s` seconds of stream time, back to back.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.common import percentile, table
from benchmarks.scaling_plot import plot_ask
from longwatch.client import LongwatchClient
from longwatch.types import ClipRecord

WRITE_BATCH = 64  # clips per WriteClips call, as the SDK's callers batch them
# Filler text: three of these words and a number per clip, drawn per clip index. Varied on purpose: with
# only a couple of distinct word triples (near-duplicate vectors), chromadb's HNSW index missed the alarm
# needle (cosine 0.75, the fillers' best 0.46) in a 1,440-clip stream; that is a recall problem worth its own
# benchmark, and it would turn this latency measurement into one of the LLM's fallback path.
_FILLER_WORDS = (
    "PARKING BAY LEVEL ZONE DOOR LIFT STAIRS NORTH SOUTH EAST WEST VISITOR STAFF LOADING ENTRY RAMP FLOOR "
    "ROOF CHARGING TAXI BUS TICKETS PAY HERE OPEN MAX HEIGHT SPEED LIMIT WAITING DELIVERIES RESERVED"
).split()
_ALARM_AT, _PLATE_AT = 0.37, 0.71  # where the needles sit, as fractions of the stream's length
ALARM_QUESTION = "What was the alarm code on the screen?"


@dataclass(frozen=True)
class HistoryStream:
    """One synthetic stream: `hours` of clips `clip_s` long, an alarm-code needle and a plate needle."""

    stream_id: str
    hours: float
    clip_s: float
    alarm_code: str
    plate: str

    @property
    def clip_count(self) -> int:
        return round(self.hours * 3600 / self.clip_s)

    def needle_index(self, fraction: float) -> int:
        return min(self.clip_count - 1, int(fraction * self.clip_count))

    @property
    def plate_question(self) -> str:
        return f"When was the car with number plate {self.plate} in view?"

    def clip(self, index: int) -> ClipRecord:
        if index == self.needle_index(_ALARM_AT):
            lines: tuple[str, ...] = (f"ALARM CODE {self.alarm_code}",)
        elif index == self.needle_index(_PLATE_AT):
            lines = (self.plate,)
        else:
            words = random.Random(index).sample(_FILLER_WORDS, 3)
            lines = (f"{' '.join(words)} {index % 997}",)
        start_s = index * self.clip_s
        return ClipRecord(self.stream_id, start_s, start_s + self.clip_s, caption="", ocr_lines=lines, frame_count=4)

    def plate_span_s(self) -> tuple[float, float]:
        start_s = self.needle_index(_PLATE_AT) * self.clip_s
        return start_s, start_s + self.clip_s


def history_stream(index: int, hours: float, clip_s: float) -> HistoryStream:
    """Stream `index`'s needles differ from every other stream's, so a hit from the wrong stream shows."""
    return HistoryStream(f"history-{index}", hours, clip_s, f"{7315 + 111 * index}", f"KPL {4721 + 101 * index}")


async def write_history(client: LongwatchClient, stream: HistoryStream) -> float:
    """Writes every clip of `stream` in time order, WRITE_BATCH per WriteClips call; returns wall s.
    (Memory refuses a stream's clips out of time order, so one stream is one writer.)"""
    started = time.perf_counter()
    for start in range(0, stream.clip_count, WRITE_BATCH):
        end = min(start + WRITE_BATCH, stream.clip_count)
        await client.memory.write_clips([stream.clip(index) for index in range(start, end)])
    return time.perf_counter() - started


@dataclass
class Latencies:
    """Per stream id: Ask and Search latencies in ms, and how many answers were right of how many."""

    ask_ms: dict[str, list[float]] = field(default_factory=dict)
    search_ms: dict[str, list[float]] = field(default_factory=dict)
    right: dict[str, int] = field(default_factory=dict)
    asked: dict[str, int] = field(default_factory=dict)


async def _ask_once(client: LongwatchClient, stream: HistoryStream, latencies: Latencies) -> None:
    for question in (ALARM_QUESTION, stream.plate_question):
        started = time.perf_counter()
        answer = await client.reasoner.ask(question, stream_ids=[stream.stream_id])
        latencies.ask_ms.setdefault(stream.stream_id, []).append((time.perf_counter() - started) * 1000)
        if question == ALARM_QUESTION:
            is_right = stream.alarm_code in answer.answer
        else:
            start_s, end_s = stream.plate_span_s()
            top = answer.evidence[0] if answer.evidence else None
            is_right = top is not None and top.start_s < end_s and top.end_s > start_s
        latencies.right[stream.stream_id] = latencies.right.get(stream.stream_id, 0) + int(is_right)
        latencies.asked[stream.stream_id] = latencies.asked.get(stream.stream_id, 0) + 1
        started = time.perf_counter()
        await client.memory.search(question, stream_ids=[stream.stream_id], k=10)
        latencies.search_ms.setdefault(stream.stream_id, []).append((time.perf_counter() - started) * 1000)


async def measure_latencies(client: LongwatchClient, streams: Sequence[HistoryStream], repeats: int) -> Latencies:
    """Asks each stream its two questions (and runs the same two searches) `repeats` times, the streams
    interleaved within each round so drift on a shared machine hits all of them alike."""
    latencies = Latencies()
    for _ in range(repeats):
        for stream in streams:
            await _ask_once(client, stream, latencies)
    return latencies


def store_parts(memory_dir: Path) -> dict[str, list[Path]]:
    """memory's stores on disk (memory_service/settings.py has the layout), the sqlite write-ahead files
    (`-wal`, `-shm`) apart from the databases: they grow to a checkpoint's size and stay there."""
    chroma = memory_dir / "chroma"
    return {
        "write-ahead log": [memory_dir / "wal"],
        "chromadb: sqlite": sorted(chroma.glob("chroma.sqlite3")),
        "chromadb: sqlite -wal/-shm": sorted(chroma.glob("chroma.sqlite3-*")),
        "chromadb: vector index": sorted(path for path in chroma.iterdir() if path.is_dir()) if chroma.is_dir() else [],
        "stream index": sorted(memory_dir.glob("streams.sqlite3")),
        "stream index: sqlite -wal/-shm": sorted(memory_dir.glob("streams.sqlite3-*")),
    }


def store_sizes(memory_dir: Path) -> dict[str, int]:
    """Bytes on disk of each of memory's stores, and of any other file under `memory_dir`."""
    parts = store_parts(memory_dir)
    sizes = {name: sum(_bytes_under(path) for path in paths) for name, paths in parts.items()}
    sizes["other"] = _bytes_under(memory_dir) - sum(sizes.values())  # the chroma lock file, say
    return sizes


def file_listing(memory_dir: Path) -> dict[str, int]:
    """Every file under `memory_dir` with its allocated bytes, for the JSON."""
    files = sorted(path for path in memory_dir.rglob("*") if path.is_file())
    return {str(path.relative_to(memory_dir)): _bytes_under(path) for path in files}


def _bytes_under(path: Path) -> int:
    """Allocated bytes (blocks on disk, so sparse files count what they use), of a file or a folder."""
    if not path.exists():
        return 0
    files = [path] if path.is_file() else [item for item in path.rglob("*") if item.is_file()]
    total = 0
    for item in files:
        try:
            total += item.stat().st_blocks * 512
        except FileNotFoundError:  # memory deleted it meanwhile (a log segment, sqlite's -shm)
            continue
    return total


PROBE_CLIPS = 64  # clips written to measure the write rate before the history's clip length is chosen
PERCEPTION_CLIP_S = 4.0  # perception's longest clip (clip_max_s): a static camera's clip rate


@dataclass(frozen=True)
class WriteRate:
    ms_per_clip: dict[int, float]  # by concurrent writers

    @property
    def writers(self) -> int:
        return min(self.ms_per_clip, key=self.ms_per_clip.__getitem__)

    @property
    def best_ms(self) -> float:
        return self.ms_per_clip[self.writers]


async def probe_write_rate(client: LongwatchClient) -> WriteRate:
    """ms per clip with one WriteClips stream, PROBE_CLIPS clips."""
    probe = HistoryStream("write-probe-1", PROBE_CLIPS * 4.0 / 3600, 4.0, "0", "X 0")
    return WriteRate({1: await write_history(client, probe) * 1000 / probe.clip_count})


@dataclass(frozen=True)
class HistoryPlan:
    hours: tuple[float, ...]  # one stream per entry, shortest first
    clip_s: float  # stream seconds per synthetic clip
    repeats: int


async def history_section(
    client: LongwatchClient, plan: HistoryPlan, memory_dir: Path, plots_dir: Path, progress: Callable[[str], None]
) -> tuple[str, dict]:
    rate = await probe_write_rate(client)
    clip_s = plan.clip_s
    streams = [history_stream(index, hours, clip_s) for index, hours in enumerate(plan.hours)]
    progress(f"write rate {rate.ms_per_clip} ms/clip by writers; history clips {clip_s:g} s long")
    write_s = {streams[0].stream_id: await write_history(client, streams[0])}
    alone = await measure_latencies(client, streams[:1], plan.repeats)
    stored_alone = await _stored_clips(client)
    sizes = [store_sizes(memory_dir)]  # before each longer stream, and after the last
    for stream in streams[1:]:
        write_s[stream.stream_id] = await write_history(client, stream)
        sizes.append(store_sizes(memory_dir))
        progress(f"wrote {stream.clip_count:,} clips of {stream.hours:g} h in {write_s[stream.stream_id]:.0f} s")
    together = await measure_latencies(client, streams, plan.repeats)
    stored_all = await _stored_clips(client)
    rows = [_latency_row(streams[0], alone, stored_alone, alone, streams[0], "alone")]
    rows += [_latency_row(stream, together, stored_all, alone, streams[0], "") for stream in streams]
    plot = _plot(plots_dir, streams, together, clip_s)
    figures = {
        "write_ms_per_clip_by_writers": rate.ms_per_clip,
        "writers": rate.writers,
        "clip_s": clip_s,
        "streams": [asdict(stream) | {"clip_count": stream.clip_count} for stream in streams],
        "write_s": write_s,
        "alone": asdict(alone),
        "together": asdict(together),
        "stored_clips": {"alone": stored_alone, "together": stored_all},
        "store_bytes_before_longest": sizes[-2],
        "store_bytes_after_longest": sizes[-1],
        "files_after_longest": file_listing(memory_dir),
        "longest": {"hours": streams[-1].hours, "clips": streams[-1].clip_count},
    }
    return _history_markdown(streams, rate, rows, alone, together, plot), figures


async def _stored_clips(client: LongwatchClient) -> int:
    return sum(summary.clip_count for summary in await client.memory.list_streams())


def _label(hours: float) -> str:
    return f"{hours:g} h" if hours >= 1 else f"{hours * 60:.0f} min"


def _p50(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def _latency_row(
    stream: HistoryStream, got: Latencies, stored: int, base: Latencies, base_stream: HistoryStream, note: str
) -> list[str]:
    key, base_key = stream.stream_id, base_stream.stream_id
    ask, search = got.ask_ms[key], got.search_ms[key]
    return [
        _label(stream.hours) + (f" ({note})" if note else ""),
        f"{stream.clip_count:,}",
        f"{stored:,}",
        f"{_p50(ask):.0f}",
        f"{percentile(ask, 0.95):.0f}",
        f"{_p50(ask) / _p50(base.ask_ms[base_key]):.2f}",
        f"{_p50(search):.0f}",
        f"{percentile(search, 0.95):.0f}",
        f"{_p50(search) / _p50(base.search_ms[base_key]):.2f}",
        f"{got.right[key]}/{got.asked[key]}",
    ]


def _plot(plots_dir: Path, streams: Sequence[HistoryStream], got: Latencies, clip_s: float) -> Path:
    ids = [stream.stream_id for stream in streams]
    series = {
        "Ask p50": [_p50(got.ask_ms[key]) for key in ids],
        "Ask p95": [percentile(got.ask_ms[key], 0.95) for key in ids],
        "Search p50": [_p50(got.search_ms[key]) for key in ids],
    }
    title = f"one store holding all three streams; a synthetic clip every {clip_s:g} s"
    return plot_ask(plots_dir / "scaling_ask.png", [stream.hours for stream in streams], series, title)


def _history_markdown(
    streams: Sequence[HistoryStream],
    rate: WriteRate,
    rows: list[list[str]],
    alone: Latencies,
    got: Latencies,
    plot: Path,
) -> str:
    shortest, longest = streams[0], streams[-1]
    ask_ratio = _p50(got.ask_ms[longest.stream_id]) / _p50(got.ask_ms[shortest.stream_id])
    search_ratio = _p50(got.search_ms[longest.stream_id]) / _p50(got.search_ms[shortest.stream_id])
    alone_ratio = _p50(got.ask_ms[shortest.stream_id]) / _p50(alone.ask_ms[shortest.stream_id])
    clip_s = shortest.clip_s
    rates = ", ".join(
        f"{ms:.1f} ms with {writers} writer{'s' * (writers > 1)}" for writers, ms in rate.ms_per_clip.items()
    )
    header = ["history", "clips in stream", "clips in store", "Ask p50 ms", "Ask p95 ms", "Ask p50 ratio"]
    header += ["Search p50 ms", "Search p95 ms", "Search p50 ratio", "right answers"]
    return "\n\n".join(
        [
            "### Ask latency against history",
            f"Synthetic ClipRecords written through WriteClips, a clip every {clip_s:g} s of stream time"
            + _clip_note(streams, rate)
            + f"; writing cost {rates} (WriteClips streams at once; {rate.writers} used). Each stream holds two "
            "needles, an alarm-code line at 37 % of its length and a number plate at 71 %, with codes of its "
            f'own. Each stream was asked "{ALARM_QUESTION}" and "When was the car with number plate … in '
            f'view?" {got.asked[shortest.stream_id] // 2} times each, the streams interleaved, with the default '
            "deadline; Search is memory's Search for the same question (k 10). The first row is the shortest "
            "stream asked before the longer ones were written. Ratios are to that first row. Right: the code "
            "in the answer, or the top evidence overlapping the plate's clip.",
            table(header, rows),
            f"Asked side by side, the {_label(longest.hours)} stream ({longest.clip_count / shortest.clip_count:,.0f} "
            f"times the clips) has {ask_ratio:.2f} times the Ask p50 and {search_ratio:.2f} times the Search p50 of "
            f"the {_label(shortest.hours)} stream; the {_label(shortest.hours)} stream itself took "
            f"{alone_ratio:.2f} times as long to ask once the store held the longer streams too.",
            f"![Ask and Search latency against history]({plot.name})",
        ]
    )


# Stores that stop growing: memory's log (segments deleted once applied) and sqlite's -wal files.
_BOUNDED_STORES = ("write-ahead log", "chromadb: sqlite -wal/-shm", "stream index: sqlite -wal/-shm")
_BYTES_NOTE = (
    "The last column scales bytes per clip to perception's 4 s clips (900 an hour). Memory's log rolls at "
    "8 MiB segments, deleted once applied, and sqlite's -wal files stop at their checkpoint size (about 4 MiB): "
    "those three rows do not grow with the hours stored. chromadb allocates in steps, so the small video phase "
    "reads coarse."
)


def _clip_note(streams: Sequence[HistoryStream], rate: WriteRate) -> str:
    """Why the clips are longer than perception's, when they are: what 4 s clips would cost to write."""
    if streams[0].clip_s <= PERCEPTION_CLIP_S:
        return ""
    clips = sum(stream.hours for stream in streams) * 3600 / PERCEPTION_CLIP_S
    minutes = clips * rate.best_ms / 60_000
    return (
        f" (perception writes a clip every {PERCEPTION_CLIP_S:g} s; that would be {clips:,.0f} clips here, about "
        f"{minutes:.0f} min of writing at this run's rate)"
    )


def bytes_section(ingest: dict, history: dict) -> tuple[str, dict]:
    """Bytes on disk per stream-hour and per clip, per store, from before/after sizes of two phases."""
    real = _delta(ingest["store_bytes_before"], ingest["store_bytes_after"])
    synthetic = _delta(history["store_bytes_before_longest"], history["store_bytes_after_longest"])
    real_hours, real_clips = ingest["stream_hours"], ingest["final_status"]["clips_written"]
    longest, clip_s = history["longest"], history["clip_s"]
    rows = []
    for store in real:  # each store, then the total
        per_clip = synthetic[store] / longest["clips"]
        rows.append(
            [
                store,
                _kib(real[store] / real_hours),
                _kib(real[store] / real_clips),
                _kib(synthetic[store] / longest["hours"]),
                f"{per_clip:,.0f}",
                _kib(per_clip * 900),
            ]
        )
    header = ["store", "video: KiB / stream-h", "video: KiB / clip", f"synthetic: KiB / stream-h ({clip_s:g} s clips)"]
    header += ["synthetic: bytes / clip", "synthetic at 4 s clips: KiB / stream-h"]
    growing_real_per_h = (real["total"] - sum(real[store] for store in _BOUNDED_STORES)) / real_hours
    growing_per_clip = (synthetic["total"] - sum(synthetic[store] for store in _BOUNDED_STORES)) / longest["clips"]
    markdown = "\n\n".join(
        [
            "### Bytes stored per stream-hour, per store",
            f"Blocks allocated on disk under `<data dir>/memory/` (`wal/`, `chroma/`, `streams.sqlite3*`), "
            f"before and after ingesting the long video ({real_hours:.2f} stream-hours, {real_clips} clips "
            f"with visual features) and before and after writing the {longest['hours']:g} h synthetic stream "
            f"({longest['clips']:,} clips, text only). {_BYTES_NOTE}",
            table(header, rows),
            f"A stream-hour of the long video took {rows[-1][1]} KiB, {_kib(growing_real_per_h)} KiB of it in the "
            f"stores that keep growing; a synthetic clip took {rows[-1][4]} bytes, {growing_per_clip:,.0f} of them "
            f"for good: {_kib(growing_per_clip * 900 * 24 / 1024)} MiB per stream-day at 4 s clips.",
        ]
    )
    figures = {"video_bytes": real, "synthetic_bytes": synthetic, "growing_bytes_per_clip": growing_per_clip}
    return markdown, figures


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Bytes added per store, and their total."""
    added = {store: after[store] - before[store] for store in after}
    return added | {"total": sum(added.values())}


def _kib(value: float) -> str:
    return f"{value / 1024:,.1f}"
