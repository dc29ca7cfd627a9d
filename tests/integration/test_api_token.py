"""The optional API token: a server that requires it refuses every call without it, UNAUTHENTICATED and
saying what to set, but its health checks; the SDK sends it from the same variables the services read."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from longwatch import errors
from longwatch.client import MemoryClient
from longwatch.grpc_server import ServiceServer
from longwatch.memory.v1 import memory_pb2, memory_pb2_grpc
from longwatch.security import TOKEN_ENV, TOKEN_FILE_ENV, token_from_env
from tests.integration.servers import free_port, start_service
from tests.integration.test_grpc_server import SERVICE, _RaisingMemory

TOKEN = "t0ken-4f9a-secret"
READY_TIMEOUT_S = 180.0  # building the tiny models on a slow machine


async def serve_raising_memory(check, token: str = TOKEN):
    """Runs `check(address)` against a ServiceServer serving _RaisingMemory that requires `token`."""
    port = free_port()
    server = ServiceServer("127.0.0.1", port, [SERVICE], token=token)
    memory_pb2_grpc.add_MemoryServiceServicer_to_server(_RaisingMemory(), server.grpc_server)
    await server.start()
    await server.set_serving()
    try:
        await check(f"127.0.0.1:{port}")
    finally:
        await server.stop(0)


async def _search(address: str, token: str | None = None) -> None:
    """A search through the SDK (the servicer raises NotFound for it once the call reaches it)."""
    client = MemoryClient(address, token=token)
    try:
        await client.search("NotFound", timeout_s=5)
    finally:
        await client.close()


def test_a_call_without_the_token_is_unauthenticated_saying_what_to_set():
    async def check(address):
        async with grpc.aio.insecure_channel(address) as channel:
            stub = memory_pb2_grpc.MemoryServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Search(memory_pb2.SearchRequest(text="NotFound"), timeout=5)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "LONGWATCH_API_TOKEN" in caught.value.details() and TOKEN not in caught.value.details()
            writes = stub.WriteClips(iter([memory_pb2.WriteClipsRequest()]), timeout=5)  # a stream, refused too
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                async for _ in writes:
                    pass
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED

    asyncio.run(serve_raising_memory(check))


@pytest.mark.parametrize("sent", ["", "t0ken-4f9a-secreT", TOKEN + "x", "Bearer"])
def test_a_wrong_token_is_unauthenticated_through_the_sdk(sent):
    async def check(address):
        with pytest.raises(errors.Unauthenticated, match="LONGWATCH_API_TOKEN"):
            await _search(address, sent)

    asyncio.run(serve_raising_memory(check))


def test_with_the_token_the_call_reaches_the_service():
    async def check(address):
        with pytest.raises(errors.NotFound, match="raised NotFound"):  # the servicer's own answer
            await _search(address, TOKEN)

    asyncio.run(serve_raising_memory(check))


def test_the_sdk_reads_the_token_from_the_environment(monkeypatch, tmp_path):
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv(TOKEN_FILE_ENV, str(secret))

    async def check(address):
        with pytest.raises(errors.NotFound):
            await _search(address)  # the token from the environment

    asyncio.run(serve_raising_memory(check))


def test_health_needs_no_token():
    async def check(address):
        async with grpc.aio.insecure_channel(address) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING

    asyncio.run(serve_raising_memory(check))


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({TOKEN_FILE_ENV: "/no/such/token"}, "cannot be read"),
        ({TOKEN_ENV: "two words"}, "without spaces"),
    ],
)
def test_a_bad_token_setting_is_refused_saying_what_to_change(environ, message):
    with pytest.raises(errors.InvalidArgument, match=message):
        token_from_env(environ)


def test_no_token_set_means_none_required():
    assert token_from_env({}) == ""


def secured_env(tmp_path) -> dict[str, str]:
    """A tiny-profile service that requires TOKEN."""
    return {
        "LONGWATCH_PROFILE": "tiny",
        "LONGWATCH_DATA_DIR": str(tmp_path / "data"),
        "LONGWATCH_MODEL_CACHE": str(tmp_path / "models"),
        TOKEN_ENV: TOKEN,
    }


def test_a_secured_service_process_refuses_the_cli_without_the_token_and_answers_with_it(tmp_path):
    env = secured_env(tmp_path)
    memory = start_service("memory_service", env, free_port(), READY_TIMEOUT_S)
    try:
        assert "(API token required)" in memory.output()
        without = {k: v for k, v in os.environ.items() if k not in (TOKEN_ENV, TOKEN_FILE_ENV)}
        refused = _cli("stats", "--memory", memory.address, env=without)
        assert refused.returncode == 1 and "LONGWATCH_API_TOKEN" in refused.stderr
        answered = _cli("stats", "--memory", memory.address, "--json", env={**without, TOKEN_ENV: TOKEN})
        assert answered.returncode == 0, answered.stderr
        assert json.loads(answered.stdout)["streams"] == []
    finally:
        assert memory.stop() == 0, memory.output()
    assert TOKEN not in memory.output()


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "longwatch_cli.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_secured_services_send_the_token_to_each_other_so_a_video_is_ingested(tmp_path):
    """Perception's clip writer is a client of memory like any other: it sends the token too."""
    from longwatch.client import PerceptionClient
    from longwatch.progress import wait_until_final
    from longwatch.sample import make_sample
    from longwatch.types import StreamState

    env = secured_env(tmp_path)
    video = tmp_path / "sample.mp4"
    make_sample(video)
    memory = start_service("memory_service", env, free_port(), READY_TIMEOUT_S)
    try:
        perception = start_service(
            "perception", {**env, "LONGWATCH_MEMORY_ADDR": memory.address}, free_port(), READY_TIMEOUT_S
        )
        try:

            async def ingest():
                client = PerceptionClient(perception.address, token=TOKEN)
                try:
                    await client.add_stream("lot", str(video))
                    return await asyncio.wait_for(wait_until_final(client, "lot", show_progress=False), 300)
                finally:
                    await client.close()

            status = asyncio.run(ingest())
            assert status.state is StreamState.FINISHED, status.error
            assert status.clips_written > 0
        finally:
            perception.stop()
    finally:
        memory.stop()
