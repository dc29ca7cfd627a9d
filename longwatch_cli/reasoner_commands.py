"""The CLI's questions to the reasoner: ask and summarize.

    longwatch ask "When did the van leave?" --stream dock --from 1:00:00 --to 2026-12-03T14:00:00Z
    longwatch summarize dock --from 10:00 --to 20:00

`ask` shows each step of the search on stderr as the reasoner takes it (the node read, its level and span),
then prints the answer; `--json` prints one object instead, and no steps. `--from`/`--to` take stream times
(90, 1:30, 1:02:03) or UTC wall-clock times (2026-12-03T14:00:00Z) for live streams.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from longwatch import errors, validation
from longwatch.times import format_range_s, format_span, format_wall_ms, parse_stream_time_s, parse_utc_ms
from longwatch.types import Answer, AskProgress, Evidence, Summary, TimeRange
from longwatch_cli.output import EXIT_OK

Action = Callable[[Any, argparse.Namespace], Awaitable[int]]
ClientCommand = Callable[[Action], Callable[..., int]]  # longwatch_cli.cli._client_command
# A wall-clock time starts with its date; a stream time never holds a "-" past its first character.
_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")
PARTIAL_NOTE = "(partial: the deadline came first)"


@dataclass(frozen=True)
class TimeBound:
    """One end of --from/--to: stream seconds, or UTC ms since the epoch (then `seconds` is unused)."""

    seconds: float = 0.0
    wall_ms: int = 0


def parse_time_bound(text: str) -> TimeBound:
    """ "90", "1:30", "1:02:03" (stream time) or "2026-12-03T14:00:00Z" (UTC wall clock, with its zone)."""
    cleaned = text.strip()
    if _DATE_START.match(cleaned):
        wall_ms = parse_utc_ms(cleaned)
        if not validation.MIN_WALL_MS <= wall_ms <= validation.MAX_WALL_MS:
            raise ValueError(f"{text!r} is outside the wall clock memory keeps; give a time from 2000 to 2200 (UTC)")
        return TimeBound(wall_ms=wall_ms)
    try:
        seconds = parse_stream_time_s(cleaned)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time; give a stream time (90, 1:30 or 1:02:03) "
            "or a UTC wall-clock time with its zone (2026-12-03T14:00:00Z)"
        ) from None
    return TimeBound(seconds=validation.validate_stream_time_s(seconds, "a stream time"))


def _time_bound_arg(text: str) -> TimeBound:
    try:
        return parse_time_bound(text)
    except (ValueError, errors.InvalidArgument) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def time_range_of(start: TimeBound | None, end: TimeBound | None) -> TimeRange:
    """--from and --to as one range; each side is a stream time or a wall-clock time, independently."""
    start, end = start or TimeBound(), end or TimeBound()
    return TimeRange(start_s=start.seconds, end_s=end.seconds, start_wall_ms=start.wall_ms, end_wall_ms=end.wall_ms)


def _range_mismatch(args: argparse.Namespace) -> str | None:
    """Why --from and --to do not fit together, or None."""
    span = time_range_of(args.start, args.end)
    if span.end_s and span.start_s > span.end_s:
        return f"--from ({span.start_s:g} s) is after --to ({span.end_s:g} s); swap them, or leave --to out for no end"
    if span.start_wall_ms and span.end_wall_ms and span.start_wall_ms > span.end_wall_ms:
        since, until = format_wall_ms(span.start_wall_ms), format_wall_ms(span.end_wall_ms)
        return f"--from {since} is after --to {until}; swap them, or leave --to out for no end"
    return None


# ---- the parsers


def add_reasoner_commands(
    commands: argparse._SubParsersAction, addresses: argparse.ArgumentParser, client_command: ClientCommand
) -> None:
    """Adds ask and summarize; `client_command` wraps each in a connected client (cli.py's)."""
    ask = commands.add_parser("ask", parents=[addresses], help="ask a question about what the streams showed")
    ask.add_argument("question", metavar="QUESTION")
    ask.add_argument(
        "--stream",
        action="append",
        default=[],
        type=_stream_id_arg,
        metavar="NAME",
        help="only this stream (repeatable)",
    )
    _deadline_flag(ask)
    _range_flags(ask, "only evidence from")
    ask.add_argument("--quiet", action="store_true", help="do not show the reasoner's steps on stderr")
    ask.add_argument("--json", action="store_true", help="print one JSON object (and no steps)")
    ask.set_defaults(handler=_checked(ask, client_command(_ask)))

    summarize = commands.add_parser(
        "summarize", parents=[addresses], help="what one stream showed over a time range, with its evidence"
    )
    summarize.add_argument("stream", metavar="STREAM", type=_stream_id_arg)
    _range_flags(summarize, "from")
    _deadline_flag(summarize)
    summarize.add_argument("--json", action="store_true", help="print one JSON object")
    summarize.set_defaults(handler=_checked(summarize, client_command(_summarize)))


def _stream_id_arg(text: str) -> str:
    try:
        return validation.validate_stream_id(text)
    except errors.InvalidArgument as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _deadline_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--deadline-ms",
        type=int,
        default=0,
        metavar="N",
        help="time budget in milliseconds; 0 = the reasoner's default (5000, LONGWATCH_REASONER_DEFAULT_DEADLINE_MS)",
    )


