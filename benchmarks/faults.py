"""Faults: each service SIGKILLed in turn in the middle of ingest and asks, restarted, and checked.

    .venv/bin/python -m benchmarks.faults --quick     # 1 stream and 2 askers through each kill, cpu profile
    .venv/bin/python -m benchmarks.faults [--profile cpu|tiny] [--results DIR]   # 2 streams, 4 askers

For memory, then perception, then the reasoner, a fresh system (real services, free loopback ports, a new
data directory, so one kill's damage does not leak into the next) runs this:
1. A writer stores synthetic clips one at a time (MemoryClient.write_clips), each with a unique code in its
   on-screen text, and keeps the ids memory acknowledged, until the end. Askers ask the sample's questions.
2. Stream `fault-a` (the 48 s sample) is ingested to the end; a fixed question is asked about it.
3. `fault-b` (and `fault-c`) start; at 40% of `fault-b` the video clip ids memory holds are read (by
   search), the service is SIGKILLed (Launcher.kill) and started again (Launcher.restart: until SERVING).
4. Perception does not resume a stream it lost: after its restart the streams are added again, as a user
   would (same names, same file; memory stores clips by id, so a resent clip replaces itself).
5. Once the streams finish and the work went on a few seconds more: the fixed question again, every
   acknowledged synthetic clip searched for by its code, the video clip ids read again.

Writer, askers and checks share one long-lived client, as a program using the SDK would; after the restart
the run waits (bounded) until that client reaches all three services again, and reports how long it took.
Checked per killed service: no acknowledged clip lost, search and ListStreams agree, no duplicates, the
client works again soon after SERVING, the streams finish, the fixed answer and its evidence are unchanged.
Errors during the outage and the seconds to SERVING are reported.
Writes `faults.md` and `faults.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import multiprocessing.context
import multiprocessing.process
import queue
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import RESULTS_DIR, command_block, table, write_result
from longwatch.client import LongwatchClient
from longwatch.progress import wait_until_final
from longwatch.sample import EVENTS, make_sample
from longwatch.types import ClipRecord
from longwatch_cli.eval.system import local_system
from orchestration.launcher import Launcher

SERVICES_IN_TURN = ("memory", "perception", "reasoner")
FIXED_QUESTION = EVENTS[2].question  # "What was the alarm code on the screen?": answered from memory's hits
ASK_DEADLINE_MS = 1500  # as in benchmarks.load
ASK_PAUSE_S = 0.3  # between one asker's questions: steady asks that leave the 2 cores to ingest
WRITE_EVERY_S = 0.25  # between synthetic clips: ~4 a second, a few hundred per phase at most
KILL_AT_FRACTION = 0.4  # of fault-b's duration decoded when the service is killed
AFTER_S = 3.0  # seconds the work goes on after the streams finish, on the restarted service
# The longest reconnect delay the project chose elsewhere (perception's memory_retry_max_s): a client should
# work again this soon after the service it lost is SERVING. gRPC's own back-off grows to 120 s.
RECONNECT_TARGET_S = 10.0
RECONNECT_WAIT_S = 130.0  # how long the run waits for the client to reach every service again
WAIT_S = 120.0  # longest wait for a stream position or a stream's end; a phase stays bounded
SYNTH_STREAM = "fault-synth"
VIDEO_CLIPS_QUERY = "text on screen"  # any text: with k above a stream's clip count every clip comes back
MAX_K = 100  # memory's limit on hits per search; a 48 s stream has about 16 clips
MIDDLE = {True: ["fault-b"], False: ["fault-b", "fault-c"]}  # streams through the kill, by --quick
ASKERS = {True: 2, False: 4}  # by --quick
SPANS = ("before", "outage", "after")  # of a phase: until the kill, until SERVING again, after that
Check = tuple[str, bool, str]  # what is checked, whether it passed, the figures behind it


@dataclass
class EventLog:
    """Outcomes of repeated calls: (started, ended) monotonic seconds and the error kind ('' = ok)."""

    calls: list[tuple[float, float, str]] = field(default_factory=list)

    def add(self, started: float, kind: str) -> None:
        self.calls.append((started, time.monotonic(), kind))

    def summary(self, killed_at: float, serving_at: float) -> dict:
        """Outcomes per span (by when each call ended), and the seconds from SERVING to the first success."""
        spans: dict[str, Counter[str]] = {span: Counter() for span in SPANS}
        for _, ended, kind in self.calls:
            span = "before" if ended < killed_at else "outage" if ended <= serving_at else "after"
            spans[span][kind or "ok"] += 1
        first_ok = min((ended for _, ended, kind in self.calls if not kind and ended > serving_at), default=None)
        first_ok_s = None if first_ok is None else first_ok - serving_at
        return {**{span: dict(counts) for span, counts in spans.items()}, "first_ok_after_serving_s": first_ok_s}


class FaultSwitch:
    """Lets the workload, in a process of its own, have this (main) process kill and restart a service.

    The workload is a separate process, like any program using the SDK, because the launcher forks: a fork
    while another thread of the same process is inside a gRPC call can crash the new child before it execs
    (seen here as restarted services dying with SIGSEGV). This process makes no gRPC calls while it forks."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self._asked, self._done, self._results = context.Queue(), context.Queue(), context.Queue()

    async def trip(self, name: str) -> dict:
        """Called by the workload: returns once `name` was killed and is SERVING again (or failed to)."""
        self._asked.put(name)
        return await asyncio.to_thread(self._done.get)

    def report(self, figures: dict) -> None:
        self._results.put(figures)

    def serve(self, launcher: Launcher, worker: multiprocessing.process.BaseProcess) -> dict:
        """Called by the main process: carries out the trip the workload asks for; returns its figures."""
        while True:
            with contextlib.suppress(queue.Empty):
                self._done.put(kill_and_restart(launcher, self._asked.get(timeout=0.2)))
            with contextlib.suppress(queue.Empty):
                return self._results.get(timeout=0.2)
            if not worker.is_alive() and self._results.empty():
                return {"error": f"the workload process exited with code {worker.exitcode}"}


