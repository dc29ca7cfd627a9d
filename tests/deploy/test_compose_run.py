"""`docker compose up` for real: the image deploy/offline_image.sh builds, every container healthy, a video
ingested and asked about from the host with the CLI, and a restarted memory container still holding it all.

Minutes, and a Docker engine (or root, for the script to start one): marked `deploy`, which `make test`
leaves out and `make test-deploy` runs. The compose project has a name of its own and publishes its ports on
free host ports, so a `longwatch up` or another deployment on this host is left alone; `compose down -v`
removes its containers and volumes whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from longwatch.sample import EVENTS, make_sample
from orchestration.health import free_port
from tests.e2e.test_cli import longwatch_command

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "offline_image.sh"
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICE_PORTS = {"perception": 50061, "memory": 50062, "reasoner": 50063}  # inside the containers
BUILD_TIMEOUT_S = 1800  # debootstrap, the wheelhouse and the image from nothing: about 10 minutes here
HEALTHY_TIMEOUT_S = 600  # the first start prepares Gemma into the models volume: about 110 s here
COMMAND_TIMEOUT_S = 300  # one compose or CLI command; ingesting the 48 s sample takes well under a minute
POLL_S = 2.0
LOG_TAIL_LINES = 200
STREAM_ID = "deploy-cam"
SAMPLE_NAME = "sample.mp4"
EVENT = next(event for event in EVENTS if event.id == "alarm")  # "7315" on a screen, 21-27 s


def compose_command() -> list[str] | None:
    """The Compose plugin when this docker has it, else Debian's docker-compose (as deploy/offline_image.sh)."""
    if shutil.which("docker") and _succeeds(["docker", "compose", "version"]):
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def _succeeds(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, timeout=60).returncode == 0


def docker_missing() -> str | None:
    """Why this host cannot run the deployment, or None when it can."""
    if shutil.which("docker") is None:
        return "docker is not installed (Debian: apt-get install docker.io docker-compose)"
    if compose_command() is None:
        return "neither `docker compose` nor `docker-compose` is installed (Debian: apt-get install docker-compose)"
    if _succeeds(["docker", "info"]):
        return None
    if os.geteuid() == 0 and shutil.which("dockerd"):
        return None  # deploy/offline_image.sh starts the engine
    return "no Docker engine answers `docker info`, and only root can start one"


class Deployment:
    """One compose project of docker-compose.yml, on free loopback ports, with `videos` mounted at /videos."""

    def __init__(self, videos: Path) -> None:
        self.project = f"longwatch-deploy-{uuid.uuid4().hex[:8]}"
        self.ports = {name: free_port("127.0.0.1") for name in SERVICE_PORTS}
        published = {}
        for name, port in self.ports.items():
            published[f"LONGWATCH_PUBLISHED_{name.upper()}_PORT"] = str(port)
            published[f"LONGWATCH_PUBLISHED_{name.upper()}_METRICS_PORT"] = str(free_port("127.0.0.1"))
        self.env = {**os.environ, **published, "LONGWATCH_VIDEOS": str(videos)}

    def compose(self, *args: str) -> str:
        command = [*compose_command(), "-f", str(COMPOSE_FILE), "-p", self.project, *args]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
        assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stderr[-3000:]}"
        return result.stdout

    def containers(self) -> list[str]:
        return self.compose("ps", "-q").split()

    def wait_healthy(self, expected: int) -> None:
        """Until `expected` containers all report healthy; fails at once on one its restart policy restarted
        (it exited), and after HEALTHY_TIMEOUT_S. Unhealthy is waited out: probes fail while a busy host
        prepares a model, and pass again once it is done."""
        deadline = time.monotonic() + HEALTHY_TIMEOUT_S
        while True:
            states = [_state(container) for container in self.containers()]
            if len(states) == expected and all(state.endswith(" healthy") for state in states):
                return
            crashed = [state for state in states if " restarted " in state]
            assert not crashed, f"containers exited and were restarted: {crashed}"
            assert time.monotonic() < deadline, f"not all {expected} healthy in {HEALTHY_TIMEOUT_S} s: {states}"
            time.sleep(POLL_S)

    def longwatch(self, *args: str) -> dict:
        """The CLI on the host, pointed at the published ports; its --json output."""
        addresses = [f"--{name}=127.0.0.1:{port}" for name, port in self.ports.items()]
        command = [*longwatch_command(), *args, *addresses, "--json"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
        assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stderr[-3000:]}"
        return json.loads(result.stdout)

    def print_logs(self) -> None:
        """What a failure needs to be understood: the end of every container's log."""
        try:
            print(self.compose("logs", "--no-color", "--tail", str(LOG_TAIL_LINES)))
        except (AssertionError, subprocess.SubprocessError) as exc:
            print(f"no compose logs: {exc}")


