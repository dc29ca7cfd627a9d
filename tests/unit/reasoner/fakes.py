"""Fakes behind the reasoner's Protocols: an LLM with scripted replies and a Retriever with fixed hits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from longwatch.errors import Unavailable
from longwatch.types import SearchHit

GATE_TIMEOUT_S = 10.0  # a hang guard: a gated fake LLM call fails rather than block a test for ever


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeLLM:
    """Generates `generation`; scores a continuation with `scorer` (default: its length, so longer wins).

    Each call may wait for `gate` to be set and may really sleep `sleep_s` (to hold the LLM's turn in
    concurrency tests), then advances `clock` by the step's seconds (a slow model without sleeping).
    """

    generation: str = ""
    scorer: Callable[[str], float] = len
    clock: FakeClock | None = None
    generate_s: float = 0.0
    score_s: float = 0.0
    sleep_s: float = 0.0
    gate: threading.Event | None = None
    name: str = "fake"
    calls: list[tuple[str, str]] = field(default_factory=list)  # (step, prompt)
    threads: list[int] = field(default_factory=list)  # thread ids the calls ran on
    scored: list[list[str]] = field(default_factory=list)

    def generate(self, prompt: str, max_new_tokens: int, stop: Sequence[str] = ()) -> str:
        self._step("generate", prompt, self.generate_s)
        return self.generation

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        self._step("score", prompt, self.score_s)
        self.scored.append(list(continuations))
        return [float(self.scorer(text)) for text in continuations]

    def _step(self, step: str, prompt: str, seconds: float) -> None:
        self.calls.append((step, prompt))
        self.threads.append(threading.get_ident())
        if self.gate is not None:
            assert self.gate.wait(GATE_TIMEOUT_S), "the test never opened the LLM's gate"
        if self.sleep_s:
            time.sleep(self.sleep_s)
        if self.clock is not None:
            self.clock.advance(seconds)

    def steps(self) -> list[str]:
        return [step for step, _ in self.calls]


@dataclass
class FakeRetriever:
    """Returns `hits` filtered by stream; knows `streams`; `is_down` makes every call Unavailable."""

    hits: list[SearchHit] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)
    is_down: bool = False
    searches: list[tuple[str, tuple[str, ...], int, float]] = field(default_factory=list)

    async def search(self, text: str, stream_ids: Sequence[str], k: int, timeout_s: float) -> list[SearchHit]:
        self._check()
        self.searches.append((text, tuple(stream_ids), k, timeout_s))
        found = [hit for hit in self.hits if not stream_ids or hit.stream_id in stream_ids]
        return found[:k]

    async def known_streams(self, timeout_s: float) -> list[str]:
        self._check()
        return list(self.streams)

    def _check(self) -> None:
        if self.is_down:
            raise Unavailable("cannot reach the memory service at 127.0.0.1:1")


def hit(
    text: str, start_s: float = 40.0, end_s: float = 45.0, score: float = 0.8, stream_id: str = "gate"
) -> SearchHit:
    return SearchHit(
        clip_id=f"{stream_id}@{round(start_s * 1000):012d}",
        stream_id=stream_id,
        start_s=start_s,
        end_s=end_s,
        text=text,
        score=score,
    )