def kill_and_restart(launcher: Launcher, name: str) -> dict:
    killed_at, error = time.monotonic(), ""
    launcher.kill(name)
    try:
        launcher.restart(name)
    except Exception as exc:  # noqa: BLE001 - reported as the phase's outcome; the system is stopped after
        error = str(exc)
    return {"killed_at": killed_at, "serving_at": time.monotonic(), "restart_error": error}


@dataclass
class SyntheticWriter:
    """Writes one synthetic clip at a time; `acked` maps each acknowledged clip id to its unique code."""

    client: LongwatchClient
    acked: dict[str, str] = field(default_factory=dict)
    attempted: set[str] = field(default_factory=set)
    log: EventLog = field(default_factory=EventLog)

    async def run(self) -> None:
        for index in range(1_000_000):
            code = f"FX{index:05d}Q"  # digits make it an exact search term; unique per clip
            clip = ClipRecord(SYNTH_STREAM, 4.0 * index, 4.0 * index + 3.9, "a synthetic clip", (f"CHECK {code}",))
            self.attempted.add(clip.clip_id)
            started = time.monotonic()
            try:
                self.acked.update((clip_id, code) for clip_id in await self.client.memory.write_clips([clip]))
                self.log.add(started, "")
            except Exception as exc:  # noqa: BLE001 - an outage is expected here; counted by kind
                self.log.add(started, type(exc).__name__)
            await asyncio.sleep(WRITE_EVERY_S)


async def ask_loop(client: LongwatchClient, asker: int, log: EventLog) -> None:
    """Asks the sample's questions in turn over every stream, as `longwatch ask` does without --stream."""
    for index in range(asker, 1_000_000):
        started = time.monotonic()
        try:
            await client.reasoner.ask(EVENTS[index % len(EVENTS)].question, deadline_ms=ASK_DEADLINE_MS)
            log.add(started, "")
        except Exception as exc:  # noqa: BLE001 - an outage is expected here; counted by kind
            log.add(started, type(exc).__name__)
        await asyncio.sleep(ASK_PAUSE_S)


