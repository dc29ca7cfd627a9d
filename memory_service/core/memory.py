"""The `Memory` facade the server calls: validated, durable writes, the hierarchy's reads, and search.

A write is embedded, appended to the write-ahead log (fsync), upserted into the store, the
stream index and its stream's short-term window, and only then acknowledged: an acknowledged
clip is durable and searchable at once. Writes that arrive together, from any streams, are
embedded in one batch and share one fsync (group commit). Blocking work runs on single worker
threads: one embeds (the tokenizers must not be shared across threads), one writes (so writes
stay in order even when a caller gives up mid-write), one consolidates (see consolidate.py).
Searches read from a pool of their own, which close() drains before it closes the stores.

A live stream's clips get stream times from their wall-clock start, counted from the stream's
first clip, so a stream that reconnects or is added again continues its timeline instead of
starting a second one at 0 s.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from longwatch.errors import FailedPrecondition, InvalidArgument, LongwatchError, NotFound, Unavailable
from longwatch.types import (
    ClipRecord,
    DeletedStream,
    KeyframeData,
    MemoryStats,
    Node,
    SearchResult,
    StreamStats,
    StreamSummary,
)
from longwatch.validation import (
    MAX_TIMELINE_LIMIT,
    quote_prefix,
    validate_level,
    validate_node_id,
    validate_stream_id,
    validate_stream_time_s,
    validate_wall_ms,
)
from memory_service import metrics
from memory_service.core.batching import Batcher
from memory_service.core.consolidate import Consolidator, HierarchyLimits
from memory_service.core.embedders import TextEmbedder
from memory_service.core.hierarchy import Frontier, NodeCache, TreeNode, node_id, parse_keyframe_id, parse_node_id
from memory_service.core.keyframes import JPEG_MAGIC, KeyframeFiles
from memory_service.core.nodes import NodeStore, record_bytes
from memory_service.core.search import HierarchySearcher, TreeReader, validate_query, validate_time_range
from memory_service.core.store import ClipStore, clip_metadata, clip_node, latest_entries, match_form
from memory_service.core.streams import ClipSize, StreamIndex
from memory_service.core.summarize import ExtractiveSummarizer, Summarizer
from memory_service.core.types import (
    ClipLimits,
    SearchLimits,
    SearchQuery,
    TimelineQuery,
    WalDelete,
    WalEntry,
    WalRecord,
)
from memory_service.core.wal import WriteAheadLog

logger = logging.getLogger(__name__)

T = TypeVar("T")
_SEARCH_THREADS = 4  # chromadb queries release the GIL; more than the cores gains little
_REPLAY_BATCH = 256  # log records upserted per chromadb call on start
_MAX_SOURCE_KEY_CHARS = 64
_START_SAMPLE = 256  # stored clips besides the replayed ones checked for reachability on start
_MAX_GET_IDS = 1000  # ids one Get may name
_OVERLAP_TOLERANCE_S = 0.001  # clip boundaries computed from frame times may differ by rounding


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
    if len(clip.keyframes) > limits.max_keyframes:
        raise InvalidArgument(f"the clip has {len(clip.keyframes)} keyframes; the limit is {limits.max_keyframes}")
    for index, frame in enumerate(clip.keyframes):
        if len(frame.jpeg) > limits.max_keyframe_bytes:
            raise InvalidArgument(
                f"keyframe {index} has {len(frame.jpeg)} bytes; the limit is {limits.max_keyframe_bytes} "
                "(send a smaller or more compressed JPEG)"
            )
        if not frame.jpeg.startswith(JPEG_MAGIC):
            raise InvalidArgument(f"keyframe {index} is not a JPEG (it must start with FF D8 FF)")
        if not clip.start_s - 1.0 <= frame.t_s <= clip.end_s + 1.0:
            raise InvalidArgument(
                f"keyframe {index} is at {frame.t_s} s, outside its clip [{clip.start_s}, {clip.end_s}] s"
            )


class Memory:
    """Owns the embedder, stores, stream index and log. `await start()` before use, `await close()` after."""

    def __init__(
        self,
        embedder: TextEmbedder,
        store: ClipStore,
        streams: StreamIndex,
        wal: WriteAheadLog,
        search_limits: SearchLimits,
        clip_limits: ClipLimits,
        keyframe_dir: Path,
        hierarchy: HierarchyLimits | None = None,
        summarizer: Summarizer | None = None,
        commit_batch: int = 512,
        reader_refresh_s: float | None = None,
    ) -> None:
        """`reader_refresh_s`: this Memory only reads, beside a writer that shares its chroma server and data
        directory, reloading the writer's stream index and frontier that often (None: it is the writer)."""
        self._embedder = embedder
        self._store = store
        self._nodes = NodeStore(embedder.name, embedder.dim)
        self._streams = streams
        self._wal = wal
        self._keyframes = KeyframeFiles(keyframe_dir)
        self._search_limits = search_limits
        self._clip_limits = clip_limits
        self._hierarchy = hierarchy or HierarchyLimits()
        self._frontier = Frontier()
        self._cache = NodeCache(self._hierarchy.cache_nodes)
        self._tree_lock = threading.Lock()
        self._searcher = HierarchySearcher(
            TreeReader(store, self._nodes, self._frontier, self._cache, streams),
            search_limits,
            self._hierarchy.beam,
        )
        self._embed_thread = ThreadPoolExecutor(1, thread_name_prefix="memory-embed")
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="memory-write")
        # Searches read the store: their own pool, so close() can wait for them before closing it.
        self._search_threads = ThreadPoolExecutor(_SEARCH_THREADS, thread_name_prefix="memory-search")
        self._embeds: Batcher[str, np.ndarray] = Batcher(self._embed_batch, self._embed_thread, commit_batch)
        self._commits: Batcher[WalEntry, str] = Batcher(self._commit_batch, self._write_thread, commit_batch)
        self.consolidator = Consolidator(
            clips=store,
            nodes=self._nodes,
            streams=streams,
            frontier=self._frontier,
            keyframes=self._keyframes,
            summarizer=summarizer or ExtractiveSummarizer(),
            embed=self._embed_now,
            limits=self._hierarchy,
            tree_lock=self._tree_lock,
            cache=self._cache,
        )
        self._unapplied: list[WalEntry] = []  # logged but not yet in the store (a store failure)
        self._reader_refresh_s = reader_refresh_s
        self._refresher: asyncio.Task[None] | None = None
        self._is_ready = False
        self._is_closed = False

    @property
    def is_reader(self) -> bool:
        return self._reader_refresh_s is not None

    @property
    def commit_batches(self) -> int:
        """Log fsyncs that acknowledged writes so far (group commit shares one among a batch)."""
        return self._commits.batches

    async def start(self) -> None:
        """Opens the stores, replays the log records written after the last checkpoint, starts consolidation.
        A reader opens the stores and reads the hierarchy, and keeps reading it again every refresh."""
        if self._reader_refresh_s is not None:
            await self._on_write_thread(self._open_for_reading)
            self._refresher = asyncio.create_task(self._keep_refreshing(self._reader_refresh_s))
        else:
            await self._on_write_thread(self._recover)
            self.consolidator.start()
        self._is_ready = True

    async def write(self, clip: ClipRecord) -> str:
        """Stores one clip; returns its id once it is on disk and searchable."""
        self._check_ready()
        self._check_writer()
        try:
            validate_clip(clip, self._clip_limits)
        except InvalidArgument:
            metrics.CLIPS_REJECTED.inc()
            raise
        with metrics.WRITE_SECONDS.time():
            try:
                embedding = await self._embeds.submit(clip.text)
                clip_id = await self._commits.submit(WalEntry(clip=clip, embedding=embedding))
            except RuntimeError:  # close() shut the threads down meanwhile
                raise Unavailable("memory is stopping; write again once it is back") from None
        metrics.CLIPS_WRITTEN.inc()
        return clip_id

    async def search(self, query: SearchQuery) -> SearchResult:
        """The nodes best matching `query`, best first, and how many nodes the search read."""
        self._check_ready()
        try:
            validate_query(query, self._search_limits)
        except InvalidArgument:
            metrics.SEARCHES_REJECTED.inc()
            raise
        with metrics.SEARCH_SECONDS.time():
            if query.vector:
                vector = np.asarray(query.vector, dtype=np.float32)
                vector, space = vector / float(np.linalg.norm(vector)), "visual"
            else:
                vector, space = (await self._embed([query.text]))[0], "text"
            result = await self._on_search_thread(self._searcher.rank, query, vector, space)
        metrics.SEARCH_NODES_READ.observe(result.nodes_read)
        return result

    def list_streams(self) -> list[StreamSummary]:
        """Every stream with clips in memory, by stream id; answered from memory, no store scan."""
        self._check_ready()
        return self._streams.summaries()

    async def expand(self, node_id_: str) -> list[Node]:
        """The children of a node, in time order (none for a clip). NotFound for an unknown node."""
        self._check_ready()
        node = await self._on_search_thread(self._read_nodes, [validate_node_id(node_id_)])
        if not node:
            raise NotFound(f"memory holds no node {quote_prefix(node_id_)}; take ids from Search or Timeline")
        if not node[0].child_ids:
            return []
        return await self._on_search_thread(self._read_nodes, list(node[0].child_ids))

    async def timeline(self, query: TimelineQuery) -> tuple[list[Node], bool]:
        """The stream's present nodes of one level over the range, in time order, and whether more remain."""
        self._check_ready()
        validate_stream_id(query.stream_id)
        validate_level(query.level)
        validate_time_range(query.start_s, query.end_s, query.start_wall_ms, query.end_wall_ms)
        if not 1 <= query.limit <= MAX_TIMELINE_LIMIT:
            raise InvalidArgument(f"limit must be between 1 and {MAX_TIMELINE_LIMIT} (0 means 100); got {query.limit}")
        self._check_stream(query.stream_id)
        ids = self._streams.ids_in_range(
            query.stream_id,
            query.level,
            query.start_s,
            query.end_s,
            query.start_wall_ms,
            query.end_wall_ms,
            query.limit + 1,
        )
        nodes = await self._on_search_thread(self._read_nodes, ids[: query.limit])
        return nodes, len(ids) > query.limit

    async def get(self, node_ids: Sequence[str], keyframe_ids: Sequence[str]) -> tuple[list[Node], list[KeyframeData]]:
        """Nodes and keyframes by id, in the order asked. NotFound names the first id memory does not hold."""
        self._check_ready()
        if not node_ids and not keyframe_ids:
            raise InvalidArgument("name at least one node id or keyframe id")
        if len(node_ids) + len(keyframe_ids) > _MAX_GET_IDS:
            raise InvalidArgument(f"a Get may name at most {_MAX_GET_IDS} ids; got {len(node_ids) + len(keyframe_ids)}")
        wanted = [validate_node_id(value) for value in node_ids]
        nodes = await self._on_search_thread(self._read_nodes, wanted) if wanted else []
        missing = [value for value in wanted if value not in {node.node_id for node in nodes}]
        if missing:
            raise NotFound(f"memory holds no node {quote_prefix(missing[0])} ({len(missing)} of the ids are unknown)")
        frames = []
        for value in keyframe_ids:
            validate_node_id(value, "keyframe id")
            parsed = parse_keyframe_id(value)
            jpeg = self._keyframes.read(value) if parsed else None
            if parsed is None or jpeg is None:
                raise NotFound(f"memory holds no keyframe {quote_prefix(value)}; take ids from a node's keyframe_ids")
            clip = await self._on_search_thread(self._store.get_nodes, [parsed[0]], None, False)
            stream_id = clip[0].stream_id if clip else parsed[0].split("@", 1)[0]
            times = clip[0].keyframe_times if clip else ()
            t_s = times[parsed[1]] if parsed[1] < len(times) else (clip[0].start_s if clip else 0.0)
            frames.append(KeyframeData(keyframe_id=value, stream_id=stream_id, t_s=t_s, jpeg=jpeg))
        return nodes, frames

    async def stats(self, stream_ids: Sequence[str] = ()) -> MemoryStats:
        """What memory holds per stream, by store, and what retention removed; unknown streams are NotFound."""
        self._check_ready()
        for stream_id in stream_ids:
            validate_stream_id(stream_id)
            self._check_stream(stream_id)
        chosen = list(dict.fromkeys(stream_ids)) or self._streams.stream_ids()
        log_bytes = self._wal.bytes_by_stream()
        streams = tuple(self._stream_stats(stream_id, log_bytes.get(stream_id, 0)) for stream_id in chosen)
        disk = await asyncio.to_thread(_disk_bytes, self._wal.directory.parent)
        return MemoryStats(streams=streams, disk_bytes=disk)

    async def delete_stream(self, stream_id: str) -> DeletedStream:
        """Removes every clip, node, keyframe and log record of the stream, crash-safely (a logged deletion)."""
        self._check_ready()
        self._check_writer()
        validate_stream_id(stream_id)
        self._check_stream(stream_id)
        return await self._on_write_thread(self._delete_stream, stream_id)

    async def wait_consolidated(self, timeout_s: float) -> bool:
        """Waits until consolidation has built every node that is due (tests, benchmarks)."""
        self.consolidator.wake()
        return await asyncio.to_thread(self.consolidator.wait_idle, timeout_s)

    async def close(self) -> None:
        """Checkpoints the log and closes the stores; waits for the searches and the write in progress."""
        if self._is_closed:
            return
        self._is_ready = False
        self._is_closed = True
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
        await asyncio.to_thread(self.consolidator.stop)
        await asyncio.to_thread(self._search_threads.shutdown, wait=True)
        await self._on_write_thread(self._close_stores)
        self._write_thread.shutdown(wait=True)
        self._embed_thread.shutdown(wait=True)

    def _check_ready(self) -> None:
        if self._is_closed:
            raise Unavailable("the memory service is shutting down; retry against a running one")
        if not self._is_ready:
            raise Unavailable("the memory service is still starting (replaying its log); wait for health SERVING")

    def _check_writer(self) -> None:
        if self.is_reader:
            raise FailedPrecondition(
                "this memory process is a reader (LONGWATCH_MEMORY_ROLE=reader) and takes no writes; "
                "write to the memory writer"
            )

    def _open_for_reading(self) -> None:
        self._store.open()
        self._nodes.open(self._store.connection.client)
        self._streams.open()
        self._load_frontier()
        logger.info(
            "memory reader ready: %d clips stored, refreshing every %s s", self._store.count(), self._reader_refresh_s
        )

    async def _keep_refreshing(self, every_s: float) -> None:
        """A reader's view of the writer's work: the stream index and frontier read again, every `every_s`."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self._on_write_thread(self._refresh)
            except (LongwatchError, OSError) as exc:  # the server or disk briefly away: the next round retries
                logger.warning("memory reader could not refresh its view: %s", exc)

    def _refresh(self) -> None:
        if not self._streams.reload():  # the frontier changes only with the index: idle, nothing to read
            return
        fresh = Frontier()
        self._load_frontier(fresh)
        self._frontier.take(fresh)
        self._update_gauges()

    def _check_stream(self, stream_id: str) -> None:
        if self._streams.totals(stream_id) is None:
            raise NotFound(f"memory holds no stream {stream_id!r}; ListStreams shows the streams it holds")

    async def _embed(self, texts: list[str]) -> np.ndarray:
        def embed() -> np.ndarray:
            with metrics.EMBED_SECONDS.time():
                return self._embedder.embed(texts)  # (N, D)

        return await asyncio.get_running_loop().run_in_executor(self._embed_thread, embed)

    def _embed_batch(self, texts: list[str]) -> list[np.ndarray]:
        with metrics.EMBED_SECONDS.time():
            return list(self._embedder.embed(texts))  # (N, D) rows

    def _embed_now(self, texts: list[str]) -> np.ndarray:
        """For the consolidation thread: embeds on the embed thread (tokenizers are not thread-safe)."""
        return self._embed_thread.submit(self._embedder.embed, texts).result()

    async def _on_write_thread(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._write_thread, function, *args)

    async def _on_search_thread(self, function: Callable[..., T], *args: object) -> T:
        try:
            future = asyncio.get_running_loop().run_in_executor(self._search_threads, function, *args)
        except RuntimeError:  # close() began meanwhile
            raise Unavailable("memory is stopping; ask again once it is back") from None
        return await future

    def _recover(self) -> None:
        self._store.open()
        self._nodes.open(self._store.connection.client)
        self._streams.open()
        entries, deleted = self._replayable(self._wal.open())
        for stream_id in deleted:
            self._delete_everything(stream_id)
        # After a crash most logged records are in the store already (chromadb keeps its own log):
        # only the others are written, and every one must then be found before the service says SERVING.
        missing = self._store.unapplied(entries)
        for start in range(0, len(missing), _REPLAY_BATCH):
            self._store.upsert(missing[start : start + _REPLAY_BATCH])
        self._apply_beside_store(entries)
        self._check_searchable(entries)
        self._wal.mark_applied()
        self._wal.checkpoint()
        self._load_frontier()
        metrics.WAL_REPLAYED_CLIPS.inc(len(missing))
        self._update_gauges()
        logger.info(
            "memory ready: %d clips replayed from the log (%d written again, the rest already stored), %d clips stored",
            len(entries),
            len(missing),
            self._store.count(),
        )

    def _replayable(self, records: list[WalRecord]) -> tuple[list[WalEntry], list[str]]:
        """The logged clips to re-apply, and the streams whose logged deletion must be finished (a clip of
        such a stream logged before its deletion is dropped; one logged after it is a new clip)."""
        entries: list[WalEntry] = []
        deleted: list[str] = []
        for record in records:
            if isinstance(record, WalDelete):
                entries = [entry for entry in entries if entry.clip.stream_id != record.stream_id]
                deleted.append(record.stream_id)
            elif self._is_replayable(record):
                entries.append(record)
        return entries, deleted

    def _load_frontier(self, frontier: Frontier | None = None) -> None:
        """Reads every stream's frontier (the nodes without a parent, the short-term window included) into
        `frontier` (default: the one searches read)."""
        frontier = self._frontier if frontier is None else frontier
        fanout = self._hierarchy.fanout
        for stream_id in self._streams.stream_ids():
            totals = self._streams.totals(stream_id)
            assert totals is not None
            for level in range(0, len(totals.nodes) + 1):
                first = totals.node_count(level + 1) * fanout
                ids = self._streams.node_ids_in(stream_id, level, first, totals.node_count(level), present_only=True)
                nodes = self._store.get_nodes(ids) if level == 0 else self._nodes.get(level, ids)
                visual = self._nodes.visual_vectors(level, [node.node_id for node in nodes])
                # A summary knows its seq (metadata); a clip's is in the stream index only.
                seqs = self._clip_seqs(stream_id, first, totals.clips) if level == 0 else {}
                frontier.add(
                    replace(node, seq=seqs.get(node.node_id, node.seq), visual_vector=visual.get(node.node_id))
                    for node in nodes
                )

    def _clip_seqs(self, stream_id: str, first: int, end: int) -> dict[str, int]:
        """Clip id -> seq for the stream's clips with seq in [first, end) (removed ones included)."""
        return {clip_id: first + index for index, clip_id in enumerate(self._streams.clip_ids(stream_id, first, end))}

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

    def _commit_batch(self, entries: list[WalEntry]) -> list[str | BaseException]:
        """On the write thread: checks each entry against the streams (and the entries before it), logs the
        accepted ones with one fsync, stores them, and returns each entry's clip id or its error."""
        results: list[str | BaseException] = [InvalidArgument("not written")] * len(entries)
        accepted: list[tuple[int, WalEntry]] = []
        batch = _BatchView()
        for index, entry in enumerate(entries):
            try:
                entry = self._placed(entry, batch)
            except LongwatchError as exc:
                results[index] = exc
                continue
            batch.add(entry.clip)
            accepted.append((index, entry))
        if not accepted:
            return results
        metrics.COMMIT_BATCH_RECORDS.observe(len(accepted))
        try:
            with metrics.WAL_APPEND_SECONDS.time():
                self._wal.append_many([entry for _, entry in accepted])
        except LongwatchError as exc:
            for index, _ in accepted:
                results[index] = exc
            return results
        self._unapplied.extend(entry for _, entry in accepted)
        # Earlier entries whose store write failed are retried first; the log keeps them until then.
        self._store.upsert(self._unapplied)
        self._apply_beside_store(self._unapplied)
        self._unapplied.clear()
        self._wal.mark_applied()
        self._update_gauges()
        self.consolidator.wake()
        for index, entry in accepted:
            results[index] = entry.clip.clip_id
        return results

    def _placed(self, entry: WalEntry, batch: _BatchView) -> WalEntry:
        """The entry as it will be stored: its file claim checked, a live clip's times continued from its
        stream's timeline, and its place in time order checked. Raises what the client must change."""
        clip = entry.clip
        self._streams.check_source(clip, itertools.chain((pending.clip for pending in self._unapplied), batch.clips))
        totals = self._streams.totals(clip.stream_id)
        last_start = batch.last_start.get(clip.stream_id, totals.last_start_s if totals and totals.clips else None)
        last_end = batch.last_end.get(clip.stream_id, totals.last_s if totals and totals.clips else None)
        if clip.start_wall_ms and not clip.source_key:
            clip = self._on_timeline(clip, batch, last_end)
        if self._streams.has_clip(clip.clip_id) or clip.clip_id in batch.ids:
            # A clip written again (a resend, a file ingested again) keeps its place.
            return entry if clip is entry.clip else WalEntry(clip=clip, embedding=entry.embedding)
        if last_start is not None and clip.start_s < last_start - _OVERLAP_TOLERANCE_S:
            raise FailedPrecondition(
                f"a clip of stream {clip.stream_id!r} starts at {clip.start_s:.3f} s, before the latest clip of the "
                f"stream ({last_start:.3f} s); write a stream's clips in time order (a file ingested again keeps its "
                "clip times and is accepted)"
            )
        if last_end is not None and clip.start_s < last_end - _OVERLAP_TOLERANCE_S:
            if not clip.start_wall_ms:
                raise FailedPrecondition(
                    f"a clip of stream {clip.stream_id!r} starts at {clip.start_s:.3f} s, inside the stream's latest "
                    f"clip (which ends at {last_end:.3f} s); clips of a stream must not overlap"
                )
            # A live clock's jitter: the clip starts where the last one ended.
            clip = replace(clip, start_s=last_end, end_s=max(clip.end_s, last_end))
        return entry if clip is entry.clip else WalEntry(clip=clip, embedding=entry.embedding)

    def _on_timeline(self, clip: ClipRecord, batch: _BatchView, last_end: float | None) -> ClipRecord:
        """A live clip with stream times counted from its stream's first clip (the wall anchor)."""
        anchor = batch.anchors.get(clip.stream_id) or self._streams.wall_anchor(clip.stream_id)
        if anchor is None:
            # A new stream starts at its own stream time; one held from before anchors existed continues.
            start_s = max(clip.start_s, last_end or 0.0)
            anchor = clip.start_wall_ms - round(start_s * 1000)
            batch.anchors[clip.stream_id] = anchor
        if clip.start_wall_ms < anchor:
            raise FailedPrecondition(
                f"a live clip of stream {clip.stream_id!r} starts at wall-clock {clip.start_wall_ms} ms, before the "
                f"stream's first clip ({anchor} ms); write a stream's clips in time order"
            )
        start_s = (clip.start_wall_ms - anchor) / 1000
        return replace(clip, start_s=start_s, end_s=start_s + max(0.0, clip.end_s - clip.start_s))

    def _apply_beside_store(self, entries: Sequence[WalEntry]) -> None:
        """Everything of a write besides the clip store: visual vectors, keyframe files, the stream index,
        wall anchors and the short-term window."""
        latest = latest_entries(entries)
        if not latest:
            return
        sizes = []
        nodes = []
        for entry in latest:
            clip = entry.clip
            keyframe_bytes = self._keyframes.write(clip)
            metadata, document = clip_metadata(clip), match_form(clip.text)
            vector_bytes, metadata_bytes = record_bytes(entry.embedding, document, metadata)
            sizes.append(ClipSize(vector_bytes + 4 * len(clip.visual_embedding), metadata_bytes, keyframe_bytes))
            visual = np.asarray(clip.visual_embedding, dtype=np.float32) if clip.visual_embedding else None
            nodes.append(
                replace(clip_node(clip.clip_id, metadata, document, entry.embedding, -1), visual_vector=visual)
            )
        seqs = self._streams.record([entry.clip for entry in latest], sizes)
        for entry in latest:
            clip = entry.clip
            if clip.start_wall_ms and not clip.source_key and self._streams.wall_anchor(clip.stream_id) is None:
                self._streams.set_wall_anchor(clip.stream_id, clip.start_wall_ms - round(clip.start_s * 1000))
        placed = [replace(node, seq=seqs[node.node_id]) for node in nodes]
        self._nodes.put_visual(placed)
        fanout = self._hierarchy.fanout
        window = []
        for node in placed:
            totals = self._streams.totals(node.stream_id)
            if totals is not None and node.seq >= totals.node_count(1) * fanout:
                window.append(node)
        self._frontier.add(window)

    def _delete_stream(self, stream_id: str) -> DeletedStream:
        self._wal.append(WalDelete(stream_id))
        self._unapplied = [entry for entry in self._unapplied if entry.clip.stream_id != stream_id]
        deleted = self._delete_everything(stream_id)
        # A new segment, then a checkpoint: every older segment, this stream's records with them, is deleted.
        self._wal.roll()
        self._wal.mark_applied()
        self._wal.checkpoint()
        self._update_gauges()
        logger.info(
            "deleted stream %s: %d clips, %d nodes, %d keyframes",
            stream_id,
            deleted.clips_deleted,
            deleted.nodes_deleted,
            deleted.keyframes_deleted,
        )
        return deleted

    def _delete_everything(self, stream_id: str) -> DeletedStream:
        with self._tree_lock:
            self._store.delete_stream(stream_id)
            self._nodes.delete_stream(stream_id)
            self._keyframes.delete_stream(stream_id)
            clips, nodes, keyframes = self._streams.delete_stream(stream_id)
            self._frontier.drop_stream(stream_id)
            self._cache.drop_stream(stream_id)
        return DeletedStream(clips_deleted=clips, nodes_deleted=nodes, keyframes_deleted=keyframes)

    def _read_nodes(self, ids: Sequence[str]) -> list[Node]:
        """Nodes by id (clips and nodes of any level mixed), in the order of `ids`; unknown ids left out."""
        by_level: dict[int, list[str]] = {}
        for value in ids:
            parsed = parse_node_id(value)
            by_level.setdefault(parsed[1] if parsed else 0, []).append(value)
        found: dict[str, TreeNode] = {}
        for level, members in by_level.items():
            nodes = (
                self._store.get_nodes(members, None, False) if level == 0 else self._nodes.get(level, members, False)
            )
            found.update((node.node_id, node) for node in nodes)
        return [self._node(found[value]) for value in ids if value in found]

    def _node(self, node: TreeNode) -> Node:
        seq = node.seq
        if node.level == 0:
            placed = self._streams.clip_seq(node.node_id)
            seq = placed[1] if placed else -1
        totals = self._streams.totals(node.stream_id)
        parent_seq = seq // self._hierarchy.fanout
        has_parent = seq >= 0 and totals is not None and totals.node_count(node.level + 1) > parent_seq
        return Node(
            node_id=node.node_id,
            stream_id=node.stream_id,
            level=node.level,
            start_s=node.start_s,
            end_s=node.end_s,
            text=node.text,
            start_wall_ms=node.start_wall_ms,
            end_wall_ms=node.end_wall_ms,
            child_ids=node.child_ids,
            keyframe_ids=node.keyframe_ids,
            parent_id=node_id(node.stream_id, node.level + 1, parent_seq) if has_parent else "",
        )

    def _stream_stats(self, stream_id: str, log_bytes: int) -> StreamStats:
        totals = self._streams.totals(stream_id)
        if totals is None:
            return StreamStats(stream_id=stream_id)
        return StreamStats(
            stream_id=stream_id,
            clips=totals.clips - totals.clip_texts_removed,
            nodes_per_level=tuple(totals.nodes_present),
            keyframes=totals.keyframes,
            vector_bytes=totals.vector_bytes,
            metadata_bytes=totals.metadata_bytes,
            keyframe_bytes=totals.keyframe_bytes,
            log_bytes=log_bytes,
            keyframes_removed=totals.keyframes_removed,
            clip_texts_removed=totals.clip_texts_removed,
            summaries_removed=totals.summaries_removed,
            first_s=totals.first_s,
            last_s=totals.last_s,
            window_clips=self._frontier.window_size(stream_id),
        )

    def _update_gauges(self) -> None:
        summaries = self._streams.summaries()
        metrics.STREAMS.set(len(summaries))
        metrics.STORED_CLIPS.set(sum(summary.clip_count for summary in summaries))
        metrics.WINDOW_CLIPS.set(sum(self._frontier.window_size(summary.stream_id) for summary in summaries))
        totals = [t for t in (self._streams.totals(summary.stream_id) for summary in summaries) if t is not None]
        for store in ("vector", "metadata", "keyframe"):
            metrics.STORE_BYTES.labels(store).set(sum(getattr(t, f"{store}_bytes") for t in totals))

    def _close_stores(self) -> None:
        if not self.is_reader:  # a reader never opened the log, which is the writer's
            self._wal.close()  # checkpoints what is applied: a clean restart replays nothing else
        self._store.close()
        self._streams.close()


class _BatchView:
    """The clips accepted so far in one commit batch, as the checks of the next ones must see them."""

    def __init__(self) -> None:
        self.clips: list[ClipRecord] = []
        self.ids: set[str] = set()
        self.last_start: dict[str, float] = {}
        self.last_end: dict[str, float] = {}
        self.anchors: dict[str, int] = {}

    def add(self, clip: ClipRecord) -> None:
        self.clips.append(clip)
        if clip.clip_id in self.ids:
            return
        self.ids.add(clip.clip_id)
        self.last_start[clip.stream_id] = max(clip.start_s, self.last_start.get(clip.stream_id, clip.start_s))
        self.last_end[clip.stream_id] = max(clip.end_s, self.last_end.get(clip.stream_id, clip.end_s))


def _disk_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())
