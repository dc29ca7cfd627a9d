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
