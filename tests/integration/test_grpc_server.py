"""The shared server base: errors become canonical statuses, health follows readiness, reflection lists services."""

import asyncio
import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from longwatch import errors
from longwatch.grpc_server import ServiceServer
from longwatch.memory.v1 import memory_pb2, memory_pb2_grpc

SERVICE = memory_pb2.DESCRIPTOR.services_by_name["MemoryService"].full_name


class _RaisingMemory(memory_pb2_grpc.MemoryServiceServicer):
    """Raises whatever error the query text names."""

    async def Search(self, request, context):
        if request.text == "bug":
            raise ZeroDivisionError("a real bug")
        if request.text == "long":
            raise errors.NotFound("x" * (1 << 20))
        raise getattr(errors, request.text)(f"raised {request.text}")

    async def WriteClips(self, request_iterator, context):
        async for request in request_iterator:
            yield memory_pb2.WriteClipsResponse(clip_id=request.clip.stream_id)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _with_server(check):
    port = _free_port()
    server = ServiceServer("127.0.0.1", port, [SERVICE])
    memory_pb2_grpc.add_MemoryServiceServicer_to_server(_RaisingMemory(), server.grpc_server)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await check(server, channel)
    finally:
        await server.stop(0)


@pytest.mark.parametrize(
    ("error_name", "code"),
    [
        ("InvalidArgument", grpc.StatusCode.INVALID_ARGUMENT),
        ("NotFound", grpc.StatusCode.NOT_FOUND),
        ("AlreadyExists", grpc.StatusCode.ALREADY_EXISTS),
        ("FailedPrecondition", grpc.StatusCode.FAILED_PRECONDITION),
        ("Unavailable", grpc.StatusCode.UNAVAILABLE),
        ("ResourceExhausted", grpc.StatusCode.RESOURCE_EXHAUSTED),
        ("bug", grpc.StatusCode.INTERNAL),
    ],
)
def test_errors_map_to_canonical_status_and_the_server_survives(error_name, code):
    async def check(server, channel):
        stub = memory_pb2_grpc.MemoryServiceStub(channel)
        for _ in range(2):  # the second call proves the server still serves
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Search(memory_pb2.SearchRequest(text=error_name), timeout=5)
            assert caught.value.code() == code
        if error_name != "bug":
            assert caught.value.details() == f"raised {error_name}"

    asyncio.run(_with_server(check))


def test_health_is_not_serving_until_ready():
    async def check(server, channel):
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", SERVICE):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
        await server.set_serving()
        for name in ("", SERVICE):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING

    asyncio.run(_with_server(check))


def test_reflection_lists_the_service_and_health():
    async def check(server, channel):
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = [reply async for reply in stub.ServerReflectionInfo(iter([request]))]
        names = {service.name for service in replies[0].list_services_response.service}
        assert {SERVICE, "grpc.health.v1.Health"} <= names

    asyncio.run(_with_server(check))


def test_a_taken_port_is_refused_with_a_clear_error():
    async def check(server, channel):
        host, port = server.address.rsplit(":", 1)
        second = ServiceServer(host, int(port), [SERVICE])
        with pytest.raises(errors.Unavailable, match="choose another port"):
            await second.start()

    asyncio.run(_with_server(check))


NOT_PROTOBUF = [b"GET / HTTP/1.1\r\n\r\n", b"\xff" * 64, b"\x0a\x02\xff\xfe"]  # the last: bad UTF-8 in a string


@pytest.mark.parametrize("payload", NOT_PROTOBUF)
def test_bytes_that_are_not_the_request_are_invalid_arguments(payload, caplog):
    async def check(server, channel):
        search = channel.unary_unary(f"/{SERVICE}/Search")  # no serializers: the bytes go as they are
        for _ in range(2):  # the second call proves the server still serves
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await search(payload, timeout=5)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "not a valid protobuf message" in caught.value.details()

    asyncio.run(_with_server(check))
    # The server's own lines: grpc.aio's poller may still log, from asyncio, events of an earlier test's
    # closed event loop ("Event loop is closed"), which say nothing of this server.
    served = [record for record in caplog.records if record.name.startswith("longwatch")]
    assert not [record for record in served if record.exc_info or "Traceback" in record.getMessage()]


def test_junk_in_a_request_stream_is_an_invalid_argument_after_the_valid_messages():
    good = memory_pb2.WriteClipsRequest(clip=memory_pb2.ClipRecord(stream_id="gate")).SerializeToString()

    async def check(server, channel):
        write = channel.stream_stream(f"/{SERVICE}/WriteClips")
        call = write(iter([good, b"\xff" * 64, good]), timeout=5)
        acks = []
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            async for ack in call:
                acks.append(memory_pb2.WriteClipsResponse.FromString(ack).clip_id)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert acks == ["gate"]

    asyncio.run(_with_server(check))


def test_a_long_error_message_arrives_cut_with_its_real_code():
    async def check(server, channel):
        stub = memory_pb2_grpc.MemoryServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Search(memory_pb2.SearchRequest(text="long"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND  # not RESOURCE_EXHAUSTED from oversized metadata
        assert len(caught.value.details()) < 1100

    asyncio.run(_with_server(check))
