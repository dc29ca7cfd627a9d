"""The SDK refuses what cannot be sent before it calls anything (no server listens on the address here)."""

from __future__ import annotations

import asyncio

import pytest

from longwatch.client import PerceptionClient, ReasonerClient
from longwatch.errors import InvalidArgument


@pytest.mark.parametrize("deadline_ms", [2**63, -(2**63) - 1, 10**20])
def test_a_deadline_the_request_cannot_carry_is_an_invalid_argument(deadline_ms):
    async def ask():
        client = ReasonerClient("127.0.0.1:9")
        try:
            await client.ask("what happened?", deadline_ms=deadline_ms)
        finally:
            await client.close()

    with pytest.raises(InvalidArgument, match=f"deadline_ms {deadline_ms} is out of range"):
        asyncio.run(ask())


def test_the_sdk_refuses_what_every_server_refuses_before_calling():
    asyncio.run(_refusals())


async def _refusals() -> None:
    perception = PerceptionClient("127.0.0.1:9")  # nothing listens: a refusal must come before any call
    reasoner = ReasonerClient("127.0.0.1:9")
    try:
        with pytest.raises(InvalidArgument, match="stream_id '../../../etc/passwd' is not valid"):
            await perception.add_stream("../../../etc/passwd", "/videos/gate.mp4")
        with pytest.raises(InvalidArgument, match="sample_fps 5e-324 is out of range"):
            await perception.add_stream("gate", "/videos/gate.mp4", sample_fps=5e-324)
        with pytest.raises(InvalidArgument, match="source is 1048595 characters long"):
            await perception.add_stream("gate", "rtsp://127.0.0.1:1/" + "a" * (1 << 20))
        with pytest.raises(InvalidArgument, match="question is empty"):
            await reasoner.ask("\x00")
    finally:
        await perception.close()
        await reasoner.close()