async def attempt(call) -> tuple[object, str]:
    """(result, '') or (None, the error): a check must report a failing service, not crash the run."""
    try:
        return await call, ""
    except Exception as exc:  # noqa: BLE001 - the error is the finding
        return None, f"{type(exc).__name__}: {exc}"


async def fixed_answer(client: LongwatchClient) -> dict:
    """The fixed question about `fault-a`, the stream finished before the kill, with the default deadline."""
    answer, error = await attempt(client.reasoner.ask(FIXED_QUESTION, stream_ids=["fault-a"]))
    if answer is None:
        return {"answer": "", "evidence": [], "error": error}
    evidence = [[item.stream_id, round(item.start_s, 2), round(item.end_s, 2)] for item in answer.evidence]
    return {"answer": answer.answer, "evidence": evidence, "error": ""}


async def wait_position(client: LongwatchClient, stream_id: str, position_s: float) -> float:
    """Polls until the stream has decoded `position_s` or is final; returns where it is."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        status = (await client.perception.list_streams([stream_id]))[0]
        if status.position_s >= position_s or status.state.is_final:
            break
        await asyncio.sleep(0.1)
    return status.position_s


async def reachable_after_serving_s(client: LongwatchClient, timings: dict) -> float | None:
    """Seconds from SERVING until this client's calls reach all three services again; None if not within
    RECONNECT_WAIT_S. Channels of one process share gRPC's subchannels, so this waits out the same
    reconnect back-off as the writer and the askers; a new process (a `longwatch` command) would not."""
    while time.monotonic() < timings["serving_at"] + RECONNECT_WAIT_S:
        calls = (client.perception.list_streams(), client.memory.list_streams(), client.reasoner.ask(FIXED_QUESTION))
        if not any([(await attempt(call))[1] for call in calls]):
            return time.monotonic() - timings["serving_at"]
        await asyncio.sleep(0.5)
    return None


async def ingest(client: LongwatchClient, video: Path, stream_ids: list[str], add: bool = True) -> dict:
    """Adds the streams (unless `add` is false) and waits, bounded, until each is final; per stream,
    its end state and clips written, or why it was not added or not seen to end."""

    async def one(stream_id: str) -> dict:
        if add and (error := (await attempt(client.perception.add_stream(stream_id, str(video))))[1]):
            return {"state": "not added", "clips_written": 0, "error": error}
        waiting = wait_until_final(client.perception, stream_id, show_progress=False)
        status, error = await attempt(asyncio.wait_for(waiting, WAIT_S))
        if status is None:
            return {"state": "unknown", "clips_written": 0, "error": error}
        return {"state": status.state.value, "clips_written": status.clips_written, "error": status.error}

    finals = await asyncio.gather(*(one(stream_id) for stream_id in stream_ids))
    return dict(zip(stream_ids, finals, strict=True))


async def video_clips(client: LongwatchClient, stream_ids: list[str]) -> dict:
    """The video clips memory finds for the streams (every one, since k exceeds their count) and its counts."""
    hits, error = await attempt(client.memory.search(VIDEO_CLIPS_QUERY, stream_ids=stream_ids, k=MAX_K))
    listed, list_error = await attempt(client.memory.list_streams())
    spans = sorted((hit.stream_id, hit.start_s, hit.end_s) for hit in hits or [])
    overlaps = sum(a[0] == b[0] and b[1] < a[2] - 1e-6 for a, b in zip(spans, spans[1:], strict=False))
    return {
        "ids": sorted({hit.clip_id for hit in hits or []}),
        "hits": len(spans),
        "overlapping": overlaps,
        "listed": {item.stream_id: item.clip_count for item in listed or []},
        "error": error or list_error,
    }


async def verify_synthetic(client: LongwatchClient, writer: SyntheticWriter) -> dict:
    """Searches each acknowledged synthetic clip by its unique code."""
    found = duplicated = 0
    errors: Counter[str] = Counter()
    for clip_id, code in writer.acked.items():
        hits, error = await attempt(client.memory.search(code, stream_ids=[SYNTH_STREAM], k=5))
        ids = [hit.clip_id for hit in hits or []]
        errors[error.split(":")[0]] += bool(error)
        found += clip_id in ids
        duplicated += ids.count(clip_id) > 1
    counts = {"acked": len(writer.acked), "attempted": len(writer.attempted), "found": found}
    return {**counts, "duplicated_in_results": duplicated, "search_errors": +errors}


@dataclass
class PhaseRun:
    """One killed service's run, from the workload's side (its own process and event loop)."""

    addresses: dict[str, str]
    name: str
    video: Path
    duration_s: float
    middle: list[str]  # streams running through the kill
    askers: int
    figures: dict = field(default_factory=dict)

    async def run(self, switch: FaultSwitch) -> dict:
        async with LongwatchClient.connect(**self.addresses) as client:
            writer, asks = SyntheticWriter(client), EventLog()
            background = [asyncio.create_task(writer.run())]
            self.figures["fault-a"] = await ingest(client, self.video, ["fault-a"])
            self.figures["answer_before"] = await fixed_answer(client)
            for stream_id in self.middle:
                await client.perception.add_stream(stream_id, str(self.video))
            background += [asyncio.create_task(ask_loop(client, index, asks)) for index in range(self.askers)]
            await self.kill_in_the_middle(client, switch, writer)
            self.figures["reachable_after_serving_s"] = await reachable_after_serving_s(client, self.figures["timings"])
            # Perception forgot its streams: they are added again, as a user would.
            self.figures["middle"] = await ingest(client, self.video, self.middle, add=self.name == "perception")
            await asyncio.sleep(AFTER_S)
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self.verify(client, writer)
        window = (self.figures["timings"]["killed_at"], self.figures["timings"]["serving_at"])
        self.figures["asks"] = asks.summary(*window)
        self.figures["writes"] = writer.log.summary(*window)
        return self.figures

    async def kill_in_the_middle(self, client: LongwatchClient, switch: FaultSwitch, writer: SyntheticWriter) -> None:
        position_s = await wait_position(client, self.middle[0], KILL_AT_FRACTION * self.duration_s)
        self.figures["killed_at_position_s"] = position_s
        self.figures["video_before"] = await video_clips(client, ["fault-a", *self.middle])
        self.figures["synthetic_acked_before_kill"] = len(writer.acked)
        self.figures["timings"] = await switch.trip(self.name)

    async def verify(self, client: LongwatchClient, writer: SyntheticWriter) -> None:
        self.figures["answer_after"] = await fixed_answer(client)
        self.figures["video_after"] = await video_clips(client, ["fault-a", *self.middle])
        self.figures["synthetic"] = await verify_synthetic(client, writer)


def clip_checks(figures: dict) -> list[Check]:
    """Nothing acknowledged is lost, search and ListStreams agree, nothing is stored twice."""
    synth, before, after = figures["synthetic"], figures["video_before"], figures["video_after"]
    held, kept = len(before["ids"]), len(set(before["ids"]) & set(after["ids"]))
    listed = sum(count for stream_id, count in after["listed"].items() if stream_id != SYNTH_STREAM)
    found, twice = len(after["ids"]), synth["duplicated_in_results"] + after["hits"] - len(after["ids"])
    synth_found = f"{synth['found']}/{synth['acked']}"
    doubles = f"{twice} twice, {after['overlapping']} overlapping"
    return [
        ("acked synthetic clips found by their code", synth["found"] == synth["acked"], synth_found),
        ("video clips held before the kill found after", kept == held, f"{kept}/{held}"),
        ("search finds every video clip ListStreams counts", found == listed, f"{found} found / {listed} listed"),
        ("no clip twice in a result, no overlapping clips", twice + after["overlapping"] == 0, doubles),
        count_check(figures),
    ]


def count_check(figures: dict) -> Check:
    """Memory's ListStreams counts: the synthetic stream between the clips acked and the clips sent (a write
    cut by the kill may be stored unacknowledged); each video stream exactly the clips perception wrote."""
    synth, listed = figures["synthetic"], figures["video_after"]["listed"]
    written = {"fault-a": figures["fault-a"]["fault-a"], **figures["middle"]}
    is_match = synth["acked"] <= listed.get(SYNTH_STREAM, 0) <= synth["attempted"] and all(
        listed.get(stream_id, 0) == final["clips_written"] for stream_id, final in written.items()
    )
    detail = f"synthetic {listed.get(SYNTH_STREAM, 0)} in [{synth['acked']}, {synth['attempted']}]" + "".join(
        f"; {stream_id} {listed.get(stream_id, 0)}/{final['clips_written']}" for stream_id, final in written.items()
    )
    return ("ListStreams counts what was written, no more", is_match, detail)


def service_checks(figures: dict) -> list[Check]:
    """The service and its clients came back, the streams ended, the fixed question gets the same answer."""
    before, after = figures["answer_before"], figures["answer_after"]
    states = ", ".join(f"{stream_id} {final['state']}" for stream_id, final in figures["middle"].items())
    restart_error = figures["timings"]["restart_error"]
    asks, writes = figures["asks"]["first_ok_after_serving_s"], figures["writes"]["first_ok_after_serving_s"]
    firsts = (asks, writes, figures["reachable_after_serving_s"])
    is_back = all(first is not None and first <= RECONNECT_TARGET_S for first in firsts)
    back = f"asks {_s(asks)}, writes {_s(writes)}, all three {_s(firsts[2])}"
    same_answer = not after["error"] and before["answer"] == after["answer"]
    same_evidence = not after["error"] and before["evidence"] == after["evidence"]
    return [
        ("restarted and SERVING", not restart_error, restart_error or "yes"),
        (f"the client works again within {RECONNECT_TARGET_S:.0f} s of SERVING", is_back, back),
        ("streams finish after the restart", all(f["state"] == "finished" for f in figures["middle"].values()), states),
        ("fixed answer unchanged", same_answer, f"{_said(before)} → {_said(after)}"),
        ("its evidence unchanged", same_evidence, f"{len(before['evidence'])} → {len(after['evidence'])} clips"),
    ]


def checks(figures: dict) -> list[Check]:
    restarted, *ends = service_checks(figures)
    return [restarted, *clip_checks(figures), *ends]


def _said(answer: dict) -> str:
    """An answer fit for a table cell: quoted, one line, at most 40 characters."""
    text = (answer["answer"] or answer["error"]).replace("|", "/").replace("\n", " ")
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counter.items())) or "none"


def _s(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.1f} s"


def outage_rows(figures: dict) -> list[tuple[str, str]]:
    timings = figures["timings"]
    acked = f"{figures['synthetic_acked_before_kill']} / {figures['synthetic']['acked']}"
    rows = [
        ("fault-b decoded when killed, s", f"{figures['killed_at_position_s']:.1f}"),
        ("kill → SERVING again, s", f"{timings['serving_at'] - timings['killed_at']:.1f}"),
        ("SERVING → the client reaches all three services", _s(figures["reachable_after_serving_s"])),
        ("synthetic clips acked before the kill / in all", acked),
    ]
    for what, summary in (("asks", figures["asks"]), ("synthetic writes", figures["writes"])):
        rows += [(f"{what} {span}: outcomes", _counts(summary[span])) for span in SPANS]
        rows.append((f"{what}: first success after SERVING", _s(summary["first_ok_after_serving_s"])))
    return [*rows, ("restart log", figures["restart_note"])]


def restart_note(path: Path) -> str:
    """What memory's log says it recovered after the restart ('-' for the other services)."""
    text = path.read_text(errors="replace").rsplit("---- longwatch launcher starts", 1)[-1]
    return next((line.split(": ", 1)[-1] for line in text.splitlines() if "replayed" in line), "-")


