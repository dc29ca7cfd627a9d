"""The stores of the hierarchy above the clips, and of every level's visual vectors, in chromadb.

One collection per level for summaries (`nodes_l1`, `nodes_l2`, ...: the summary's text embedding,
its match-form text as the document, spans and children as metadata), and one per level and
vector size for visual vectors (`visual_l0_d48`, ...), so a change of vision encoder never mixes
spaces. Node ids are deterministic, so building a node again after a crash finds it stored and
leaves it alone (upserting records over themselves is what once broke chromadb's index).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from memory_service.core.hierarchy import TreeNode
from memory_service.core.store import text_key

_VISUAL_PREFIX = "visual_l"
_PAGE = 1000


def node_collection(level: int) -> str:
    return f"nodes_l{level}"


def visual_collection(level: int, dim: int) -> str:
    return f"{_VISUAL_PREFIX}{level}_d{dim}"


def summary_text(captions: Sequence[str], ocr_lines: Sequence[str]) -> str:
    """A node's text as users see it, in the form of a clip's: captions, then the text on screen."""
    parts = ["; ".join(captions)] if captions else []
    if ocr_lines:
        parts.append("text on screen: " + " | ".join(ocr_lines))
    return ". ".join(parts)


def node_metadata(node: TreeNode) -> dict[str, Any]:
    return {
        "stream_id": node.stream_id,
        "level": node.level,
        "seq": node.seq,
        "start_s": float(node.start_s),
        "end_s": float(node.end_s),
        "start_wall_ms": int(node.start_wall_ms),
        "end_wall_ms": int(node.end_wall_ms),
        "caption": "\n".join(node.captions),
        "ocr": "\n".join(node.ocr_lines),
        "child_ids": "\n".join(node.child_ids),
        "text_key": text_key(node.match_text),
    }


def _lines(value: Any) -> tuple[str, ...]:
    text = str(value or "")
    return tuple(text.split("\n")) if text else ()


def node_from_record(record_id: str, metadata: Mapping[str, Any], document: str | None, vector: Any = None) -> TreeNode:
    captions, ocr_lines = _lines(metadata.get("caption")), _lines(metadata.get("ocr"))
    return TreeNode(
        node_id=record_id,
        stream_id=str(metadata["stream_id"]),
        level=int(metadata["level"]),
        seq=int(metadata["seq"]),
        start_s=float(metadata["start_s"]),
        end_s=float(metadata["end_s"]),
        text=summary_text(captions, ocr_lines),
        match_text=document or "",
        captions=captions,
        ocr_lines=ocr_lines,
        start_wall_ms=int(metadata.get("start_wall_ms") or 0),
        end_wall_ms=int(metadata.get("end_wall_ms") or 0),
        child_ids=_lines(metadata.get("child_ids")),
        text_vector=None if vector is None else np.asarray(vector, dtype=np.float32),
    )


def _visual_metadata(node: TreeNode) -> dict[str, Any]:
    return {
        "stream_id": node.stream_id,
        "level": node.level,
        "seq": node.seq,
        "start_s": float(node.start_s),
        "end_s": float(node.end_s),
        "start_wall_ms": int(node.start_wall_ms),
    }


def _query(
    collection: Any, vector: np.ndarray, n_results: int, where: Mapping[str, Any] | None, include: list[str]
) -> Any:
    return collection.query(
        query_embeddings=[np.asarray(vector, dtype=np.float32)],
        n_results=n_results,
        where=dict(where) if where else None,
        include=include,
    )


def record_bytes(vector: np.ndarray | None, document: str, metadata: Mapping[str, Any]) -> tuple[int, int]:
    """(vector bytes, text and metadata bytes) one record holds, as Stats and retention count them."""
    vector_bytes = 0 if vector is None else int(np.asarray(vector).size) * 4
    metadata_bytes = len(document.encode()) + sum(
        len(str(key)) + len(str(value).encode()) for key, value in metadata.items()
    )
    return vector_bytes, metadata_bytes


class NodeStore:
    """Summary nodes (levels 1 and up) and the visual vectors of every level."""

    def __init__(self, embedder_name: str, dim: int) -> None:
        self._embedder_name = embedder_name
        self._dim = dim
        self._client: Any = None
        self._collections: dict[str, Any] = {}

    def open(self, client: Any) -> None:
        self._client = client
        self._collections = {}
        for collection in client.list_collections():
            name = collection.name
            if name.startswith(("nodes_l", _VISUAL_PREFIX)):
                self._collections[name] = client.get_collection(name, embedding_function=None)

    def put(self, node: TreeNode) -> tuple[int, int]:
        """Stores a built node (its text vector, and its visual vector when it has one) unless it is stored
        as it is already; returns the bytes it holds (vectors, text and metadata)."""
        assert node.text_vector is not None
        collection = self._collection(node_collection(node.level), self._dim)
        metadata = node_metadata(node)
        stored = collection.get(ids=[node.node_id], include=["documents", "metadatas"])
        if not stored["ids"] or stored["documents"][0] != node.match_text or dict(stored["metadatas"][0]) != metadata:
            collection.upsert(
                ids=[node.node_id],
                embeddings=node.text_vector[np.newaxis, :],
                documents=[node.match_text],
                metadatas=[metadata],
            )
        vector_bytes, metadata_bytes = record_bytes(node.text_vector, node.match_text, metadata)
        if node.visual_vector is not None:
            self.put_visual([node])
            vector_bytes += node.visual_vector.size * 4
        return vector_bytes, metadata_bytes

    def put_visual(self, nodes: Sequence[TreeNode]) -> None:
        """Stores the visual vectors of the nodes that have one (clips at level 0, built nodes above)."""
        by_collection: dict[str, list[TreeNode]] = {}
        for node in nodes:
            if node.visual_vector is not None and node.visual_vector.size:
                by_collection.setdefault(visual_collection(node.level, node.visual_vector.size), []).append(node)
        for name, members in by_collection.items():
            members = list({node.node_id: node for node in members}.values())  # one id once per batch
            collection = self._collection(name, members[0].visual_vector.size)
            collection.upsert(
                ids=[node.node_id for node in members],
                embeddings=np.stack([node.visual_vector for node in members]),  # (N, V)
                metadatas=[_visual_metadata(node) for node in members],
            )

    def nearest_summaries(
        self, level: int, vector: np.ndarray, n_results: int, where: Mapping[str, Any] | None
    ) -> list[TreeNode]:
        """The summary nodes of `level` >= 1 nearest `vector` by chromadb's index, with their vectors."""
        collection = self._collections.get(node_collection(level))
        if collection is None:
            return []
        result = _query(collection, vector, n_results, where, ["documents", "metadatas", "embeddings"])
        rows = zip(
            result["ids"][0], result["metadatas"][0], result["documents"][0], result["embeddings"][0], strict=True
        )
        return [
            node_from_record(record_id, metadata, document, vector) for record_id, metadata, document, vector in rows
        ]

    def nearest_visual(
        self, level: int, vector: np.ndarray, n_results: int, where: Mapping[str, Any] | None
    ) -> dict[str, np.ndarray]:
        """Ids and visual vectors of the nodes of `level` nearest `vector` by chromadb's index."""
        collection = self._collections.get(visual_collection(level, int(vector.size)))
        if collection is None:
            return {}
        result = _query(collection, vector, n_results, where, ["embeddings"])
        rows = zip(result["ids"][0], result["embeddings"][0], strict=True)
        return {record_id: np.asarray(found, dtype=np.float32) for record_id, found in rows}

    def get(self, level: int, ids: Sequence[str], vectors: bool = True) -> list[TreeNode]:
        """The stored nodes of `level` >= 1 among `ids`, in the order of `ids`; missing ones left out."""
        collection = self._collections.get(node_collection(level))
        if collection is None or not ids:
            return []
        ids = list(dict.fromkeys(ids))  # chromadb refuses an id named twice
        include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
        found: dict[str, TreeNode] = {}
        for start in range(0, len(ids), _PAGE):
            result = collection.get(ids=list(ids[start : start + _PAGE]), include=include)
            embeddings = result["embeddings"] if vectors else [None] * len(result["ids"])
            for record_id, metadata, document, vector in zip(
                result["ids"], result["metadatas"], result["documents"], embeddings, strict=True
            ):
                found[record_id] = node_from_record(record_id, metadata, document, vector)
        return [found[node_id] for node_id in ids if node_id in found]

    def visual_vectors(self, level: int, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The visual vectors stored for `ids` at `level`, by id (from every vector size of the level)."""
        vectors: dict[str, np.ndarray] = {}
        if not ids:
            return vectors
        for name, collection in self._collections.items():
            if not name.startswith(f"{_VISUAL_PREFIX}{level}_d"):
                continue
            result = collection.get(ids=list(ids), include=["embeddings"])
            for record_id, vector in zip(result["ids"], result["embeddings"], strict=True):
                vectors[record_id] = np.asarray(vector, dtype=np.float32)
        return vectors

    def delete(self, level: int, ids: Sequence[str]) -> None:
        """Removes nodes of `level` (summaries, and visual vectors; at level 0 only the visual vectors)."""
        if not ids:
            return
        for name, collection in self._collections.items():
            if name == node_collection(level) or name.startswith(f"{_VISUAL_PREFIX}{level}_d"):
                collection.delete(ids=list(ids))

    def delete_stream(self, stream_id: str) -> None:
        for collection in self._collections.values():
            collection.delete(where={"stream_id": stream_id})

    def _collection(self, name: str, dim: int) -> Any:
        if name not in self._collections:
            self._collections[name] = self._client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": self._embedder_name if name.startswith("nodes_l") else "visual", "dim": dim},
                embedding_function=None,
            )
        return self._collections[name]
