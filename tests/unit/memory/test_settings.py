"""MemorySettings: defaults, env names, refusals of unknown fields and bad values; the embedder table agrees."""

from __future__ import annotations

import typing
from pathlib import Path

import pydantic
import pytest

from longwatch.errors import InvalidArgument
from longwatch.settings import DEFAULT_MEMORY_PORT
from memory_service.core.embedders import DEFAULT_EMBEDDER_BY_PROFILE, EMBEDDERS, embedder_name_for, load_embedder
from memory_service.core.types import EmbedderOptions
from memory_service.settings import EmbedderName, MemorySettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("LONGWATCH_PROFILE", "LONGWATCH_DATA_DIR", "LONGWATCH_MEMORY_PORT", "LONGWATCH_MEMORY_EMBEDDER"):
        monkeypatch.delenv(name, raising=False)


def test_defaults():
    settings = MemorySettings()
    assert settings.port == DEFAULT_MEMORY_PORT == 50062
    assert settings.embedder is None
    assert settings.metrics_port == 0


def test_env_prefix_and_shared_names(monkeypatch, tmp_path):
    monkeypatch.setenv("LONGWATCH_MEMORY_PORT", "51000")
    monkeypatch.setenv("LONGWATCH_MEMORY_EMBEDDER", "minilm")
    monkeypatch.setenv("LONGWATCH_DATA_DIR", str(tmp_path))
    settings = MemorySettings()
    assert (settings.port, settings.embedder) == (51000, "minilm")
    assert settings.memory_dir == tmp_path / "memory"
    assert {settings.wal_dir.parent, settings.chroma_dir.parent, settings.stream_index_path.parent} == {
        tmp_path / "memory"
    }


def test_unknown_field_is_rejected():
    with pytest.raises(pydantic.ValidationError, match="extra"):
        MemorySettings(wal_size=3)


@pytest.mark.parametrize(
    "bad",
    [
        {"port": 0},
        {"port": 70000},
        {"exact_term_bonus": -0.1},
        {"search_candidates": 0},
        {"wal_segment_bytes": 10},
        {"max_exact_terms": -1},
        {"embedder_model": ""},
    ],
)
def test_bad_values_are_rejected_naming_the_field(bad):
    with pytest.raises(pydantic.ValidationError, match=next(iter(bad))):
        MemorySettings(**bad)


def test_unknown_embedder_lists_the_valid_ones():
    with pytest.raises(pydantic.ValidationError, match="minilm"):
        MemorySettings(embedder="huge")
    with pytest.raises(InvalidArgument, match="minilm, sentence-transformers, tiny"):
        load_embedder("huge", EmbedderOptions(model_cache=Path("/nonexistent")))


def test_settings_names_and_the_table_agree():
    literal = typing.get_args(EmbedderName)
    assert set(literal) == set(EMBEDDERS)
    assert set(DEFAULT_EMBEDDER_BY_PROFILE.values()) <= set(EMBEDDERS)


@pytest.mark.parametrize(
    ("profile", "expected"), [("tiny", "tiny"), ("cpu", "minilm"), ("gpu", "sentence-transformers")]
)
def test_each_profile_has_a_default_embedder(profile, expected):
    assert embedder_name_for(profile, None) == expected
    assert embedder_name_for(profile, "tiny") == "tiny"
