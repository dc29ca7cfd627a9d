"""Fakes behind the reasoner's Protocols: an LLM with scripted replies and a memory hierarchy in lists."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from longwatch.errors import NotFound, Unavailable
from longwatch.text_match import contains_term
from longwatch.types import SUMMARY_MAX_CHARS, WHOLE_HISTORY, Node, SearchHit, SearchResult, StreamStats, TimeRange
from reasoner.core.explorer import as_hit
from reasoner.core.question import FUNCTION_WORDS

CLIP_S = 2.0  # a clip's length in the scenes built here
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
    can_score: bool = True
    sees_images: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)  # (step, prompt)
    threads: list[int] = field(default_factory=list)  # thread ids the calls ran on
    scored: list[list[str]] = field(default_factory=list)

    images: list[list[bytes]] = field(default_factory=list)  # what each generation was shown

    def generate(self, prompt: str, max_new_tokens: int, stop: Sequence[str] = (), images: Sequence[bytes] = ()) -> str:
        self.images.append(list(images))
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


def clip(stream_id: str, start_s: float, text: str, length_s: float = CLIP_S, wall_ms: int = 0) -> Node:
    """A clip node as memory stores it; `wall_ms` (UTC ms since the epoch) makes it a live stream's."""
    return Node(
        node_id=f"{stream_id}@{round(start_s * 1000):012d}",
        stream_id=stream_id,
        level=0,
        start_s=start_s,
        end_s=start_s + length_s,
        text=text,
        start_wall_ms=wall_ms,
        end_wall_ms=wall_ms + round(length_s * 1000) if wall_ms else 0,
    )


