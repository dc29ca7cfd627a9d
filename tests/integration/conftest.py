"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from tests.integration.servers import ChromaMode


@pytest.fixture(scope="module", params=list(ChromaMode), ids=str)
def chroma_mode(request) -> ChromaMode:
    """Runs every test (and module fixture) that takes it once per mode: embedded chromadb, then a real
    `chroma run` server; start memory with `servers.chroma_env(chroma_mode, path)`."""
    return request.param
