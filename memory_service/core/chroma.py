"""Where memory's chromadb lives: embedded in the data directory (the default), or a `chroma run` server.

Embedded chromadb is unsafe with two writers, so a `PersistentClient` is only opened under an
exclusive lock on its directory. Several memory processes (replicas, containers) share one store
through a server and `HttpClient` instead.
"""

from __future__ import annotations

import fcntl
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from longwatch.errors import FailedPrecondition, InvalidArgument, Unavailable

logger = logging.getLogger(__name__)

# Seconds memory waits at start for a chroma server to answer: a server started at the same time (by
# `longwatch up` or compose) answers within a few; longer outages are the supervisor's to handle.
CONNECT_TIMEOUT_S = 30.0
_PROBE_TIMEOUT_S = 2.0  # one heartbeat request: a loopback server answers in milliseconds
_PROBE_INTERVAL_S = 1.0  # between heartbeat probes while waiting (one log line each)
_HEARTBEAT_PATH = "/api/v2/heartbeat"  # chromadb 1.x REST API
_URL_FORM = (
    "write it as http://HOST:PORT or https://HOST:PORT, e.g. http://127.0.0.1:8000, "
    "or leave it empty for embedded chromadb"
)


@dataclass(frozen=True)
class ChromaLocation:
    path: Path  # the embedded store's directory
    url: str = ""  # a `chroma run` server (http://host:port); empty = embedded at `path`


class ChromaConnection:
    """An open chromadb client; `close()` releases it (and the directory lock of an embedded store)."""

    def __init__(self, location: ChromaLocation) -> None:
        self.location = location
        self.client: Any = None
        self._lock_file: Any = None

    @property
    def is_embedded(self) -> bool:
        return not self.location.url

    def open(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        if self.is_embedded:
            self.location.path.mkdir(parents=True, exist_ok=True)
            self._lock_directory()
            self.client = chromadb.PersistentClient(path=str(self.location.path), settings=settings)
        else:
            self.client = _http_client(self.location.url, settings)
        return self.client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()  # embedded: the store's files; a server's client: its HTTP connections
            self.client = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    def _lock_directory(self) -> None:
        """Embedded chromadb is unsafe with two writers: a second process on the same directory fails here."""
        path = self.location.path
        self._lock_file = open(path.parent / f".{path.name}.lock", "w")  # noqa: SIM115 - held while open
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise FailedPrecondition(
                f"another memory service already uses {path}; stop it, choose another data directory, or share "
                "one store through a chroma server (LONGWATCH_MEMORY_CHROMA_URL)"
            ) from None


def _http_client(url: str, settings: Any, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """An `HttpClient` of the server at `url`, once its heartbeat answers (within `connect_timeout_s`).

    The heartbeat is probed with a timeout of its own first: chromadb's client waits without a limit
    on a host that drops packets, so a wrong address would hang the memory service's start."""
    import chromadb

    server = parse_chroma_url(url)
    _wait_for_heartbeat(server, connect_timeout_s)
    try:
        return chromadb.HttpClient(host=server.host, port=server.port, ssl=server.is_ssl, settings=settings)
    except Exception as exc:  # chromadb raises ValueError, httpx errors and its own for a bad server
        raise Unavailable(
            f"the chroma server at {server.url} answers its heartbeat but refused a client ({exc}); "
            "check that it is a `chroma run` server of chromadb 1.x"
        ) from exc


@dataclass(frozen=True)
class ChromaServer:
    """Where a `chroma run` server listens, from a checked URL."""

    host: str
    port: int
    is_ssl: bool

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"{'https' if self.is_ssl else 'http'}://{host}:{self.port}"

    @property
    def heartbeat_url(self) -> str:
        return self.url + _HEARTBEAT_PATH


def parse_chroma_url(url: str) -> ChromaServer:
    """`http(s)://HOST:PORT` (a trailing `/` allowed), or InvalidArgument saying how to write it."""
    shown = _without_credentials(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # a port that is not a number, or out of range
        raise InvalidArgument(f"chroma URL {shown!r}: {exc}; {_URL_FORM}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(f"chroma URL {shown!r} is not http(s)://HOST:PORT; {_URL_FORM}")
    if parts.username is not None or parts.password is not None:
        raise InvalidArgument(
            f"chroma URL {shown!r} carries credentials, which are not supported (and would reach the logs); "
            f"remove them: {_URL_FORM}"
        )
    if port is None or port == 0:
        raise InvalidArgument(
            f"chroma URL {shown!r} has no port (1 to 65535); `chroma run` listens on 8000 unless told: {_URL_FORM}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidArgument(f"chroma URL {shown!r} has a path, query or fragment; remove it: {_URL_FORM}")
    return ChromaServer(parts.hostname, port, parts.scheme == "https")


def is_chroma_answering(server: ChromaServer, timeout_s: float = _PROBE_TIMEOUT_S) -> bool:
    """Whether the server answers its heartbeat now (one probe of at most `timeout_s`)."""
    return _heartbeat_error(server, timeout_s) is None


def _wait_for_heartbeat(server: ChromaServer, timeout_s: float) -> None:
    deadline_s = time.monotonic() + timeout_s
    while True:
        error = _heartbeat_error(server, min(_PROBE_TIMEOUT_S, max(deadline_s - time.monotonic(), 0.1)))
        if error is None:
            return
        left_s = deadline_s - time.monotonic()
        if left_s <= 0:
            raise Unavailable(
                f"the chroma server at {server.url} did not answer its heartbeat within {timeout_s:.0f} s "
                f"({error}); start it (`chroma run --path DIR --host HOST --port PORT`, or `longwatch up "
                "--chroma-server`), or correct LONGWATCH_MEMORY_CHROMA_URL (empty = embedded chromadb)"
            )
        logger.info(
            "chroma server at %s does not answer yet (%s); probing again, %.0f s left", server.url, error, left_s
        )
        time.sleep(min(_PROBE_INTERVAL_S, left_s))


def _heartbeat_error(server: ChromaServer, timeout_s: float) -> str | None:
    """None when the heartbeat answers; otherwise what went wrong, in a few words."""
    import httpx

    try:
        reply = httpx.get(server.heartbeat_url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if reply.status_code != 200:
        return f"HTTP {reply.status_code} from {_HEARTBEAT_PATH}: not a chromadb 1.x server?"
    return None


def _without_credentials(url: str) -> str:
    """The URL as it may be shown: a `user:password@` part replaced by `***@`."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
