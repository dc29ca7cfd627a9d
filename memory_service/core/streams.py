"""The structure of the memory: per stream, its clips in order and the nodes above them, in sqlite.

A clip gets its stream's next sequence number (`seq`) when it is first stored; node `seq` of
level l+1 holds the nodes `seq * F ... seq * F + F - 1` of level l (clips at level 0). The
tables tell a new clip from a rewritten one (so counts stay exact when a clip is written twice
or a log is replayed), record what each clip and node holds in bytes (for Stats and retention)
and what retention removed. Per-stream summaries are kept in RAM, so ListStreams and Stats never
scan chromadb. The write-ahead log replays into it like into the store, and node rows are the
commit marks of consolidation: a node without its row is built again after a crash.

It also remembers which file a file stream's clips come from. A file's clips are named by stream
time, so a second file under the same name would overwrite the first one's clips: such clips are
refused, while the same file ingested again (the same key) rewrites its own clips harmlessly.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from longwatch.errors import FailedPrecondition
from longwatch.types import ClipRecord, StreamSummary
from memory_service.core.hierarchy import parse_node_id

logger = logging.getLogger(__name__)

# The claim on a file stream whose clips were stored before memory recorded which file a stream holds.
_FILE_FROM_BEFORE_SOURCES = "unknown-file"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clips (
    clip_id TEXT PRIMARY KEY,
    stream_id TEXT NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS stream_sources (
    stream_id TEXT PRIMARY KEY,
    source_key TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
    node_id TEXT PRIMARY KEY,
    stream_id TEXT NOT NULL,
    level INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    start_wall_ms INTEGER NOT NULL,
    end_wall_ms INTEGER NOT NULL,
    vector_bytes INTEGER NOT NULL,
    metadata_bytes INTEGER NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS nodes_by_seq ON nodes (stream_id, level, seq);
CREATE TABLE IF NOT EXISTS removed_counts (
    stream_id TEXT PRIMARY KEY,
    keyframes INTEGER NOT NULL DEFAULT 0,
    clip_texts INTEGER NOT NULL DEFAULT 0,
    summaries INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS wall_anchors (
    stream_id TEXT PRIMARY KEY,
    anchor_ms INTEGER NOT NULL
);
"""
# Columns added to `clips` after its first version; an older table gets them on open.
_CLIP_COLUMNS = {
    "seq": "INTEGER",
    "start_wall_ms": "INTEGER NOT NULL DEFAULT 0",
    "keyframes": "INTEGER NOT NULL DEFAULT 0",
    "vector_bytes": "INTEGER NOT NULL DEFAULT 0",
    "metadata_bytes": "INTEGER NOT NULL DEFAULT 0",
    "keyframe_bytes": "INTEGER NOT NULL DEFAULT 0",
    "text_removed": "INTEGER NOT NULL DEFAULT 0",
    "keyframes_removed": "INTEGER NOT NULL DEFAULT 0",
}


@dataclass(frozen=True)
class ClipSize:
    """What one clip holds, in bytes, by store."""

    vector_bytes: int = 0
    metadata_bytes: int = 0
    keyframe_bytes: int = 0


@dataclass(frozen=True)
class NodeRow:
    node_id: str
    stream_id: str
    level: int
    seq: int
    start_s: float
    end_s: float
    start_wall_ms: int
    end_wall_ms: int
    vector_bytes: int
    metadata_bytes: int


@dataclass
class StreamTotals:
    """Per-stream counts and bytes, in RAM; updated with every change of the tables."""

    clips: int = 0
    first_s: float = 0.0
    last_s: float = 0.0  # the latest end of any clip
    last_start_s: float = 0.0  # start of the clip with the highest seq: a new clip may not start before it
    nodes: list[int] = field(default_factory=list)  # nodes per level from 1 up, removed ones included
    nodes_present: list[int] = field(default_factory=list)
    keyframes: int = 0
    vector_bytes: int = 0
    metadata_bytes: int = 0
    keyframe_bytes: int = 0
    keyframes_removed: int = 0
    clip_texts_removed: int = 0
    summaries_removed: int = 0

    @property
    def held_bytes(self) -> int:
        return self.vector_bytes + self.metadata_bytes + self.keyframe_bytes

    def node_count(self, level: int) -> int:
        """Nodes of `level` built so far (level 0: clips), removed ones included: the next node's seq."""
        if level == 0:
            return self.clips
        return self.nodes[level - 1] if level <= len(self.nodes) else 0


