"""Prometheus metrics of the memory service, named with their units; stages are timed with `.time()`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# An fsync takes from tens of microseconds (cache) to tens of milliseconds (a busy disk).
_FAST_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

CLIPS_WRITTEN = Counter("memory_clips_written_total", "Clips acknowledged as durable and searchable")
CLIPS_REJECTED = Counter("memory_clips_rejected_total", "Clips refused as invalid")
SEARCHES_REJECTED = Counter("memory_searches_rejected_total", "Searches refused as invalid")
WAL_REPLAYED_CLIPS = Counter("memory_wal_replayed_clips_total", "Log records re-applied to the store on start")
STORED_CLIPS = Gauge("memory_stored_clips", "Distinct clips in memory")
STREAMS = Gauge("memory_streams", "Streams with at least one clip in memory")
WINDOW_CLIPS = Gauge(
    "memory_window_clips", "Clips acknowledged and not yet in a segment: the short-term windows and any backlog"
)
STORE_BYTES = Gauge("memory_store_bytes", "Bytes memory holds, by store", ["store"])  # vector, metadata, keyframe

WRITE_SECONDS = Histogram(
    "memory_write_seconds", "Seconds from a clip's arrival to its acknowledgement: embed, log, store"
)
WAL_APPEND_SECONDS = Histogram(
    "memory_wal_append_seconds",
    "Seconds to append and fsync one batch of log records (group commit)",
    buckets=_FAST_BUCKETS_S,
)
COMMIT_BATCH_RECORDS = Histogram(
    "memory_commit_batch_records", "Records sharing one log fsync", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
)
NODES_BUILT = Counter("memory_nodes_built_total", "Summary nodes consolidation built, all levels")
RETENTION_REMOVED = Counter(
    "memory_retention_removed_total", "Records retention removed, by kind", ["kind"]
)  # kind: keyframe, clip_text, summary
SEARCH_NODES_READ = Histogram(
    "memory_search_nodes_read", "Nodes one search scored", buckets=(8, 16, 32, 64, 128, 256, 512, 1024, 2048)
)
EMBED_SECONDS = Histogram("memory_embed_seconds", "Seconds per text embedder call")
SEARCH_SECONDS = Histogram("memory_search_seconds", "Seconds per search: embed the query, query, rescore")