def _range_flags(parser: argparse.ArgumentParser, what: str) -> None:
    times = "stream time (90, 1:30, 1:02:03) or UTC wall clock (2026-12-03T14:00:00Z)"
    parser.add_argument(
        "--from", dest="start", type=_time_bound_arg, metavar="TIME", help=f"{what} this {times}; default: the start"
    )
    parser.add_argument(
        "--to", dest="end", type=_time_bound_arg, metavar="TIME", help=f"up to this {times}; default: now"
    )


def _checked(parser: argparse.ArgumentParser, handler: Callable[..., int]) -> Callable[..., int]:
    """A --from after its --to is a usage error (exit 2), like a bad value."""

    def run(args: argparse.Namespace, connect: Any) -> int:
        reason = _range_mismatch(args)
        if reason:
            parser.error(reason)
        return handler(args, connect)

    return run


# ---- the commands


async def _ask(client: Any, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    shows_steps = not (args.json or args.quiet)
    answer: Answer | None = None  # the stream ends with it: the SDK raises if it does not
    stream = client.reasoner.ask_stream(
        args.question,
        stream_ids=args.stream,
        deadline_ms=args.deadline_ms,
        time_range=time_range_of(args.start, args.end),
    )
    async for item in stream:
        if isinstance(item, Answer):
            answer = item
        elif shows_steps:
            print(format_progress(item), file=sys.stderr, flush=True)
    latency_ms = answer.latency_ms or (time.perf_counter() - started) * 1000
    if args.json:
        _print_json(answer_to_json(answer, latency_ms))
    else:
        print(format_answer(answer, latency_ms))
    return EXIT_OK


async def _summarize(client: Any, args: argparse.Namespace) -> int:
    summary = await client.reasoner.summarize(
        args.stream, time_range=time_range_of(args.start, args.end), deadline_ms=args.deadline_ms
    )
    if args.json:
        _print_json(summary_to_json(summary))
    else:
        print(format_summary(summary))
    return EXIT_OK


# ---- output


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False))


def format_progress(progress: AskProgress) -> str:
    """One step on one line: "  read       level 1  0:40-2:00  dock-cam  reading segment 0:40-2:00"."""
    parts = [f"  {progress.step:<9}"]
    if progress.node_id or progress.end_s > 0:  # a step about a node; "plan" and "answer" are about none
        parts.append(f"level {progress.level}")
    if progress.end_s > 0:
        parts.append(format_range_s(progress.start_s, progress.end_s))
    if progress.stream_id:
        parts.append(progress.stream_id)
    if progress.detail:
        parts.append(_one_line(progress.detail))
    return "  ".join(parts)


def evidence_to_json(item: Evidence) -> dict[str, object]:
    """Every Evidence field, the stream id as "stream" (the name the answer's JSON always used)."""
    fields = asdict(item)
    return {"stream": fields.pop("stream_id"), **fields}


def answer_to_json(answer: Answer, latency_ms: float) -> dict[str, object]:
    """The documented shape: answer, confidence, evidence, latency_ms, method, partial, nodes_read, hops, fallback."""
    return {
        "answer": answer.answer,
        "confidence": float(answer.confidence),
        "evidence": [evidence_to_json(item) for item in answer.evidence],
        "latency_ms": float(latency_ms),
        "method": answer.method,
        "partial": answer.partial,
        "nodes_read": answer.nodes_read,
        "hops": answer.hops,
        "fallback": answer.fallback,
    }


def summary_to_json(summary: Summary) -> dict[str, object]:
    return {
        "stream": summary.stream_id,
        "start_s": float(summary.start_s),
        "end_s": float(summary.end_s),
        "summary": summary.text,
        "evidence": [evidence_to_json(item) for item in summary.evidence],
        "nodes_read": summary.nodes_read,
        "partial": summary.partial,
        "latency_ms": float(summary.latency_ms),
    }


def format_answer(answer: Answer, latency_ms: float) -> str:
    status = f"confidence {answer.confidence:.2f}, {latency_ms:.0f} ms"
    if answer.method:
        status += f", method {answer.method}"
    if answer.partial:
        status += f" {PARTIAL_NOTE}"
    lines = [answer.answer or "(no answer)", "", status]
    if answer.fallback:
        lines.append(f"fallback: {_one_line(answer.fallback)}")
    lines.extend(_evidence_lines(answer.evidence))
    return "\n".join(lines)


def format_summary(summary: Summary) -> str:
    status = f"{summary.stream_id} {format_range_s(summary.start_s, summary.end_s)}, {summary.latency_ms:.0f} ms"
    status += f", {summary.nodes_read} nodes read"
    if summary.partial:
        status += f" {PARTIAL_NOTE}"
    return "\n".join([summary.text or "(nothing to summarize)", "", status, *_evidence_lines(summary.evidence)])


def _evidence_lines(evidence: tuple[Evidence, ...]) -> list[str]:
    if not evidence:
        return ["no evidence found"]
    lines = ["evidence:"]
    for rank, item in enumerate(evidence, start=1):
        when = format_span(item.start_s, item.end_s, item.start_wall_ms, item.end_wall_ms)
        lines.append(f"  {rank}. {item.stream_id} {when}  {_one_line(item.text)}")
    return lines


def _one_line(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
