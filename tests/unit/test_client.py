"""The SDK refuses what cannot be sent before it calls anything (no server listens on the address here)."""

from __future__ import annotations

import asyncio

import pytest

from longwatch.client import ReasonerClient
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
