"""Domain types internal to the memory service; the shared ones live in longwatch.types."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from longwatch.types import ClipRecord

DEFAULT_K = 10  # hits when a request leaves k at 0 (memory.proto)
MAX_K = 100  # most hits one search returns (memory.proto)


DEFAULT_TIMELINE_LIMIT = 100  # nodes when a Timeline request leaves limit at 0 (memory.proto)


@dataclass(frozen=True)
class SearchQuery:
    """A search by text, or by a visual `vector`, for nodes of one `level` (0 = clips), within streams
    (empty = all), a stream-time range (end_s = 0: no upper bound) and a wall-clock range (0: open)."""

    text: str = ""
    stream_ids: tuple[str, ...] = ()
    start_s: float = 0.0
    end_s: float = 0.0
    k: int = DEFAULT_K
    vector: tuple[float, ...] = ()
    level: int = 0
    start_wall_ms: int = 0
    end_wall_ms: int = 0


@dataclass(frozen=True)
class TimelineQuery:
    """The nodes of one level of one stream over a time range, in time order, at most `limit`."""

    stream_id: str
    level: int = 0
    start_s: float = 0.0
    end_s: float = 0.0
    start_wall_ms: int = 0
    end_wall_ms: int = 0
    limit: int = DEFAULT_TIMELINE_LIMIT


@dataclass(frozen=True)
class SearchLimits:
    """How hard one search works and what it accepts (from MemorySettings)."""

    candidates: int = 50  # clips per chromadb query before rescoring
    exact_term_bonus: float = 0.5  # score per matched exact term; cosine similarity is in [-1, 1]
    max_exact_terms: int = 8
    max_same_text: int = 3  # hits of one stream with one text before the others (a static scene repeats itself)
    max_query_chars: int = 2000
    max_streams: int = 1000
    max_vector_dims: int = 4096  # as ClipLimits.max_embedding_dims


@dataclass(frozen=True)
class ClipLimits:
    """What a written clip may contain."""

    max_text_chars: int = 100_000
    # Vision features are hundreds to ~1,000 values; the cap keeps every log record far below its size limit.
    max_embedding_dims: int = 4096
    max_keyframes: int = 8
    max_keyframe_bytes: int = 2 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class WalEntry:
    """One logged write: the clip and its text embedding, so a replay never re-runs the embedder."""

    clip: ClipRecord
    embedding: np.ndarray  # (D,) float32, L2-normalised


@dataclass(frozen=True)
class WalDelete:
    """One logged deletion: everything of the stream, up to this point of the log, is removed."""

    stream_id: str


WalRecord = WalEntry | WalDelete


@dataclass(frozen=True)
class StoredClip:
    """A clip as a store query returns it, with its cosine similarity to the query vector."""

    clip_id: str
    stream_id: str
    start_s: float
    end_s: float
    text: str  # caption and on-screen text, as the user sees it
    match_text: str  # the normalised form exact terms are matched against
    similarity: float


@dataclass(frozen=True)
class EmbedderOptions:
    """Everything a text embedder backend may need; each backend reads what it uses."""

    model_cache: Path
    model: str = ""  # id or local path, for backends that take one
    device: str | None = None  # None: the backend chooses (CUDA when available)
    batch_size: int = 32
