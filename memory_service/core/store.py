"""The clip store: level 0 of the memory (clips' text embeddings) in chromadb.

Embeddings are always passed in (never chromadb's default embedding function, which
downloads a model). Times are stored as numbers so range filters work. The document is
the clip's text in *match form*: case-folded words separated by single spaces, padded
with a space each side, so that `$contains " kx 4721 "` finds whole words and phrases
whatever their case or punctuation; then `|` and the text's compact folded form
(`longwatch.text_match.compact`: upper case, OCR's look-alikes as one digit, no spaces), so
that `$contains "10CKER42"` finds "L0CKER 42" and "LOCKER42" too. The text users see is
rebuilt from the metadata.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from longwatch.errors import FailedPrecondition
from longwatch.text_match import compact
from longwatch.types import ClipRecord
from memory_service.core.chroma import ChromaConnection
from memory_service.core.hierarchy import TreeNode, keyframe_ids
from memory_service.core.types import StoredClip, WalEntry

logger = logging.getLogger(__name__)

COLLECTION = "clips_l0"
_REBUILT = "clips_l0_rebuilt"  # a rebuild's new collection until it replaces COLLECTION
_PAGE = 1000  # records read per chromadb get() during a rebuild
_EXACT_CAP = 2000  # matching clips scored exactly when the index returns too few
_REACHABILITY_K = 4  # a clip's own vector, within its stream and start time, must rank among these
_NOT_WORD = re.compile(r"[\W_]+")
# Between the two forms in a document: match words and compact forms hold letters, digits and spaces only,
# so a term looked up in either form never matches across it.
_COMPACT_MARK = "|"


def match_words(text: str) -> str:
    """Case-folded words joined by single spaces: 'Plate: KX-4721!' -> 'plate kx 4721'."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def match_form(text: str) -> str:
    """`match_words` padded with a space each side, so a padded term only matches whole words, then
    `_COMPACT_MARK` and the compact folded form, where a term's compact form matches however OCR spaced
    or confused it: 'L0CKER 42!' -> ' l0cker 42 |10CKER42'."""
    return f" {match_words(text)} {_COMPACT_MARK}{compact(text)}"


def text_key(document: str) -> str:
    """A short digest of a clip's match-form text: clips of one text share it, so a search can exclude them."""
    return hashlib.blake2b(document.encode(), digest_size=8).hexdigest()