def _state(container: str) -> str:
    """'NAME STATUS HEALTH', with ' restarted N' when its restart policy restarted it."""
    template = (
        "{{.Name}} {{.State.Status}}{{if .RestartCount}} restarted {{.RestartCount}}{{end}} "
        "{{if .State.Health}}{{.State.Health.Status}}{{else}}no-health-check{{end}}"
    )
    result = subprocess.run(["docker", "inspect", "--format", template, container], capture_output=True, text=True)
    return result.stdout.strip() or f"{container} gone"


def _progress(started_s: float, step: str) -> None:
    """A step and when it ended: shown with the logs when the test fails (or with `pytest -s`)."""
    print(f"[{time.monotonic() - started_s:6.0f} s] {step}", flush=True)


def evidence_of(answer: dict) -> list[tuple]:
    return [(item["stream"], item["start_s"], item["end_s"], item["clip_id"]) for item in answer["evidence"]]


@pytest.mark.timeout(BUILD_TIMEOUT_S + 2 * HEALTHY_TIMEOUT_S + 10 * COMMAND_TIMEOUT_S)
def test_compose_serves_a_video_and_keeps_it_across_a_memory_restart():
    reason = docker_missing()
    if reason:
        pytest.skip(reason)
    started_s = time.monotonic()
    subprocess.run(["bash", str(SCRIPT)], check=True, timeout=BUILD_TIMEOUT_S)
    _progress(started_s, "image built")
    videos = Path(tempfile.mkdtemp(prefix="longwatch-deploy-videos-"))
    deployment = Deployment(videos)
    try:
        make_sample(videos / SAMPLE_NAME)
        videos.chmod(0o755)  # the containers' user (1000) reads it through the bind mount
        expected = len(deployment.compose("config", "--services").split())
        deployment.compose("up", "-d", "--no-build")
        deployment.wait_healthy(expected)
        _progress(started_s, f"{expected} containers healthy")

        status = deployment.longwatch("ingest", f"/videos/{SAMPLE_NAME}", "--stream", STREAM_ID, "--wait")
        assert status["state"] == "finished", status
        answer = deployment.longwatch("ask", EVENT.question, "--stream", STREAM_ID)
        _progress(started_s, f"ingested {status['clips_written']} clips; asked: {answer['answer']!r}")
        top = answer["evidence"][0]
        assert top["stream"] == STREAM_ID and top["start_s"] < EVENT.end_s and top["end_s"] > EVENT.start_s, answer
        assert EVENT.answer in answer["answer"], answer
        held = deployment.longwatch("streams")["memory"]

        deployment.compose("restart", "memory")
        deployment.wait_healthy(expected)
        _progress(started_s, "memory restarted and healthy")
        assert deployment.longwatch("streams")["memory"] == held  # the memory-data and chroma-data volumes
        again = deployment.longwatch("ask", EVENT.question, "--stream", STREAM_ID)
        assert evidence_of(again) == evidence_of(answer), (answer, again)
    except BaseException:
        deployment.print_logs()
        raise
    finally:
        deployment.compose("down", "-v", "--remove-orphans")
        shutil.rmtree(videos, ignore_errors=True)
