"""Text embedder backends by name, imported only when chosen (each pulls in torch)."""

from __future__ import annotations

import importlib

from longwatch.errors import InvalidArgument
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


def embedder_name_for(profile: str, configured: str | None) -> str:
    """The configured embedder, else the profile's default."""
    if configured:
        return configured
    try:
        return DEFAULT_EMBEDDER_BY_PROFILE[profile]
    except KeyError:
        valid = ", ".join(sorted(DEFAULT_EMBEDDER_BY_PROFILE))
        raise InvalidArgument(f"no default embedder for profile {profile!r}; valid profiles: {valid}") from None


def load_embedder(name: str, options: EmbedderOptions) -> TextEmbedder:
    """Imports and builds the named backend (loads its weights: seconds, not for the event loop)."""
    try:
        module_name = EMBEDDERS[name]
    except KeyError:
        valid = ", ".join(sorted(EMBEDDERS))
        raise InvalidArgument(f"unknown embedder {name!r}; valid embedders: {valid}") from None
    return importlib.import_module(module_name).build(options)
