"""gpu profile: any sentence-transformers model by Hugging Face id or local path, on CUDA when available."""

from __future__ import annotations

from memory_service.core.embedders.base import SentenceTransformerEmbedder
from memory_service.core.types import EmbedderOptions


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def build(options: EmbedderOptions) -> SentenceTransformerEmbedder:
    if not options.model:
        from longwatch.errors import InvalidArgument

        raise InvalidArgument("the sentence-transformers embedder needs a model id or path: set embedder_model")
    return SentenceTransformerEmbedder(
        name=f"sentence-transformers:{options.model}",
        model=options.model,
        device=options.device or _default_device(),
        batch_size=options.batch_size,
    )
