"""Captioner backends by name, imported only when chosen (they load models)."""

from __future__ import annotations

import importlib

from longwatch.errors import InvalidArgument
from perception.core.captioners.base import Captioner, CaptionerOptions

# name -> module with `build(options) -> Captioner`
CAPTIONERS: dict[str, str] = {
    "ocr": "perception.core.captioners.ocr",
    "vlm": "perception.core.captioners.vlm",
}

# profile name -> captioner used when the settings name none
DEFAULT_CAPTIONER_BY_PROFILE: dict[str, str] = {
    "tiny": "vlm",
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


def captioner_name_for(profile: str, configured: str | None) -> str:
    """The configured captioner, else the profile's default."""
    if configured:
        return configured
    try:
        return DEFAULT_CAPTIONER_BY_PROFILE[profile]
    except KeyError:
        valid = ", ".join(sorted(DEFAULT_CAPTIONER_BY_PROFILE))
        raise InvalidArgument(f"no default captioner for profile {profile!r}; valid profiles: {valid}") from None


def load_captioner(name: str, options: CaptionerOptions) -> Captioner:
    """Imports and builds the named backend (loads models: seconds, not for the event loop)."""
    try:
        module_name = CAPTIONERS[name]
    except KeyError:
        valid = ", ".join(sorted(CAPTIONERS))
        raise InvalidArgument(f"unknown captioner {name!r}; valid captioners: {valid}") from None
    return importlib.import_module(module_name).build(options)
