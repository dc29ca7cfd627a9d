"""Summarize: what a stream showed over a time range, read from the hierarchy's summaries.

The highest level that splits the range into at least a few nodes is read (an episode summary for a
day, segment summaries for half an hour, clips for a minute), so the cost follows the range's length in
nodes of that level, not in clips. Each part is one line, "[0:40-2:00] ...", in time order; what is on
screen in every part alike (a shop's own sign) is said once, first.
"""

from __future__ import annotations

from collections import Counter

from longwatch.errors import DeadlineExceeded
from longwatch.times import format_range_s
from longwatch.types import Evidence, Node, SearchHit, StreamStats, Summary, TimeRange
from reasoner.core.records import caption_and_lines, line_key
from reasoner.core.retriever import Retriever
from reasoner.core.types import Budget

MIN_PARTS = 3  # a summary splits its range into at least this many parts where the hierarchy allows
MAX_PARTS = 24  # and reads at most this many nodes of the level it uses
_PART_CHARS = 240


async def summarize(retriever: Retriever, stats: StreamStats, span: TimeRange, budget: Budget) -> Summary:
    end_s = span.end_s or stats.last_s
    start_s = span.start_s
    levels = len([count for count in stats.nodes_per_level if count])
    nodes: list[Node] = []
    read = 0
    partial = False
    try:
        for level in range(levels, -1, -1):
            remaining_s = budget.remaining_s()
            if remaining_s <= 0.05:
                raise DeadlineExceeded("the deadline passed")
            found, _ = await retriever.timeline(stats.stream_id, level, span, MAX_PARTS, remaining_s)
            read += len(found)
            if found:
                nodes = found
            if len(found) >= MIN_PARTS:
                break
    except DeadlineExceeded:
        partial = True
    if not nodes:
        text = f"{stats.stream_id} holds nothing in {format_range_s(start_s, end_s)}."
        return Summary(stats.stream_id, start_s, end_s, text, (), read, partial)
    return Summary(stats.stream_id, start_s, end_s, _text(nodes), tuple(_evidence(n) for n in nodes), read, partial)


def _text(nodes: list[Node]) -> str:
    parts = [(node, caption_and_lines(node.text)) for node in nodes]
    everywhere = _on_screen_throughout(parts) if len(parts) >= MIN_PARTS else set()
    lines = []
    if everywhere:
        always = [line for line in caption_and_lines(nodes[0].text)[1] if line_key(line) in everywhere]
        lines.append("On screen throughout: " + " | ".join(always))
    for node, (caption, on_screen) in parts:
        own = [line for line in on_screen if line_key(line) not in everywhere]
        said = "; ".join(filter(None, [caption, " | ".join(own)])) or "nothing new"
        lines.append(f"[{format_range_s(node.start_s, node.end_s)}] {said[:_PART_CHARS]}")
    return "\n".join(lines)


def _on_screen_throughout(parts: list[tuple[Node, tuple[str, list[str]]]]) -> set[str]:
    counts = Counter(key for _, (_, lines) in parts for key in {line_key(line) for line in lines})
    return {key for key, count in counts.items() if count == len(parts)}


def _evidence(node: Node) -> Evidence:
    return Evidence.of_hit(SearchHit.of_node(node))
