"""Text embedder backends by name, imported only when chosen (each pulls in torch)."""

from __future__ import annotations

from longwatch.backends import Backends
from memory_service.core.embedders.base import TextEmbedder
from memory_service.core.types import EmbedderOptions

# name -> module with `build(options) -> TextEmbedder`
EMBEDDERS: dict[str, str] = {
    "tiny": "memory_service.core.embedders.tiny",
    "minilm": "memory_service.core.embedders.minilm",
    "sentence-transformers": "memory_service.core.embedders.sentence_transformers_hf",
}

# profile name -> embedder name used when the settings name none
DEFAULT_EMBEDDER_BY_PROFILE: dict[str, str] = {
    "tiny": "tiny",
    "cpu": "minilm",
    "gpu": "sentence-transformers",
}

__all__ = ["DEFAULT_EMBEDDER_BY_PROFILE", "EMBEDDERS", "TextEmbedder", "embedder_name_for", "load_embedder"]


_BACKENDS: Backends[TextEmbedder] = Backends("embedder", EMBEDDERS, DEFAULT_EMBEDDER_BY_PROFILE)


def embedder_name_for(profile: str, configured: str | None) -> str:
    """The configured embedder, else the profile's default."""
    return _BACKENDS.name_for(profile, configured)


def load_embedder(name: str, options: EmbedderOptions) -> TextEmbedder:
    """Imports and builds the named embedder (loads weights: seconds, not for the event loop)."""
    return _BACKENDS.load(name, options)
