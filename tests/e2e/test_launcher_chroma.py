"""The launcher in chroma server mode: a real `chroma run` child, with stand-in services (tests/e2e/fakes)."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
from pathlib import Path

import pytest

from memory_service.core.chroma import is_chroma_answering, parse_chroma_url
from orchestration.health import free_port
from orchestration.launcher import LaunchConfig, Launcher, LaunchError
from tests.e2e.procs import is_alive, wait_all_gone
from tests.e2e.test_launcher import FAKES, fake_config, quick_restarts


def chroma_config(data_dir: Path) -> LaunchConfig:
    config = fake_config(data_dir)
    ports = {**config.ports, "chroma": free_port("127.0.0.1")}
    return dataclasses.replace(config, ports=ports, starts_chroma_server=True, stop_timeout_s=15.0)


def seen_by_memory(data_dir: Path) -> list[str]:
    """What the stand-in memory noted of the chroma server as it started and stopped (fakes/service.py)."""
    lines = (data_dir / "chroma-seen.txt").read_text().splitlines()
    return [line.split(" ", 1)[1] for line in lines if line.startswith("memory ")]


def test_chroma_runs_before_memory_which_gets_its_url_and_stops_after_memory(tmp_path):
    config = chroma_config(tmp_path)
    url = f"http://127.0.0.1:{config.ports['chroma']}"
    with Launcher(config, FAKES) as launcher:
        launcher.start()
        assert launcher.config.chroma_url == url
        assert sorted(launcher.addresses) == ["memory", "perception", "reasoner"]  # what clients dial
        assert is_chroma_answering(parse_chroma_url(url))
        assert (tmp_path / "memory" / "chroma-server").is_dir()  # its data, apart from embedded chromadb's
        assert launcher.log_path("chroma").read_text().startswith("---- longwatch launcher starts chroma")
        pids = list(launcher.pids.values())
        assert len(pids) == 4
    assert wait_all_gone(pids, 0) == []
    assert seen_by_memory(tmp_path) == [f"start {url} answering", f"stop {url} answering"]
    assert (tmp_path / "stopped.txt").read_text().split() == ["perception", "reasoner", "memory"]


def test_without_the_option_no_chroma_runs_and_memory_gets_no_url(tmp_path, monkeypatch):
    monkeypatch.delenv("LONGWATCH_MEMORY_CHROMA_URL", raising=False)
    with Launcher(fake_config(tmp_path), FAKES) as launcher:
        launcher.start()
        assert sorted(launcher.pids) == ["memory", "perception", "reasoner"]
    assert not (tmp_path / "chroma-seen.txt").exists()
    assert not (tmp_path / "memory" / "chroma-server").exists()


def test_a_killed_chroma_is_restarted_on_its_port_with_its_data_while_memory_keeps_running(tmp_path):
    import chromadb
    from chromadb.config import Settings

    with Launcher(quick_restarts(chroma_config(tmp_path)), FAKES) as launcher:
        launcher.start()
        port = launcher.config.ports["chroma"]
        client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False))
        client.create_collection("kept-clips").add(ids=["a"], embeddings=[[1.0, 0.0]])
        memory_pid = launcher.pids["memory"]
        os.kill(launcher.pids["chroma"], signal.SIGKILL)
        restarted: list[tuple[str, int, bool]] = []

        def on_restarted(name: str) -> None:
            restarted.append((name, launcher.pids["memory"], is_alive(memory_pid)))
            launcher.stop()

        launcher.supervise(on_restarted=on_restarted)
    assert restarted == [("chroma", memory_pid, True)]  # memory was left running meanwhile
    assert launcher.log_path("chroma").read_text().count("---- longwatch launcher starts chroma") == 2
    with Launcher(chroma_config(tmp_path), FAKES) as again:
        again.start()
        client = chromadb.HttpClient(
            host="127.0.0.1", port=again.config.ports["chroma"], settings=Settings(anonymized_telemetry=False)
        )
        assert client.get_collection("kept-clips").get()["ids"] == ["a"]


def test_a_taken_chroma_port_is_refused_naming_the_flag_before_anything_starts(tmp_path):
    config = chroma_config(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", config.ports["chroma"]))
        taken.listen()
        with pytest.raises(LaunchError, match=f"port {config.ports['chroma']} for the chroma service .* --chroma-port"):
            Launcher(config, FAKES).start()
    assert not (tmp_path / "logs").exists()
