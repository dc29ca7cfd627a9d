"""Bad input sent to every RPC of every service, and the status codes that came back (issue 11).

    .venv/bin/python -m benchmarks.bad_input --quick [--profile cpu|tiny] [--seed 0] [--restarts 1] [--results DIR]

Starts the three real services (as `longwatch up` does) on free loopback ports in a temporary data
directory and sends each case of `benchmarks.bad_input_cases` (random and malformed protobuf bytes,
oversized messages, valid requests with hostile values) through a raw channel: bytes in, bytes out, so
nothing on this side parses or refuses them first. Every call has a deadline; after each case every
service still in play is probed on gRPC health and checked for a live process. When one stops answering
health (hung) or exits (crashed), the system is restarted, at most --restarts times, and the cases left
go to the new one; after that a broken service gets no more cases and they are listed as not sent.

Targeted cases (the memory service's rules) state the status family they should get; those answered
otherwise are listed on their own. That list is about rules, not bugs: it does not change the target.

The target is no INTERNAL, no UNKNOWN, no call left unanswered and no crashed or hung process. This
records what the system does today, target met or not: the exit status is 0 whenever the run completed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from benchmarks.bad_input_cases import Case, generate_cases
from benchmarks.common import RESULTS_DIR, command_block, table, write_result
from longwatch.perception.v1 import perception_pb2
from longwatch_cli.eval.system import local_system
from orchestration.launcher import SERVICES, Launcher, LaunchError

CALL_TIMEOUT_S = 10.0  # one case; far longer than any of these requests needs when the service is well
HEALTH_TIMEOUT_S = 2.0  # one health probe
HEALTH_TRIES = 3  # probes before a service counts as hung: a busy moment is not a hang
SETTLE_S = 3.0  # after a system's last case, before the last probe: a stream may fail after its removal
MAX_REFUSAL_S = 1.0  # issue 12: no call takes longer than this to be refused
TIME_CAP_S = {True: 150.0, False: 600.0}  # seconds of sending cases, by --quick (restarts not counted)
DETAILS_CHARS = 160  # status details kept per case: servers may echo a 1 MiB input back
BAD_CODES = ("INTERNAL", "UNKNOWN")  # statuses that say "bug", not "your request"
ALWAYS_SHOWN = ("OK", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "INTERNAL", "UNKNOWN")  # columns even when 0
_PERCEPTION = perception_pb2.DESCRIPTOR.services_by_name["PerceptionService"].full_name
_ADD_PATH, _REMOVE_PATH = f"/{_PERCEPTION}/AddStream", f"/{_PERCEPTION}/RemoveStream"


@dataclass(frozen=True)
class CaseResult:
    case: Case
    code: str  # a grpc.StatusCode name, or NOT_SENT
    details: str  # the status details, shortened; for NOT_SENT, why not
    elapsed_s: float
    timed_out: bool = False  # the call ran into its own deadline: no answer at all
    broke: str = ""  # "perception hung": a service stopped answering right after this case

    @property
    def is_bad(self) -> bool:
        return self.code in BAD_CODES or self.timed_out or bool(self.broke)

    @property
    def is_unexpected(self) -> bool:
        """A targeted case answered with a status outside the family it states (never a case not sent)."""
        return bool(self.case.expected) and self.code not in (*self.case.expected, "NOT_SENT")


@dataclass
class Tally:
    """One service over the whole run, restarts included."""

    name: str
    state: str = "alive"  # alive, hung or crashed; in the system that runs now, or ran last
    hangs: int = 0
    crashes: int = 0
    slow_probes: int = 0  # probes that failed before a later one succeeded
    killed_at_stop: int = 0  # times it ignored SIGTERM and the launcher killed it
    traceback_lines: int = 0  # lines with "Traceback" in its log


@dataclass
class Service:
    """One service of the system running now: where to call it and which process it is."""

    channel: grpc.aio.Channel
    pid: int
    tally: Tally


async def _invoke(channel: grpc.aio.Channel, case: Case, timeout_s: float) -> list[bytes]:
    """Sends the case's messages as raw bytes; the raw responses, or AioRpcError."""
    rpc = case.rpc
    if not rpc.is_client_streaming:
        (request,) = case.messages
        if rpc.is_server_streaming:
            return [reply async for reply in channel.unary_stream(rpc.path)(request, timeout=timeout_s)]
        return [await channel.unary_unary(rpc.path)(request, timeout=timeout_s)]

    async def requests() -> AsyncIterator[bytes]:
        for message in case.messages:
            yield message

    if not rpc.is_server_streaming:
        return [await channel.stream_unary(rpc.path)(requests(), timeout=timeout_s)]
    return [reply async for reply in channel.stream_stream(rpc.path)(requests(), timeout=timeout_s)]


