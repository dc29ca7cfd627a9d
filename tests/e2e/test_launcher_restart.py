"""Launcher.kill and Launcher.restart with stand-in services (tests/e2e/fakes), as the fault benchmark uses them."""

from __future__ import annotations

import pytest

from orchestration.health import is_serving
from orchestration.launcher import Launcher, LaunchError, ServiceDied
from tests.e2e.procs import is_alive, wait_all_gone
from tests.e2e.test_launcher import FAKES, fake_config


def test_a_killed_service_is_gone_and_reported_until_restarted_on_its_address(tmp_path):
    with Launcher(fake_config(tmp_path), FAKES) as launcher:
        launcher.start()
        old_pid = launcher.pids["memory"]
        launcher.kill("memory")
        assert not is_alive(old_pid)
        with pytest.raises(ServiceDied, match="memory service exited with code -9"):
            launcher.check()

        launcher.restart("memory")

        assert launcher.pids["memory"] != old_pid
        assert is_serving(launcher.addresses["memory"], FAKES["memory"].health_name)
        launcher.check()  # every service runs again
        assert launcher.log_path("memory").read_text().count("longwatch launcher starts") == 2
        pids = list(launcher.pids.values())
    assert wait_all_gone(pids, 0) == []
    # The restarted memory was stopped in order with the rest; the killed one never wrote a line.
    assert (tmp_path / "stopped.txt").read_text().split() == ["perception", "reasoner", "memory"]


def test_restarting_a_service_that_still_runs_is_refused_and_leaves_it_running(tmp_path):
    with Launcher(fake_config(tmp_path), FAKES) as launcher:
        launcher.start()
        pid = launcher.pids["reasoner"]
        with pytest.raises(LaunchError, match="reasoner service still runs .* kill or stop it first"):
            launcher.restart("reasoner")
        assert launcher.pids["reasoner"] == pid
        assert is_alive(pid)


def test_killing_a_service_that_was_never_started_says_so(tmp_path):
    launcher = Launcher(fake_config(tmp_path), FAKES)
    with pytest.raises(LaunchError, match="no perception service was started"):
        launcher.kill("perception")
