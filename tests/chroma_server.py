"""A real `chroma run` server for tests, on a free loopback port, stopped when the block ends.

    with chroma_server(tmp_path / "chroma") as url:   # "http://127.0.0.1:PORT", answering its heartbeat
        ... LONGWATCH_MEMORY_CHROMA_URL=url ...

The `chroma` executable is the one installed next to this Python. If the server exits before it answers,
or does not answer in time, the error shows the end of its output.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from memory_service.core.chroma import is_chroma_answering, parse_chroma_url

HOST = "127.0.0.1"
CHROMA_EXECUTABLE = Path(sys.executable).parent / "chroma"
READY_TIMEOUT_S = 60.0  # it answers in about a second; a busy shared machine can take much longer
STOP_TIMEOUT_S = 15.0  # it shuts down in a second or two after SIGTERM
_POLL_S = 0.1
_OUTPUT_TAIL_CHARS = 4000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def chroma_server(path: Path, port: int = 0) -> Iterator[str]:
    """Runs `chroma run --path path` on `port` (0 = a free one); yields its URL once the heartbeat answers."""
    port = port or _free_port()
    url = f"http://{HOST}:{port}"
    path.mkdir(parents=True, exist_ok=True)
    log_path = path.parent / f"{path.name}-chroma.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(CHROMA_EXECUTABLE), "run", "--path", str(path), "--host", HOST, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_answering(url, process, log_path)
        yield url
    finally:
        _stop(process)


def _wait_answering(url: str, process: subprocess.Popen, log_path: Path) -> None:
    server = parse_chroma_url(url)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not is_chroma_answering(server, timeout_s=1.0):
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with {process.returncode} before answering:\n{_tail(log_path)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"chroma run did not answer at {url} within {READY_TIMEOUT_S} s:\n{_tail(log_path)}")
        time.sleep(_POLL_S)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-_OUTPUT_TAIL_CHARS:]