async def send_case(channel: grpc.aio.Channel, case: Case, timeout_s: float = CALL_TIMEOUT_S) -> CaseResult:
    started = time.perf_counter()
    try:
        replies = await _invoke(channel, case, timeout_s)
        code, details = "OK", ""
    except grpc.aio.AioRpcError as error:
        replies, code, details = [], error.code().name, error.details() or ""
    elapsed_s = time.perf_counter() - started
    timed_out = code == "DEADLINE_EXCEEDED" and elapsed_s >= timeout_s * 0.95
    if code == "OK" and case.rpc.path == _ADD_PATH:
        details = await _remove_added(channel, replies[0])
    return CaseResult(case, code, _short(details), elapsed_s, timed_out)


async def _remove_added(channel: grpc.aio.Channel, reply: bytes) -> str:
    """An accepted AddStream starts a stream: removed at once, so cases do not pile up load. What went wrong."""
    stream_id = perception_pb2.AddStreamResponse.FromString(reply).stream.stream_id
    request = perception_pb2.RemoveStreamRequest(stream_id=stream_id).SerializeToString()
    try:
        await channel.unary_unary(_REMOVE_PATH)(request, timeout=CALL_TIMEOUT_S)
    except grpc.aio.AioRpcError as error:
        return f"accepted; removing the stream then got {error.code().name}: {error.details()}"
    return ""


