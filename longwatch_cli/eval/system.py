"""A whole longwatch on free loopback ports, for the harness and the benchmarks.

    with local_system(root / "data", profile="cpu") as launcher:
        async with LongwatchClient.connect(**launcher.addresses) as client: ...

Ports are chosen free so a running `longwatch up` is left alone. Every service is stopped on exit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from longwatch.settings import default_model_cache_dir
from orchestration.health import free_port
from orchestration.launcher import SERVICES, LaunchConfig, Launcher

HOST = "127.0.0.1"


def system_config(
    data_dir: Path,
    *,
    profile: str = "cpu",
    model_cache: Path | None = None,
    log_level: str = "WARNING",
    env: Mapping[str, str] | None = None,
    stop_timeout_s: float = 30.0,
) -> LaunchConfig:
    """A launch configuration with a free loopback port for every service."""
    return LaunchConfig(
        data_dir=data_dir,
        profile=profile,
        model_cache=model_cache or default_model_cache_dir(),
        ports={name: free_port(HOST) for name in SERVICES},
        log_level=log_level,
        env=dict(env or {}),
        stop_timeout_s=stop_timeout_s,
    )


@contextmanager
def local_system(data_dir: Path, **config: object) -> Iterator[Launcher]:
    """Starts the three services (see `system_config` for the options); yields once all are SERVING."""
    with Launcher(system_config(data_dir, **config)) as launcher:  # type: ignore[arg-type]
        launcher.start()
        yield launcher
