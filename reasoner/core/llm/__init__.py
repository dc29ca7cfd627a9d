"""LLM backends by name, imported only when chosen (the local one pulls in torch).

Each entry is `module:function`, the function taking `LLMOptions` and returning an `LLM`. The
`tiny` and `gemma` entries are the transformers backend with a model prepared in the model cache;
`vlm` is a local vision-language model that also sees the keyframes' images.
"""

from __future__ import annotations

from longwatch.backends import Backends
from reasoner.core.llm.base import LLM, cut_at_stop
from reasoner.core.types import LLMOptions

LLMS: dict[str, str] = {
    "tiny": "reasoner.core.llm.transformers_local:build_tiny",
    "gemma": "reasoner.core.llm.transformers_local:build_gemma",
    "transformers": "reasoner.core.llm.transformers_local:build",
    "vlm": "reasoner.core.llm.vlm_local:build",
    "openai-compatible": "reasoner.core.llm.openai_compatible:build",
}

# profile name -> LLM name used when the settings name none
DEFAULT_LLM_BY_PROFILE: dict[str, str] = {
    "tiny": "tiny",
    "cpu": "gemma",
    "gpu": "transformers",
}

__all__ = ["DEFAULT_LLM_BY_PROFILE", "LLM", "LLMS", "cut_at_stop", "llm_name_for", "load_llm"]


_BACKENDS: Backends[LLM] = Backends("LLM backend", LLMS, DEFAULT_LLM_BY_PROFILE)


def llm_name_for(profile: str, configured: str | None) -> str:
    """The configured LLM backend, else the profile's default."""
    return _BACKENDS.name_for(profile, configured)


def load_llm(name: str, options: LLMOptions) -> LLM:
    """Imports and builds the named LLM backend (loads weights: seconds, not for the event loop)."""
    return _BACKENDS.load(name, options)