def scene(
    stream_id: str,
    length_s: float,
    shown: dict[tuple[float, float], str] | None = None,
    caption: str = "a quiet loading dock",
    wall_ms: int = 0,
) -> list[Node]:
    """A stream of CLIP_S clips over `length_s` seconds; each on-screen line of `shown` ((from_s, to_s) -> line)
    is in every clip that starts inside its span."""
    clips = []
    for index in range(int(length_s // CLIP_S)):
        start_s = index * CLIP_S
        lines = [line for (from_s, to_s), line in (shown or {}).items() if from_s <= start_s < to_s]
        text = caption + (". text on screen: " + " | ".join(lines) if lines else "")
        clips.append(clip(stream_id, start_s, text, wall_ms=wall_ms + round(start_s * 1000) if wall_ms else 0))
    return clips


def _words(text: str) -> set[str]:
    """The words a search weighs: memory's embedding pays little attention to "what" and "the" either."""
    return set(re.findall(r"[a-z0-9]+", text.lower())) - FUNCTION_WORDS


@dataclass
class FakeMemory:
    """Memory's hierarchy in lists: the clips of each stream under segments of `fanout` clips, those under
    episodes of `fanout` segments, and so on while a level has more than one node, each with memory's
    extractive summary of its children. Search ranks a level's nodes by the share of the query's words
    their text holds, OCR's confusions forgiven. `call_s` advances `clock` per call (a slow memory without
    sleeping); `is_down` makes every call Unavailable."""

    clips: list[Node] = field(default_factory=list)
    fanout: int = 4
    clock: FakeClock | None = None
    call_s: float = 0.0
    is_down: bool = False
    calls: list[tuple[str, str, float]] = field(default_factory=list)  # (method, what, timeout_s)

    def __post_init__(self) -> None:
        self.levels: list[list[Node]] = [sorted(self.clips, key=lambda n: (n.stream_id, n.start_s))]
        self.by_id = {node.node_id: node for node in self.levels[0]}
        while True:
            below = self.levels[-1]
            streams = {node.stream_id for node in below}
            if all(sum(node.stream_id == s for node in below) <= 1 for s in streams) or not below:
                break
            level = len(self.levels)
            above = []
            for stream_id in sorted(streams):
                own = [node for node in below if node.stream_id == stream_id]
                for index in range(0, len(own), self.fanout):
                    children = own[index : index + self.fanout]
                    above.append(
                        replace(
                            children[0],
                            node_id=f"{stream_id}#L{level}#{index // self.fanout}",
                            level=level,
                            end_s=children[-1].end_s,
                            end_wall_ms=children[-1].end_wall_ms,
                            text=_summary(children),
                            child_ids=tuple(child.node_id for child in children),
                        )
                    )
            self.levels.append(above)
            self.by_id.update({node.node_id: node for node in above})

    async def search(self, text, stream_ids, k, timeout_s, level=0, span=WHOLE_HISTORY) -> SearchResult:
        self._call("search", f"{level}:{text}", timeout_s)
        wanted = _words(text)  # each found OCR-tolerantly, as memory's exact-term search does
        nodes = [
            node
            for node in (self.levels[level] if level < len(self.levels) else [])
            if (not stream_ids or node.stream_id in stream_ids) and _in_span(node, span)
        ]

        def score(node: Node) -> float:
            words = _words(node.text)
            return sum(_holds(word, words, node.text) for word in wanted) / max(len(wanted), 1)

        ranked = sorted(nodes, key=lambda node: -score(node))[:k]  # an index reads what it returns, not a scan
        return SearchResult(tuple(as_hit(node, score(node)) for node in ranked), nodes_read=len(ranked))

    async def expand(self, node_id: str, timeout_s: float) -> list[Node]:
        self._call("expand", node_id, timeout_s)
        if node_id not in self.by_id:
            raise NotFound(f"node {node_id!r} is not in memory")
        return [self.by_id[child] for child in self.by_id[node_id].child_ids]

    async def timeline(self, stream_id, level, span, limit, timeout_s) -> tuple[list[Node], bool]:
        self._call("timeline", f"{stream_id}:{level}", timeout_s)
        nodes = [n for n in self.levels[level] if n.stream_id == stream_id and _in_span(n, span)]
        return nodes[:limit], len(nodes) > limit

    async def keyframes(self, keyframe_ids, timeout_s) -> list[bytes]:
        self._call("keyframes", ",".join(keyframe_ids), timeout_s)
        return [f"jpeg of {keyframe_id}".encode() for keyframe_id in keyframe_ids]

    async def stream_stats(self, stream_ids, timeout_s) -> list[StreamStats]:
        self._call("stats", ",".join(stream_ids), timeout_s)
        known = {node.stream_id for node in self.levels[0]}
        for stream_id in stream_ids:
            if stream_id not in known:  # as memory's Stats does
                raise NotFound(f"memory holds no stream {stream_id!r}; ListStreams shows the streams it holds")
        stats = []
        for stream_id in sorted({node.stream_id for node in self.levels[0]}):
            if stream_ids and stream_id not in stream_ids:
                continue
            own = [node for node in self.levels[0] if node.stream_id == stream_id]
            per_level = tuple(sum(n.stream_id == stream_id for n in level) for level in self.levels[1:])
            stats.append(
                StreamStats(
                    stream_id, clips=len(own), nodes_per_level=per_level, first_s=own[0].start_s, last_s=own[-1].end_s
                )
            )
        return stats

    def searches(self) -> list[str]:
        return [what for method, what, _ in self.calls if method == "search"]

    def _call(self, method: str, what: str, timeout_s: float) -> None:
        if self.is_down:
            raise Unavailable("cannot reach the memory service at 127.0.0.1:1")
        self.calls.append((method, what, timeout_s))
        if self.clock is not None:
            self.clock.advance(self.call_s)


def _holds(word: str, words: set[str], text: str) -> bool:
    """A word of the query in a node's text: as a word, or (names, numbers, codes: five letters or more, or
    a digit) OCR-tolerantly anywhere in it, as memory's exact-term search finds them."""
    if word in words:
        return True
    return (len(word) >= 5 or any(c.isdigit() for c in word)) and contains_term(word, text)


def _summary(children: Sequence[Node]) -> str:
    """Memory's extractive summary: the distinct captions, then the distinct lines, cut at its limit."""
    captions, lines = [], []
    for child in children:
        caption, _, shown = child.text.partition(". text on screen: ")
        captions += [caption] if caption not in captions else []
        lines += [line for line in shown.split(" | ") if line and line not in lines]
    text = ". ".join(captions) + (". text on screen: " + " | ".join(lines) if lines else "")
    return text if len(text) <= SUMMARY_MAX_CHARS else text[: text.rfind(" | ", 0, SUMMARY_MAX_CHARS)]


def _in_span(node: Node, span: TimeRange) -> bool:
    if span.end_s and node.start_s >= span.end_s:
        return False
    if span.start_s and node.end_s <= span.start_s:
        return False
    if span.end_wall_ms and node.start_wall_ms >= span.end_wall_ms:
        return False
    return not (span.start_wall_ms and node.end_wall_ms <= span.start_wall_ms)


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
