"""The text embedder seam, and the sentence-transformers wrapper the backends share."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import numpy as np

logger = logging.getLogger(__name__)

WARM_UP_TEXT = "a red car with plate KX 4721 stops at the gate"


class TextEmbedder(Protocol):
    """Turns texts into unit vectors; the same text always gives the same vector."""

    name: str  # identifies the model: a store built with one embedder refuses another
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Returns (N, dim) float32 rows, each L2-normalised."""
        ...


class SentenceTransformerEmbedder:
    """A loaded sentence-transformers model, warmed by one forward pass at construction."""

    def __init__(self, name: str, model: str, device: str | None, batch_size: int) -> None:
        from sentence_transformers import SentenceTransformer

        logger.info("loading text embedder %s from %s", name, model)
        self.name = name
        self._batch_size = batch_size
        self._model = SentenceTransformer(model, device=device)
        # The first pass allocates and compiles kernels; doing it here keeps it off the first request.
        self.dim = int(self.embed([WARM_UP_TEXT]).shape[1])
        logger.info("text embedder %s ready: %d-d on %s", name, self.dim, self._model.device)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )  # (N, D)
        return np.ascontiguousarray(vectors, dtype=np.float32)
