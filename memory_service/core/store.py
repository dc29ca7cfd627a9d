"""The clip store: level 0 of the memory in an embedded chromadb, owned by this process alone.

Embeddings are always passed in (never chromadb's default embedding function, which
downloads a model). Times are stored as numbers so range filters work. The document is
the clip's text in *match form* (case-folded words separated by single spaces, padded
with a space each side) so that `$contains " kx 4721 "` finds whole words and phrases
whatever their case or punctuation; the text users see is rebuilt from the metadata.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from longwatch.errors import FailedPrecondition
from longwatch.types import ClipRecord
from memory_service.core.types import StoredClip, WalEntry

logger = logging.getLogger(__name__)

COLLECTION = "clips_l0"
_REBUILT = "clips_l0_rebuilt"  # a rebuild's new collection until it replaces COLLECTION
_PAGE = 1000  # records read per chromadb get() during a rebuild
_EXACT_CAP = 2000  # matching clips scored exactly when the index returns too few
_REACHABILITY_K = 4  # a clip's own vector, within its stream and start time, must rank among these
_NOT_WORD = re.compile(r"[\W_]+")


def match_words(text: str) -> str:
    """Case-folded words joined by single spaces: 'Plate: KX-4721!' -> 'plate kx 4721'."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def match_form(text: str) -> str:
    """`match_words` padded with a space each side, so a padded term only matches whole words."""
    return f" {match_words(text)} "


def text_key(document: str) -> str:
    """A short digest of a clip's match-form text: clips of one text share it, so a search can exclude them."""
    return hashlib.blake2b(document.encode(), digest_size=8).hexdigest()


def _metadata(clip: ClipRecord) -> dict[str, Any]:
    return {
        "stream_id": clip.stream_id,
        "text_key": text_key(match_form(clip.text)),
        "start_s": float(clip.start_s),
        "end_s": float(clip.end_s),
        "caption": clip.caption,
        "ocr": "\n".join(clip.ocr_lines),
        "frame_count": int(clip.frame_count),
        "start_wall_ms": int(clip.start_wall_ms),
    }


def latest_entries(entries: Sequence[WalEntry]) -> list[WalEntry]:
    """The last entry of each clip id, in first-seen order: the log holds repeats (a clip resent after a
    reconnect, a file ingested again), and the latest one counts."""
    return list({entry.clip.clip_id: entry for entry in entries}.values())


def _is_stored_as(entry: WalEntry, stored: tuple[Any, Any, Any] | None) -> bool:
    if stored is None:
        return False
    vector, document, metadata = stored
    return (
        document == match_form(entry.clip.text)
        and dict(metadata or {}) == _metadata(entry.clip)
        and np.allclose(np.asarray(vector, dtype=np.float32), entry.embedding, atol=1e-6)
    )


def _stored(clip_id: str, metadata: Mapping[str, Any], document: str | None, similarity: float) -> StoredClip:
    return StoredClip(
        clip_id=clip_id,
        stream_id=str(metadata["stream_id"]),
        start_s=float(metadata["start_s"]),
        end_s=float(metadata["end_s"]),
        text=_display_text(metadata),
        match_text=document or "",
        similarity=similarity,
    )


def _display_text(metadata: Mapping[str, Any]) -> str:
    ocr = str(metadata.get("ocr") or "")
    clip = ClipRecord(
        stream_id=str(metadata["stream_id"]),
        start_s=float(metadata["start_s"]),
        end_s=float(metadata["end_s"]),
        caption=str(metadata.get("caption") or ""),
        ocr_lines=tuple(ocr.split("\n")) if ocr else (),
    )
    return clip.text


