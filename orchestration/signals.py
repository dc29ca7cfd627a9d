"""Signals while the launcher runs: SIGTERM stops the services like Ctrl-C, and a second signal while they
stop does not cut the stop short."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)


class Terminated(BaseException):
    """SIGTERM arrived (see `sigterm_raises`). A BaseException, like KeyboardInterrupt, so that only
    code that means to stop catches it."""


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises Terminated in the main thread as Ctrl-C raises KeyboardInterrupt,
    so the `finally` and `with` blocks that stop the services run."""

    def handler(signum: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """While the services stop, a second Ctrl-C or SIGTERM must not cut the stop short and leave
    a service without its SIGTERM; it is logged and otherwise ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return

    def handler(signum: int, frame: object) -> None:
        logger.warning("already stopping the services; please wait")

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
