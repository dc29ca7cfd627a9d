"""Per-stream summaries (clip count, first and last second) kept in memory, so ListStreams never scans chromadb.

A small sqlite table of clip spans keyed by clip id backs them: it tells a new clip from a
rewritten one (so counts stay exact when a clip is written twice or a log is replayed) and
rebuilds the summaries with one GROUP BY on start. The write-ahead log replays into it
like into the store, so losing its last commits in a crash loses nothing.

It also remembers which file a file stream's clips come from. A file's clips are named by stream
time, so a second file under the same name would overwrite the first one's clips: such clips are
refused, while the same file ingested again (the same key) rewrites its own clips harmlessly.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from longwatch.errors import FailedPrecondition
from longwatch.types import ClipRecord, StreamSummary

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
"""


class StreamIndex:
    """Written from one thread; `summaries()` may be read from any."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._summaries: dict[str, StreamSummary] = {}
        self._sources: dict[str, str] = {}  # file stream -> the source_key of the file it holds
        self._lock = threading.Lock()

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
        self._sources = dict(self._db.execute("SELECT stream_id, source_key FROM stream_sources").fetchall())
        rows = self._db.execute(
            "SELECT stream_id, COUNT(*), MIN(start_s), MAX(end_s) FROM clips GROUP BY stream_id"
        ).fetchall()
        with self._lock:
            self._summaries = {row[0]: StreamSummary(row[0], int(row[1]), float(row[2]), float(row[3])) for row in rows}
        logger.info("stream index %s: %d streams", self.path, len(rows))

    def check_source(self, clip: ClipRecord, pending: Sequence[ClipRecord] = ()) -> None:
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

    def record(self, clips: Sequence[ClipRecord]) -> int:
        """Adds or updates the clips' spans; returns how many clip ids were new."""
        assert self._db is not None, "open() the stream index first"
        is_new: list[bool] = []
        claimed: dict[str, str] = {}  # streams whose first file these clips are
        with self._db:  # one transaction
            for clip in clips:
                if clip.source_key and clip.stream_id not in self._sources and clip.stream_id not in claimed:
                    self._db.execute("INSERT INTO stream_sources VALUES (?, ?)", (clip.stream_id, clip.source_key))
                    claimed[clip.stream_id] = clip.source_key
                row = (clip.clip_id, clip.stream_id, clip.start_s, clip.end_s)
                inserted = self._db.execute("INSERT OR IGNORE INTO clips VALUES (?, ?, ?, ?)", row).rowcount
                if not inserted:
                    self._db.execute(
                        "UPDATE clips SET start_s = ?, end_s = ? WHERE clip_id = ?",
                        (clip.start_s, clip.end_s, clip.clip_id),
                    )
                is_new.append(bool(inserted))
        self._sources.update(claimed)
        with self._lock:
            for clip, clip_is_new in zip(clips, is_new, strict=True):
                self._summarise(clip, clip_is_new)
        return sum(is_new)

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

    def _summarise(self, clip: ClipRecord, is_new: bool) -> None:
        current = self._summaries.get(clip.stream_id)
        if current is None:
            self._summaries[clip.stream_id] = StreamSummary(clip.stream_id, 1, clip.start_s, clip.end_s)
            return
        self._summaries[clip.stream_id] = replace(
            current,
            clip_count=current.clip_count + int(is_new),
            first_s=min(current.first_s, clip.start_s),
            last_s=max(current.last_s, clip.end_s),
        )