class ClipStore:
    """Upserts clips by id and answers nearest-neighbour queries with metadata and document filters."""

    def __init__(self, path: Path, embedder_name: str, dim: int) -> None:
        self.path = path
        self._embedder_name = embedder_name
        self._dim = dim
        self._client: Any = None
        self._collection: Any = None
        self._lock_file: Any = None

    def open(self) -> None:
        import chromadb
        from chromadb.config import Settings

        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_directory()
        self._client = chromadb.PersistentClient(
            path=str(self.path), settings=Settings(anonymized_telemetry=False, allow_reset=False)
        )
        self._finish_interrupted_rebuild()
        self._collection = self._create(COLLECTION)
        self._check_embedder()
        logger.info("clip store %s: %d clips", self.path, self._collection.count())

    def upsert(self, entries: Sequence[WalEntry]) -> None:
        """Stores the entries; an existing clip id is overwritten, so re-applying is harmless."""
        # chromadb refuses a batch naming one id twice.
        entries = latest_entries(entries)
        if not entries:
            return
        self._collection.upsert(
            ids=[entry.clip.clip_id for entry in entries],
            embeddings=np.stack([entry.embedding for entry in entries]),  # (N, D)
            documents=[match_form(entry.clip.text) for entry in entries],
            metadatas=[_metadata(entry.clip) for entry in entries],
        )

    def unapplied(self, entries: Sequence[WalEntry]) -> list[WalEntry]:
        """The entries the store does not already hold exactly (same vector, text and metadata).

        A replay applies only these: upserting a record again over itself is what left chromadb's
        index unable to find clips after a crash (issue 12.6), and it is wasted work besides."""
        latest = latest_entries(entries)
        stored: dict[str, tuple[Any, Any, Any]] = {}
        for start in range(0, len(latest), _PAGE):
            ids = [entry.clip.clip_id for entry in latest[start : start + _PAGE]]
            result = self._collection.get(ids=ids, include=["embeddings", "documents", "metadatas"])
            rows = zip(result["ids"], result["embeddings"], result["documents"], result["metadatas"], strict=True)
            stored.update((clip_id, (vector, document, metadata)) for clip_id, vector, document, metadata in rows)
        return [entry for entry in latest if not _is_stored_as(entry, stored.get(entry.clip.clip_id))]

    def unreachable(self, entries: Sequence[WalEntry]) -> list[str]:
        """Ids of the entries that a query with their own vector, within their stream and start time,
        does not return: stored, but lost to search. Empty when the index is sound."""
        return self._unreachable([(entry.clip.clip_id, entry.embedding, _metadata(entry.clip)) for entry in entries])

    def unreachable_in_sample(self, n: int, rng: random.Random) -> list[str]:
        """`unreachable` for up to `n` consecutive stored clips from a random place: a cheap check of
        a store that an older version (or another crash) may have left with clips lost to search."""
        offset = rng.randrange(max(1, self.count() - n + 1))
        page = self._collection.get(limit=n, offset=offset, include=["embeddings", "metadatas"])
        return self._unreachable(list(zip(page["ids"], page["embeddings"], page["metadatas"], strict=True)))

    def _unreachable(self, records: Sequence[tuple[str, Any, Mapping[str, Any]]]) -> list[str]:
        lost = []
        for clip_id, vector, metadata in records:
            where = {"$and": [{"stream_id": metadata["stream_id"]}, {"start_s": float(metadata["start_s"])}]}
            found = self._index_query(np.asarray(vector, dtype=np.float32), _REACHABILITY_K, where)
            if clip_id not in {hit.clip_id for hit in found}:
                lost.append(clip_id)
        return lost

    def rebuild(self) -> None:
        """Rebuilds the collection and its index from the records chromadb holds, crash-safely: the
        copy is complete before it replaces the original (see `_finish_interrupted_rebuild`)."""
        self._drop(_REBUILT)
        rebuilt = self._create(_REBUILT)
        for start in range(0, self.count(), _PAGE):
            page = self._collection.get(limit=_PAGE, offset=start, include=["embeddings", "documents", "metadatas"])
            if page["ids"]:
                rebuilt.add(
                    ids=page["ids"],
                    embeddings=np.asarray(page["embeddings"], dtype=np.float32),  # (N, D)
                    documents=page["documents"],
                    metadatas=page["metadatas"],
                )
        if rebuilt.count() != self.count():
            raise FailedPrecondition(
                f"rebuilding the clip store {self.path} copied {rebuilt.count()} of {self.count()} clips"
            )
        self._client.delete_collection(COLLECTION)
        rebuilt.modify(name=COLLECTION)
        self._collection = self._create(COLLECTION)
        logger.warning("clip store %s rebuilt: %d clips", self.path, self.count())

    def query(
        self,
        embedding: np.ndarray,
        n_results: int,
        where: Mapping[str, Any] | None = None,
        contains: str | None = None,
    ) -> list[StoredClip]:
        """The `n_results` clips nearest `embedding` (D,) that pass `where` and contain `contains`.

        chromadb's index can miss clips that pass a filter when the graph around them is dense with
        identical vectors (a static scene stores one text hundreds of times; issue 12.8): a query returns
        fewer than `n_results`, or none, although more clips match. A short answer is therefore checked
        against the matching clips themselves, scored exactly, up to `_EXACT_CAP` of them."""
        found = self._index_query(embedding, n_results, where, contains)
        if len(found) >= n_results:
            return found
        filters = {
            "where": dict(where) if where else None,
            "where_document": {"$contains": contains} if contains else None,
        }
        # Usually the index found every match: counting them by id is cheap, reading their vectors is not.
        if len(self._collection.get(**filters, limit=len(found) + 1, include=[])["ids"]) <= len(found):
            return found
        matching = self._collection.get(**filters, limit=_EXACT_CAP, include=["embeddings", "metadatas", "documents"])
        vectors = np.asarray(matching["embeddings"], dtype=np.float32)  # (M, D), unit rows
        similarity = vectors @ np.asarray(embedding, dtype=np.float32)  # (M,)
        best = np.argsort(-similarity, kind="stable")[:n_results]
        return [
            _stored(matching["ids"][i], matching["metadatas"][i], matching["documents"][i], float(similarity[i]))
            for i in best
        ]

    def _index_query(
        self, embedding: np.ndarray, n_results: int, where: Mapping[str, Any] | None, contains: str | None = None
    ) -> list[StoredClip]:
        result = self._collection.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)],
            n_results=n_results,
            where=dict(where) if where else None,
            where_document={"$contains": contains} if contains else None,
            include=["metadatas", "documents", "distances"],
        )
        rows = zip(
            result["ids"][0], result["metadatas"][0], result["documents"][0], result["distances"][0], strict=True
        )
        # cosine space: distance = 1 - cosine similarity
        return [
            _stored(clip_id, metadata, document, 1.0 - float(distance))
            for clip_id, metadata, document, distance in rows
        ]

    def count(self) -> int:
        return int(self._collection.count())

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = self._collection = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    def _create(self, name: str) -> Any:
        return self._client.get_or_create_collection(
            name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": self._embedder_name, "dim": self._dim},
            embedding_function=None,
        )

    def _drop(self, name: str) -> None:
        if name in {collection.name for collection in self._client.list_collections()}:
            self._client.delete_collection(name)

    def _finish_interrupted_rebuild(self) -> None:
        """A rebuild that crashed before deleting the original leaves a partial copy (dropped); one that
        crashed after leaves only the complete copy (renamed into place)."""
        names = {collection.name for collection in self._client.list_collections()}
        if _REBUILT not in names:
            return
        if COLLECTION in names:
            self._client.delete_collection(_REBUILT)
        else:
            self._client.get_collection(_REBUILT).modify(name=COLLECTION)
            logger.warning("clip store %s: finished a rebuild interrupted by a crash", self.path)

    def _lock_directory(self) -> None:
        """Embedded chromadb is unsafe with two writers: a second process on the same directory fails here."""
        self._lock_file = open(self.path.parent / f".{self.path.name}.lock", "w")  # noqa: SIM115 - held while open
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise FailedPrecondition(
                f"another memory service already uses {self.path}; stop it or choose another data directory"
            ) from None

    def _check_embedder(self) -> None:
        metadata = self._collection.metadata or {}
        stored = (metadata.get("embedder"), metadata.get("dim"))
        if stored != (self._embedder_name, self._dim):
            self.close()
            raise FailedPrecondition(
                f"the memory in {self.path} was built with embedder {stored[0]} ({stored[1]}-d), not "
                f"{self._embedder_name} ({self._dim}-d); start with that embedder or use a new data directory"
            )
