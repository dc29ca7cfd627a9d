"""The search loop: coarse-to-fine over memory's hierarchy, best first, backtracking, within a budget.

VideoLucy's loop, bounded: rank the top-level nodes of the streams (memory's similarity plus the
reasoner's own OCR-tolerant match of what the question names), take the best, expand it, go down to its
best child, and at a dead end (a segment none of whose clips shows the thing) back up to the next
candidate. A node whose summary is complete (shorter than memory's limit) and does not mention the thing
is not opened: its clips cannot show it. Memory's own clip search seeds the loop, and the hierarchy is
walked only when that search was crowded with look-alikes (every clip it returned resembles the target),
so a question about something never seen costs one search, not a walk over the whole history. The loop
stops once the caller has enough, at the node budget or at the deadline, and says which.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from longwatch.errors import DeadlineExceeded
from longwatch.times import format_range_s
from longwatch.types import SUMMARY_MAX_CHARS, AskProgress, Node, SearchHit, TimeRange
from reasoner.core.retriever import Retriever
from reasoner.core.types import Budget, ProgressSink

logger = logging.getLogger(__name__)

_CALL_MIN_S = 0.05  # a memory call started with less time left than this cannot come back in time
_PARENT_WEIGHT = 0.5  # a child's priority keeps this share of its parent's
_CUT_MARGIN_CHARS = 300  # a summary this close to memory's limit may have been cut (a line is shorter)


@dataclass(frozen=True)
class ExploreLimits:
    seed_k: int = 30  # clips asked of memory's own search per target
    top_k: int = 6  # top-level nodes ranked per stream set
    node_budget: int = 600  # nodes read per target, every level


@dataclass(frozen=True)
class Target:
    """What one search looks for: memory's query text, and the reasoner's judgement of a node's text
    (0 = no sign of it; higher = more of what is looked for)."""

    query: str
    relevance: Callable[[str], float]
    # Whether a text looks like the target without being it ("LOCKER 41" for locker 42): a clip search
    # whose every hit looks like it may have ranked the target itself below them. None: relevance > 0.
    resembles: Callable[[str], bool] | None = None

    def looks_like(self, text: str) -> bool:
        return self.resembles(text) if self.resembles is not None else self.relevance(text) > 0


@dataclass
class Exploration:
    relevant: list[tuple[float, SearchHit]] = field(default_factory=list)  # clips with relevance > 0
    candidates: list[SearchHit] = field(default_factory=list)  # what memory's clip search ranked, relevant or not
    nodes_read: int = 0
    stopped_by: str = ""  # "the deadline" or "the node budget", when one stopped the loop before it had enough

    @property
    def partial(self) -> bool:
        return bool(self.stopped_by)

    def clips(self) -> list[SearchHit]:
        """The relevant clips, most relevant first, then by memory's score."""
        return [hit for _, hit in sorted(self.relevant, key=lambda pair: (-pair[0], -pair[1].score))]


class Trace:
    """Sends the steps of one Ask to its progress sink, with the time since the Ask began."""

    def __init__(self, sink: ProgressSink | None, budget: Budget, started: float) -> None:
        self._sink = sink
        self._budget = budget
        self._started = started

    def step(self, step: str, detail: str, node: SearchHit | Node | None = None) -> None:
        logger.debug("%s: %s", step, detail)
        if self._sink is None:
            return
        elapsed_ms = (self._budget.clock() - self._started) * 1000
        if node is None:
            self._sink(AskProgress(step=step, detail=detail, elapsed_ms=elapsed_ms))
            return
        node_id = node.clip_id if isinstance(node, SearchHit) else node.node_id
        self._sink(AskProgress(step, detail, node.stream_id, node_id, node.level, node.start_s, node.end_s, elapsed_ms))


@dataclass
class _Walk:
    """One exploration's fixed inputs, and what it has found so far."""

    target: Target
    stream_ids: tuple[str, ...]
    span: TimeRange
    budget: Budget
    trace: Trace
    found: Exploration


def as_hit(node: Node, score: float = 0.0) -> SearchHit:
    return SearchHit.of_node(node, score)


def time_left_s(budget: Budget) -> float:
    """Seconds a memory call may take; DeadlineExceeded when too few are left for one."""
    remaining_s = budget.remaining_s()
    if remaining_s < _CALL_MIN_S:
        raise DeadlineExceeded("the deadline passed while memory was being read")
    return remaining_s


_LEVEL_NAMES = ("clip", "segment", "episode")


def level_name(level: int) -> str:
    return _LEVEL_NAMES[level] if level < len(_LEVEL_NAMES) else f"level-{level} node"


