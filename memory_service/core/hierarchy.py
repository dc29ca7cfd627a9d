"""The memory hierarchy's shapes: node ids, the nodes a search walks, and the frontier kept in RAM.

Per stream, node `seq` of level l+1 holds nodes `seq * F ... seq * F + F - 1` of level l (clips
at level 0). A node is built once all F children exist, so the nodes without a parent yet are
the *frontier*: fewer than F per level once consolidation has caught up, plus any it has not
reached after a burst. The frontier's level-0 part is the stream's short-term window, searchable
the moment a clip is acknowledged. A search starts from the frontier and reads only the children
of the nodes it expands, so its cost grows with F times the depth, not with the history.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

KEYFRAME_MARK = "#k"  # keyframe ids: "<clip id>#k<index>"
# A clip id (longwatch.types.ClipRecord.clip_id): a valid stream id, '@', then 'w' for wall time, digits.
_CLIP_ID = re.compile(r"[A-Za-z0-9._-]{1,64}@w?[0-9]{1,20}")


def node_id(stream_id: str, level: int, seq: int) -> str:
    """Ids of levels 1 and up: "<stream>#<level>#<seq>" ('#' never occurs in a stream or clip id)."""
    return f"{stream_id}#{level}#{seq:09d}"


def parse_node_id(value: str) -> tuple[str, int, int] | None:
    """(stream, level, seq) of a level-1+ node id; None for anything else (a clip id, a typo)."""
    parts = value.split("#")
    if len(parts) != 3 or not _is_number(parts[1]) or not _is_number(parts[2]):
        return None
    return parts[0], int(parts[1]), int(parts[2])


def keyframe_ids(clip_id: str, count: int) -> tuple[str, ...]:
    return tuple(f"{clip_id}{KEYFRAME_MARK}{index}" for index in range(count))


def parse_keyframe_id(value: str) -> tuple[str, int] | None:
    clip_id, mark, index = value.rpartition(KEYFRAME_MARK)
    if not mark or not _CLIP_ID.fullmatch(clip_id) or not _is_number(index):
        return None
    return clip_id, int(index)


def _is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes '²', which int() refuses."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


@dataclass(frozen=True, eq=False)
class TreeNode:
    """A clip or summary node as the search and consolidation see it, with its vectors when read."""

    node_id: str
    stream_id: str
    level: int
    seq: int
    start_s: float
    end_s: float
    text: str  # as users see it: caption and on-screen text, or the summary
    match_text: str  # match form (store.match_form): the stored document term lookups search
    captions: tuple[str, ...] = ()
    ocr_lines: tuple[str, ...] = ()
    start_wall_ms: int = 0
    end_wall_ms: int = 0
    child_ids: tuple[str, ...] = ()
    keyframe_ids: tuple[str, ...] = ()
    keyframe_times: tuple[float, ...] = ()  # stream time of each keyframe
    text_vector: np.ndarray | None = field(default=None, repr=False)  # (D,) unit
    visual_vector: np.ndarray | None = field(default=None, repr=False)  # (V,) unit

    def overlaps(self, start_s: float, end_s: float, start_wall_ms: int, end_wall_ms: int) -> bool:
        """Whether the node overlaps [start_s, end_s] and the wall-clock range (end 0 = open; a wall
        range excludes nodes without wall-clock time). A node spans [start_s, end_s)."""
        if start_s > 0 and self.end_s <= start_s:
            return False
        if end_s > 0 and self.start_s > end_s:
            return False
        if start_wall_ms or end_wall_ms:
            if not self.start_wall_ms:
                return False
            if start_wall_ms and self.end_wall_ms <= start_wall_ms:
                return False
            if end_wall_ms and self.start_wall_ms > end_wall_ms:
                return False
        return True


class NodeCache:
    """The summary nodes (levels 1 and up) read or built lately, with their vectors, least recently used
    out first: a walk down a long history then reads only the clips of its last step from the store."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._nodes: OrderedDict[str, TreeNode] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, nodes: Iterable[TreeNode]) -> None:
        with self._lock:
            for node in nodes:
                if node.level == 0 or node.text_vector is None:
                    continue
                self._nodes[node.node_id] = node
                self._nodes.move_to_end(node.node_id)
            while len(self._nodes) > self._capacity:
                self._nodes.popitem(last=False)

    def get(self, ids: Iterable[str]) -> dict[str, TreeNode]:
        with self._lock:
            found = {}
            for value in ids:
                node = self._nodes.get(value)
                if node is not None:
                    self._nodes.move_to_end(value)
                    found[value] = node
            return found

    def drop(self, ids: Iterable[str]) -> None:
        with self._lock:
            for value in ids:
                self._nodes.pop(value, None)

    def drop_stream(self, stream_id: str) -> None:
        with self._lock:
            for value in [key for key, node in self._nodes.items() if node.stream_id == stream_id]:
                del self._nodes[value]


class Frontier:
    """Per stream and level, the nodes without a parent yet, with their vectors, in RAM.

    Written by the write thread (new clips) and the consolidation thread (a new node replaces its
    children); read by searches on any thread."""

    def __init__(self) -> None:
        self._nodes: dict[str, dict[int, dict[int, TreeNode]]] = {}  # stream -> level -> seq -> node
        self._lock = threading.Lock()

    def add(self, nodes: Iterable[TreeNode]) -> None:
        with self._lock:
            for node in nodes:
                self._nodes.setdefault(node.stream_id, {}).setdefault(node.level, {})[node.seq] = node

    def take(self, other: Frontier) -> None:
        """Becomes `other` in one step (a memory reader's refresh; searches see the old or the new one)."""
        with self._lock, other._lock:
            self._nodes = other._nodes

    def replace(self, parent: TreeNode, fanout: int) -> None:
        """Adds `parent` and drops its children from the frontier, in one step for concurrent readers."""
        with self._lock:
            levels = self._nodes.setdefault(parent.stream_id, {})
            children = levels.get(parent.level - 1, {})
            for seq in range(parent.seq * fanout, (parent.seq + 1) * fanout):
                children.pop(seq, None)
            levels.setdefault(parent.level, {})[parent.seq] = parent

    def children(self, stream_id: str, level: int, first_seq: int, end_seq: int) -> list[TreeNode]:
        """The frontier nodes of `level` with seq in [first_seq, end_seq), in seq order."""
        with self._lock:
            nodes = self._nodes.get(stream_id, {}).get(level, {})
            return [nodes[seq] for seq in range(first_seq, end_seq) if seq in nodes]

    def nodes(self, stream_ids: Sequence[str] = ()) -> list[TreeNode]:
        """Every frontier node of the streams (all streams when empty)."""
        with self._lock:
            streams = stream_ids or list(self._nodes)
            return [
                node
                for stream_id in streams
                for level in self._nodes.get(stream_id, {}).values()
                for node in level.values()
            ]

    def window_size(self, stream_id: str) -> int:
        with self._lock:
            return len(self._nodes.get(stream_id, {}).get(0, {}))

    def drop_stream(self, stream_id: str) -> None:
        with self._lock:
            self._nodes.pop(stream_id, None)

    def drop(self, stream_id: str, level: int, seqs: Iterable[int]) -> None:
        with self._lock:
            nodes = self._nodes.get(stream_id, {}).get(level, {})
            for seq in seqs:
                nodes.pop(seq, None)
