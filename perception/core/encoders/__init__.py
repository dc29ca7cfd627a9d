"""Vision encoder backends by name, imported only when chosen (hf-clip and vlm-vision pull in torch)."""

from __future__ import annotations

from longwatch.backends import Backends
from perception.core.encoders.base import EncoderOptions, VisionEncoder

# name -> module with `build(options) -> VisionEncoder`
ENCODERS: dict[str, str] = {
    "pixel-stats": "perception.core.encoders.pixel_stats",
    "hf-clip": "perception.core.encoders.hf_clip",  # CLIP or SigLIP by id or path (encoder_model)
    "vlm-vision": "perception.core.encoders.vlm_vision",  # the captioning VLM's vision tower (encoder_vlm_model)
    "tiny-clip": "perception.core.encoders.hf_clip:build_tiny",
    "tiny-siglip": "perception.core.encoders.hf_clip:build_tiny_siglip",
    "tiny-vlm-vision": "perception.core.encoders.vlm_vision:build_tiny",
}

# profile name -> encoder used when the settings name none
DEFAULT_ENCODER_BY_PROFILE: dict[str, str] = {
    "tiny": "tiny-clip",
    "cpu": "pixel-stats",
    "gpu": "hf-clip",
}

__all__ = [
    "DEFAULT_ENCODER_BY_PROFILE",
    "ENCODERS",
    "EncoderOptions",
    "VisionEncoder",
    "encoder_name_for",
    "load_encoder",
]


_BACKENDS: Backends[VisionEncoder] = Backends("encoder", ENCODERS, DEFAULT_ENCODER_BY_PROFILE)


def encoder_name_for(profile: str, configured: str | None) -> str:
    """The configured encoder, else the profile's default."""
    return _BACKENDS.name_for(profile, configured)


def load_encoder(name: str, options: EncoderOptions) -> VisionEncoder:
    """Imports and builds the named encoder (loads weights: seconds, not for the event loop)."""
    return _BACKENDS.load(name, options)
