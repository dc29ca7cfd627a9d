"""`make demo` as a user runs it: the cpu profile's real models over the synthetic car park, every event's
evidence inside it and every text answer saying the expected words (the demo's own check, exit 0)."""

from __future__ import annotations

import os
import subprocess

import pytest

from longwatch.settings import default_model_cache_dir
from tests.e2e.test_cli import longwatch_command

pytestmark = pytest.mark.slow


@pytest.mark.timeout(1800)
def test_the_demo_passes_its_own_checks(tmp_path):
    env = {**os.environ, "LONGWATCH_MODEL_CACHE": str(default_model_cache_dir()), "LONGWATCH_PROFILE": "cpu"}
    result = subprocess.run(
        [*longwatch_command(), "demo", "--data-dir", str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "5 of 5 events: top evidence inside the event" in result.stdout
    assert "4 of 4 text answers say the expected words" in result.stdout