class Explorer:
    def __init__(self, retriever: Retriever, limits: ExploreLimits = ExploreLimits()) -> None:
        self._retriever = retriever
        self._limits = limits

    async def explore(
        self,
        target: Target,
        stream_ids: Sequence[str],
        top_level: int,
        span: TimeRange,
        budget: Budget,
        trace: Trace,
        is_enough: Callable[[Exploration], bool],
        every_sighting: bool = False,
    ) -> Exploration:
        """Reads memory for `target` until `is_enough` says so, the budget is spent or nothing is left.
        With `every_sighting` (counts, "when"), the hierarchy is walked even when memory's clip search was
        not crowded: it returns a few clips of each sighting, and a sighting it ranked below them is still
        one to count. A deadline passing mid-way ends the loop with what was found (partial), never an error."""
        walk = _Walk(target, tuple(stream_ids), span, budget, trace, Exploration())
        try:
            crowded = await self._seed(walk)
            if not is_enough(walk.found) and top_level > 0 and (crowded or every_sighting):
                await self._descend(walk, top_level, is_enough)
        except DeadlineExceeded:
            walk.found.stopped_by = "the deadline"
            trace.step("deadline", "the deadline came: answering from what was read")
        return walk.found

    async def _seed(self, walk: _Walk) -> bool:
        """Memory's clip search for the target; whether it was crowded: every one of the `seed_k` clips it
        returned looks like the target, so more (the target among them) may rank below. Only then is the
        hierarchy walked: a search that ran out of look-alikes has ranked every clip that could be it."""
        target, found = walk.target, walk.found
        result = await self._retriever.search(
            target.query, walk.stream_ids, self._limits.seed_k, time_left_s(walk.budget), level=0, span=walk.span
        )
        found.nodes_read += result.nodes_read or len(result.hits)
        found.candidates.extend(result.hits)
        named = self._judge(target, result.hits, found)
        crowded = len(result.hits) >= self._limits.seed_k and all(target.looks_like(hit.text) for hit in result.hits)
        walk.trace.step(
            "search",
            f"memory's clip search for {target.query[:60]!r}: {len(result.hits)} clips, {named} relevant"
            + (", all look-alikes: more may rank below them" if crowded else ""),
        )
        return crowded

    async def _descend(self, walk: _Walk, top_level: int, is_enough: Callable[[Exploration], bool]) -> None:
        target, found, trace = walk.target, walk.found, walk.trace
        result = await self._retriever.search(
            target.query, walk.stream_ids, self._limits.top_k, time_left_s(walk.budget), level=top_level, span=walk.span
        )
        found.nodes_read += result.nodes_read or len(result.hits)
        order = itertools.count()  # ties keep the order nodes were ranked in
        # (-priority, order, relevance of its own text, node): best first
        frontier: list[tuple[float, int, float, SearchHit]] = []
        pruned = 0
        for hit in result.hits:
            relevance = target.relevance(hit.text)
            if relevance > 0 or _may_hide(hit.text):
                heapq.heappush(frontier, (-(hit.score + relevance), next(order), relevance, hit))
            else:
                pruned += 1
        trace.step("rank", f"{len(result.hits)} {level_name(top_level)}s ranked, {pruned} without a sign of it")
        while frontier and not is_enough(found):
            if found.nodes_read >= self._limits.node_budget:
                found.stopped_by = "the node budget"
                trace.step("budget", f"node budget of {self._limits.node_budget} spent")
                return
            priority, _, relevance, node = heapq.heappop(frontier)
            if relevance <= 0 and (frontier or node.level != top_level):
                # A summary cut at memory's limit, without a sign of the target: memory's own clip search,
                # within this node's span only, finds what the cut left out, where the whole history's
                # search ranked other clips first. (A lone top node is opened instead: its span is all.)
                await self._search_within(walk, node)
                continue
            trace.step("expand", f"reading {level_name(node.level)} {format_range_s(node.start_s, node.end_s)}", node)
            expanded = await self._retriever.expand(node.clip_id, time_left_s(walk.budget))
            children = [child for child in map(as_hit, expanded) if _overlaps(child, walk.span)]
            found.nodes_read += len(children)
            if node.level == 1:
                if not self._judge(target, children, found):
                    trace.step("backtrack", "no clip of it shows what is asked; back to the next candidate", node)
                continue
            opened = 0
            for child in children:
                relevance = target.relevance(child.text)
                if relevance > 0 or _may_hide(child.text):
                    child_priority = relevance - _PARENT_WEIGHT * priority
                    heapq.heappush(frontier, (-child_priority, next(order), relevance, child))
                    opened += 1
            if not opened:
                trace.step("backtrack", "no part of it mentions what is asked; back to the next candidate", node)

    async def _search_within(self, walk: _Walk, node: SearchHit) -> None:
        within = walk.span.narrowed(TimeRange(node.start_s, node.end_s))
        result = await self._retriever.search(
            walk.target.query, (node.stream_id,), self._limits.seed_k, time_left_s(walk.budget), level=0, span=within
        )
        walk.found.nodes_read += result.nodes_read or len(result.hits)
        named = self._judge(walk.target, result.hits, walk.found)
        where = f"{level_name(node.level)} {format_range_s(node.start_s, node.end_s)}"
        walk.trace.step("search", f"its summary was cut: searching the clips of {where}: {named} relevant", node)
        if not named:
            walk.trace.step("backtrack", "none of its clips shows what is asked; back to the next candidate", node)

    @staticmethod
    def _judge(target: Target, clips: Sequence[SearchHit], found: Exploration) -> int:
        seen = {hit.clip_id for _, hit in found.relevant}
        named = 0
        for clip in clips:
            relevance = target.relevance(clip.text)
            if relevance > 0 and clip.clip_id not in seen:
                seen.add(clip.clip_id)
                found.relevant.append((relevance, clip))
                named += 1
        return named


def _may_hide(summary: str) -> bool:
    """Whether a summary that does not mention the target may still have children that do: memory cut it
    at its length limit, so lines of its children may be missing from it."""
    return len(summary) >= SUMMARY_MAX_CHARS - _CUT_MARGIN_CHARS


def _overlaps(hit: SearchHit, span: TimeRange) -> bool:
    if span.end_s and hit.start_s > span.end_s:
        return False
    if span.start_s and hit.end_s < span.start_s:
        return False
    if hit.start_wall_ms and span.end_wall_ms and hit.start_wall_ms > span.end_wall_ms:
        return False
    return not (hit.end_wall_ms and span.start_wall_ms and hit.end_wall_ms < span.start_wall_ms)
