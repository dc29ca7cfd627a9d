"""ReasonerSettings and the LLM table: defaults, env names, refusals, agreement between them."""

from __future__ import annotations

import typing
from pathlib import Path

import pydantic
import pytest

from longwatch.errors import InvalidArgument
from longwatch.settings import DEFAULT_REASONER_PORT
from reasoner.core.llm import DEFAULT_LLM_BY_PROFILE, LLMS, llm_name_for, load_llm
from reasoner.core.types import LLMOptions
from reasoner.settings import LLMName, ReasonerSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in (
        "LONGWATCH_PROFILE",
        "LONGWATCH_MEMORY_ADDR",
        "LONGWATCH_REASONER_PORT",
        "LONGWATCH_REASONER_LLM",
        "LONGWATCH_REASONER_MEMORY_ADDR",
        "LONGWATCH_REASONER_OPENAI_API_KEY",
        "LONGWATCH_REASONER_OPENAI_MODE",
        "LONGWATCH_REASONER_OPENAI_VISION",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults():
    settings = ReasonerSettings()
    assert settings.port == DEFAULT_REASONER_PORT == 50063
    assert settings.memory_addr == "127.0.0.1:50062"
    assert settings.llm is None
    assert (settings.openai_mode, settings.openai_vision) == ("completion", False)
    assert 1000 <= settings.default_deadline_ms <= 10_000  # a few seconds: a user is waiting


def test_env_names(monkeypatch):
    monkeypatch.setenv("LONGWATCH_MEMORY_ADDR", "10.0.0.5:6000")
    monkeypatch.setenv("LONGWATCH_REASONER_PORT", "51003")
    monkeypatch.setenv("LONGWATCH_REASONER_LLM", "openai-compatible")
    monkeypatch.setenv("LONGWATCH_REASONER_OPENAI_API_KEY", "s3cret")
    settings = ReasonerSettings()
    assert (settings.memory_addr, settings.port, settings.llm) == ("10.0.0.5:6000", 51003, "openai-compatible")
    assert settings.openai_api_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_the_openai_mode_and_vision_reach_the_llm_options(monkeypatch):
    from reasoner.app import ReasonerApp  # the composition root: imported only by the test that needs it

    monkeypatch.setenv("LONGWATCH_REASONER_LLM", "openai-compatible")
    monkeypatch.setenv("LONGWATCH_REASONER_OPENAI_MODE", "chat")
    monkeypatch.setenv("LONGWATCH_REASONER_OPENAI_VISION", "true")
    monkeypatch.setenv("LONGWATCH_REASONER_OPENAI_API_KEY", "s3cret")
    options = ReasonerApp(ReasonerSettings())._llm_options()
    assert (options.api_mode, options.api_vision, options.api_key) == ("chat", True, "s3cret")
    assert ReasonerApp(ReasonerSettings(openai_mode="completion"))._llm_options().api_mode == "completion"


def test_unknown_field_is_rejected():
    with pytest.raises(pydantic.ValidationError, match="extra"):
        ReasonerSettings(deadline=3)


@pytest.mark.parametrize(
    "bad",
    [
        {"port": 0},
        {"default_deadline_ms": 0},
        {"max_evidence": 0},
        {"max_new_tokens": 0},
        {"search_k": 101},
        {"memory_addr": ""},
        {"openai_mode": "responses"},
    ],
)
def test_bad_values_are_rejected_naming_the_field(bad):
    with pytest.raises(pydantic.ValidationError, match=next(iter(bad))):
        ReasonerSettings(**bad)


def test_unknown_llm_lists_the_valid_ones():
    with pytest.raises(pydantic.ValidationError, match="gemma"):
        ReasonerSettings(llm="huge")
    with pytest.raises(InvalidArgument, match="gemma, openai-compatible, tiny, transformers, vlm"):
        load_llm("huge", LLMOptions(model_cache=Path("/nonexistent")))


def test_settings_names_and_the_table_agree():
    assert set(typing.get_args(LLMName)) == set(LLMS)
    assert set(DEFAULT_LLM_BY_PROFILE.values()) <= set(LLMS)


@pytest.mark.parametrize(("profile", "expected"), [("tiny", "tiny"), ("cpu", "gemma"), ("gpu", "transformers")])
def test_each_profile_has_a_default_llm(profile, expected):
    assert llm_name_for(profile, None) == expected
    assert llm_name_for(profile, "openai-compatible") == "openai-compatible"
