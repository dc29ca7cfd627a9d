"""Fakes and builders for the memory unit tests: a real chromadb in tmp_path, a fake embedder, no weights."""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memory_service.core.chroma import ChromaConnection, ChromaLocation
from memory_service.core.consolidate import HierarchyLimits
from memory_service.core.memory import Memory
from memory_service.core.store import ClipStore
from memory_service.core.streams import StreamIndex
from memory_service.core.types import ClipLimits, SearchLimits
from memory_service.core.wal import WriteAheadLog


class FakeEmbedder:
    """Bag of words: each alphabetic word is a fixed random direction; digits are ignored,
    the way real embedders blur plate numbers. Texts sharing words are near each other."""

    name = "fake-bag-of-words"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        rows = np.zeros((len(texts), self.dim))
        for row, text in zip(rows, texts, strict=True):
            for word in re.findall(r"[a-z]+", text.lower()):
                row += np.random.default_rng(zlib.crc32(word.encode())).normal(size=self.dim)
            if not row.any():
                row[0] = 1.0
            row /= np.linalg.norm(row)
        return rows.astype(np.float32)


def run(coroutine):
    return asyncio.run(coroutine)


class MemoryFactory:
    """Builds a Memory on one directory; build again after close() to simulate a restart."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.embedder = FakeEmbedder()
        self.chroma_url = ""  # a chroma server's URL; empty = embedded in `root`

    def build(
        self,
        search_limits: SearchLimits | None = None,
        segment_bytes: int = 1 << 20,
        hierarchy: HierarchyLimits | None = None,
    ) -> Memory:
        return Memory(
            embedder=self.embedder,
            store=self.store(),
            streams=StreamIndex(self.root / "streams.sqlite3"),
            wal=self.wal(segment_bytes),
            search_limits=search_limits or SearchLimits(),
            clip_limits=ClipLimits(max_text_chars=1000),
            keyframe_dir=self.root / "keyframes",
            hierarchy=hierarchy,
        )

    def store(self) -> ClipStore:
        connection = ChromaConnection(ChromaLocation(self.root / "chroma", self.chroma_url))
        return ClipStore(connection, self.embedder.name, self.embedder.dim)

    def wal(self, segment_bytes: int = 1 << 20) -> WriteAheadLog:
        return WriteAheadLog(self.root / "wal", segment_bytes)
