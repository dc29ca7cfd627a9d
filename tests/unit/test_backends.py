"""Backends by name: the profile's default, the configured one, and clear errors for neither."""

import pytest

from longwatch.backends import Backends
from longwatch.errors import InvalidArgument


def build(options):
    return ("built by build", options)


def build_small(options):
    return ("built by build_small", options)


BACKENDS = Backends(
    "widget",
    {"plain": "tests.unit.test_backends", "small": "tests.unit.test_backends:build_small"},
    {"cpu": "plain", "tiny": "small"},
)


def test_the_profile_default_applies_unless_one_is_configured():
    assert BACKENDS.name_for("cpu", None) == "plain"
    assert BACKENDS.name_for("tiny", "") == "small"
    assert BACKENDS.name_for("cpu", "small") == "small"


def test_a_module_builds_with_build_and_a_module_function_with_that_function():
    assert BACKENDS.load("plain", 3) == ("built by build", 3)
    assert BACKENDS.load("small", 4) == ("built by build_small", 4)


def test_unknown_names_say_what_is_valid():
    with pytest.raises(InvalidArgument, match="unknown widget 'huge'; valid: plain, small"):
        BACKENDS.load("huge", None)
    with pytest.raises(InvalidArgument, match="no default widget for profile 'gpu'; valid profiles: cpu, tiny"):
        BACKENDS.name_for("gpu", None)


def test_a_default_must_name_a_known_backend():
    with pytest.raises(ValueError, match="unknown backends"):
        Backends("widget", {"plain": "x"}, {"cpu": "missing"})
