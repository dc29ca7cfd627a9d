"""A stand-in service for launcher tests: a gRPC server with health, started in a fraction of a second.

Behaviour comes from `FAKE_<NAME>_MODE`: `ok` serves; `crash` prints a line and exits 3 before serving;
`stubborn` serves but ignores SIGTERM. `crash-on-restart` and `hang-on-restart` serve when first started
and, started again in the same data dir, exit 3 before serving or listen but never say SERVING. On SIGTERM
a service appends "<name>" to `<LONGWATCH_DATA_DIR>/stopped.txt`, so a test sees the order the launcher
stopped them in (and that it stopped none of them while it restarted another). Given a chroma server
(LONGWATCH_MEMORY_CHROMA_URL), each appends "<name> start|stop <url> answering|silent" to
`<LONGWATCH_DATA_DIR>/chroma-seen.txt` as it starts and stops: whether the server was up for it then.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from longwatch.grpc_server import ServiceServer, run_until_signalled
from memory_service.core.chroma import is_chroma_answering, parse_chroma_url
from orchestration.launcher import CHROMA_URL_ENV, SERVICES


def run(name: str) -> None:
    mode = _mode(name)
    if mode == "crash":
        print(f"{name}: cannot load the model (fake crash)", flush=True)
        sys.exit(3)
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    asyncio.run(_main(name, mode == "stubborn", is_serving=mode != "hang"))


def _mode(name: str) -> str:
    """The mode for this start: a `*-on-restart` mode is `ok` the first time, its first word after."""
    mode = os.environ.get(f"FAKE_{name.upper()}_MODE", "ok")
    if not mode.endswith("-on-restart"):
        return mode
    marker = Path(os.environ["LONGWATCH_DATA_DIR"]) / f"{name}.started"
    if not marker.exists():
        marker.touch()
        return "ok"
    return mode.split("-", 1)[0]


async def _main(name: str, is_stubborn: bool, is_serving: bool) -> None:
    spec = SERVICES[name]
    # Made inside the running loop: a grpc.aio server belongs to the loop it was created in.
    server = ServiceServer("127.0.0.1", int(os.environ[spec.port_env]), [spec.health_name])
    stopped_log = Path(os.environ["LONGWATCH_DATA_DIR"]) / "stopped.txt"

    async def start() -> None:
        _note_chroma(name, "start")
        await server.start()
        if is_serving:
            await server.set_serving()

    async def stop() -> None:
        _note_chroma(name, "stop")
        await server.stop(0)
        with open(stopped_log, "a") as log:
            log.write(f"{name}\n")

    if is_stubborn:
        await start()
        await asyncio.Event().wait()
    else:
        await run_until_signalled(start, stop)


def _note_chroma(name: str, event: str) -> None:
    url = os.environ.get(CHROMA_URL_ENV, "")
    if url:
        state = "answering" if is_chroma_answering(parse_chroma_url(url)) else "silent"
        with open(Path(os.environ["LONGWATCH_DATA_DIR"]) / "chroma-seen.txt", "a") as seen:
            seen.write(f"{name} {event} {url} {state}\n")
