"""A real RTSP camera (GStreamer's RTSP server on loopback) watched by the real perception process (cpu
profile) writing to real memory: the camera is stopped, the stream says it is reconnecting, the camera comes
back on the same port, and the stream reconnects with its timeline going on; what the camera showed before
and after the outage is in memory. Skips only when Debian's GStreamer packages are missing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from longwatch.client import MemoryClient, PerceptionClient
from longwatch.sample import make_sample
from longwatch.types import SearchHit, StreamState, StreamStatus
from tests.integration.rtsp_camera import RtspCamera, missing_reason
from tests.integration.servers import memory_and_perception

READY_TIMEOUT_S = 180.0
WAIT_S = 120.0  # for a condition on a 2-core machine shared with other work; never a measured time
POLL_S = 0.25
PLATE = "KPL 4721"  # on screen 3 s to 9 s into each viewing of the sample (each viewer gets it from its start)
STREAM = "rtsp-cam"

_MISSING = missing_reason()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """Memory (tiny profile) and perception (cpu profile: RapidOCR reads the plate), reconnecting quickly."""
    fast_reconnects = {
        "LONGWATCH_PERCEPTION_LIVE_RETRY_INITIAL_S": "0.2",
        "LONGWATCH_PERCEPTION_LIVE_RETRY_MAX_S": "1.0",
        "LONGWATCH_PERCEPTION_LIVE_OPEN_TIMEOUT_S": "5.0",
        "LONGWATCH_PERCEPTION_LIVE_READ_TIMEOUT_S": "5.0",
        "LONGWATCH_PERCEPTION_WATCHDOG_STALL_S": "20.0",
    }
    with memory_and_perception(tmp_path_factory.mktemp("rtsp-data"), READY_TIMEOUT_S, fast_reconnects) as services:
        yield services


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("rtsp-camera") / "sample.mp4"
    make_sample(path)  # H.264 in MP4, 48 s: longer than each viewing here needs, so it is not looped
    return path


async def until(check: Callable[[], Awaitable[object]], what: str) -> object:
    """The first truthy result of `check`, polled; fails naming `what` after WAIT_S."""
    for _ in range(int(WAIT_S / POLL_S)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(POLL_S)
    raise AssertionError(f"never: {what}")


def test_an_rtsp_camera_that_restarts_is_reconnected_and_its_timeline_goes_on(services, video):
    camera = RtspCamera(video)

    async def scenario():
        perception = PerceptionClient(services["perception"])
        memory = MemoryClient(services["memory"])

        async def status() -> StreamStatus:
            (current,) = await perception.list_streams([STREAM])
            assert not current.state.is_final, current
            return current

        async def plate_hits() -> list[SearchHit]:
            return [hit for hit in await memory.search(PLATE, stream_ids=[STREAM], k=20) if PLATE in hit.text]

        try:
            with camera:
                await perception.add_stream(STREAM, camera.url)
                before = await until(plate_hits, "the plate read before the outage")
                camera.stop()  # off the network
                away = await until(
                    lambda: _if(status(), lambda s: s.error.startswith("reconnecting")), "the stream reconnecting"
                )
                await asyncio.sleep(1.0)
                (still_away,) = await perception.list_streams([STREAM])
                camera.start()  # back, on the same port
                back = await until(lambda: _if(status(), lambda s: s.error == ""), "the stream reconnected")
                after = await until(
                    lambda: _if(plate_hits(), lambda hits: any(h.start_s > away.position_s for h in hits)),
                    "the plate read after the outage",
                )
                removed = await perception.remove_stream(STREAM)
            return before, away, still_away, back, after, removed
        finally:
            await perception.close()
            await memory.close()

    before, away, still_away, back, after, removed = asyncio.run(scenario())
    assert away.state is StreamState.RUNNING and away.is_live
    assert still_away.state is StreamState.RUNNING and still_away.error.startswith("reconnecting (attempt ")
    assert still_away.position_s == pytest.approx(away.position_s, abs=0.5)  # no frames while it is away
    # Stream time goes on across the reconnect (the clock since AddStream), never back to 0.
    assert back.position_s >= away.position_s and removed.position_s > away.position_s + 3.0
    outage_s = away.position_s
    assert any(hit.end_s <= outage_s + 1.0 for hit in before), before  # read from the first viewing
    assert any(hit.start_s > outage_s for hit in after), after  # and from the second
    assert removed.state is StreamState.STOPPED and removed.clips_written >= 4
    assert "reconnecting in" in services["process"].output()


async def _if(value: Awaitable[object], predicate: Callable[[object], bool]) -> object:
    result = await value
    return result if predicate(result) else None
