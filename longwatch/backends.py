"""Model backends chosen by name, imported only when chosen (most pull in torch and load weights).

Each service keeps one `Backends` per kind of model (vision encoder, captioner, text embedder, LLM):
the names it knows, each a `module` with `build(options)` or a `module:function`, and the name each
profile uses when the settings name none.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from longwatch.errors import InvalidArgument

T = TypeVar("T")


class Backends(Generic[T]):
    def __init__(self, kind: str, targets: Mapping[str, str], default_by_profile: Mapping[str, str]) -> None:
        unknown = set(default_by_profile.values()) - set(targets)
        if unknown:
            raise ValueError(f"{kind} defaults name unknown backends: {sorted(unknown)}")
        self.kind = kind
        self.targets = dict(targets)
        self.default_by_profile = dict(default_by_profile)

    def name_for(self, profile: str, configured: str | None) -> str:
        """The configured backend, else the profile's default."""
        if configured:
            return configured
        try:
            return self.default_by_profile[profile]
        except KeyError:
            valid = ", ".join(sorted(self.default_by_profile))
            raise InvalidArgument(f"no default {self.kind} for profile {profile!r}; valid profiles: {valid}") from None

    def load(self, name: str, options: Any) -> T:
        """Imports and builds the named backend (loads weights: seconds, not for the event loop)."""
        try:
            target = self.targets[name]
        except KeyError:
            valid = ", ".join(sorted(self.targets))
            raise InvalidArgument(f"unknown {self.kind} {name!r}; valid: {valid}") from None
        module_name, _, function_name = target.partition(":")
        return getattr(importlib.import_module(module_name), function_name or "build")(options)
