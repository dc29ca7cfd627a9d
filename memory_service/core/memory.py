"""The `Memory` facade the server calls: validated, durable writes and hybrid search.

A write is embedded, appended to the write-ahead log (fsync), upserted into the store and
the stream index, and only then acknowledged: an acknowledged clip is durable and
searchable at once. Blocking work runs on two single worker threads: one embeds (the
tokenizers must not be shared across threads), one writes (so writes stay in order even
when a caller gives up mid-write). Searches query chromadb from a pool of their own, which
close() drains before it closes the store.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from longwatch.errors import FailedPrecondition, InvalidArgument, Unavailable
from longwatch.types import ClipRecord, SearchHit, StreamSummary
from longwatch.validation import quote_prefix, validate_stream_id, validate_stream_time_s, validate_wall_ms
from memory_service import metrics
from memory_service.core.embedders import TextEmbedder
from memory_service.core.search import HybridSearcher, validate_query
from memory_service.core.store import ClipStore, latest_entries
from memory_service.core.streams import StreamIndex
from memory_service.core.types import ClipLimits, SearchLimits, SearchQuery, WalEntry
from memory_service.core.wal import WriteAheadLog

logger = logging.getLogger(__name__)

T = TypeVar("T")
_SEARCH_THREADS = 4  # chromadb queries release the GIL; more than the cores gains little
_REPLAY_BATCH = 256  # log records upserted per chromadb call on start
_MAX_SOURCE_KEY_CHARS = 64
_START_SAMPLE = 256  # stored clips besides the replayed ones checked for reachability on start


def validate_clip(clip: ClipRecord, limits: ClipLimits) -> None:
    """Raises InvalidArgument, saying what to change, for a clip memory will not store."""
    validate_stream_id(clip.stream_id, "clip.stream_id")
    validate_stream_time_s(clip.start_s, "clip.start_s")
    validate_stream_time_s(clip.end_s, "clip.end_s")
    validate_wall_ms(clip.start_wall_ms, "clip.start_wall_ms")
    if len(clip.source_key) > _MAX_SOURCE_KEY_CHARS:
        raise InvalidArgument(f"clip.source_key is longer than {_MAX_SOURCE_KEY_CHARS} characters")
    if clip.start_s > clip.end_s:
        raise InvalidArgument(f"clip.start_s ({clip.start_s}) is after clip.end_s ({clip.end_s})")
    if clip.frame_count < 0:
        raise InvalidArgument(f"clip.frame_count must be >= 0; got {clip.frame_count}")
    if len(clip.visual_embedding) > limits.max_embedding_dims:
        raise InvalidArgument(
            f"clip.visual_embedding has {len(clip.visual_embedding)} values; the limit is {limits.max_embedding_dims}"
        )
    if clip.visual_embedding and not np.isfinite(np.asarray(clip.visual_embedding, dtype=np.float64)).all():
        raise InvalidArgument("clip.visual_embedding holds NaN or infinite values")
    if len(clip.text) > limits.max_text_chars:
        raise InvalidArgument(f"clip caption and on-screen text exceed {limits.max_text_chars} characters")


class Memory:
    """Owns the embedder, store, stream index and log. `await start()` before use, `await close()` after."""

    def __init__(
        self,
        embedder: TextEmbedder,
        store: ClipStore,
        streams: StreamIndex,
        wal: WriteAheadLog,
        search_limits: SearchLimits,
        clip_limits: ClipLimits,
    ) -> None:
        self._embedder = embedder
        self._store = store
        self._streams = streams
        self._wal = wal
        self._search_limits = search_limits
        self._clip_limits = clip_limits
        self._searcher = HybridSearcher(store, search_limits)
        self._embed_thread = ThreadPoolExecutor(1, thread_name_prefix="memory-embed")
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="memory-write")
        # Searches read the store: their own pool, so close() can wait for them before closing it.
        self._search_threads = ThreadPoolExecutor(_SEARCH_THREADS, thread_name_prefix="memory-search")
        self._unapplied: list[WalEntry] = []  # logged but not yet in the store (a store failure)
        self._is_ready = False
        self._is_closed = False

    async def start(self) -> None:
        """Opens the stores and replays the log records written after the last checkpoint."""
        await self._on_write_thread(self._recover)
        self._is_ready = True

    async def write(self, clip: ClipRecord) -> str:
        """Stores one clip; returns its id once it is on disk and searchable."""
        self._check_ready()
        try:
            validate_clip(clip, self._clip_limits)
        except InvalidArgument:
            metrics.CLIPS_REJECTED.inc()
            raise
        with metrics.WRITE_SECONDS.time():
            embedding = (await self._embed([clip.text]))[0]
            await self._on_write_thread(self._write_durably, WalEntry(clip=clip, embedding=embedding))
        metrics.CLIPS_WRITTEN.inc()
        return clip.clip_id

    async def search(self, query: SearchQuery) -> list[SearchHit]:
        """The clips best matching `query`, best first."""
        self._check_ready()
        try:
            validate_query(query, self._search_limits)
        except InvalidArgument:
            metrics.SEARCHES_REJECTED.inc()
            raise
        with metrics.SEARCH_SECONDS.time():
            embedding = (await self._embed([query.text]))[0]
            try:
                ranked = asyncio.get_running_loop().run_in_executor(
                    self._search_threads, self._searcher.rank, query, embedding
                )
            except RuntimeError:  # close() began while the question was being embedded
                raise Unavailable("memory is stopping; search again once it is back") from None
            return await ranked

    def list_streams(self) -> list[StreamSummary]:
        """Every stream with clips in memory, by stream id; answered from memory, no store scan."""
        self._check_ready()
        return self._streams.summaries()

    async def close(self) -> None:
        """Checkpoints the log and closes the stores; waits for the searches and the write in progress."""
        if self._is_closed:
            return
        self._is_ready = False
        self._is_closed = True
        await asyncio.to_thread(self._search_threads.shutdown, wait=True)
        await self._on_write_thread(self._close_stores)
        self._write_thread.shutdown(wait=True)
        self._embed_thread.shutdown(wait=True)

    def _check_ready(self) -> None:
        if self._is_closed:
            raise Unavailable("the memory service is shutting down; retry against a running one")
        if not self._is_ready:
            raise Unavailable("the memory service is still starting (replaying its log); wait for health SERVING")

    async def _embed(self, texts: list[str]) -> np.ndarray:
        def embed() -> np.ndarray:
            with metrics.EMBED_SECONDS.time():
                return self._embedder.embed(texts)  # (N, D)

        return await asyncio.get_running_loop().run_in_executor(self._embed_thread, embed)

    async def _on_write_thread(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._write_thread, function, *args)

    def _recover(self) -> None:
        self._store.open()
        self._streams.open()
        entries = [entry for entry in self._wal.open() if self._is_replayable(entry)]
        # After a crash most logged records are in the store already (chromadb keeps its own log):
        # only the others are written, and every one must then be found before the service says SERVING.
        missing = self._store.unapplied(entries)
        for start in range(0, len(missing), _REPLAY_BATCH):
            self._store.upsert(missing[start : start + _REPLAY_BATCH])
        self._streams.record([entry.clip for entry in entries])
        self._check_searchable(entries)
        self._wal.mark_applied()
        self._wal.checkpoint()
        metrics.WAL_REPLAYED_CLIPS.inc(len(missing))
        self._update_gauges()
        logger.info(
            "memory ready: %d clips replayed from the log (%d written again, the rest already stored), %d clips stored",
            len(entries),
            len(missing),
            self._store.count(),
        )

    def _check_searchable(self, entries: list[WalEntry]) -> None:
        """Every clip of the replayed log, and a sample of the others, must come back from a search by its
        own vector. A store whose index lost clips (issue 12.6: upserting records over themselves after a
        crash did that) is rebuilt from its records, and refused if that does not bring them back."""
        latest = latest_entries(entries)

        def lost() -> list[str]:
            return self._store.unreachable(latest) + self._store.unreachable_in_sample(_START_SAMPLE, random.Random())

        missing = lost()
        if not missing:
            return
        logger.warning(
            "%d checked clips are stored but not found by search (first: %s); rebuilding the store's index",
            len(missing),
            quote_prefix(missing[0]),
        )
        self._store.rebuild()
        missing = lost()
        if missing:
            raise FailedPrecondition(
                f"{len(missing)} clips stay unsearchable after rebuilding the store in {self._store.path} "
                f"(first: {quote_prefix(missing[0])}); move that directory aside and start again to rebuild it "
                "from the log"
            )

    def _is_replayable(self, entry: WalEntry) -> bool:
        """False, with a log line, for a record today's checks refuse: one logged by an older version that
        then failed to store it (a time too large for a clip id) would otherwise stop every start."""
        try:
            validate_clip(entry.clip, self._clip_limits)
        except InvalidArgument as exc:
            logger.error(
                "skipping a logged clip of stream %s that cannot be stored: %s", quote_prefix(entry.clip.stream_id), exc
            )
            return False
        return True

    def _write_durably(self, entry: WalEntry) -> None:
        # On this one write thread: no other write can claim the stream name meanwhile.
        self._streams.check_source(entry.clip, [pending.clip for pending in self._unapplied])
        with metrics.WAL_APPEND_SECONDS.time():
            self._wal.append(entry)
        self._unapplied.append(entry)
        # Earlier entries whose store write failed are retried first; the log keeps them until then.
        self._store.upsert(self._unapplied)
        self._streams.record([pending.clip for pending in self._unapplied])
        self._unapplied.clear()
        self._wal.mark_applied()
        self._update_gauges()

    def _update_gauges(self) -> None:
        summaries = self._streams.summaries()
        metrics.STREAMS.set(len(summaries))
        metrics.STORED_CLIPS.set(sum(summary.clip_count for summary in summaries))

    def _close_stores(self) -> None:
        self._wal.close()  # checkpoints what is applied: a clean restart replays nothing else
        self._store.close()
        self._streams.close()
