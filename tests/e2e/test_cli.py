"""The `longwatch` command as a user runs it, against real services with the tiny profile.

`longwatch up` runs as a subprocess on free ports; every other command is a fresh process that finds
the services through LONGWATCH_*_ADDR (or flags). Tiny models give nonsense answers, so these tests
check shapes, exit statuses, messages and process hygiene, not answer quality
(tests/integration/test_end_to_end.py checks quality with the cpu profile).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.health import free_port, is_serving
from tests.e2e.procs import is_alive, wait_all_gone

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 300.0  # three processes importing torch and building tiny models on a 2-core machine
COMMAND_TIMEOUT_S = 180.0
STREAM = "lot"
SERVICE_NAMES = ("memory", "perception", "reasoner")


def longwatch_command() -> list[str]:
    """The console script beside this Python, as `make venv` installs it; `-m longwatch_cli.cli` otherwise."""
    script = Path(sys.executable).parent / "longwatch"
    return [str(script)] if script.exists() else [sys.executable, "-m", "longwatch_cli.cli"]


@dataclass
class Up:
    process: subprocess.Popen
    output_path: Path
    addresses: dict[str, str]
    pids: dict[str, int]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **{f"LONGWATCH_{name.upper()}_ADDR": addr for name, addr in self.addresses.items()}}

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")


def run_cli(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*longwatch_command(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S
    )


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory) -> Path:
    """One model cache for the session, so tiny models are built once."""
    return tmp_path_factory.mktemp("model-cache")


def _sigint_as_in_a_terminal() -> None:
    """A shell starts background jobs with SIGINT ignored, and Python then never raises KeyboardInterrupt;
    `up` in a terminal gets the default, so the test gives it that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_up(data_dir: Path, model_cache: Path, *up_flags: str) -> Up:
    """`longwatch up` on free ports with `up_flags` added; returns once it printed that it is up."""
    ports = {name: free_port("127.0.0.1") for name in SERVICE_NAMES}
    output_path = data_dir.parent / f"{data_dir.name}-up.out"
    flags = [f"--{name}-port={port}" for name, port in ports.items()]
    command = [*longwatch_command(), "up", "--profile", "tiny", "--data-dir", str(data_dir)]
    command += ["--model-cache", str(model_cache), *flags, *up_flags]
    with open(output_path, "w") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, cwd=data_dir.parent, preexec_fn=_sigint_as_in_a_terminal
        )
    up = Up(process, output_path, {name: f"127.0.0.1:{port}" for name, port in ports.items()}, {})
    deadline = time.monotonic() + READY_TIMEOUT_S
    while "Press Ctrl-C to stop." not in up.output():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"`longwatch up` did not come up (exit {process.poll()}):\n{up.output()}")
        time.sleep(0.2)
    address_lines = re.finditer(r"^\s+(memory|perception|reasoner|chroma)\s+\S+\s+pid (\d+)", up.output(), re.M)
    up.pids = {match[1]: int(match[2]) for match in address_lines}
    return up


@pytest.fixture(scope="module")
def up(tmp_path_factory, model_cache_dir):
    handle = start_up(tmp_path_factory.mktemp("up-data"), model_cache_dir)
    yield handle
    if handle.process.poll() is None:
        handle.process.send_signal(signal.SIGTERM)
        handle.process.wait(timeout=120)


@pytest.fixture(scope="module")
def sample(tmp_path_factory, up) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    result = run_cli("make-sample", "--out", "lot.mp4", env=up.env, cwd=folder)
    assert result.returncode == 0, result.stderr
    assert str(folder / "lot.mp4") in result.stdout and str(folder / "lot.json") in result.stdout
    return folder / "lot.mp4"


@pytest.fixture(scope="module")
def ingested(up, sample) -> subprocess.CompletedProcess:
    # A relative path, as a user types it: the CLI must make it absolute for perception.
    return run_cli("ingest", sample.name, "--stream", STREAM, "--wait", "--json", env=up.env, cwd=sample.parent)


def assert_still_serving(up: Up) -> None:
    assert up.process.poll() is None, up.output()
    for name, address in up.addresses.items():
        assert is_serving(address), f"{name} stopped serving:\n{up.output()}"


def test_up_prints_every_address_and_pid(up):
    assert set(up.pids) == set(SERVICE_NAMES)
    for address in up.addresses.values():
        assert address in up.output()


def test_ingest_wait_returns_a_finished_stream(ingested):
    assert ingested.returncode == 0, ingested.stderr
    status = json.loads(ingested.stdout)
    assert status["state"] == "finished"
    assert status["clips_written"] > 0
    assert status["source"].endswith("/lot.mp4") and Path(status["source"]).is_absolute()
    assert "s [" in ingested.stderr  # the progress bar was drawn


def test_streams_json_shows_the_stream_in_perception_and_memory(up, ingested):
    result = run_cli("streams", "--json", env=up.env)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    [watched] = [s for s in reply["perception"] if s["stream_id"] == STREAM]
    [held] = [s for s in reply["memory"] if s["stream_id"] == STREAM]
    assert watched["frames_seen"] > 0 and watched["frames_encoded"] + watched["frames_reused"] > 0
    assert held["clip_count"] == watched["clips_written"]


