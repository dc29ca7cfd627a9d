"""Runs memory, perception and reasoner as local child processes, the way `longwatch up` does.

    with Launcher(LaunchConfig(data_dir=Path("/tmp/lw"), profile="tiny")) as launcher:
        launcher.start()              # memory first, then the other two; returns once all say SERVING
        print(launcher.addresses)
        launcher.supervise()          # restarts a crashed service; until a signal, or one crashes too often
        # fault runs: launcher.kill("memory"); launcher.restart("memory")  # SIGKILL, then SERVING again
    # leaving the block stops perception, then reasoner, then memory

Each child logs to `<data_dir>/logs/<service>.log`. Children run in their own session, so a Ctrl-C at
the terminal reaches only the launcher, which stops them in order (perception flushes its last clips
into a memory service that is still up). On Linux each child also gets SIGTERM when the launcher dies,
even by SIGKILL, so no service outlives it. That signal is tied to the thread that started the child:
call `start()` and `supervise()` from a thread that lives as long as the services (the main thread).

With `LaunchConfig(starts_chroma_server=True)` a `chroma run` server (data in
`<data_dir>/memory/chroma-server`) starts first, as one more supervised child: memory starts once its
heartbeat answers, is told its URL (LONGWATCH_MEMORY_CHROMA_URL), and is stopped before it.

`supervise()` restarts a service that exits on its own after a back-off that doubles per recent crash
(`restart_initial_delay_s` up to `restart_max_delay_s`) and leaves the others running: perception and the
reasoner retry memory themselves. It gives up, raising ServiceDied, once one service crashed `crash_limit`
times within `crash_window_s`.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from longwatch.memory.v1 import memory_pb2
from longwatch.perception.v1 import perception_pb2
from longwatch.reasoner.v1 import reasoner_pb2
from longwatch.settings import (
    DEFAULT_HOST,
    DEFAULT_MEMORY_PORT,
    DEFAULT_PERCEPTION_PORT,
    DEFAULT_REASONER_PORT,
    default_model_cache_dir,
)
from memory_service.core.chroma import is_chroma_answering, parse_chroma_url
from orchestration.health import is_port_free, is_serving
from orchestration.signals import signals_deferred
from orchestration.supervision import CrashHistory, RestartPolicy, describe_exit

logger = logging.getLogger(__name__)

_POLL_S = 0.25  # between health probes and liveness checks
_PROGRESS_EVERY_S = 30.0  # how often a slow start is reported as still going
_LOG_TAIL_LINES = 40  # lines of a dead service's log shown in the error
_PARENT_DEATH_SCRIPT = Path(__file__).with_name("parent_death.py")
# Where `longwatch up --chroma-server` runs chroma unless told: next to the services' ports.
DEFAULT_CHROMA_PORT = 50064
CHROMA_URL_ENV = "LONGWATCH_MEMORY_CHROMA_URL"


class LaunchError(Exception):
    """The services could not be started; the message says why and what to change."""


class ServiceDied(LaunchError):
    """A service exited on its own; the message carries the end of its log."""


class Readiness(StrEnum):
    """How the launcher tells that a child can serve."""

    GRPC_HEALTH = "grpc-health"  # grpc.health.v1 says SERVING for the spec's health_name
    CHROMA_HEARTBEAT = "chroma-heartbeat"  # a chroma server's heartbeat answers


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # short name: flags, log file, messages
    module: str  # run as `python -m <module>`; empty for a `script`
    health_name: str  # gRPC health service that says SERVING once models are loaded
    port_env: str  # env variable that sets the port; empty when `args` carry it
    script: str = ""  # instead of a module: a console script installed next to this python (`chroma`)
    args: tuple[str, ...] = ()  # the script's arguments; `{host}`, `{port}` and `{data_dir}` are filled in
    readiness: Readiness = Readiness.GRPC_HEALTH


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec(
            "memory",
            "memory_service",
            memory_pb2.DESCRIPTOR.services_by_name["MemoryService"].full_name,
            "LONGWATCH_MEMORY_PORT",
        ),
        ServiceSpec(
            "perception",
            "perception",
            perception_pb2.DESCRIPTOR.services_by_name["PerceptionService"].full_name,
            "LONGWATCH_PERCEPTION_PORT",
        ),
        ServiceSpec(
            "reasoner",
            "reasoner",
            reasoner_pb2.DESCRIPTOR.services_by_name["ReasonerService"].full_name,
            "LONGWATCH_REASONER_PORT",
        ),
    )
}
CHROMA_SERVICE = ServiceSpec(
    "chroma",
    module="",
    health_name="",
    port_env="",
    script="chroma",
    args=("run", "--path", "{data_dir}/memory/chroma-server", "--host", "{host}", "--port", "{port}"),
    readiness=Readiness.CHROMA_HEARTBEAT,
)
# Chroma first (when it runs): memory opens its store at start. Memory next: the other two connect to it.
# Perception and reasoner do not need each other, so they load their models at the same time.
START_WAVES: tuple[tuple[str, ...], ...] = (("chroma",), ("memory",), ("perception", "reasoner"))
# Perception first so its last clips still reach memory; memory after them so nothing writes to a closed
# store, and chroma last so memory's last writes reach it.
STOP_ORDER: tuple[str, ...] = ("perception", "reasoner", "memory", "chroma")


@dataclass(frozen=True)
class LaunchConfig:
    data_dir: Path
    profile: str = "cpu"
    model_cache: Path = field(default_factory=default_model_cache_dir)
    host: str = DEFAULT_HOST
    ports: Mapping[str, int] = field(
        default_factory=lambda: {
            "memory": DEFAULT_MEMORY_PORT,
            "perception": DEFAULT_PERCEPTION_PORT,
            "reasoner": DEFAULT_REASONER_PORT,
            "chroma": DEFAULT_CHROMA_PORT,
        }
    )
    log_level: str = "INFO"
    # Runs a `chroma run` server on ports["chroma"] for memory's vectors, instead of embedded chromadb:
    # what other memory processes (replicas) can share.
    starts_chroma_server: bool = False
    # Seconds a service may take to say SERVING. Generous: the first cpu-profile start prepares the
    # Gemma model into the model cache (a minute or two on a small machine); later starts take seconds.
    ready_timeout_s: float = 900.0
    # Seconds a service gets to drain after SIGTERM before it is killed.
    stop_timeout_s: float = 30.0
    # Seconds before restarting a crashed service, doubled per crash within crash_window_s, capped: a
    # crash loop costs little CPU while an occasional crash is repaired at once.
    restart_initial_delay_s: float = 1.0
    restart_max_delay_s: float = 30.0
    # This many crashes of one service within crash_window_s seconds: supervision gives up (ServiceDied).
    crash_limit: int = 5
    crash_window_s: float = 120.0
    env: Mapping[str, str] = field(default_factory=dict)  # extra variables for every child

    @property
    def restart_policy(self) -> RestartPolicy:
        return RestartPolicy(
            self.restart_initial_delay_s, self.restart_max_delay_s, self.crash_limit, self.crash_window_s
        )

    def address(self, name: str) -> str:
        return f"{self.host}:{self.ports[name]}"

    @property
    def chroma_url(self) -> str:
        """The started chroma server's URL; empty when memory embeds chromadb."""
        return f"http://{self.address('chroma')}" if self.starts_chroma_server else ""


