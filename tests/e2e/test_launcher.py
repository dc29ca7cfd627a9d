"""The launcher with stand-in services (tests/e2e/fakes): order, failures, and no orphans."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestration.health import free_port, is_serving
from orchestration.launcher import SERVICES, LaunchConfig, Launcher, LaunchError, ServiceDied
from tests.e2e.procs import is_alive, wait_all_gone

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKES = {name: dataclasses.replace(spec, module=f"tests.e2e.fakes.{name}") for name, spec in SERVICES.items()}


def fake_config(data_dir: Path, **env: str) -> LaunchConfig:
    return LaunchConfig(
        data_dir=data_dir,
        profile="tiny",
        model_cache=data_dir / "models",
        ports={name: free_port("127.0.0.1") for name in SERVICES},
        ready_timeout_s=60.0,
        stop_timeout_s=2.0,
        env={"PYTHONPATH": str(REPO_ROOT), **env},
    )


def test_starts_all_then_stops_perception_reasoner_memory_in_that_order(tmp_path):
    launcher = Launcher(fake_config(tmp_path), FAKES)
    launcher.start()
    try:
        assert all(is_serving(address, FAKES[name].health_name) for name, address in launcher.addresses.items())
        pids = list(launcher.pids.values())
        assert (tmp_path / "logs" / "memory.log").exists()
    finally:
        launcher.stop()
    assert wait_all_gone(pids, 0) == []
    assert (tmp_path / "stopped.txt").read_text().split() == ["perception", "reasoner", "memory"]


def test_a_service_that_dies_before_serving_fails_fast_with_its_log_and_stops_the_rest(tmp_path):
    launcher = Launcher(fake_config(tmp_path, FAKE_PERCEPTION_MODE="crash"), FAKES)
    with pytest.raises(ServiceDied) as failure:
        launcher.start()
    message = str(failure.value)
    assert "perception service exited with code 3" in message
    assert "cannot load the model (fake crash)" in message
    assert launcher.pids == {}  # every child stopped and forgotten
    assert "memory" in (tmp_path / "stopped.txt").read_text().split()


def test_a_service_that_ignores_sigterm_is_killed(tmp_path):
    launcher = Launcher(fake_config(tmp_path, FAKE_REASONER_MODE="stubborn"), FAKES)
    launcher.start()
    reasoner_pid = launcher.pids["reasoner"]
    launcher.stop()
    assert not is_alive(reasoner_pid)
    assert (tmp_path / "stopped.txt").read_text().split() == ["perception", "memory"]


def test_wait_reports_a_service_that_dies_later(tmp_path):
    with Launcher(fake_config(tmp_path), FAKES) as launcher:
        launcher.start()
        os.kill(launcher.pids["memory"], signal.SIGKILL)
        with pytest.raises(ServiceDied, match="memory service exited with code -9"):
            launcher.wait()


def test_a_taken_port_is_refused_before_anything_starts(tmp_path):
    config = fake_config(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", config.ports["reasoner"]))
        taken.listen()
        launcher = Launcher(config, FAKES)
        with pytest.raises(LaunchError, match=f"port {config.ports['reasoner']} .* --reasoner-port"):
            launcher.start()
    assert not (tmp_path / "logs").exists()


def test_services_die_with_a_launcher_that_is_killed(tmp_path):
    """SIGKILL leaves the launcher no chance to clean up; the kernel's parent-death signal does it."""
    script = textwrap.dedent(
        f"""
        import dataclasses, sys, time
        from pathlib import Path
        from orchestration.launcher import Launcher
        from tests.e2e.test_launcher import FAKES, fake_config
        launcher = Launcher(fake_config(Path({str(tmp_path)!r})), FAKES)
        launcher.start()
        print(" ".join(str(pid) for pid in launcher.pids.values()), flush=True)
        time.sleep(600)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(pid) for pid in process.stdout.readline().split()]
        assert len(pids) == 3 and all(is_alive(pid) for pid in pids)
    finally:
        process.kill()
        process.wait()
    assert wait_all_gone(pids, 30.0) == []