def _short(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= DETAILS_CHARS else f"{text[:DETAILS_CHARS]}… ({len(text)} chars)"


def is_process_alive(pid: int) -> bool:
    """Whether `pid` runs (an exited child not yet reaped is a zombie: not alive)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


async def is_healthy(channel: grpc.aio.Channel, name: str) -> bool:
    request = health_pb2.HealthCheckRequest(service=SERVICES[name].health_name)
    try:
        reply = await health_pb2_grpc.HealthStub(channel).Check(request, timeout=HEALTH_TIMEOUT_S)
    except grpc.aio.AioRpcError:
        return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


async def probe(service: Service) -> bool:
    """Whether the service still answers; if not, marks it crashed or hung."""
    tally = service.tally
    for attempt in range(HEALTH_TRIES):
        if not is_process_alive(service.pid):
            tally.state, tally.crashes = "crashed", tally.crashes + 1
            return False
        if await is_healthy(service.channel, tally.name):
            tally.slow_probes += attempt > 0
            return True
    tally.state, tally.hangs = "hung", tally.hangs + 1
    return False


async def run_cases(
    services: dict[str, Service], cases: Sequence[Case], budget_s: float, stop_on_break: bool
) -> list[CaseResult]:
    """Each case in order, then a probe of every service still alive. With `stop_on_break`, returns
    early once a service broke (the rest are for a restarted system); else the rest are not sent."""
    results: list[CaseResult] = []
    deadline = time.monotonic() + budget_s
    for case in cases:
        target = services[case.rpc.service].tally
        if target.state != "alive" or time.monotonic() > deadline:
            reason = f"{target.name} {target.state}" if target.state != "alive" else f"time cap {budget_s:.0f} s"
            results.append(CaseResult(case, "NOT_SENT", reason, 0.0))
            continue
        result = await send_case(services[case.rpc.service].channel, case)
        alive = [service for service in services.values() if service.tally.state == "alive"]
        broken = [service.tally for service in alive if not await probe(service)]
        results.append(dataclasses.replace(result, broke=", ".join(f"{t.name} {t.state}" for t in broken)))
        if len(results) % 25 == 0:
            print(f"  {len(results)}/{len(cases)} cases", file=sys.stderr, flush=True)
        if broken and stop_on_break and time.monotonic() < deadline:
            return results
    await _settle(services, results)
    return results


async def _settle(services: dict[str, Service], results: list[CaseResult]) -> None:
    """Probes once more a little after the last case; a service broken by then is blamed on that case."""
    await asyncio.sleep(SETTLE_S)
    alive = [service for service in services.values() if service.tally.state == "alive"]
    broken = [service.tally for service in alive if not await probe(service)]
    if broken and results and results[-1].code != "NOT_SENT":
        late = ", ".join(f"{t.name} {t.state} within {SETTLE_S:.0f} s" for t in broken)
        results[-1] = dataclasses.replace(results[-1], broke=", ".join(filter(None, [results[-1].broke, late])))


class _KillWatch(logging.Handler):
    """Counts, by service, the launcher's warning that a service ignored SIGTERM and is being killed:
    frozen at the end even where no probe caught it."""

    def __init__(self, tallies: dict[str, Tally]) -> None:
        super().__init__(logging.WARNING)
        self._tallies = tallies

    def emit(self, record: logging.LogRecord) -> None:
        name = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if "killing it" in record.getMessage() and name in self._tallies:
            self._tallies[name].killed_at_stop += 1


async def measure(
    launcher: Launcher, cases: Sequence[Case], tallies: dict[str, Tally], budget_s: float, stop_on_break: bool
) -> list[CaseResult]:
    services = {
        name: Service(grpc.aio.insecure_channel(address), launcher.pids[name], tallies[name])
        for name, address in launcher.addresses.items()
    }
    for tally in tallies.values():
        tally.state = "alive"  # a fresh system
    try:
        return await run_cases(services, cases, budget_s, stop_on_break)
    finally:
        for service in services.values():
            await service.channel.close()


def _traceback_lines(path: Path) -> int:
    try:
        return sum("Traceback" in line for line in path.read_text(errors="replace").splitlines())
    except OSError:
        return 0


def _one_system(
    data_dir: Path, args: argparse.Namespace, cases: Sequence[Case], tallies: dict[str, Tally], facts: dict
) -> list[CaseResult]:
    """Starts a system on `data_dir` (kept across restarts), sends cases until one breaks it, stops it."""
    facts["systems"] += 1
    stop_on_break = facts["systems"] <= args.restarts
    # A hung service is killed 5 s after SIGTERM rather than 30: the run reports the hang either way.
    with local_system(data_dir, profile=args.profile, stop_timeout_s=5.0) as launcher:
        started = time.perf_counter()
        budget_s = TIME_CAP_S[args.quick] - facts["sending_s"]
        results = asyncio.run(measure(launcher, cases, tallies, budget_s, stop_on_break))
        facts["sending_s"] += time.perf_counter() - started
        stop_started = time.perf_counter()
        watch, launcher_log = _KillWatch(tallies), logging.getLogger(Launcher.__module__)
        launcher_log.addHandler(watch)
        try:
            launcher.stop()  # the `with` would too; timed here: a hung service is killed only after 30 s
        finally:
            launcher_log.removeHandler(watch)
        facts["stop_s"] += time.perf_counter() - stop_started
    for name, tally in tallies.items():
        tally.traceback_lines = _traceback_lines(launcher.log_path(name))  # the log grows across restarts
    return results


def run(args: argparse.Namespace) -> tuple[list[CaseResult], dict[str, Tally], dict]:
    """Sends every case (restarting a broken system up to --restarts times); results, tallies, facts."""
    cases = generate_cases(args.seed, quick=args.quick)[: args.max_cases or None]
    print(f"# bad input: {len(cases)} cases, profile {args.profile}, seed {args.seed}", file=sys.stderr, flush=True)
    tallies = {name: Tally(name) for name in SERVICES}
    facts = {"profile": args.profile, "seed": args.seed, "quick": args.quick, "systems": 0}
    facts |= {"sending_s": 0.0, "stop_s": 0.0}
    results: list[CaseResult] = []
    with tempfile.TemporaryDirectory(prefix="longwatch-bad-input-") as root:
        while len(results) < len(cases):
            results += _one_system(Path(root) / "data", args, cases[len(results) :], tallies, facts)
    return results, tallies, facts


# -- report -----------------------------------------------------------------------------------------------


def _printable(text: str) -> str:
    """Control, bidi and other invisible characters escaped, so an echoed input cannot garble the page."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text).replace("`", "'")


def status_table(results: Sequence[CaseResult]) -> str:
    seen = {result.code for result in results}
    columns = [code for code in [c.name for c in grpc.StatusCode] + ["NOT_SENT"] if code in seen | set(ALWAYS_SHOWN)]
    rows = []
    for key in dict.fromkeys((result.case.rpc.service, result.case.rpc.method) for result in results):
        mine = [result for result in results if (result.case.rpc.service, result.case.rpc.method) == key]
        counts = [str(sum(result.code == code for result in mine)) for code in columns]
        rows.append([*key, str(len(mine)), *counts, str(sum(result.is_bad for result in mine))])
    return table(["service", "RPC", "cases", *columns, "bad"], rows)


def _outcome(result: CaseResult) -> str:
    outcome = f"no answer in {CALL_TIMEOUT_S:.0f} s" if result.timed_out else result.code
    return f"{outcome}, then {result.broke}" if result.broke else outcome


def bad_lines(results: Sequence[CaseResult]) -> list[str]:
    """One line per RPC, outcome and status details, naming every case that got it."""
    groups: dict[tuple[str, str, str, str], list[CaseResult]] = {}
    for result in results:
        if result.is_bad:
            key = (result.case.rpc.service, result.case.rpc.method, _outcome(result), result.details)
            groups.setdefault(key, []).append(result)
    lines = []
    for (service, method, outcome, details), members in groups.items():
        inputs = ", ".join(f"`{member.case.description}` ({member.case.size_bytes} B)" for member in members)
        lines.append(f"- {service} {method} → {outcome} ×{len(members)}: {inputs}; {_printable(details) or '-'}")
    return lines or ["- none"]


def unexpected_lines(results: Sequence[CaseResult]) -> list[str]:
    """One line per targeted case whose status is outside its expected family: what was sent, what came back."""
    lines = []
    for result in results:
        if result.is_unexpected:
            case, wanted = result.case, " or ".join(result.case.expected)
            lines.append(
                f"- {case.rpc.service} {case.rpc.method} `{case.description}` ({case.size_bytes} B): expected "
                f"{wanted}, got {_outcome(result)}; {_printable(result.details) or '-'}"
            )
    return lines or ["- none"]


def expected_line(results: Sequence[CaseResult]) -> str:
    targeted = [result for result in results if result.case.expected and result.code != "NOT_SENT"]
    unexpected = sum(result.is_unexpected for result in targeted)
    return f"{len(targeted) - unexpected} of {len(targeted)} targeted cases sent got the status family they expect."


def outcome_table(tallies: dict[str, Tally]) -> str:
    rows = []
    for t in tallies.values():
        rows.append([t.name, str(t.hangs), str(t.crashes), t.state, str(t.killed_at_stop), str(t.slow_probes)])
        rows[-1].append(str(t.traceback_lines))
    header = ["service", "hung", "crashed", "after the last case", "killed at stop", "probes retried"]
    return table([*header, '"Traceback" lines in log'], rows)


def refusals(results: Sequence[CaseResult]) -> list[CaseResult]:
    """The cases the services refused (any status but OK), slowest first."""
    refused = [result for result in results if result.code not in ("OK", "NOT_SENT")]
    return sorted(refused, key=lambda result: -result.elapsed_s)


def refusal_line(results: Sequence[CaseResult]) -> str:
    refused = refusals(results)
    if not refused:
        return "No case was refused."
    slow = [result for result in refused if result.elapsed_s > MAX_REFUSAL_S]
    slowest = refused[0]
    return (
        f"{len(refused)} cases refused; the slowest refusal took {slowest.elapsed_s * 1000:.0f} ms "
        f"({slowest.case.rpc.method}: `{slowest.case.description}`); {len(slow)} took over {MAX_REFUSAL_S:.0f} s."
    )


def verdict(results: Sequence[CaseResult], tallies: dict[str, Tally]) -> str:
    broken = sum(t.hangs + t.crashes + t.killed_at_stop for t in tallies.values())
    slow = [result for result in refusals(results) if result.elapsed_s > MAX_REFUSAL_S]
    if not broken and not slow and not any(result.is_bad for result in results):
        return (
            "**Target met**: no INTERNAL, no UNKNOWN, every call answered, every refusal within "
            f"{MAX_REFUSAL_S:.0f} s, no service crashed or hung."
        )
    counts = [f"{sum(result.code == code for result in results)} {code}" for code in BAD_CODES]
    counts.append(f"{len(slow)} refusals over {MAX_REFUSAL_S:.0f} s")
    counts.append(f"{sum(result.timed_out for result in results)} calls unanswered")
    counts += [f"{t.name} hung {t.hangs}×" for t in tallies.values() if t.hangs]
    counts += [f"{t.name} crashed {t.crashes}×" for t in tallies.values() if t.crashes]
    counts += [f"{t.name} killed at stop {t.killed_at_stop}×" for t in tallies.values() if t.killed_at_stop]
    return f"**Target not met**: {', '.join(counts)}."


def markdown(command: str, results: Sequence[CaseResult], tallies: dict[str, Tally], facts: dict) -> str:
    sent = sum(result.code != "NOT_SENT" for result in results)
    summary = (
        f"{sent} of {len(results)} cases sent to {len({r.case.rpc.path for r in results})} RPCs in "
        f"{facts['sending_s']:.0f} s (profile {facts['profile']}, seed {facts['seed']}), each call with a "
        f"{CALL_TIMEOUT_S:.0f} s deadline and a health probe of every service after it; {facts['systems']} "
        f"system start(s); stopping took {facts['stop_s']:.0f} s in all. *bad*: INTERNAL, UNKNOWN, no answer "
        "within the deadline, or a service hung or crashed right after the case."
    )
    sections = [
        "## Bad input",
        command_block(command),
        summary,
        status_table(results),
        "Bad cases, by RPC, outcome and status details:\n\n" + "\n".join(bad_lines(results)),
        expected_line(results) + " The others:\n\n" + "\n".join(unexpected_lines(results)),
        "The services over the run:\n\n" + outcome_table(tallies),
        refusal_line(results),
        verdict(results, tallies),
    ]
    return "\n\n".join(sections)


def result_data(results: Sequence[CaseResult], tallies: dict[str, Tally], facts: dict) -> dict:
    cases = [
        {
            **{"service": r.case.rpc.service, "rpc": r.case.rpc.method, "kind": r.case.kind},
            **{"description": r.case.description, "size_bytes": r.case.size_bytes, "code": r.code},
            **{"expected": list(r.case.expected), "unexpected": r.is_unexpected},
            **{"details": r.details, "elapsed_s": round(r.elapsed_s, 4), "timed_out": r.timed_out, "broke": r.broke},
        }
        for r in results
    ]
    target_met = verdict(results, tallies).startswith("**Target met")
    services = {name: dataclasses.asdict(tally) for name, tally in tallies.items()}
    return {**facts, "call_timeout_s": CALL_TIMEOUT_S, "target_met": target_met, "services": services, "cases": cases}


def _command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python -m benchmarks.bad_input"]
    parts += ["--quick"] if args.quick else []
    parts += [f"--profile {args.profile}"] if args.profile != "cpu" else []
    parts += [f"--seed {args.seed}"] if args.seed else []
    parts += [f"--restarts {args.restarts}"] if args.restarts != 1 else []
    parts += [f"--max-cases {args.max_cases}"] if args.max_cases else []
    return " ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer values per field; 150 s of sending, not 600")
    parser.add_argument("--profile", default="cpu", choices=("tiny", "cpu", "gpu"))
    parser.add_argument("--seed", type=int, default=0, help="seed of the random bytes; same seed, same cases")
    parser.add_argument("--restarts", type=int, default=1, help="system restarts after a service hangs or crashes")
    parser.add_argument("--max-cases", type=int, default=0, help="send only the first N cases (0: all)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where bad_input.md and .json go")
    args = parser.parse_args()
    try:
        results, tallies, facts = run(args)
    except LaunchError as exc:
        print(f"error: the services did not start: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    text = markdown(_command(args), results, tallies, facts)
    write_result("bad_input", text, result_data(results, tallies, facts), args.results)


if __name__ == "__main__":
    main()
