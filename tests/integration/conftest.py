"""Fixtures shared by the integration tests."""

from __future__ import annotations

import asyncio

import pytest

from longwatch.client import MemoryClient
from tests.integration.servers import ChromaMode

MEMORY_READY_TIMEOUT_S = 180.0  # importing torch and building the tiny model on a slow machine


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory):
    """One model cache for the whole session, so the tiny models are built once."""
    path = tmp_path_factory.getbasetemp() / "model-cache"
    path.mkdir(exist_ok=True)
    return path


def tiny_env(data_dir, model_cache_dir, **memory_settings: object) -> dict[str, str]:
    """The environment of a tiny-profile service; `memory_settings` become LONGWATCH_MEMORY_<NAME>."""
    env = {
        "LONGWATCH_PROFILE": "tiny",
        "LONGWATCH_DATA_DIR": str(data_dir),
        "LONGWATCH_MODEL_CACHE": str(model_cache_dir),
    }
    env.update({f"LONGWATCH_MEMORY_{name.upper()}": str(value) for name, value in memory_settings.items()})
    return env


def with_client(address: str, action):
    """Runs `await action(client)` on a fresh event loop and memory client."""

    async def go():
        client = MemoryClient(address)
        try:
            return await action(client)
        finally:
            await client.close()

    return asyncio.run(go())


@pytest.fixture(scope="module", params=list(ChromaMode), ids=str)
def chroma_mode(request) -> ChromaMode:
    """Runs every test (and module fixture) that takes it once per mode: embedded chromadb, then a real
    `chroma run` server; start memory with `servers.chroma_env(chroma_mode, path)`."""
    return request.param
