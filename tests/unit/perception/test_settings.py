"""PerceptionSettings: defaults, env names, refusals; the backend tables agree with the settings' names."""

from __future__ import annotations

import typing

import pydantic
import pytest

from longwatch.errors import InvalidArgument
from longwatch.settings import DEFAULT_PERCEPTION_PORT
from perception.core.captioners import (
    CAPTIONERS,
    DEFAULT_CAPTIONER_BY_PROFILE,
    CaptionerOptions,
    captioner_name_for,
    load_captioner,
)
from perception.core.encoders import DEFAULT_ENCODER_BY_PROFILE, ENCODERS, encoder_name_for
from perception.settings import CaptionerName, EncoderName, PerceptionSettings

ENV_NAMES = (
    "LONGWATCH_PROFILE",
    "LONGWATCH_MEMORY_ADDR",
    "LONGWATCH_PERCEPTION_PORT",
    "LONGWATCH_PERCEPTION_SAMPLE_FPS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults():
    settings = PerceptionSettings()
    assert settings.port == DEFAULT_PERCEPTION_PORT == 50061
    assert settings.memory_addr == "127.0.0.1:50062"
    assert (settings.sample_fps, settings.clip_max_s) == (1.0, 4.0)
    assert settings.encoder is None and settings.captioner is None
    assert (settings.keyframes_per_clip, settings.keyframe_max_side_px, settings.keyframe_jpeg_quality) == (1, 480, 75)


def test_env_names(monkeypatch):
    monkeypatch.setenv("LONGWATCH_MEMORY_ADDR", "10.0.0.2:6000")
    monkeypatch.setenv("LONGWATCH_PERCEPTION_PORT", "51001")
    monkeypatch.setenv("LONGWATCH_PERCEPTION_SAMPLE_FPS", "2.5")
    monkeypatch.setenv("LONGWATCH_PROFILE", "tiny")
    settings = PerceptionSettings()
    assert (settings.memory_addr, settings.port, settings.sample_fps) == ("10.0.0.2:6000", 51001, 2.5)
    assert settings.profile.value == "tiny"


def test_unknown_field_is_rejected():
    with pytest.raises(pydantic.ValidationError, match="extra"):
        PerceptionSettings(sample_rate=3)


@pytest.mark.parametrize(
    "bad",
    [
        {"port": 0},
        {"sample_fps": 0},
        {"clip_max_s": -1},
        {"scene_change_fraction": 1.5},
        {"frame_queue_size": 0},
        {"keyframes_per_clip": 9},  # memory takes at most 8 a clip
        {"keyframe_max_side_px": 0},
        {"keyframe_jpeg_quality": 100},
    ],
)
def test_bad_values_are_rejected_naming_the_field(bad):
    with pytest.raises(pydantic.ValidationError, match=next(iter(bad))):
        PerceptionSettings(**bad)


def test_settings_names_and_the_tables_agree():
    assert set(typing.get_args(EncoderName)) == set(ENCODERS)
    assert set(typing.get_args(CaptionerName)) == set(CAPTIONERS)
    assert set(DEFAULT_ENCODER_BY_PROFILE.values()) <= set(ENCODERS)
    assert set(DEFAULT_CAPTIONER_BY_PROFILE.values()) <= set(CAPTIONERS)


@pytest.mark.parametrize(
    ("profile", "encoder", "captioner"),
    [("tiny", "tiny-clip", "tiny-vlm"), ("cpu", "pixel-stats", "ocr"), ("gpu", "hf-clip", "vlm")],
)
def test_each_profile_has_defaults(profile, encoder, captioner):
    assert (encoder_name_for(profile, None), captioner_name_for(profile, None)) == (encoder, captioner)
    assert encoder_name_for(profile, "pixel-stats") == "pixel-stats"


def test_unknown_captioner_lists_the_valid_ones():
    with pytest.raises(pydantic.ValidationError, match="ocr"):
        PerceptionSettings(captioner="whisper")
    with pytest.raises(InvalidArgument, match="ocr, tiny-vlm, vlm"):
        load_captioner("whisper", CaptionerOptions())


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LONGWATCH_PERCEPTION_SAMPLE_FPS": "50"}, "above max_sample_fps"),
        ({"LONGWATCH_PERCEPTION_WATCHDOG_STALL_S": "20"}, "watchdog_stall_s .* must exceed"),
        ({"LONGWATCH_PERCEPTION_LIVE_READ_TIMEOUT_S": "90"}, "the longest is 90"),
    ],
)
def test_settings_that_contradict_each_other_are_refused(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(pydantic.ValidationError, match=message):
        PerceptionSettings()
