"""Vision encoder backends by name, imported only when chosen (hf-clip pulls in torch)."""

from __future__ import annotations

import importlib

from longwatch.errors import InvalidArgument
from perception.core.encoders.base import EncoderOptions, VisionEncoder

# name -> module with `build(options) -> VisionEncoder`
ENCODERS: dict[str, str] = {
    "pixel-stats": "perception.core.encoders.pixel_stats",
    "hf-clip": "perception.core.encoders.hf_clip",
}

# profile name -> encoder used when the settings name none
DEFAULT_ENCODER_BY_PROFILE: dict[str, str] = {
    "tiny": "hf-clip",
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


def encoder_name_for(profile: str, configured: str | None) -> str:
    """The configured encoder, else the profile's default."""
    if configured:
        return configured
    try:
        return DEFAULT_ENCODER_BY_PROFILE[profile]
    except KeyError:
        valid = ", ".join(sorted(DEFAULT_ENCODER_BY_PROFILE))
        raise InvalidArgument(f"no default encoder for profile {profile!r}; valid profiles: {valid}") from None


def load_encoder(name: str, options: EncoderOptions) -> VisionEncoder:
    """Imports and builds the named backend (loads weights: seconds, not for the event loop)."""
    try:
        module_name = ENCODERS[name]
    except KeyError:
        valid = ", ".join(sorted(ENCODERS))
        raise InvalidArgument(f"unknown encoder {name!r}; valid encoders: {valid}") from None
    return importlib.import_module(module_name).build(options)
