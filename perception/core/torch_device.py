"""Device, precision and attention kernel for the torch backends (imported by them only: torch is not
loaded otherwise)."""

from __future__ import annotations

import importlib.util
import logging

logger = logging.getLogger(__name__)


def resolve_device(requested: str | None) -> str:
    """The requested torch device, or CUDA when one is available, else the CPU."""
    import torch

    if requested:
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def is_cuda(device: str) -> bool:
    return device.startswith("cuda")


def dtype_for(device: str):
    """Half precision on CUDA (twice the frames per second, same ranking); float32 on the CPU."""
    import torch

    return torch.float16 if is_cuda(device) else torch.float32


def attention_for(device: str) -> str:
    """flash-attn's kernel on CUDA where the package is installed (it runs only there, in half precision),
    else PyTorch's scaled-dot-product attention."""
    if is_cuda(device) and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def from_pretrained(model_class, model: str, device: str, **kwargs):
    """`model_class.from_pretrained(model)` in `dtype_for(device)` with `attention_for(device)`, moved to
    `device`, in eval mode. A model whose architecture lacks that attention kernel loads with its default."""
    dtype = dtype_for(device)
    attention = attention_for(device)
    try:
        loaded = model_class.from_pretrained(model, dtype=dtype, attn_implementation=attention, **kwargs)
    except ValueError as error:  # transformers: "... does not support ... attention" for this architecture
        if "attention" not in str(error).lower() and "attn" not in str(error).lower():
            raise
        logger.info("%s has no %s attention (%s); loading with its default", model, attention, error)
        loaded = model_class.from_pretrained(model, dtype=dtype, **kwargs)
    return loaded.to(device).eval()


def to_device(tensor, device: str, dtype=None):
    """The tensor on `device`; on CUDA through pinned memory, so the copy does not stall the host thread."""
    if is_cuda(device):
        tensor = tensor.pin_memory()
    return tensor.to(device, dtype=dtype, non_blocking=is_cuda(device))