class StreamIndex:
    """Used from the write and consolidation threads and read from any: one lock guards the connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._summaries: dict[str, StreamSummary] = {}
        self._totals: dict[str, StreamTotals] = {}
        self._anchors: dict[str, int] = {}  # live stream -> wall ms at its stream time 0
        self._sources: dict[str, str] = {}  # file stream -> the source_key of the file it holds
        self._lock = threading.RLock()

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        is_new_schema = not self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stream_sources'"
        ).fetchone()
        self._db.executescript(_SCHEMA)
        if is_new_schema:
            self._claim_streams_of_unknown_files()
        self._add_clip_columns()
        self._db.execute("CREATE INDEX IF NOT EXISTS clips_by_seq ON clips (stream_id, seq)")
        # Retention asks for the oldest of what it has not removed yet: partial indexes skip what it did.
        self._db.execute("CREATE INDEX IF NOT EXISTS clips_with_text ON clips (stream_id, seq) WHERE text_removed = 0")
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS clips_with_keyframes ON clips (stream_id, seq) "
            "WHERE keyframes > 0 AND keyframes_removed = 0"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS nodes_present ON nodes (stream_id, level, seq) WHERE removed = 0")
        self._load()
        logger.info("stream index %s: %d streams", self.path, len(self._totals))

    def reload(self) -> bool:
        """Reads what another process (the writer) recorded since: a memory reader's refresh. Whether
        anything changed (new clips, nodes built or removed, sources, anchors)."""
        with self._lock:
            before = (self._totals, self._sources, self._anchors)
            self._load()
            return (self._totals, self._sources, self._anchors) != before

    def _load(self) -> None:
        assert self._db is not None
        self._sources = dict(self._db.execute("SELECT stream_id, source_key FROM stream_sources").fetchall())
        self._anchors = dict(self._db.execute("SELECT stream_id, anchor_ms FROM wall_anchors").fetchall())
        self._load_totals()

    def _add_clip_columns(self) -> None:
        """Brings a `clips` table of an older version up to date; its clips get seqs in time order."""
        assert self._db is not None
        have = {row[1] for row in self._db.execute("PRAGMA table_info(clips)")}
        with self._db:
            for name, kind in _CLIP_COLUMNS.items():
                if name not in have:
                    self._db.execute(f"ALTER TABLE clips ADD COLUMN {name} {kind}")
            if "seq" not in have:
                self._db.execute(
                    "UPDATE clips SET seq = (SELECT COUNT(*) FROM clips AS earlier WHERE earlier.stream_id = "
                    "clips.stream_id AND (earlier.start_s < clips.start_s OR (earlier.start_s = clips.start_s "
                    "AND earlier.clip_id < clips.clip_id)))"
                )

    def _load_totals(self) -> None:
        assert self._db is not None
        totals: dict[str, StreamTotals] = {}
        for row in self._db.execute(
            "SELECT stream_id, COUNT(*), MIN(start_s), MAX(end_s), SUM(vector_bytes * (1 - text_removed)), "
            "SUM(metadata_bytes * (1 - text_removed)), SUM(keyframe_bytes * (1 - keyframes_removed)), "
            "SUM(keyframes * (1 - keyframes_removed)) FROM clips GROUP BY stream_id"
        ):
            totals[row[0]] = StreamTotals(
                clips=int(row[1]),
                first_s=float(row[2]),
                last_s=float(row[3]),
                vector_bytes=int(row[4] or 0),
                metadata_bytes=int(row[5] or 0),
                keyframe_bytes=int(row[6] or 0),
                keyframes=int(row[7] or 0),
            )
        for stream_id, start_s in self._db.execute(
            "SELECT stream_id, start_s FROM clips AS c "
            "WHERE seq = (SELECT MAX(seq) FROM clips WHERE stream_id = c.stream_id)"
        ):
            totals[stream_id].last_start_s = float(start_s)
        for stream_id, level, count, present, vector_bytes, metadata_bytes in self._db.execute(
            "SELECT stream_id, level, COUNT(*), SUM(1 - removed), SUM(vector_bytes * (1 - removed)), "
            "SUM(metadata_bytes * (1 - removed)) FROM nodes GROUP BY stream_id, level ORDER BY level"
        ):
            stream = totals.setdefault(stream_id, StreamTotals())
            while len(stream.nodes) < level:
                stream.nodes.append(0)
                stream.nodes_present.append(0)
            stream.nodes[level - 1] = int(count)
            stream.nodes_present[level - 1] = int(present)
            stream.vector_bytes += int(vector_bytes or 0)
            stream.metadata_bytes += int(metadata_bytes or 0)
        for stream_id, keyframes, clip_texts, summaries in self._db.execute("SELECT * FROM removed_counts"):
            stream = totals.setdefault(stream_id, StreamTotals())
            stream.keyframes_removed, stream.clip_texts_removed, stream.summaries_removed = (
                keyframes,
                clip_texts,
                summaries,
            )
        with self._lock:
            self._totals = totals
            self._summaries = {
                stream_id: StreamSummary(stream_id, stream.clips, stream.first_s, stream.last_s)
                for stream_id, stream in totals.items()
                if stream.clips
            }

    def check_source(self, clip: ClipRecord, pending: Iterable[ClipRecord] = ()) -> None:
        """Raises FailedPrecondition for a file clip whose stream holds another file's clips, counting
        `pending` ones: logged, not yet recorded here (a store write failed and will be retried)."""
        if not clip.source_key:
            return
        claims = [self._sources.get(clip.stream_id)]
        claims += [held.source_key for held in pending if held.stream_id == clip.stream_id and held.source_key]
        held_key = next((key for key in claims if key), clip.source_key)
        if held_key == _FILE_FROM_BEFORE_SOURCES:
            raise FailedPrecondition(
                f"stream {clip.stream_id!r} holds the clips of a file stored before memory recorded which file a "
                "stream holds, and this file's clips could overwrite them; ingest it under another stream name"
            )
        if held_key != clip.source_key:
            raise FailedPrecondition(
                f"stream {clip.stream_id!r} already holds the clips of another file, which this file's clips "
                "would overwrite; ingest this file under another stream name"
            )

    def record(self, clips: Sequence[ClipRecord], sizes: Sequence[ClipSize] | None = None) -> dict[str, int]:
        """Adds or updates the clips (a new clip id gets its stream's next seq); returns each clip's seq."""
        assert self._db is not None, "open() the stream index first"
        sizes = sizes if sizes is not None else [ClipSize()] * len(clips)
        seqs: dict[str, int] = {}
        with self._lock, self._transaction():
            claimed: dict[str, str] = {}  # streams whose first file these clips are
            for clip, size in zip(clips, sizes, strict=True):
                if clip.source_key and clip.stream_id not in self._sources and clip.stream_id not in claimed:
                    self._db.execute("INSERT INTO stream_sources VALUES (?, ?)", (clip.stream_id, clip.source_key))
                    claimed[clip.stream_id] = clip.source_key
                seqs[clip.clip_id] = self._record_one(clip, size)
            self._sources.update(claimed)
        return seqs

    def _record_one(self, clip: ClipRecord, size: ClipSize) -> int:
        """Inserts or updates one clip's row and the stream's totals; returns the clip's seq."""
        assert self._db is not None
        stream = self._totals.setdefault(clip.stream_id, StreamTotals())
        old = self._db.execute(
            "SELECT vector_bytes, metadata_bytes, keyframe_bytes, keyframes, text_removed, keyframes_removed, seq "
            "FROM clips WHERE clip_id = ?",
            (clip.clip_id,),
        ).fetchone()
        values = (
            clip.start_s,
            clip.end_s,
            clip.start_wall_ms,
            len(clip.keyframes),
            size.vector_bytes,
            size.metadata_bytes,
            size.keyframe_bytes,
        )
        if old is None:
            seq = stream.clips
            self._db.execute(
                "INSERT INTO clips (clip_id, stream_id, start_s, end_s, start_wall_ms, keyframes, vector_bytes, "
                "metadata_bytes, keyframe_bytes, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (clip.clip_id, clip.stream_id, *values, stream.clips),
            )
            if stream.clips == 0:
                stream.first_s, stream.last_s = clip.start_s, clip.end_s
            stream.clips += 1
            stream.last_start_s = clip.start_s
        else:
            self._db.execute(
                "UPDATE clips SET start_s = ?, end_s = ?, start_wall_ms = ?, keyframes = ?, vector_bytes = ?, "
                "metadata_bytes = ?, keyframe_bytes = ?, text_removed = 0, keyframes_removed = 0 WHERE clip_id = ?",
                (*values, clip.clip_id),
            )
            vector_bytes, metadata_bytes, keyframe_bytes, keyframes, text_removed, keyframes_removed, seq = old
            stream.vector_bytes -= vector_bytes * (1 - text_removed)
            stream.metadata_bytes -= metadata_bytes * (1 - text_removed)
            stream.keyframe_bytes -= keyframe_bytes * (1 - keyframes_removed)
            stream.keyframes -= keyframes * (1 - keyframes_removed)
        stream.first_s = min(stream.first_s, clip.start_s)
        stream.last_s = max(stream.last_s, clip.end_s)
        stream.vector_bytes += size.vector_bytes
        stream.metadata_bytes += size.metadata_bytes
        stream.keyframe_bytes += size.keyframe_bytes
        stream.keyframes += len(clip.keyframes)
        self._summaries[clip.stream_id] = StreamSummary(clip.stream_id, stream.clips, stream.first_s, stream.last_s)
        return int(seq)

    def has_clip(self, clip_id: str) -> bool:
        with self._lock:
            assert self._db is not None
            return self._db.execute("SELECT 1 FROM clips WHERE clip_id = ?", (clip_id,)).fetchone() is not None

    def totals(self, stream_id: str) -> StreamTotals | None:
        """A copy of the stream's counts and bytes; None for a stream memory does not hold."""
        with self._lock:
            stream = self._totals.get(stream_id)
            if stream is None:
                return None
            return replace(stream, nodes=list(stream.nodes), nodes_present=list(stream.nodes_present))

    def stream_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._totals)

    def wall_anchor(self, stream_id: str) -> int | None:
        """Wall ms at stream time 0 of a live stream memory holds, or None."""
        with self._lock:
            return self._anchors.get(stream_id)

    def set_wall_anchor(self, stream_id: str, anchor_ms: int) -> None:
        with self._lock, self._transaction():
            assert self._db is not None
            self._db.execute("INSERT OR REPLACE INTO wall_anchors VALUES (?, ?)", (stream_id, anchor_ms))
            self._anchors[stream_id] = anchor_ms

    def clip_ids(self, stream_id: str, first_seq: int, end_seq: int, present_only: bool = False) -> list[str]:
        """Ids of the stream's clips with seq in [first_seq, end_seq), in seq order."""
        removed = " AND text_removed = 0" if present_only else ""
        with self._lock:
            assert self._db is not None
            rows = self._db.execute(
                f"SELECT clip_id FROM clips WHERE stream_id = ? AND seq >= ? AND seq < ?{removed} ORDER BY seq",
                (stream_id, first_seq, end_seq),
            ).fetchall()
        return [row[0] for row in rows]

    def clip_seq(self, clip_id: str) -> tuple[str, int] | None:
        with self._lock:
            assert self._db is not None
            row = self._db.execute("SELECT stream_id, seq FROM clips WHERE clip_id = ?", (clip_id,)).fetchone()
        return (row[0], int(row[1])) if row else None

    def add_node(self, row: NodeRow) -> None:
        """Records a built node: the commit mark of consolidation (the node is in its store already)."""
        with self._lock, self._transaction():
            assert self._db is not None
            self._db.execute(
                "INSERT OR IGNORE INTO nodes (node_id, stream_id, level, seq, start_s, end_s, start_wall_ms, "
                "end_wall_ms, vector_bytes, metadata_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.node_id,
                    row.stream_id,
                    row.level,
                    row.seq,
                    row.start_s,
                    row.end_s,
                    row.start_wall_ms,
                    row.end_wall_ms,
                    row.vector_bytes,
                    row.metadata_bytes,
                ),
            )
            stream = self._totals.setdefault(row.stream_id, StreamTotals())
            while len(stream.nodes) < row.level:
                stream.nodes.append(0)
                stream.nodes_present.append(0)
            stream.nodes[row.level - 1] = max(stream.nodes[row.level - 1], row.seq + 1)
            stream.nodes_present[row.level - 1] += 1
            stream.vector_bytes += row.vector_bytes
            stream.metadata_bytes += row.metadata_bytes

    def node_ids_in(
        self, stream_id: str, level: int, first_seq: int, end_seq: int, present_only: bool = False
    ) -> list[str]:
        """Ids of the stream's nodes of `level` with seq in [first_seq, end_seq), in seq order."""
        if level == 0:
            return self.clip_ids(stream_id, first_seq, end_seq, present_only)
        removed = " AND removed = 0" if present_only else ""
        with self._lock:
            assert self._db is not None
            rows = self._db.execute(
                f"SELECT node_id FROM nodes WHERE stream_id = ? AND level = ? AND seq >= ? AND seq < ?{removed} "
                "ORDER BY seq",
                (stream_id, level, first_seq, end_seq),
            ).fetchall()
        return [row[0] for row in rows]

    def ids_in_range(
        self,
        stream_id: str,
        level: int,
        start_s: float,
        end_s: float,
        start_wall_ms: int,
        end_wall_ms: int,
        limit: int,
    ) -> list[str]:
        """Ids of the present nodes of `level` overlapping the ranges (0 = open), in time order, at most `limit`."""
        table, removed = ("clips", "text_removed") if level == 0 else ("nodes", "removed")
        conditions = ["stream_id = ?", f"{removed} = 0"]
        values: list[object] = [stream_id]
        if level > 0:
            conditions.append("level = ?")
            values.append(level)
        if start_s > 0:
            conditions.append("end_s > ?")
            values.append(start_s)
        if end_s > 0:
            conditions.append("start_s <= ?")
            values.append(end_s)
        wall_end = "start_wall_ms + CAST((end_s - start_s) * 1000 AS INTEGER)" if level == 0 else "end_wall_ms"
        if start_wall_ms > 0:
            conditions.append(f"start_wall_ms > 0 AND {wall_end} > ?")
            values.append(start_wall_ms)
        if end_wall_ms > 0:
            conditions.append("start_wall_ms > 0 AND start_wall_ms <= ?")
            values.append(end_wall_ms)
        id_column = "clip_id" if level == 0 else "node_id"
        with self._lock:
            assert self._db is not None
            rows = self._db.execute(
                f"SELECT {id_column} FROM {table} WHERE {' AND '.join(conditions)} ORDER BY start_s, seq LIMIT ?",
                (*values, limit),
            ).fetchall()
        return [row[0] for row in rows]

    def clips_with_keyframes(
        self, stream_id: str, limit: int, older_than_s: float | None = None
    ) -> list[tuple[str, int, int]]:
        """(clip id, keyframes, keyframe bytes) of the stream's oldest clips still holding keyframes."""
        age = " AND end_s < ?" if older_than_s is not None else ""
        values = (stream_id, older_than_s, limit) if older_than_s is not None else (stream_id, limit)
        with self._lock:
            assert self._db is not None
            return self._db.execute(
                "SELECT clip_id, keyframes, keyframe_bytes FROM clips WHERE stream_id = ? AND keyframes > 0 "
                f"AND keyframes_removed = 0{age} ORDER BY seq LIMIT ?",
                values,
            ).fetchall()

    def remove_keyframes(self, stream_id: str, clip_ids: Sequence[str]) -> None:
        self._mark_removed(stream_id, "clips", "keyframes_removed", clip_ids)

    def remove_clip_texts(self, stream_id: str, clip_ids: Sequence[str]) -> None:
        self._mark_removed(stream_id, "clips", "text_removed", clip_ids)

    def remove_nodes(self, stream_id: str, node_ids: Sequence[str]) -> None:
        self._mark_removed(stream_id, "nodes", "removed", node_ids)

    def _mark_removed(self, stream_id: str, table: str, flag: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        id_column = "clip_id" if table == "clips" else "node_id"
        marks = ",".join("?" * len(ids))
        with self._lock, self._transaction():
            assert self._db is not None
            if flag == "keyframes_removed":  # the keyframes go; the clip's text and vectors stay
                columns = "keyframes, keyframe_bytes, 0, 0"
            else:  # a clip's text or a summary goes, with its vectors
                columns = "0, 0, vector_bytes, metadata_bytes"
            rows = self._db.execute(
                f"SELECT {id_column}, {columns} FROM {table} WHERE {id_column} IN ({marks}) AND {flag} = 0", tuple(ids)
            ).fetchall()
            self._db.execute(f"UPDATE {table} SET {flag} = 1 WHERE {id_column} IN ({marks})", tuple(ids))
            keyframes, keyframe_bytes, vector_bytes, metadata_bytes = (
                sum(int(row[column] or 0) for row in rows) for column in range(1, 5)
            )
            count = len(rows)
            stream = self._totals.setdefault(stream_id, StreamTotals())
            stream.keyframes -= int(keyframes or 0)
            stream.keyframe_bytes -= int(keyframe_bytes or 0)
            stream.vector_bytes -= int(vector_bytes or 0)
            stream.metadata_bytes -= int(metadata_bytes or 0)
            if flag == "keyframes_removed":
                stream.keyframes_removed += int(keyframes or 0)
            elif flag == "text_removed":
                stream.clip_texts_removed += int(count or 0)
            else:
                stream.summaries_removed += int(count or 0)
                for row in rows:
                    parsed = parse_node_id(row[0])
                    if parsed is not None:
                        stream.nodes_present[parsed[1] - 1] -= 1
            self._db.execute(
                "INSERT OR REPLACE INTO removed_counts VALUES (?, ?, ?, ?)",
                (stream_id, stream.keyframes_removed, stream.clip_texts_removed, stream.summaries_removed),
            )

    def oldest_present(
        self, stream_id: str, level: int, end_seq: int, limit: int, older_than_s: float | None = None
    ) -> list[str]:
        """Ids of the stream's oldest present nodes of `level` (clips at 0) with seq below `end_seq`."""
        table, removed = ("clips", "text_removed") if level == 0 else ("nodes", "removed")
        id_column = "clip_id" if level == 0 else "node_id"
        conditions = ["stream_id = ?", f"{removed} = 0", "seq < ?"]
        values: list[object] = [stream_id, end_seq]
        if level > 0:
            conditions.append("level = ?")
            values.append(level)
        if older_than_s is not None:
            conditions.append("end_s < ?")
            values.append(older_than_s)
        with self._lock:
            assert self._db is not None
            rows = self._db.execute(
                f"SELECT {id_column} FROM {table} WHERE {' AND '.join(conditions)} ORDER BY seq LIMIT ?",
                (*values, limit),
            ).fetchall()
        return [row[0] for row in rows]

    def delete_stream(self, stream_id: str) -> tuple[int, int, int]:
        """Forgets the stream; returns the clips, nodes and keyframes it held."""
        with self._lock, self._transaction():
            assert self._db is not None
            stream = self._totals.pop(stream_id, None) or StreamTotals()
            clips = self._db.execute("DELETE FROM clips WHERE stream_id = ?", (stream_id,)).rowcount
            nodes = self._db.execute("DELETE FROM nodes WHERE stream_id = ?", (stream_id,)).rowcount
            for table in ("stream_sources", "removed_counts", "wall_anchors"):
                self._db.execute(f"DELETE FROM {table} WHERE stream_id = ?", (stream_id,))
            self._summaries.pop(stream_id, None)
            self._sources.pop(stream_id, None)
            self._anchors.pop(stream_id, None)
        return clips, nodes, stream.keyframes

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        assert self._db is not None
        with self._db:
            yield

    def _claim_streams_of_unknown_files(self) -> None:
        """A store from before stream_sources: its file streams (clip ids by stream time, not `@w` wall
        time) hold clips of a file nobody recorded, which no file may be assumed to match."""
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO stream_sources SELECT DISTINCT stream_id, ? FROM clips "
                "WHERE clip_id NOT LIKE '%@w%'",
                (_FILE_FROM_BEFORE_SOURCES,),
            )

    def summaries(self) -> list[StreamSummary]:
        with self._lock:
            return [self._summaries[stream_id] for stream_id in sorted(self._summaries)]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