def verdict(phases: dict[str, dict]) -> str:
    parts = []
    for name, figures in phases.items():
        failed = [check for check, passed, _ in checks(figures) if not passed] if "error" not in figures else []
        outcome = f"FAIL {', '.join(failed)}" if failed else "every check passes"
        parts.append(f"{name}: " + (f"the run failed ({figures['error']})" if "error" in figures else outcome))
    return "Verdict: " + "; ".join(parts) + "."


def _by_service(phases: dict[str, dict], rows_of, header: str, cell) -> str:
    """A table with one row per item of `rows_of(figures)` and one column per killed service that ran."""
    names = [name for name in phases if "error" not in phases[name]]
    columns = [rows_of(phases[name]) for name in names]
    rows = [[column_rows[0][0], *(cell(item) for item in column_rows)] for column_rows in zip(*columns, strict=True)]
    return table([header, *names], rows)


def report(phases: dict[str, dict], command: str, args: argparse.Namespace) -> str:
    setup = (
        f"Profile {args.profile}; a fresh system per killed service; streams through the kill: "
        f"{', '.join(MIDDLE[args.quick])}; {ASKERS[args.quick]} askers (deadline {ASK_DEADLINE_MS} ms); a "
        f"synthetic clip written every {WRITE_EVERY_S} s. After a perception restart the streams are added again "
        "(perception does not resume a stream it lost)."
    )
    sections = ["## Faults", command_block(command), setup]
    if any("error" not in figures for figures in phases.values()):
        sections.append(_by_service(phases, checks, "check", lambda c: f"{'pass' if c[1] else 'FAIL'}: {c[2]}"))
        sections.append(_by_service(phases, outage_rows, "killed service", lambda row: row[1]))
    return "\n\n".join([*sections, verdict(phases)])