def test_ask_json_prints_one_object_of_the_documented_shape(up, ingested):
    result = run_cli("ask", "What was the alarm code on the screen?", "--stream", STREAM, "--json", env=up.env)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)  # fails on anything but exactly one JSON document
    assert set(reply) == {
        "answer", "confidence", "evidence", "latency_ms", "method", "partial", "nodes_read", "hops", "fallback"
    }  # fmt: skip
    assert isinstance(reply["answer"], str)
    assert isinstance(reply["confidence"], float) and 0.0 <= reply["confidence"] <= 1.0
    assert isinstance(reply["latency_ms"], float) and reply["latency_ms"] > 0
    assert reply["evidence"], "an ingested stream gives evidence"
    for item in reply["evidence"]:
        assert set(item) == {
            "stream", "start_s", "end_s", "text", "clip_id", "score", "start_wall_ms", "end_wall_ms", "level",
            "keyframe_ids", "hop",
        }  # fmt: skip
        assert item["stream"] == STREAM and 0.0 <= item["start_s"] <= item["end_s"] <= 48.0


def test_flags_override_the_environment(up, ingested):
    wrong = {**up.env, "LONGWATCH_REASONER_ADDR": f"127.0.0.1:{free_port('127.0.0.1')}"}
    result = run_cli("ask", "Which exit?", "--reasoner", up.addresses["reasoner"], "--json", env=wrong)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("case", "args", "message"),
    [
        ("missing file", ["ingest", "/no/such/video.mp4", "--stream", "ghost", "--wait"], "no such file"),
        ("not a video", ["ingest", "{notes}", "--stream", "notes", "--wait"], "notes"),
        ("unknown stream", ["ask", "What happened?", "--stream", "no-such-stream"], "no-such-stream"),
        ("empty question", ["ask", ""], "question"),
        ("negative deadline", ["ask", "What happened?", "--deadline-ms", "-5"], "deadline"),
    ],
)
def test_bad_input_gets_a_clear_message_and_the_services_keep_serving(up, ingested, tmp_path, case, args, message):
    notes = tmp_path / "notes.txt"
    notes.write_text("this is not a video\n")
    result = run_cli(*[arg.replace("{notes}", str(notes)) for arg in args], env=up.env)
    assert result.returncode == 1, f"{case}: {result.stdout}{result.stderr}"
    assert result.stderr.startswith("error: "), f"{case}: {result.stderr}"
    assert message in result.stderr, f"{case}: {result.stderr}"
    assert "Traceback" not in result.stderr
    assert_still_serving(up)


def test_an_unreachable_service_names_itself_and_longwatch_up(up):
    address = f"127.0.0.1:{free_port('127.0.0.1')}"
    result = run_cli("ask", "What happened?", "--json", env={**up.env, "LONGWATCH_REASONER_ADDR": address})
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"reasoner service at {address}" in result.stderr and "longwatch up" in result.stderr


def latest_pids(up: Up) -> dict[str, int]:
    """The pid each service runs as now: the last `started <name> (pid N)` line `up` logged."""
    lines = re.finditer(r"started (memory|perception|reasoner) \(pid (\d+)\)", up.output())
    return {match[1]: int(match[2]) for match in lines}


def wait_for_output(up: Up, text: str, count: int) -> None:
    """Until `text` appears `count` times in up's output (READY_TIMEOUT_S is a hang guard only)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while up.output().count(text) < count:
        if up.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"no {count}th {text!r} from `longwatch up` (exit {up.process.poll()}):\n{up.output()}")
        time.sleep(0.2)


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_a_killed_service_is_restarted_by_up_while_the_others_keep_running(up, ingested, name):
    before = latest_pids(up)
    serving_again = f"{name} is serving again"
    restarts = up.output().count(serving_again)
    os.kill(before[name], signal.SIGKILL)
    wait_for_output(up, serving_again, restarts + 1)
    after = latest_pids(up)
    assert after[name] != before[name] and not is_alive(before[name])
    others = [other for other in SERVICE_NAMES if other != name]
    assert {other: after[other] for other in others} == {other: before[other] for other in others}
    assert f"{name} exited with code -9 (SIGKILL)" in up.output()
    assert_still_serving(up)
    up.pids = after
    streams = run_cli("streams", "--json", env=up.env)
    assert streams.returncode == 0, streams.stderr
    [held] = [s for s in json.loads(streams.stdout)["memory"] if s["stream_id"] == STREAM]  # memory kept it
    assert held["clip_count"] > 0
    answer = run_cli("ask", "What was the alarm code on the screen?", "--stream", STREAM, "--json", env=up.env)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["evidence"]


def test_sigterm_to_up_stops_every_service(up):
    """Runs last in this module: it ends the shared `up`."""
    pids = list(up.pids.values())
    assert all(is_alive(pid) for pid in pids)
    up.process.send_signal(signal.SIGTERM)
    assert up.process.wait(timeout=120) == 0, up.output()
    assert wait_all_gone(pids, 10.0) == []
    assert all(not is_serving(address) for address in up.addresses.values())


def test_ctrl_c_to_up_stops_every_service(tmp_path, model_cache_dir):
    own = start_up(tmp_path / "data", model_cache_dir)
    pids = list(own.pids.values())
    assert len(pids) == 3 and all(is_alive(pid) for pid in pids)
    own.process.send_signal(signal.SIGINT)  # what Ctrl-C sends; the services are in their own session
    assert own.process.wait(timeout=120) == 0, own.output()
    assert wait_all_gone(pids, 10.0) == []
    assert own.output().index("stopping perception") < own.output().index("stopping memory")
