"""The SDK refuses what cannot be sent before it calls anything (no server listens on the address here),
and its errors name the service that is down."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from longwatch.client import PerceptionClient, ReasonerClient, error_from_rpc
from longwatch.errors import InvalidArgument, Unavailable
from longwatch.grpc_server import ANSWERED_KEY


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


def rpc_error(code: grpc.StatusCode, details: str, *, is_from_server: bool) -> grpc.aio.AioRpcError:
    trailing = grpc.aio.Metadata((ANSWERED_KEY, "1")) if is_from_server else grpc.aio.Metadata()
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details)


def test_a_service_that_cannot_be_reached_is_named_with_its_address():
    failure = rpc_error(
        grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; Connection refused", is_from_server=False
    )
    error = error_from_rpc(failure, "perception", "127.0.0.1:50061")
    assert isinstance(error, Unavailable)
    assert str(error).startswith("cannot reach the perception service at 127.0.0.1:50061: start it with `longwatch up`")


def test_a_connection_that_breaks_during_a_call_names_the_service_called():
    failure = rpc_error(grpc.StatusCode.UNAVAILABLE, "Socket closed", is_from_server=False)
    error = error_from_rpc(failure, "memory", "h:1")
    assert str(error) == "the memory service at h:1 is unavailable (Socket closed); retry once it is back"


def test_a_server_that_answers_unavailable_keeps_its_own_words():
    """The reasoner answered; it is memory, behind it, that is down, whatever words the details use."""
    details = "cannot reach the memory service at 127.0.0.1:50062: failed to connect to all addresses"
    failure = rpc_error(grpc.StatusCode.UNAVAILABLE, details, is_from_server=True)
    error = error_from_rpc(failure, "reasoner", "127.0.0.1:50063")
    assert isinstance(error, Unavailable) and str(error) == details


def test_a_client_inside_a_service_ends_the_message_with_its_own_hint():
    failure = rpc_error(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses", is_from_server=False)
    error = error_from_rpc(failure, "memory", "127.0.0.1:50062", "ask again once memory is back")
    assert str(error) == "cannot reach the memory service at 127.0.0.1:50062: ask again once memory is back"
