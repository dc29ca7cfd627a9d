"""Reasoner: Ask latency over 10 minutes and 24 hours of history, deadlines kept, nodes read, answers right.

    .venv/bin/python -m benchmarks.reasoner --quick    # what `make bench` runs: 20 questions per history and deadline
    .venv/bin/python -m benchmarks.reasoner            # `make bench-full`: 60

One process runs the memory service (memory_service.app.MemoryApp: MiniLM, embedded chromadb, a temporary
data directory) and the reasoner (reasoner.app.ReasonerApp, the cpu profile's Gemma when the model cache holds
it, else the tiny LLM), each a real gRPC server on a free loopback port. History is built as benchmarks.memory
builds it (its write probe and plan, its in-order writer into the service's own Memory, then consolidation):
a 10-minute and a 24-hour stream of the loading dock (benchmarks/memory_synthetic.py) with locker signs planted
in each: five needles ("LOCKER 42 CODE 5531"), each with three distractors that share its label or its number
("LOCKER 41 …", "LOCKER 24 …", "GATE 42 …"). The SDK's ReasonerClient then asks over gRPC, the histories and
deadlines (2000 and 500 ms) interleaved, half the questions about a shown locker and half about one never
shown. Only the Ask API is used: how the reasoner finds its answer is its own business.
Writes `reasoner.md` and `reasoner.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from pathlib import Path

from tqdm import tqdm

from benchmarks.common import RESULTS_DIR, command_block, percentile, table, write_result
from benchmarks.memory import CLIP_S, LONG_HOURS, SHORT_HOURS, WarningCount, plan_long_hours, write_streams
from benchmarks.memory_report import label
from benchmarks.memory_synthetic import SyntheticStream
from longwatch.client import ReasonerClient
from longwatch.errors import LongwatchError
from longwatch.models.gemma import CACHE_NAME as GEMMA_CACHE_NAME
from longwatch.types import ClipRecord
from longwatch_cli.eval.scoring import is_abstention, says
from memory_service.app import MemoryApp
from memory_service.settings import MemorySettings
from orchestration.health import free_port

HEADING = "## Reasoner: Ask latency at 10 minutes and 24 hours of history"
HOST = "127.0.0.1"
DEADLINES_MS = (2000, 500)
QUESTIONS = {True: 20, False: 60}  # per history and deadline, by --quick; half needles, half absent
DEADLINE_SLACK = 0.10  # an Ask is on time when it returns within its deadline plus this share of it
RATIO_TARGET = 1.3  # the long history's Ask p50 over the 10-minute one's, at the same deadline
ON_TIME_TARGET = 0.99  # share of Asks on time
NEEDLE_LOCKERS = (42, 17, 63, 85, 29)
ABSENT_LOCKERS = (43, 18, 64, 86, 30)  # never shown, each one off a shown locker: a near miss, not a free pass
PHRASINGS = ("What was the code for locker {number}?", "Which code did locker {number} show?")
NOT_SEEN_METHOD = "not-seen"  # longwatch.types.AnswerMethod.NOT_SEEN, as the wire carries it
WRONG_SHOWN = 8  # wrong answers listed in the section


@dataclass(frozen=True)
class Sign:
    """One planted on-screen line, `LABEL NUMBER CODE code`."""

    label: str
    number: int
    code: str
    is_needle: bool = False  # what a question asks about; the others are its distractors

    @property
    def line(self) -> str:
        return f"{self.label} {self.number} CODE {self.code}"


@dataclass(frozen=True)
class LockerStream(SyntheticStream):
    """The dock stream with locker signs added to clips at known places; `seed` picks codes and places."""

    @cached_property
    def signs(self) -> tuple[Sign, ...]:
        """Per needle locker: the needle, its neighbour, its digits swapped, and its number under another label.
        Codes are four digits and distinct, from a range of this seed's own (seed 0: 1000-4999, seed 1: 5000-...),
        so a code from another stream never passes for this one's."""
        low = 1000 + 4000 * self.seed
        codes = iter(random.Random(self.seed).sample(range(low, low + 4000), 4 * len(NEEDLE_LOCKERS)))
        signs = []
        for number in NEEDLE_LOCKERS:
            signs += [Sign("LOCKER", number, str(next(codes)), is_needle=True)]
            signs += [
                Sign("LOCKER", number - 1, str(next(codes))),
                Sign("LOCKER", int(str(number)[::-1]), str(next(codes))),
            ]
            signs += [Sign("GATE", number, str(next(codes)))]
        return tuple(signs)

    @cached_property
    def sign_at(self) -> dict[int, Sign]:
        """Clip index -> sign: one per evenly spaced slot, signs shuffled over the slots, none on a dock needle."""
        slots = len(self.signs)
        order = random.Random(self.seed).sample(range(slots), slots)
        taken = {self.needle_index(needle) for needle in self.needles}
        placed: dict[int, Sign] = {}
        for sign, slot in zip(self.signs, order, strict=True):
            index = int((slot + 0.5) / slots * self.clip_count)
            while index in taken:
                index += 1
            taken.add(index)
            placed[index] = sign
        return placed

    @property
    def needle_signs(self) -> tuple[Sign, ...]:
        return tuple(sign for sign in self.signs if sign.is_needle)

    def clip(self, index: int, keyframe: bytes = b"") -> ClipRecord:
        clip = super().clip(index, keyframe)
        sign = self.sign_at.get(index)
        return clip if sign is None else replace(clip, ocr_lines=(*clip.ocr_lines, sign.line))


