"""tiny profile: a random-weight 32-d BERT built once into the model cache; tests code paths, not quality."""

from __future__ import annotations

from memory_service.core.embedders.base import SentenceTransformerEmbedder
from memory_service.core.types import EmbedderOptions

# Shared with any other service that wants the tiny text embedder: the builder is seeded, so one name, one model.
CACHE_NAME = "tiny-text-embedder"


def build(options: EmbedderOptions) -> SentenceTransformerEmbedder:
    from longwatch.models.cache import prepared
    from longwatch.models.tiny import build_text_embedder

    directory = prepared(options.model_cache, CACHE_NAME, build_text_embedder)
    return SentenceTransformerEmbedder(
        name=CACHE_NAME, model=str(directory), device=options.device or "cpu", batch_size=options.batch_size
    )