@dataclass
class _Child:
    spec: ServiceSpec
    process: subprocess.Popen
    log_path: Path


@dataclass
class _Recovery:
    """A crashed service on its way back: waiting out its back-off, then (spawned) waiting for SERVING."""

    due_s: float  # monotonic: when to respawn it; once spawned, when to stop waiting for SERVING
    is_spawned: bool = False


def script_command(spec: ServiceSpec, host: str, port: int, data_dir: Path) -> list[str]:
    """The spec's script (installed next to this Python) with its arguments filled in."""
    fields = {"host": host, "port": port, "data_dir": data_dir}
    return [str(Path(sys.executable).parent / spec.script), *(arg.format(**fields) for arg in spec.args)]


def _command(spec: ServiceSpec, config: LaunchConfig) -> list[str]:
    """`python -m module`, or the spec's script and arguments; on Linux through parent_death.py, which
    makes the kernel SIGTERM the service when the launcher dies and then execs it (same pid)."""
    if spec.script:
        program = script_command(spec, config.host, config.ports[spec.name], config.data_dir)
    else:
        program = [sys.executable, "-m", spec.module]
    if not sys.platform.startswith("linux"):
        return program
    return [sys.executable, str(_PARENT_DEATH_SCRIPT), str(os.getpid()), *program]


