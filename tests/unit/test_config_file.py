"""LONGWATCH_CONFIG_FILE: one YAML file for every service, the environment winning, nothing it cannot mean."""

import pydantic
import pytest

from longwatch.errors import InvalidArgument
from longwatch.settings import CONFIG_FILE_ENV, CommonSettings
from memory_service.settings import MemorySettings
from reasoner.settings import ReasonerSettings

CONFIG = """
log_format: json
drain_s: 3
memory:
  fanout: 8
  log_level: DEBUG
reasoner:
  node_budget: 40
"""


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    def write(text: str):
        path = tmp_path / "longwatch.yaml"
        path.write_text(text)
        monkeypatch.setenv(CONFIG_FILE_ENV, str(path))
        return path

    for name in ("LONGWATCH_LOG_FORMAT", "LONGWATCH_LOG_LEVEL", "LONGWATCH_MEMORY_FANOUT", "LONGWATCH_DRAIN_S"):
        monkeypatch.delenv(name, raising=False)
    return write


def test_shared_settings_reach_every_service_and_a_section_only_its_own(config_file):
    config_file(CONFIG)
    memory, reasoner = MemorySettings(), ReasonerSettings()
    assert (memory.log_format, memory.drain_s, memory.fanout) == ("json", 3.0, 8)
    assert memory.log_level == "DEBUG"  # a section may override a shared setting for its service alone
    assert (reasoner.log_format, reasoner.log_level, reasoner.node_budget) == ("json", "INFO", 40)


def test_the_environment_wins_over_the_file(config_file, monkeypatch):
    config_file(CONFIG)
    monkeypatch.setenv("LONGWATCH_MEMORY_FANOUT", "4")
    monkeypatch.setenv("LONGWATCH_LOG_FORMAT", "text")
    settings = MemorySettings()
    assert (settings.fanout, settings.log_format) == (4, "text")


def test_values_are_validated_like_environment_values(config_file):
    config_file("memory:\n  fanout: 1\n")
    with pytest.raises(pydantic.ValidationError, match="fanout"):
        MemorySettings()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("memory:\n  fanoutt: 8\n", "memory.fanoutt is not a memory setting"),
        ("profil: cpu\n", "'profil' is not a shared setting or a section"),
        ("memory: [1, 2]\n", "section 'memory' must be a mapping"),
        ("- a\n- b\n", "must be a mapping"),
        ("memory: {fanout: 8\n", "not valid YAML"),
        ("reasoner:\n  openai_api_key: sk-123\n", "'openai_api_key' is a secret"),
        ("api_token: hunter2\n", "'api_token' is a secret"),
    ],
)
def test_what_the_file_cannot_mean_is_named(config_file, text, named):
    config_file(text)
    with pytest.raises(InvalidArgument, match=named) as caught:
        ReasonerSettings() if "reasoner" in text else MemorySettings()
    assert "hunter2" not in str(caught.value) and "sk-123" not in str(caught.value)


def test_a_missing_file_says_which(monkeypatch, tmp_path):
    monkeypatch.setenv(CONFIG_FILE_ENV, str(tmp_path / "absent.yaml"))
    with pytest.raises(InvalidArgument, match="absent.yaml.*cannot be read"):
        CommonSettings()


def test_an_empty_file_changes_nothing(config_file):
    config_file("")
    assert MemorySettings().fanout == MemorySettings.model_fields["fanout"].default
