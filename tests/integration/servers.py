"""Start a longwatch service as its own process (`python -m <module>`) and wait until it says SERVING.

    handle = start_service("memory_service", env, free_port(), ready_timeout_s=120)
    ... MemoryClient(handle.address) ...
    handle.stop()   # SIGTERM, then wait; handle.kill() for a crash

The port goes to the service through its `LONGWATCH_<SERVICE>_PORT` variable. If the process
exits before it serves, or does not serve in time, the error shows the end of its stderr.

    with chroma_env(ChromaMode.SERVER, tmp / "chroma") as env:   # {} for ChromaMode.EMBEDDED
        start_service("memory_service", {**env, ...}, ...)       # memory's vectors in a real `chroma run`
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.chroma_server import chroma_server

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
# Env variable that sets each service's port (its settings prefix + PORT).
PORT_ENV = {
    "memory_service": "LONGWATCH_MEMORY_PORT",
    "perception": "LONGWATCH_PERCEPTION_PORT",
    "reasoner": "LONGWATCH_REASONER_PORT",
}
_STDERR_TAIL_CHARS = 6000
_POLL_S = 0.2  # between health checks while a service starts


class ChromaMode(StrEnum):
    """Where a memory process under test keeps its vectors."""

    EMBEDDED = "embedded"  # chromadb inside the process, in its data directory (the default)
    SERVER = "server"  # a `chroma run` server, through LONGWATCH_MEMORY_CHROMA_URL


@contextlib.contextmanager
def chroma_env(mode: ChromaMode, path: Path) -> Iterator[dict[str, str]]:
    """The env a memory process needs for `mode`; for a server, one runs (data at `path`) until the block ends."""
    if mode is ChromaMode.EMBEDDED:
        yield {}
        return
    with chroma_server(path) as url:
        yield {"LONGWATCH_MEMORY_CHROMA_URL": url}


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """A running service process; `address` is what clients dial."""

    def __init__(self, module: str, process: subprocess.Popen, port: int, log_path: Path) -> None:
        self.module = module
        self.process = process
        self.address = f"{HOST}:{port}"
        self.log_path = log_path

    @property
    def is_running(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """The end of the process's stdout and stderr."""
        return self.log_path.read_text(errors="replace")[-_STDERR_TAIL_CHARS:]

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM (the service drains and checkpoints), then waits; SIGKILL if it does not exit in time."""
        if self.is_running:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
                raise RuntimeError(f"{self.module} ignored SIGTERM for {timeout_s} s:\n{self.output()}") from None
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut would stop it."""
        if self.is_running:
            self.process.kill()
        self.process.wait()


def _is_serving(address: str) -> bool:
    try:
        with grpc.insecure_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
    except grpc.RpcError:
        return False  # not listening yet, or NOT_SERVING is answered as such below
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def start_service(module: str, env: Mapping[str, str], port: int, ready_timeout_s: float) -> ServiceProcess:
    """Runs `python -m module` with `env` on top of this process's environment; returns once health is SERVING."""
    log_path = Path(tempfile.mkstemp(prefix=f"{module}-", suffix=".log")[1])
    port_env = PORT_ENV.get(module, f"LONGWATCH_{module.upper()}_PORT")
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **env, port_env: str(port)}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module], env=full_env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    handle = ServiceProcess(module, process, port, log_path)
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if not handle.is_running:
            raise RuntimeError(f"{module} exited with {process.returncode} before serving:\n{handle.output()}")
        if _is_serving(handle.address):
            return handle
        time.sleep(_POLL_S)
    handle.kill()
    raise RuntimeError(f"{module} did not serve within {ready_timeout_s} s:\n{handle.output()}")


@contextlib.contextmanager
def memory_and_perception(
    data_dir: Path, ready_timeout_s: float, perception_env: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Memory (tiny profile: its exact-term search is what perception checks use) and perception (cpu
    profile: real PyAV, pixel statistics and RapidOCR) writing to it; perception must stop cleanly."""
    common = {"LONGWATCH_DATA_DIR": str(data_dir), "LONGWATCH_MODEL_CACHE": str(data_dir / "model-cache")}
    memory = start_service("memory_service", {**common, "LONGWATCH_PROFILE": "tiny"}, free_port(), ready_timeout_s)
    try:
        env = {**common, "LONGWATCH_PROFILE": "cpu", "LONGWATCH_MEMORY_ADDR": memory.address, **(perception_env or {})}
        perception = start_service("perception", env, free_port(), ready_timeout_s)
        try:
            yield {
                "memory": memory.address,
                "perception": perception.address,
                "process": perception,
                "memory_process": memory,
            }
        finally:
            assert perception.stop() == 0, perception.output()
    finally:
        memory.stop()
