"""Captioner backends by name, imported only when chosen (they load models)."""

from __future__ import annotations

from longwatch.backends import Backends
from perception.core.captioners.base import Captioner, CaptionerOptions

# name -> module with `build(options) -> Captioner`
CAPTIONERS: dict[str, str] = {
    "ocr": "perception.core.captioners.ocr",
    "vlm": "perception.core.captioners.vlm",
    "tiny-vlm": "perception.core.captioners.vlm:build_tiny",
}

# profile name -> captioner used when the settings name none
DEFAULT_CAPTIONER_BY_PROFILE: dict[str, str] = {
    "tiny": "tiny-vlm",
    "cpu": "ocr",
    "gpu": "vlm",
}

__all__ = [
    "CAPTIONERS",
    "DEFAULT_CAPTIONER_BY_PROFILE",
    "Captioner",
    "CaptionerOptions",
    "captioner_name_for",
    "load_captioner",
]


_BACKENDS: Backends[Captioner] = Backends("captioner", CAPTIONERS, DEFAULT_CAPTIONER_BY_PROFILE)


def captioner_name_for(profile: str, configured: str | None) -> str:
    """The configured captioner, else the profile's default."""
    return _BACKENDS.name_for(profile, configured)


def load_captioner(name: str, options: CaptionerOptions) -> Captioner:
    """Imports and builds the named captioner (loads weights: seconds, not for the event loop)."""
    return _BACKENDS.load(name, options)
