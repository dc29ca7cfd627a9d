"""`longwatch demo`: the whole system on the synthetic sample, checked against its ground truth.

Starts the three services on free loopback ports (so a running `longwatch up` is left alone), writes
the sample, ingests it, asks each event's question and checks that the top evidence overlaps the
event's time range and that each text answer says the expected words. Exits 0 only when both hold for
every event.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from longwatch import errors
from longwatch.client import LongwatchClient
from longwatch.progress import wait_until_final
from longwatch.sample import Event, make_sample
from longwatch.times import format_range_s
from longwatch.types import Answer, StreamState
from longwatch_cli.output import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, describe_finished
from orchestration.health import free_port
from orchestration.launcher import SERVICES, LaunchConfig, Launcher, LaunchError
from orchestration.signals import Terminated, sigterm_raises

STREAM_ID = "demo-cam"
_TIME_RANGE = re.compile(r"\d+:\d\d-\d+:\d\d")  # an expected answer that is a time range, "0:03-0:09"
SAMPLE_NAME = "longwatch-sample.mp4"


@dataclass(frozen=True)
class EventResult:
    event: Event
    answer: Answer

    @property
    def is_hit(self) -> bool:
        return top_evidence_overlaps(self.answer, self.event)

    @property
    def is_time_question(self) -> bool:
        return _TIME_RANGE.fullmatch(self.event.answer) is not None

    @property
    def says_expected_text(self) -> bool:
        """Whether the reply holds the expected words ("7315", "GATE B CLOSED"), ignoring case and punctuation."""
        return _words(self.event.answer) in _words(self.answer.answer)


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[0-9a-z]+", text.lower())) + " "


def top_evidence_overlaps(answer: Answer, event: Event) -> bool:
    """Whether the best evidence's [start_s, end_s) shares a moment with the event's [start_s, end_s)."""
    if not answer.evidence:
        return False
    top = answer.evidence[0]
    return top.start_s < event.end_s and top.end_s > event.start_s


def run_demo(*, data_dir: Path | None, profile: str, model_cache: Path, keep: bool, log_level: str = "INFO") -> int:
    """Runs the demo end to end and returns the exit status; every service is stopped before it returns."""
    started = time.monotonic()
    is_temporary = data_dir is None
    root = Path(tempfile.mkdtemp(prefix="longwatch-demo-")) if data_dir is None else data_dir.expanduser().resolve()
    config = LaunchConfig(
        data_dir=root,
        profile=profile,
        model_cache=model_cache,
        log_level=log_level,
        ports={name: free_port("127.0.0.1") for name in SERVICES},
    )
    print(f"longwatch demo: profile {profile}, data in {root}, models in {model_cache}", flush=True)
    try:
        with sigterm_raises(), Launcher(config) as launcher:
            launcher.start()
            results = asyncio.run(_ask_sample(launcher.addresses, root))
    except LaunchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        _clean_up(root, remove=is_temporary and not keep)
        print(f"demo wall time: {time.monotonic() - started:.1f} s", flush=True)
    hits = sum(result.is_hit for result in results)
    text_results = [result for result in results if not result.is_time_question]
    said = sum(result.says_expected_text for result in text_results)
    print(f"\n{hits} of {len(results)} events: top evidence inside the event")
    print(f"{said} of {len(text_results)} text answers say the expected words")
    return EXIT_OK if is_demo_passed(results) else EXIT_ERROR


def is_demo_passed(results: list[EventResult]) -> bool:
    """Every event's top evidence overlaps it, and every text answer says the expected words: a right
    clip with a wrong reply is a failure."""
    return all(result.is_hit and (result.is_time_question or result.says_expected_text) for result in results)


def _clean_up(root: Path, *, remove: bool) -> None:
    if remove:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"data kept in {root} (logs in {root / 'logs'})")


async def _ask_sample(addresses: dict[str, str], root: Path) -> list[EventResult]:
    video = root / "sample" / SAMPLE_NAME
    truth = await asyncio.to_thread(make_sample, video)
    print(f"sample: {video} ({truth.duration_s:.0f} s, {len(truth.events)} events)", flush=True)
    async with LongwatchClient.connect(**addresses) as client:
        await client.perception.add_stream(STREAM_ID, str(video))
        status = await wait_until_final(client.perception, STREAM_ID)
        print(describe_finished(status), flush=True)
        if status.state is not StreamState.FINISHED:
            raise errors.FailedPrecondition(f"the sample stream {status.state.value}: {status.error or 'no reason'}")
        results = []
        for number, event in enumerate(truth.events, start=1):
            answer = await client.reasoner.ask(event.question, stream_ids=[STREAM_ID])
            result = EventResult(event, answer)
            print(format_result(number, len(truth.events), result), flush=True)
            results.append(result)
    return results


def format_result(number: int, total: int, result: EventResult) -> str:
    event, answer = result.event, result.answer
    evidence = ", ".join(format_range_s(item.start_s, item.end_s) for item in answer.evidence[:3]) or "none"
    return "\n".join(
        [
            f"\n[{number}/{total}] {event.question}",
            f"  answer:       {answer.answer or '(no answer)'} (confidence {answer.confidence:.2f})",
            f"  evidence:     {evidence}",
            f"  ground truth: {format_range_s(event.start_s, event.end_s)}, expected answer {event.answer!r}",
            f"  top evidence inside the event: {'yes' if result.is_hit else 'NO'}",
            *([] if result.is_time_question else [f"  answer says it: {'yes' if result.says_expected_text else 'no'}"]),
        ]
    )