@dataclass(frozen=True)
class AskCase:
    """One question: `expected` is the code a right answer holds, None for a locker never shown."""

    text: str
    expected: str | None
    confusers: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "absent" if self.expected is None else "needle"


def ask_cases(stream: LockerStream, count: int) -> list[AskCase]:
    """`count` questions, needle and absent in turn, each list cycled, the phrasing changing every pair.
    A needle's confusers are every other code planted in the stream: an answer listing candidates is wrong."""
    needles, cases = stream.needle_signs, []
    for position in range(count):
        turn = position // 2
        phrasing = PHRASINGS[turn % len(PHRASINGS)]
        if position % 2:
            cases.append(AskCase(phrasing.format(number=ABSENT_LOCKERS[turn % len(ABSENT_LOCKERS)]), None))
            continue
        sign = needles[turn % len(needles)]
        confusers = tuple(other.code for other in stream.signs if other != sign)
        cases.append(AskCase(phrasing.format(number=sign.number), sign.code, confusers))
    return cases


def is_right(case: AskCase, answer: str, method: str) -> bool:
    """Needle: the code said and no confuser (the eval harness's rule); absent: the answer says not seen."""
    is_not_seen = method == NOT_SEEN_METHOD or is_abstention(answer)
    if case.expected is None:
        return is_not_seen
    if is_not_seen or not says(answer, case.expected):
        return False
    return not any(says(answer, confuser) for confuser in case.confusers)


@dataclass(frozen=True)
class AskRecord:
    """One measured Ask, as the JSON keeps it."""

    stream_id: str
    deadline_ms: int
    kind: str
    question: str
    expected: str
    ms: float
    answer: str = ""
    method: str = ""
    is_partial: bool = False
    nodes_read: int = 0
    is_right: bool = False
    error: str = ""  # the call failed: not on time, not right

    @property
    def is_on_time(self) -> bool:
        return not self.error and self.ms <= self.deadline_ms * (1 + DEADLINE_SLACK)


@dataclass(frozen=True)
class Summary:
    """One history at one deadline. Latencies are of the Asks that answered; errors count as late and wrong."""

    asks: int
    p50_ms: float
    p95_ms: float
    on_time: int
    partial: int
    nodes_mean: float
    right: dict[str, tuple[int, int]]  # kind -> (right, asked)
    errors: int

    @property
    def on_time_share(self) -> float:
        return self.on_time / self.asks if self.asks else 0.0


def summarize(records: Sequence[AskRecord]) -> Summary:
    answered = [record for record in records if not record.error]
    ms = [record.ms for record in answered]
    right = {
        kind: (sum(r.is_right for r in records if r.kind == kind), sum(r.kind == kind for r in records))
        for kind in ("needle", "absent")
    }
    return Summary(
        asks=len(records),
        p50_ms=percentile(ms, 0.5),
        p95_ms=percentile(ms, 0.95),
        on_time=sum(record.is_on_time for record in records),
        partial=sum(record.is_partial for record in answered),
        nodes_mean=sum(record.nodes_read for record in answered) / len(answered) if answered else 0.0,
        right=right,
        errors=len(records) - len(answered),
    )


def p50_ratio(long: Summary, short: Summary) -> float | None:
    """The long history's Ask p50 over the short one's; None when the short one has none."""
    return long.p50_ms / short.p50_ms if short.p50_ms else None


