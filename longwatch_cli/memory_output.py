"""What the memory commands print: nodes, hits and stats as lines people read, and the JSON shapes.

Stream times show as m:ss; a live stream's nodes show their UTC wall clock beside them (longwatch.times).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from longwatch.times import format_range_s, format_span, format_time_s, format_wall_ms
from longwatch.types import DeletedStream, KeyframeData, MemoryStats, Node, SearchHit, SearchResult, StreamStats

_TEXT_WIDTH = 100  # characters of a node's text on its line: one terminal line with the indent


def print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False))


def keyframe_json(keyframe: KeyframeData, path: Path | None) -> dict[str, object]:
    """The JPEG itself is not in the JSON: --keyframes-to writes it, and `path` says where."""
    return {
        "keyframe_id": keyframe.keyframe_id,
        "stream_id": keyframe.stream_id,
        "t_s": keyframe.t_s,
        "bytes": len(keyframe.jpeg),
        "path": str(path) if path is not None else None,
    }


def counted(number: int, singular: str, plural: str = "") -> str:
    """ "1 keyframe", "3 keyframes"."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _one_line(text: str, width: int = _TEXT_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _level_name(level: int) -> str:
    return {0: "clips", 1: "segments", 2: "episodes"}.get(level, f"level {level}")


def format_search(result: SearchResult, level: int) -> str:
    lines = [f"{counted(len(result.hits), 'hit')} among {_level_name(level)}, {result.nodes_read} nodes read"]
    for rank, hit in enumerate(result.hits, start=1):
        lines.extend(_format_hit(rank, hit))
    return "\n".join(lines)


def _format_hit(rank: int, hit: SearchHit) -> list[str]:
    when = format_span(hit.start_s, hit.end_s, hit.start_wall_ms, hit.end_wall_ms)
    extra = f"  {counted(len(hit.keyframe_ids), 'keyframe')}" if hit.keyframe_ids else ""
    return [
        f"  {rank}. {hit.stream_id} {when}  score {hit.score:.2f}  {hit.clip_id}{extra}",
        f"     {_one_line(hit.text)}",
    ]


def format_node(node: Node) -> list[str]:
    """Two lines: id, stream, level, times and links; then its text."""
    when = format_span(node.start_s, node.end_s, node.start_wall_ms, node.end_wall_ms)
    links = [f"level {node.level}"]
    if node.child_ids:
        links.append(counted(len(node.child_ids), "child", "children"))
    if node.keyframe_ids:
        links.append(counted(len(node.keyframe_ids), "keyframe"))
    links.append(f"in {node.parent_id}" if node.parent_id else "in the short-term window")
    return [
        f"  {node.node_id}  {node.stream_id} {when}  {', '.join(links)}",
        f"    {_one_line(node.text) or '(no text kept)'}",
    ]


def format_timeline(stream_id: str, level: int, nodes: Sequence[Node], is_truncated: bool) -> str:
    lines = [f"{stream_id}: {counted(len(nodes), 'node')} among {_level_name(level)}"]
    lines.extend(line for node in nodes for line in format_node(node))
    if is_truncated and nodes:
        last = nodes[-1]
        resume = (
            f"--since {format_wall_ms(last.end_wall_ms)}" if last.end_wall_ms else f"--from {format_time_s(last.end_s)}"
        )
        lines.append(f"more nodes lie in the range: raise --limit, or continue with {resume}")
    return "\n".join(lines)


def format_expand(node_id: str, children: Sequence[Node]) -> str:
    lines = [f"{node_id}: {counted(len(children), 'child', 'children')}"]
    lines.extend(line for node in children for line in format_node(node))
    return "\n".join(lines)


def format_get(nodes: Sequence[Node], keyframes: Sequence[KeyframeData], paths: dict[str, Path]) -> str:
    lines = [line for node in nodes for line in format_node(node)]
    for keyframe in keyframes:
        where = (
            f"written to {paths[keyframe.keyframe_id]}"
            if keyframe.keyframe_id in paths
            else "pass --keyframes-to DIR to write it"
        )
        when = format_time_s(keyframe.t_s)
        lines.append(f"  {keyframe.keyframe_id}  {keyframe.stream_id} {when}  {len(keyframe.jpeg)} bytes, {where}")
    return "\n".join(lines)


def format_bytes(size_bytes: int) -> str:
    """1536 → "1.5 KiB": binary units, as `du -h` and the settings (MiB) count them."""
    size = float(size_bytes)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def format_stats(stats: MemoryStats) -> str:
    lines = [f"memory data on disk: {format_bytes(stats.disk_bytes)}"]
    if not stats.streams:
        lines.append("  (no streams)")
        return "\n".join(lines)
    lines.append(f"  {'STREAM':<20} {'CLIPS':>7} {'WINDOW':>6} {'NODES/LEVEL':<14} {'KEYFRAMES':>9} {'HELD':>10}  SPAN")
    for item in stats.streams:
        lines.extend(_format_stream_stats(item))
    return "\n".join(lines)


def _format_stream_stats(item: StreamStats) -> list[str]:
    levels = "/".join(str(nodes) for nodes in item.nodes_per_level) or "-"
    span = format_range_s(item.first_s, item.last_s) if item.clips else "-"
    return [
        f"  {item.stream_id:<20} {item.clips:>7} {item.window_clips:>6} {levels:<14} {item.keyframes:>9} "
        f"{format_bytes(item.total_bytes):>10}  {span}",
        f"    held: vectors {format_bytes(item.vector_bytes)}, texts {format_bytes(item.metadata_bytes)}, "
        f"keyframes {format_bytes(item.keyframe_bytes)}, log {format_bytes(item.log_bytes)}; removed by retention: "
        f"{counted(item.keyframes_removed, 'keyframe')}, {counted(item.clip_texts_removed, 'clip text')}, "
        f"{counted(item.summaries_removed, 'summary', 'summaries')}",
    ]


def format_deleted(stream_id: str, deleted: DeletedStream) -> str:
    return (
        f"deleted {stream_id}: {counted(deleted.clips_deleted, 'clip')}, "
        f"{counted(deleted.nodes_deleted, 'summary node')}, {counted(deleted.keyframes_deleted, 'keyframe')}"
    )