def _services_to_run(config: LaunchConfig, services: Mapping[str, ServiceSpec]) -> dict[str, ServiceSpec]:
    """The three services, and chroma when the config starts it (`services` may give a stand-in)."""
    chosen = {name: spec for name, spec in services.items() if name != CHROMA_SERVICE.name}
    if config.starts_chroma_server:
        chosen[CHROMA_SERVICE.name] = services.get(CHROMA_SERVICE.name, CHROMA_SERVICE)
    return chosen


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class Launcher:
    """Starts the three services as child processes and stops them, whatever happens in between."""

    def __init__(self, config: LaunchConfig, services: Mapping[str, ServiceSpec] = SERVICES) -> None:
        """`services` replaces the modules run for memory, perception and reasoner (tests use stand-ins)."""
        self.config = config
        self._services = _services_to_run(config, services)
        self._children: dict[str, _Child] = {}
        self._stopped = threading.Event()
        self._crashes = {name: CrashHistory(config.restart_policy) for name in self._services}
        self._recovering: dict[str, _Recovery] = {}

    @property
    def addresses(self) -> dict[str, str]:
        """The gRPC services' addresses, as `LongwatchClient.connect` takes them (chroma's is `config.chroma_url`)."""
        return {
            name: self.config.address(name)
            for name, spec in self._services.items()
            if spec.readiness is Readiness.GRPC_HEALTH
        }

    @property
    def pids(self) -> dict[str, int]:
        return {name: child.process.pid for name, child in self._children.items()}

    def log_path(self, name: str) -> Path:
        return self.config.data_dir / "logs" / f"{name}.log"

    def start(self) -> None:
        """Starts every service, wave by wave; returns once all are SERVING. On any failure, or an
        interrupt, stops what it started and re-raises."""
        self._check_ports()
        if self.config.profile == "cpu":
            logger.info(
                "the first start with the cpu profile prepares the Gemma LLM into %s (a minute or two, once); "
                "later starts take seconds",
                self.config.model_cache,
            )
        try:
            for wave in START_WAVES:
                names = tuple(name for name in wave if name in self._services)
                for name in names:
                    self._spawn(self._services[name])
                if names:
                    self._wait_serving(names)
        except BaseException:
            self.stop()
            raise

    def check(self) -> None:
        """Raises ServiceDied if any started service has exited."""
        self._raise_if_exited(self._children, "")

    def supervise(self, on_restarted: Callable[[str], None] | None = None) -> None:
        """Restarts each service that exits on its own, one step per poll so that a service on its way
        back never holds up watching the others; returns once `stop()` was called.

        Raises ServiceDied, with the end of its log, when a service crashed `crash_limit` times within
        `crash_window_s`, and LaunchError when a restarted one does not say SERVING within
        `ready_timeout_s`. `on_restarted(name)` runs here once a restarted service is SERVING again.
        Call it from the thread that called `start()`: restarted children are tied to it as well."""
        while not self._stopped.wait(_POLL_S):
            for name in sorted(self._children):
                self._supervise_one(name, on_restarted)

    def kill(self, name: str) -> None:
        """SIGKILLs one service, as a crash would (no drain, no checkpoint), and waits until it is gone.
        It stays dead until `restart(name)`; meanwhile `check()` reports it as died."""
        child = self._children.get(name)
        if child is None:
            raise LaunchError(f"no {name} service was started by this launcher; call start() first")
        logger.info("killing %s (pid %d)", name, child.process.pid)
        child.process.kill()
        child.process.wait()

    def restart(self, name: str) -> None:
        """Starts a service that exited (after `kill`, or a crash) again with the same configuration and
        port; returns once it is SERVING. Raises LaunchError if it still runs or the launcher has stopped.
        For fault runs that drive restarts themselves: not while `supervise()` runs, which restarts crashed
        services on its own. Like `start()`, call it from the main thread."""
        child = self._children.get(name)
        if child is not None and child.process.poll() is None:
            raise LaunchError(f"the {name} service still runs (pid {child.process.pid}); kill or stop it first")
        if self._stopped.is_set():
            raise LaunchError(f"the launcher has stopped; start it again instead of restarting {name}")
        self._spawn(self._services[name])
        self._wait_serving((name,))

    def stop(self) -> None:
        """SIGTERM to each service in STOP_ORDER, each waited for; SIGKILL after `stop_timeout_s`."""
        self._stopped.set()
        with signals_deferred():
            for name in STOP_ORDER:
                child = self._children.get(name)
                if child is not None:
                    self._stop_child(child)
                    del self._children[name]

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _check_ports(self) -> None:
        for name in self._services:
            port = self.config.ports[name]
            if not is_port_free(self.config.host, port):
                raise LaunchError(
                    f"port {port} for the {name} service is already in use (another `longwatch up`?); "
                    f"stop it or choose another port with --{name}-port"
                )

    def _child_env(self, spec: ServiceSpec) -> dict[str, str]:
        config = self.config
        env = {
            **os.environ,
            **config.env,
            "LONGWATCH_PROFILE": config.profile,
            "LONGWATCH_DATA_DIR": str(config.data_dir),
            "LONGWATCH_MODEL_CACHE": str(config.model_cache),
            "LONGWATCH_LOG_LEVEL": config.log_level,
            "LONGWATCH_MEMORY_ADDR": config.address("memory"),
            "PYTHONUNBUFFERED": "1",  # so the log tail shown after a crash is complete
        }
        if spec.port_env:
            env[spec.port_env] = str(config.ports[spec.name])
        if config.starts_chroma_server:  # else memory embeds chromadb, or uses a server named in our env
            env[CHROMA_URL_ENV] = config.chroma_url
        return env

    def _spawn(self, spec: ServiceSpec) -> None:
        log_path = self.log_path(spec.name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            log.write(f"---- longwatch launcher starts {spec.module or spec.script} at {time.ctime()}\n".encode())
            log.flush()
            process = subprocess.Popen(
                _command(spec, self.config),
                env=self._child_env(spec),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a terminal Ctrl-C reaches the launcher only; it stops them in order
            )
        self._children[spec.name] = _Child(spec, process, log_path)
        logger.info("started %s (pid %d), log %s", spec.name, process.pid, log_path)

    def _wait_serving(self, names: tuple[str, ...]) -> None:
        waiting = set(names)
        logger.info("waiting for %s to load models and say SERVING", ", ".join(names))
        started = time.monotonic()
        next_report = started + _PROGRESS_EVERY_S
        while waiting:
            self._raise_if_exited(waiting, " before serving")
            for name in sorted(waiting):
                if self._is_ready(name):
                    waiting.discard(name)
                    logger.info("%s is serving on %s", name, self.config.address(name))
            now = time.monotonic()
            if waiting and now - started > self.config.ready_timeout_s:
                raise LaunchError(self._timeout_message(sorted(waiting)))
            if waiting and now >= next_report:
                logger.info("still waiting for %s (%.0f s)", ", ".join(sorted(waiting)), now - started)
                next_report = now + _PROGRESS_EVERY_S
            if waiting:
                self._stopped.wait(_POLL_S)

    def _supervise_one(self, name: str, on_restarted: Callable[[str], None] | None) -> None:
        child = self._children.get(name)
        if child is None or self._stopped.is_set():  # stop() ran meanwhile (from the callback)
            return
        recovery = self._recovering.get(name)
        now_s = time.monotonic()
        if recovery is None:
            code = child.process.poll()
            if code is not None:
                self._on_crash(child, code, now_s)
        elif not recovery.is_spawned:
            if now_s >= recovery.due_s:
                self._respawn(name, recovery, now_s)
        else:
            self._check_restarted(child, recovery, now_s, on_restarted)

    def _on_crash(self, child: _Child, code: int, now_s: float) -> None:
        name, crashes = child.spec.name, self._crashes[child.spec.name]
        crashes.record(now_s)
        config = self.config
        if crashes.is_over_limit:
            raise ServiceDied(
                f"the {name} service {describe_exit(code)}: {crashes.recent_count} crashes within "
                f"{config.crash_window_s:.0f} s, so it is not restarted again; the end of {child.log_path}:\n"
                f"{log_tail(child.log_path)}"
            )
        delay_s = crashes.restart_delay_s()
        logger.warning(
            "%s %s (crash %d within %.0f s; supervision gives up at %d); restarting it in %.3g s; see %s",
            name,
            describe_exit(code),
            crashes.recent_count,
            config.crash_window_s,
            config.crash_limit,
            delay_s,
            child.log_path,
        )
        self._recovering[name] = _Recovery(due_s=now_s + delay_s)

    def _respawn(self, name: str, recovery: _Recovery, now_s: float) -> None:
        self._spawn(self._services[name])
        recovery.is_spawned = True
        recovery.due_s = now_s + self.config.ready_timeout_s

    def _check_restarted(
        self, child: _Child, recovery: _Recovery, now_s: float, on_restarted: Callable[[str], None] | None
    ) -> None:
        """One health probe of a restarted service; a crash before SERVING counts like any other."""
        name = child.spec.name
        code = child.process.poll()
        if code is not None:
            del self._recovering[name]
            self._on_crash(child, code, now_s)
        elif self._is_ready(name):
            del self._recovering[name]
            logger.info("%s is serving again on %s (pid %d)", name, self.config.address(name), child.process.pid)
            if on_restarted is not None:
                on_restarted(name)
        elif now_s > recovery.due_s:
            raise LaunchError(f"after a restart, {self._timeout_message([name])}")

    def _raise_if_exited(self, names: Iterable[str], when: str) -> None:
        for name in sorted(names):
            child = self._children[name]
            code = child.process.poll()
            if code is not None:
                raise ServiceDied(
                    f"the {name} service {describe_exit(code)}{when}; the end of {child.log_path}:\n"
                    f"{log_tail(child.log_path)}"
                )

    def _is_ready(self, name: str) -> bool:
        spec = self._services[name]
        return _READINESS_PROBES[spec.readiness](self.config.address(name), spec)

    def _timeout_message(self, names: list[str]) -> str:
        tails = "\n".join(f"-- {self.log_path(name)}:\n{log_tail(self.log_path(name))}" for name in names)
        return (
            f"{', '.join(names)} did not say SERVING within {self.config.ready_timeout_s:.0f} s; see the logs:\n{tails}"
        )

    def _stop_child(self, child: _Child) -> None:
        name, process = child.spec.name, child.process
        if process.poll() is not None:
            return
        logger.info("stopping %s (pid %d)", name, process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=self.config.stop_timeout_s)
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop within %.0f s of SIGTERM; killing it", name, self.config.stop_timeout_s)
            process.kill()
            process.wait()


def _is_chroma_up(address: str, spec: ServiceSpec) -> bool:
    return is_chroma_answering(parse_chroma_url(f"http://{address}"))


_READINESS_PROBES: dict[Readiness, Callable[[str, ServiceSpec], bool]] = {
    Readiness.GRPC_HEALTH: lambda address, spec: is_serving(address, spec.health_name),
    Readiness.CHROMA_HEARTBEAT: _is_chroma_up,
}