def clip_metadata(clip: ClipRecord) -> dict[str, Any]:
    return {
        "stream_id": clip.stream_id,
        "text_key": text_key(match_form(clip.text)),
        "start_s": float(clip.start_s),
        "end_s": float(clip.end_s),
        "caption": clip.caption,
        "ocr": "\n".join(clip.ocr_lines),
        "frame_count": int(clip.frame_count),
        "start_wall_ms": int(clip.start_wall_ms),
        "keyframes": len(clip.keyframes),
        "keyframe_t": " ".join(f"{frame.t_s:.3f}" for frame in clip.keyframes),
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
        and dict(metadata or {}) == clip_metadata(entry.clip)
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


def clip_node(record_id: str, metadata: Mapping[str, Any], document: str | None, vector: Any, seq: int) -> TreeNode:
    """A stored clip as the hierarchy sees it (level 0)."""
    ocr = str(metadata.get("ocr") or "")
    caption = str(metadata.get("caption") or "")
    start_s, end_s = float(metadata["start_s"]), float(metadata["end_s"])
    start_wall_ms = int(metadata.get("start_wall_ms") or 0)
    return TreeNode(
        node_id=record_id,
        stream_id=str(metadata["stream_id"]),
        level=0,
        seq=seq,
        start_s=start_s,
        end_s=end_s,
        text=_display_text(metadata),
        match_text=document or "",
        captions=(caption,) if caption else (),
        ocr_lines=tuple(ocr.split("\n")) if ocr else (),
        start_wall_ms=start_wall_ms,
        end_wall_ms=start_wall_ms + round((end_s - start_s) * 1000) if start_wall_ms else 0,
        keyframe_ids=keyframe_ids(record_id, int(metadata.get("keyframes") or 0)),
        keyframe_times=tuple(float(value) for value in str(metadata.get("keyframe_t") or "").split()),
        text_vector=None if vector is None else np.asarray(vector, dtype=np.float32),
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

    def __init__(self, connection: ChromaConnection, embedder_name: str, dim: int) -> None:
        self.connection = connection
        self._embedder_name = embedder_name
        self._dim = dim
        self._client: Any = None
        self._collection: Any = None

    @property
    def path(self) -> Path | str:
        """Where the store lives, for messages: its directory, or the server's URL."""
        return self.connection.location.url or self.connection.location.path

    def open(self) -> None:
        """Opens the connection and the clip collection; the connection is shared with the node store."""
        self._client = self.connection.open()
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
            metadatas=[clip_metadata(entry.clip) for entry in entries],
        )

    def get_nodes(
        self, ids: Sequence[str], seqs: Mapping[str, int] | None = None, vectors: bool = True
    ) -> list[TreeNode]:
        """The stored clips among `ids` as level-0 nodes, in the order of `ids`; missing ones left out."""
        ids = list(dict.fromkeys(ids))  # chromadb refuses an id named twice
        include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
        found: dict[str, TreeNode] = {}
        for start in range(0, len(ids), _PAGE):
            result = self._collection.get(ids=list(ids[start : start + _PAGE]), include=include)
            embeddings = result["embeddings"] if vectors else [None] * len(result["ids"])
            rows = zip(result["ids"], result["metadatas"], result["documents"], embeddings, strict=True)
            for clip_id, metadata, document, vector in rows:
                found[clip_id] = clip_node(clip_id, metadata, document, vector, (seqs or {}).get(clip_id, -1))
        return [found[clip_id] for clip_id in ids if clip_id in found]

    def nearest_nodes(self, embedding: np.ndarray, n_results: int, where: Mapping[str, Any] | None) -> list[TreeNode]:
        """The clips nearest `embedding` by chromadb's index, as level-0 nodes with their vectors."""
        result = self._collection.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)],
            n_results=n_results,
            where=dict(where) if where else None,
            include=["metadatas", "documents", "embeddings"],
        )
        rows = zip(
            result["ids"][0], result["metadatas"][0], result["documents"][0], result["embeddings"][0], strict=True
        )
        return [clip_node(clip_id, metadata, document, vector, -1) for clip_id, metadata, document, vector in rows]

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _PAGE):
            self._collection.delete(ids=list(ids[start : start + _PAGE]))

    def delete_stream(self, stream_id: str) -> None:
        self._collection.delete(where={"stream_id": stream_id})

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
        does not return: stored, but lost to search. Empty when the store is sound.

        This asks `query`, as searches do: chromadb's index alone misses a clip among many identical
        vectors even in a sound store (issue 12.8), which `query` makes up for by scoring exactly."""
        return self._unreachable(
            [(entry.clip.clip_id, entry.embedding, clip_metadata(entry.clip)) for entry in entries]
        )

    def unreachable_in_sample(self, n: int, rng: random.Random, index_only: bool = False) -> list[str]:
        """`unreachable` for up to `n` consecutive stored clips from a random place: a cheap check of
        a store that an older version (or another crash) may have left with clips lost to search.
        `index_only` asks chromadb's index alone (to see what a rebuild repairs)."""
        offset = rng.randrange(max(1, self.count() - n + 1))
        page = self._collection.get(limit=n, offset=offset, include=["embeddings", "metadatas"])
        records = list(zip(page["ids"], page["embeddings"], page["metadatas"], strict=True))
        return self._unreachable(records, index_only)

    def _unreachable(
        self, records: Sequence[tuple[str, Any, Mapping[str, Any]]], index_only: bool = False
    ) -> list[str]:
        lookup = self._index_query if index_only else self.query
        lost = []
        for clip_id, vector, metadata in records:
            where = {"$and": [{"stream_id": metadata["stream_id"]}, {"start_s": float(metadata["start_s"])}]}
            found = lookup(np.asarray(vector, dtype=np.float32), _REACHABILITY_K, where)
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
        self.connection.close()
        self._client = self._collection = None

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

    def _check_embedder(self) -> None:
        metadata = self._collection.metadata or {}
        stored = (metadata.get("embedder"), metadata.get("dim"))
        if stored != (self._embedder_name, self._dim):
            self.close()
            raise FailedPrecondition(
                f"the memory in {self.path} was built with embedder {stored[0]} ({stored[1]}-d), not "
                f"{self._embedder_name} ({self._dim}-d); start with that embedder or use a new data directory"
            )