def _workload_process(run: PhaseRun, switch: FaultSwitch) -> None:
    try:
        figures = asyncio.run(run.run(switch))
    except Exception as exc:  # noqa: BLE001 - one phase's failure is reported; the next phase still runs
        figures = {"error": f"{type(exc).__name__}: {exc}"}
    switch.report(figures)


def run_phase(name: str, video: Path, duration_s: float, args: argparse.Namespace, root: Path) -> dict:
    """One fresh system; the workload in a process of its own, the kill and restart in this one."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of this one's gRPC state
    with local_system(root / name, profile=args.profile, log_level="INFO") as launcher:
        switch = FaultSwitch(context)
        run = PhaseRun(launcher.addresses, name, video, duration_s, MIDDLE[args.quick], ASKERS[args.quick])
        worker = context.Process(target=_workload_process, args=(run, switch), name=f"faults-{name}")
        worker.start()
        figures = switch.serve(launcher, worker)
        worker.join()
        figures["restart_note"] = restart_note(launcher.log_path(name))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 stream and 2 askers through each kill (else 2 and 4)")
    parser.add_argument("--profile", default="cpu", choices=("tiny", "cpu"))
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where faults.md and faults.json go")
    args = parser.parse_args()
    command = " ".join([".venv/bin/python -m benchmarks.faults", *sys.argv[1:]])
    phases: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="longwatch-faults-") as root:
        video = Path(root) / "sample.mp4"
        truth = make_sample(video)
        for name in SERVICES_IN_TURN:
            started = time.monotonic()
            phases[name] = run_phase(name, video, truth.duration_s, args, Path(root))
            phases[name]["phase_wall_s"] = time.monotonic() - started
    markdown = report(phases, command, args)
    write_result("faults", markdown, {"command": command, "profile": args.profile, "phases": phases}, args.results)


if __name__ == "__main__":
    main()
