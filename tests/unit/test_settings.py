"""Shared settings reject what a user would get wrong, with the field named."""

import pydantic
import pytest

from longwatch.settings import CommonSettings, Profile


def test_defaults_are_the_cpu_profile_and_user_dirs(monkeypatch):
    monkeypatch.delenv("LONGWATCH_PROFILE", raising=False)
    settings = CommonSettings()
    assert settings.profile is Profile.CPU
    assert "longwatch" in str(settings.data_dir)
    assert settings.model_cache.name == "models"


def test_shared_env_names_reach_every_service(monkeypatch, tmp_path):
    monkeypatch.setenv("LONGWATCH_PROFILE", "tiny")
    monkeypatch.setenv("LONGWATCH_MODEL_CACHE", str(tmp_path))
    settings = CommonSettings()
    assert settings.profile is Profile.TINY
    assert settings.model_cache == tmp_path


def test_unknown_profile_names_the_valid_ones(monkeypatch):
    monkeypatch.setenv("LONGWATCH_PROFILE", "huge")
    with pytest.raises(pydantic.ValidationError, match="tiny"):
        CommonSettings()


def test_unknown_field_is_rejected():
    with pytest.raises(pydantic.ValidationError, match="extra"):
        CommonSettings(sample_rate=3)


def test_a_shells_own_variables_are_not_read(monkeypatch):
    """PROFILE, LOG_LEVEL, HOST are common shell variables; only the LONGWATCH_ names configure longwatch."""
    for name, value in {"PROFILE": "gpu", "LOG_LEVEL": "debug", "DATA_DIR": "/elsewhere", "HOST": "0.0.0.0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LONGWATCH_PROFILE", raising=False)
    monkeypatch.delenv("LONGWATCH_LOG_LEVEL", raising=False)
    settings = CommonSettings()
    assert settings.profile is Profile.CPU and settings.log_level == "INFO"
    assert str(settings.data_dir) != "/elsewhere" and settings.host == "127.0.0.1"


def test_a_services_own_memory_address_wins_over_the_shared_one(monkeypatch):
    from perception.settings import PerceptionSettings
    from reasoner.settings import ReasonerSettings

    monkeypatch.setenv("LONGWATCH_MEMORY_ADDR", "shared:1")
    monkeypatch.setenv("LONGWATCH_PERCEPTION_MEMORY_ADDR", "own:2")
    assert PerceptionSettings().memory_addr == "own:2"
    assert ReasonerSettings().memory_addr == "shared:1"