def verdict(is_met: bool) -> str:
    return "met" if is_met else "NOT met"


def progress(message: str) -> None:
    """A progress line on stderr; stdout carries only the Markdown."""
    print(f"[reasoner {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def timed_ask(client: ReasonerClient, stream: LockerStream, case: AskCase, deadline_ms: int) -> AskRecord:
    base = {"stream_id": stream.stream_id, "deadline_ms": deadline_ms, "kind": case.kind, "question": case.text}
    base["expected"] = case.expected or "(not seen)"
    started = time.perf_counter()
    try:
        answer = await client.ask(case.text, stream_ids=[stream.stream_id], deadline_ms=deadline_ms)
    except LongwatchError as exc:
        return AskRecord(**base, ms=(time.perf_counter() - started) * 1000, error=f"{type(exc).__name__}: {exc}")
    return AskRecord(
        **base,
        ms=(time.perf_counter() - started) * 1000,
        answer=answer.answer,
        method=answer.method,
        is_partial=answer.partial,
        nodes_read=getattr(answer, "nodes_read", 0),  # Answer.nodes_read is being added to the API
        is_right=is_right(case, answer.answer, answer.method),
    )


async def run_asks(client: ReasonerClient, streams: Sequence[LockerStream], count: int) -> list[AskRecord]:
    """Each stream's `count` questions at each deadline; question by question, deadlines and streams in turn,
    so drift on a shared machine hits all alike. One unmeasured Ask per stream and deadline first."""
    cases = {stream.stream_id: ask_cases(stream, count) for stream in streams}
    for deadline_ms in DEADLINES_MS:
        for stream in streams:
            await timed_ask(client, stream, cases[stream.stream_id][0], deadline_ms)  # warm-up
    records = []
    with tqdm(total=count * len(DEADLINES_MS) * len(streams), desc="asks", file=sys.stderr, mininterval=2.0) as bar:
        for position in range(count):
            for deadline_ms in DEADLINES_MS:
                for stream in streams:
                    records.append(await timed_ask(client, stream, cases[stream.stream_id][position], deadline_ms))
                    bar.update()
    return records


def llm_for(model_cache: Path) -> str:
    """The cpu profile's Gemma when it is prepared, else the tiny LLM (the benchmark never downloads).
    The cache renames a model into place only once it is complete, so its folder existing is enough."""
    return "gemma" if (model_cache / GEMMA_CACHE_NAME).is_dir() else "tiny"


async def history(memory: MemoryApp, is_quick: bool) -> tuple[list[LockerStream], dict]:
    long_hours, probe = await plan_long_hours(memory.memory, is_quick)
    progress(f"probe: {probe['clips_per_s']:.0f} clips/s; history estimated at {probe['estimate_s']:.0f} s")
    streams = [
        LockerStream("dock-10min", SHORT_HOURS, CLIP_S, seed=0),
        LockerStream(f"dock-{long_hours:g}h", long_hours, CLIP_S, seed=1),
    ]
    timing = await write_streams(memory.memory, streams, "history")
    progress(f"history: wrote {timing['clips']:,} clips in {timing['write_s']:.0f} s")
    stats = await memory.memory.stats([stream.stream_id for stream in streams])
    figures = {"probe": probe, "write": timing, "long_hours": long_hours, "is_shortened": long_hours < LONG_HOURS}
    figures["streams"] = [
        {"stream_id": s.stream_id, "hours": s.hours, "clips": s.clip_count, "signs": [asdict(g) for g in s.signs]}
        for s in streams
    ]
    figures["nodes_per_level"] = {s.stream_id: list(s.nodes_per_level) for s in stats.streams}
    return streams, figures


async def run(args: argparse.Namespace, root: Path) -> dict:
    # Imported here, not at the top: the scoring and the section are read (and unit-tested) without the
    # reasoner's code, whose answering logic changes under this benchmark by design.
    from reasoner.app import ReasonerApp
    from reasoner.settings import ReasonerSettings

    async with contextlib.AsyncExitStack() as stack:
        memory = MemoryApp(MemorySettings(data_dir=root / "memory", host=HOST, port=free_port(HOST)))
        stack.push_async_callback(memory.stop)
        await memory.start()
        streams, figures = await history(memory, args.quick)
        llm = llm_for(memory.settings.model_cache)
        address = f"{HOST}:{memory.settings.port}"
        settings = ReasonerSettings(
            data_dir=root / "reasoner", host=HOST, port=free_port(HOST), memory_addr=address, llm=llm
        )
        reasoner = ReasonerApp(settings)
        stack.push_async_callback(reasoner.stop)
        started = time.perf_counter()
        await reasoner.start()
        figures |= {"llm": llm, "llm_name": reasoner.llm.name, "reasoner_start_s": time.perf_counter() - started}
        client = ReasonerClient(f"{HOST}:{reasoner.settings.port}")
        stack.push_async_callback(client.close)
        figures["asks"] = [asdict(record) for record in await run_asks(client, streams, QUESTIONS[args.quick])]
    return figures | {"questions": QUESTIONS[args.quick], "deadlines_ms": list(DEADLINES_MS)}


def summaries(figures: dict) -> dict[tuple[str, int], Summary]:
    """(stream id, deadline ms) -> Summary, from the JSON's records."""
    records = [AskRecord(**record) for record in figures["asks"]]
    keys = [(s["stream_id"], deadline) for deadline in figures["deadlines_ms"] for s in figures["streams"]]
    return {key: summarize([r for r in records if (r.stream_id, r.deadline_ms) == key]) for key in keys}


def _row(stream: dict, deadline_ms: int, got: Summary, ratio: float | None, levels: Sequence[int]) -> list[str]:
    needles, absent = got.right["needle"], got.right["absent"]
    return [
        label(stream["hours"]),
        f"{stream['clips']:,}",
        " / ".join(f"{count:,}" for count in levels) or "none",
        str(deadline_ms),
        str(got.asks),
        f"{got.p50_ms:.0f}",
        f"{got.p95_ms:.0f}",
        "-" if ratio is None else f"{ratio:.2f}",
        f"{got.on_time}/{got.asks}",
        str(got.partial),
        f"{got.nodes_mean:.0f}",
        f"{needles[0]}/{needles[1]}",
        f"{absent[0]}/{absent[1]}",
        str(got.errors),
    ]


RESULTS_HEADER = ["history", "clips", "nodes per level (1 up)", "deadline ms", "Asks", "p50 ms", "p95 ms"]
RESULTS_HEADER += ["p50 ratio to 10 min", "within deadline +10 %", "partial", "nodes read: mean"]
RESULTS_HEADER += ["right: needles", "right: absent", "errors"]


def results_table(figures: dict, got: dict[tuple[str, int], Summary]) -> str:
    """One row per history and deadline; the ratio is to the 10-minute history at the same deadline."""
    short_id, rows = figures["streams"][0]["stream_id"], []
    for deadline_ms in figures["deadlines_ms"]:
        for stream in figures["streams"]:
            mine = got[(stream["stream_id"], deadline_ms)]
            ratio = p50_ratio(mine, got[(short_id, deadline_ms)])
            rows.append(_row(stream, deadline_ms, mine, ratio, figures["nodes_per_level"].get(stream["stream_id"], [])))
    return table(RESULTS_HEADER, rows)


def verdicts(figures: dict, got: dict[tuple[str, int], Summary]) -> str:
    """Per deadline: the p50 ratio, and each history's share of Asks on time, each against its target."""
    streams = figures["streams"]
    short, long = streams[0], streams[-1]
    lines = []
    for deadline_ms in figures["deadlines_ms"]:
        ratio = p50_ratio(got[(long["stream_id"], deadline_ms)], got[(short["stream_id"], deadline_ms)])
        ratio_text = "-, no Ask of the shorter one answered" if ratio is None else f"{ratio:.2f}"
        ratio_verdict = verdict(ratio is not None and ratio <= RATIO_TARGET)
        shares = [got[(stream["stream_id"], deadline_ms)].on_time_share for stream in streams]
        shares_text = ", ".join(f"{label(s['hours'])} {share:.1%}" for s, share in zip(streams, shares, strict=True))
        lines.append(
            f"At deadline_ms {deadline_ms}: Ask p50 {label(long['hours'])} / {label(short['hours'])} {ratio_text} "
            f"(target <= {RATIO_TARGET:g}: {ratio_verdict}); Asks returned within "
            f"{deadline_ms * (1 + DEADLINE_SLACK):.0f} ms: {shares_text} (target >= {ON_TIME_TARGET:.0%}: "
            f"{verdict(min(shares) >= ON_TIME_TARGET)})."
        )
    return "\n".join(lines)


def _setup(figures: dict) -> str:
    write, first = figures["write"], figures["streams"][0]["signs"]
    needle, *distractors = (Sign(**sign).line for sign in first[:4])  # one needle and its three distractors
    question = PHRASINGS[0].format(number=first[0]["number"])
    llm_note = "the cpu profile's Gemma" if figures["llm"] == "gemma" else "the tiny LLM: Gemma is not in the cache"
    return (
        "One process runs the memory service (MemoryApp: default MemorySettings in a temporary data directory, "
        "MiniLM, embedded chromadb) and the reasoner (ReasonerApp, default ReasonerSettings, LLM "
        f"`{figures['llm_name']}`: {llm_note}; started in {figures['reasoner_start_s']:.0f} s), each a gRPC server "
        "on a loopback port; the SDK's ReasonerClient asks over gRPC. History as benchmarks.memory builds it: the "
        "synthetic loading dock, a clip every 4 s, written into the service's own Memory "
        f"({write['clips']:,} clips in {write['write_s']:.0f} s, consolidated {write['consolidate_s']:.0f} s later); "
        f'{_length_note(figures)}. Planted in each stream, codes its own: five locker codes ("{needle}" in the '
        f"10 min stream), each with three distractors sharing its label or its number ({', '.join(distractors)}). "
        f'{figures["questions"]} questions per history and deadline, half about a shown locker ("{question}"; '
        "right: its code said and none of the stream's other codes) and half about lockers never shown "
        f"({', '.join(map(str, ABSENT_LOCKERS))}; right: the answer says not seen), questions, deadlines and "
        "histories interleaved after one unmeasured Ask each. Latency: the client's wall time of an Ask; p50 and "
        "p95 over the Asks that answered; a failed Ask counts as late and wrong. The run took "
        f"{figures.get('wall_s', 0) / 60:.1f} min."
    )


def _length_note(figures: dict) -> str:
    long, probe = figures["streams"][-1], figures["probe"]
    if not figures["is_shortened"]:
        return "the long history is the full 24 h"
    return (
        f"--quick replaced 24 h with {label(long['hours'])}, as benchmarks.memory's quick mode does: its write "
        f"probe ({probe['clips_per_s']:.0f} clips/s) put 24 h past that mode's limit"
    )


def _notes(figures: dict) -> list[str]:
    """What a reader must know to trust the table: nodes_read not reported, failed Asks, warnings."""
    asks, notes = figures["asks"], []
    if not any(record["nodes_read"] for record in asks):
        notes.append("Nodes read: the reasoner reported 0 for every Ask (Answer.nodes_read not filled in).")
    failed = [record["error"] for record in asks if record["error"]]
    if failed:
        notes.append(f"{len(failed)} of {len(asks)} Asks failed; the first: `{failed[0][:200]}`.")
    warnings = figures.get("warnings", {})
    if warnings.get("counts"):
        notes.append(f"Logged during the run: {warnings['counts']}; the first: `{warnings['first'][0][:200]}`.")
    return notes


def _wrong(figures: dict) -> str:
    wrong = [record for record in figures["asks"] if not record["is_right"]][:WRONG_SHOWN]
    if not wrong:
        return ""
    header = ["history", "deadline ms", "question", "expected", "said"]
    rows = [
        [r["stream_id"], str(r["deadline_ms"]), r["question"], r["expected"], r["answer"] or f"(failed) {r['error']}"]
        for r in wrong
    ]
    return "Some wrong answers:\n\n" + table(header, [[cell[:100].replace("|", "/") for cell in row] for row in rows])


def markdown(figures: dict, command_md: str) -> str:
    """The whole section: heading, command, setup, the table, the verdicts, notes, a few wrong answers."""
    got = summaries(figures)
    parts = [HEADING, command_md, _setup(figures), results_table(figures, got), verdicts(figures, got)]
    return "\n\n".join(part for part in [*parts, *_notes(figures), _wrong(figures)] if part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 questions per history and deadline (else 60)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where reasoner.md and reasoner.json go")
    args = parser.parse_args()
    command = " ".join([".venv/bin/python -m benchmarks.reasoner", *sys.argv[1:]])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    warnings = WarningCount()
    logging.getLogger().addHandler(warnings)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="longwatch-reasoner-") as root:
        figures = asyncio.run(run(args, Path(root)))
    figures |= {"command": command, "wall_s": time.perf_counter() - started, "is_quick": args.quick}
    figures["warnings"] = {"counts": dict(warnings.counts), "first": warnings.first}
    write_result("reasoner", markdown(figures, command_block(command)), figures, args.results)


if __name__ == "__main__":
    main()
