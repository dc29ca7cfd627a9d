"""Consolidation and retention, on a background thread of their own.

Consolidation builds a node of level l+1 as soon as its F children of level l exist: it
summarises them (the Summarizer seam), embeds the summary, pools the children's visual vectors,
stores the node, records its row (the commit mark) and swaps it into the frontier in place of
its children. It never blocks ingestion (writes only wake it), catches up after a burst (it
builds every node that is due, oldest first), and resumes after a crash from the rows: a node
whose row is missing is built again, and found already stored if the crash came after that.

Retention then keeps each stream within its limits, in this order: keyframes first, then the
texts of clips whose segment holds their summary, then summaries from the lowest level up (the
top of the hierarchy last). An age limit removes, in the same order, what ended longer ago than
the limit before the stream's newest clip.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from memory_service import metrics
from memory_service.core.hierarchy import Frontier, NodeCache, TreeNode, node_id, parse_node_id
from memory_service.core.keyframes import KeyframeFiles
from memory_service.core.nodes import NodeStore, summary_text
from memory_service.core.store import ClipStore, match_form
from memory_service.core.streams import NodeRow, StreamIndex, StreamTotals
from memory_service.core.summarize import Summarizer

logger = logging.getLogger(__name__)

_RETENTION_BATCH = 64  # records removed per store call
_IDLE_WAKE_S = 5.0  # retention by age also runs when no write wakes the thread
_RETRY_S = 2.0


@dataclass(frozen=True)
class HierarchyLimits:
    fanout: int = 16
    beam: int = 4
    retention_max_age_s: float = 0.0  # 0 = no limit
    retention_max_bytes: int = 0  # per stream; 0 = no limit
    cache_nodes: int = 20_000  # summary nodes kept in RAM for searches (about 2 KB each at 384-d)


class Consolidator:
    """Builds due nodes and applies retention; `start()` runs it on its thread, `drain()` runs it here."""

    def __init__(
        self,
        clips: ClipStore,
        nodes: NodeStore,
        streams: StreamIndex,
        frontier: Frontier,
        keyframes: KeyframeFiles,
        summarizer: Summarizer,
        embed: Callable[[list[str]], np.ndarray],
        limits: HierarchyLimits,
        tree_lock: threading.Lock,
        cache: NodeCache,
    ) -> None:
        self._clips = clips
        self._nodes = nodes
        self._streams = streams
        self._frontier = frontier
        self._keyframes = keyframes
        self._summarizer = summarizer
        self._embed = embed
        self._limits = limits
        self._tree_lock = tree_lock  # held per node built or batch removed; DeleteStream holds it too
        self._cache = cache
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self.nodes_built = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="memory-consolidate", daemon=True)
        self._thread.start()
        self.wake()

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def wait_idle(self, timeout_s: float) -> bool:
        """Waits until everything due is built (tests and benchmarks); False on timeout."""
        return self._idle.wait(timeout_s)

    def drain(self) -> int:
        """Builds every due node and applies retention on the calling thread; returns the nodes built."""
        built = 0
        for stream_id in self._streams.stream_ids():
            if self._stop.is_set():
                break
            built += self._build_due(stream_id)
            self._retain(stream_id)
        return built

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(_IDLE_WAKE_S)
            self._wake.clear()
            try:
                self.drain()
            except Exception:  # a store failure: keep the thread, retry on the next wake
                logger.exception("consolidation failed; retrying in %.0f s", _RETRY_S)
                self._stop.wait(_RETRY_S)
                self._wake.set()
                continue
            if not self._wake.is_set():
                self._idle.set()

    def _build_due(self, stream_id: str) -> int:
        fanout = self._limits.fanout
        built, level = 0, 0
        while not self._stop.is_set():
            totals = self._streams.totals(stream_id)
            if totals is None:
                return built  # deleted meanwhile
            children, parents = totals.node_count(level), totals.node_count(level + 1)
            if (parents + 1) * fanout <= children:
                with self._tree_lock:
                    if self._streams.totals(stream_id) is None:
                        return built
                    self._build(stream_id, level + 1, parents)
                built += 1
                continue
            if children < fanout:
                return built
            level += 1
        return built

    def _build(self, stream_id: str, level: int, seq: int) -> None:
        fanout = self._limits.fanout
        first, end = seq * fanout, (seq + 1) * fanout
        child_ids = self._streams.node_ids_in(stream_id, level - 1, first, end)
        children = self._frontier.children(stream_id, level - 1, first, end)
        if len(children) < len(child_ids):  # not (or no longer) in RAM: read from the stores
            children = self._read(level - 1, child_ids)
        summary = self._summarizer.summarize(children)
        text = summary_text(summary.captions, summary.ocr_lines)
        spans = list(children)
        walls = [child for child in spans if child.start_wall_ms]
        node = TreeNode(
            node_id=node_id(stream_id, level, seq),
            stream_id=stream_id,
            level=level,
            seq=seq,
            start_s=min((child.start_s for child in spans), default=0.0),
            end_s=max((child.end_s for child in spans), default=0.0),
            text=text,
            match_text=match_form(text),
            captions=summary.captions,
            ocr_lines=summary.ocr_lines,
            start_wall_ms=min((child.start_wall_ms for child in walls), default=0),
            end_wall_ms=max((child.end_wall_ms for child in walls), default=0),
            child_ids=tuple(child_ids),
            text_vector=self._embed([text])[0],
            visual_vector=pooled(children),
        )
        vector_bytes, metadata_bytes = self._nodes.put(node)
        self._streams.add_node(
            NodeRow(
                node_id=node.node_id,
                stream_id=stream_id,
                level=level,
                seq=seq,
                start_s=node.start_s,
                end_s=node.end_s,
                start_wall_ms=node.start_wall_ms,
                end_wall_ms=node.end_wall_ms,
                vector_bytes=vector_bytes,
                metadata_bytes=metadata_bytes,
            )
        )
        self._frontier.replace(node, fanout)
        self._cache.put(children)  # out of the frontier now, and what a walk down this node reads next
        self.nodes_built += 1
        metrics.NODES_BUILT.inc()

    def _seqs(self, level: int, ids: Sequence[str]) -> list[int]:
        """The seqs of nodes of `level`: in a summary's id, in the stream index for a clip."""
        if level == 0:
            placed = (self._streams.clip_seq(clip_id) for clip_id in ids)
            return [found[1] for found in placed if found is not None]
        return [parsed[2] for parsed in map(parse_node_id, ids) if parsed is not None]

    def _read(self, level: int, ids: Sequence[str]) -> list[TreeNode]:
        if level == 0:
            found = self._clips.get_nodes(ids)
        else:
            found = self._nodes.get(level, ids)
        vectors = self._nodes.visual_vectors(level, [node.node_id for node in found])
        return [replace(node, visual_vector=vectors.get(node.node_id)) for node in found]

    def _retain(self, stream_id: str) -> None:
        limits = self._limits
        totals = self._streams.totals(stream_id)
        if totals is None:
            return
        if limits.retention_max_age_s > 0:
            cutoff = totals.last_s - limits.retention_max_age_s
            if cutoff > 0:
                while self._remove_next(stream_id, older_than_s=cutoff):
                    pass
        if limits.retention_max_bytes > 0:
            while self._held(stream_id) > limits.retention_max_bytes:
                if not self._remove_next(stream_id, older_than_s=None):
                    break

    def _held(self, stream_id: str) -> int:
        totals = self._streams.totals(stream_id)
        return 0 if totals is None else totals.held_bytes

    def _remove_next(self, stream_id: str, older_than_s: float | None) -> bool:
        """Removes the next batch in retention order; False when nothing is left to remove."""
        with self._tree_lock:
            totals = self._streams.totals(stream_id)
            if totals is None:
                return False
            if self._remove_keyframes(stream_id, older_than_s):
                return True
            for level in range(0, len(totals.nodes) + 1):
                if self._remove_level(stream_id, totals, level, older_than_s):
                    return True
            return False

    def _remove_keyframes(self, stream_id: str, older_than_s: float | None) -> bool:
        rows = self._streams.clips_with_keyframes(stream_id, _RETENTION_BATCH, older_than_s)
        for clip_id, count, _ in rows:
            self._keyframes.delete(stream_id, clip_id, count)
        self._streams.remove_keyframes(stream_id, [row[0] for row in rows])
        metrics.RETENTION_REMOVED.labels("keyframe").inc(sum(row[1] for row in rows))
        return bool(rows)

    def _remove_level(self, stream_id: str, totals: StreamTotals, level: int, older_than_s: float | None) -> bool:
        """Removes the oldest nodes of `level` that a parent summarises; the top level only by age, or
        when it is all that is left."""
        parents = totals.node_count(level + 1)
        is_top = parents == 0
        if is_top and older_than_s is None and level < len(totals.nodes):
            return False
        end_seq = parents * self._limits.fanout if not is_top else totals.node_count(level)
        ids = self._streams.oldest_present(stream_id, level, end_seq, _RETENTION_BATCH, older_than_s)
        if not ids:
            return False
        if level == 0:
            self._clips.delete(ids)
            self._nodes.delete(0, ids)
            self._streams.remove_clip_texts(stream_id, ids)
            metrics.RETENTION_REMOVED.labels("clip_text").inc(len(ids))
        else:
            self._nodes.delete(level, ids)
            self._cache.drop(ids)
            self._streams.remove_nodes(stream_id, ids)
            metrics.RETENTION_REMOVED.labels("summary").inc(len(ids))
        if is_top:
            self._frontier.drop(stream_id, level, self._seqs(level, ids))
        return True


def pooled(children: Sequence[TreeNode]) -> np.ndarray | None:
    """The unit mean of the children's visual vectors of the most common size; None when none has one."""
    vectors = [
        child.visual_vector for child in children if child.visual_vector is not None and child.visual_vector.size
    ]
    if not vectors:
        return None
    size, _ = Counter(vector.size for vector in vectors).most_common(1)[0]
    mean = np.mean([vector for vector in vectors if vector.size == size], axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32) if norm > 0 else None
