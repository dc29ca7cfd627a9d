"""The clip store: level 0 of the memory in an embedded chromadb, owned by this process alone.

Embeddings are always passed in (never chromadb's default embedding function, which
downloads a model). Times are stored as numbers so range filters work. The document is
the clip's text in *match form* (case-folded words separated by single spaces, padded
with a space each side) so that `$contains " kx 4721 "` finds whole words and phrases
whatever their case or punctuation; the text users see is rebuilt from the metadata.
"""

from __future__ import annotations

import fcntl
import logging
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
_NOT_WORD = re.compile(r"[\W_]+")


def match_words(text: str) -> str:
    """Case-folded words joined by single spaces: 'Plate: KX-4721!' -> 'plate kx 4721'."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def match_form(text: str) -> str:
    """`match_words` padded with a space each side, so a padded term only matches whole words."""
    return f" {match_words(text)} "


def _metadata(clip: ClipRecord) -> dict[str, Any]:
    return {
        "stream_id": clip.stream_id,
        "start_s": float(clip.start_s),
        "end_s": float(clip.end_s),
        "caption": clip.caption,
        "ocr": "\n".join(clip.ocr_lines),
        "frame_count": int(clip.frame_count),
        "start_wall_ms": int(clip.start_wall_ms),
    }


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
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": self._embedder_name, "dim": self._dim},
            embedding_function=None,
        )
        self._check_embedder()
        logger.info("clip store %s: %d clips", self.path, self._collection.count())

    def upsert(self, entries: Sequence[WalEntry]) -> None:
        """Stores the entries; an existing clip id is overwritten, so re-applying is harmless."""
        # chromadb refuses a batch naming one id twice, and the log holds repeats (a clip resent after a
        # reconnect, a file ingested again): the latest entry of an id is the one that counts.
        entries = list({entry.clip.clip_id: entry for entry in entries}.values())
        if not entries:
            return
        self._collection.upsert(
            ids=[entry.clip.clip_id for entry in entries],
            embeddings=np.stack([entry.embedding for entry in entries]),  # (N, D)
            documents=[match_form(entry.clip.text) for entry in entries],
            metadatas=[_metadata(entry.clip) for entry in entries],
        )

    def query(
        self,
        embedding: np.ndarray,
        n_results: int,
        where: Mapping[str, Any] | None = None,
        contains: str | None = None,
    ) -> list[StoredClip]:
        """The `n_results` clips nearest `embedding` (D,) that pass `where` and contain `contains`."""
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
        return [
            StoredClip(
                clip_id=clip_id,
                stream_id=str(metadata["stream_id"]),
                start_s=float(metadata["start_s"]),
                end_s=float(metadata["end_s"]),
                text=_display_text(metadata),
                match_text=document or "",
                similarity=1.0 - float(distance),  # cosine space: distance = 1 - cosine similarity
            )
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
