"""Device choice for the torch backends (imported by them only: torch is not loaded otherwise)."""

from __future__ import annotations


def resolve_device(requested: str | None) -> str:
    """The requested torch device, or CUDA when one is available, else the CPU."""
    import torch

    if requested:
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def dtype_for(device: str):
    """Half precision on CUDA (twice the frames per second, same ranking); float32 on the CPU."""
    import torch

    return torch.float16 if device.startswith("cuda") else torch.float32
