"""A service refuses to start on a variable with its prefix that no setting reads (a typo would be ignored)."""

import sys

import pytest

from longwatch.grpc_server import serve_process
from longwatch.settings import setting_variables, unknown_variables
from memory_service.settings import MemorySettings
from perception.settings import PerceptionSettings

MEMORY = "LONGWATCH_MEMORY_"
PERCEPTION = "LONGWATCH_PERCEPTION_"


def test_settings_read_prefixed_names_and_their_own_aliases():
    names = setting_variables(PERCEPTION, PerceptionSettings.model_fields)
    assert {"LONGWATCH_PERCEPTION_PORT", "LONGWATCH_PERCEPTION_SAMPLE_FPS"} <= names
    assert {"LONGWATCH_PROFILE", "LONGWATCH_DATA_DIR", "LONGWATCH_MEMORY_ADDR"} <= names  # aliases
    assert "LONGWATCH_PERCEPTION_PROFILE" not in names  # the profile is shared: LONGWATCH_PROFILE


def test_typos_and_misplaced_shared_settings_are_unknown():
    environ = {
        "LONGWATCH_MEMORY_PORTT": "1",  # a typo
        "LONGWATCH_MEMORY_PROFILE": "cpu",  # the profile is LONGWATCH_PROFILE
        "LONGWATCH_MEMORY_PORT": "50062",
        "LONGWATCH_PROFILE": "cpu",
        "LONGWATCH_PERCEPTION_SAMPLE_FPS": "2",  # another service's: not this one's business
        "HOME": "/root",
    }
    assert unknown_variables(MEMORY, MemorySettings.model_fields, environ) == [
        "LONGWATCH_MEMORY_PORTT",
        "LONGWATCH_MEMORY_PROFILE",
    ]


def test_the_clients_address_variables_are_not_settings_but_are_allowed():
    environ = {"LONGWATCH_MEMORY_ADDR": "10.0.0.2:50062", "LONGWATCH_PERCEPTION_ADDR": "10.0.0.2:50061"}
    assert unknown_variables(MEMORY, MemorySettings.model_fields, environ) == []
    assert unknown_variables(PERCEPTION, PerceptionSettings.model_fields, environ) == []


@pytest.mark.parametrize(("argv", "code"), [(["--help"], 0), (["-h"], 0), (["--port", "1"], 2)])
def test_a_service_takes_no_arguments_and_says_where_its_settings_come_from(monkeypatch, capsys, argv, code):
    monkeypatch.setattr(sys, "argv", ["python -m memory_service", *argv])

    def never(*_):
        raise AssertionError("the service must not start")

    with pytest.raises(SystemExit) as exited:
        serve_process("memory", MEMORY, never, never)
    assert exited.value.code == code
    said = capsys.readouterr()
    assert "LONGWATCH_MEMORY_* and LONGWATCH_* environment variables" in (said.out if code == 0 else said.err)
