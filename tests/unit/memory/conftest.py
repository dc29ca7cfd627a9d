"""Fixtures of the memory unit tests."""

from __future__ import annotations

import pytest

from tests.unit.memory.fakes import FakeEmbedder, MemoryFactory


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def memories(tmp_path) -> MemoryFactory:
    return MemoryFactory(tmp_path / "memory")
