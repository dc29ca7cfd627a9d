"""The launcher with stand-in services (tests/e2e/fakes): order, failures, and no orphans."""

from __future__ import annotations

import dataclasses
import logging
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


def quick_restarts(config: LaunchConfig, **changes: object) -> LaunchConfig:
    """Restart back-offs of a tenth of a second, so a test waits on the restarts, not on the back-off."""
    return dataclasses.replace(config, restart_initial_delay_s=0.05, restart_max_delay_s=0.2, **changes)


@pytest.mark.parametrize("order", [("memory", "perception", "reasoner"), ("reasoner", "memory", "memory")])
def test_a_killed_service_is_restarted_and_serving_while_the_others_keep_running(tmp_path, caplog, order):
    caplog.set_level(logging.INFO, logger="orchestration.launcher")
    restarted: list[str] = []
    with Launcher(quick_restarts(fake_config(tmp_path)), FAKES) as launcher:
        launcher.start()
        to_kill = list(order)
        pids_before_kill = launcher.pids

        def kill_next(name: str | None = None) -> None:
            nonlocal pids_before_kill
            if name is not None:
                restarted.append(name)
                assert_restarted_alone(launcher, name, pids_before_kill)
                assert not (tmp_path / "stopped.txt").exists()  # nothing was stopped, only restarted
            if not to_kill:
                launcher.stop()
                return
            pids_before_kill = launcher.pids
            os.kill(pids_before_kill[to_kill.pop(0)], signal.SIGKILL)

        kill_next()
        launcher.supervise(on_restarted=kill_next)  # returns after stop(): that is no crash
    assert restarted == list(order)
    assert (tmp_path / "stopped.txt").read_text().split() == ["perception", "reasoner", "memory"]
    assert f"{order[0]} exited with code -9 (SIGKILL)" in caplog.text
    assert (tmp_path / "logs" / f"{order[0]}.log").read_text().count("---- longwatch launcher starts") >= 2


def assert_restarted_alone(launcher: Launcher, name: str, pids_before_kill: dict[str, int]) -> None:
    pids = launcher.pids
    assert pids[name] != pids_before_kill[name]
    assert is_serving(launcher.addresses[name], FAKES[name].health_name)
    others = {other: pid for other, pid in pids_before_kill.items() if other != name}
    assert {other: pids[other] for other in others} == others
    assert all(is_alive(pid) for pid in others.values())


def test_a_service_killed_again_and_again_makes_supervision_give_up_naming_it(tmp_path):
    config = quick_restarts(fake_config(tmp_path), crash_limit=3, crash_window_s=600.0)
    with Launcher(config, FAKES) as launcher:
        launcher.start()
        others = {name: pid for name, pid in launcher.pids.items() if name != "perception"}

        def kill_perception(name: str | None = None) -> None:
            os.kill(launcher.pids["perception"], signal.SIGKILL)

        kill_perception()
        with pytest.raises(ServiceDied) as failure:
            launcher.supervise(on_restarted=kill_perception)
        assert all(is_alive(pid) for pid in others.values())  # the others ran until the end
    message = str(failure.value)
    assert "perception service exited with code -9 (SIGKILL): 3 crashes within 600 s" in message
    assert "not restarted again" in message and "---- longwatch launcher starts" in message
    assert (tmp_path / "stopped.txt").read_text().split() == ["reasoner", "memory"]


def test_a_service_that_crashes_whenever_restarted_gives_up_with_its_log(tmp_path):
    config = quick_restarts(fake_config(tmp_path, FAKE_MEMORY_MODE="crash-on-restart"), crash_limit=3)
    with Launcher(config, FAKES) as launcher:
        launcher.start()
        os.kill(launcher.pids["memory"], signal.SIGKILL)
        with pytest.raises(ServiceDied) as failure:
            launcher.supervise()
    message = str(failure.value)
    assert "memory service exited with code 3: 3 crashes" in message
    assert "cannot load the model (fake crash)" in message
    assert (tmp_path / "stopped.txt").read_text().split() == ["perception", "reasoner"]


def test_a_restart_that_never_serves_does_not_hold_up_restarting_another(tmp_path):
    """Memory comes back listening but never SERVING; perception, killed meanwhile, is restarted anyway."""
    config = quick_restarts(fake_config(tmp_path, FAKE_MEMORY_MODE="hang-on-restart"))
    restarted: list[str] = []
    with Launcher(config, FAKES) as launcher:
        launcher.start()
        memory_pid = launcher.pids["memory"]
        os.kill(memory_pid, signal.SIGKILL)
        os.kill(launcher.pids["perception"], signal.SIGKILL)

        def on_restarted(name: str) -> None:
            restarted.append(name)
            launcher.stop()

        launcher.supervise(on_restarted=on_restarted)
    assert restarted == ["perception"]
    assert (tmp_path / "logs" / "memory.log").read_text().count("---- longwatch launcher starts") == 2
    assert sorted((tmp_path / "stopped.txt").read_text().split()) == ["memory", "perception", "reasoner"]


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
