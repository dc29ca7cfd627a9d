"""One request id from the SDK through the reasoner to memory, on their log lines, as JSON when asked."""

from __future__ import annotations

import asyncio
import json

from longwatch import tracing
from longwatch.client import ReasonerClient
from tests.integration.servers import free_port, start_service

READY_TIMEOUT_S = 180.0  # building the tiny models on a slow machine


def _lines(handle) -> list[dict]:
    return [json.loads(line) for line in handle.output().splitlines() if line.startswith("{")]


def test_an_asks_request_id_reaches_memory_and_every_log_line_of_it(tmp_path):
    common = {
        "LONGWATCH_PROFILE": "tiny",
        "LONGWATCH_DATA_DIR": str(tmp_path / "data"),
        "LONGWATCH_MODEL_CACHE": str(tmp_path / "models"),
        "LONGWATCH_LOG_LEVEL": "DEBUG",
        "LONGWATCH_LOG_FORMAT": "json",
    }
    memory = start_service("memory_service", common, free_port(), READY_TIMEOUT_S)
    reasoner = None
    try:
        reasoner = start_service(
            "reasoner", {**common, "LONGWATCH_MEMORY_ADDR": memory.address}, free_port(), READY_TIMEOUT_S
        )

        async def ask() -> str:
            request_id = tracing.new_request_id()
            client = ReasonerClient(reasoner.address)
            try:
                await client.ask("What was the code for locker 42?")
            finally:
                await client.close()
            return request_id

        request_id = asyncio.run(ask())
    finally:
        if reasoner is not None:
            reasoner.stop()
        memory.stop()
    asked = [line for line in _lines(reasoner) if line["request_id"] == request_id]
    assert any("/longwatch.reasoner.v1.ReasonerService/Ask" in line["message"] for line in asked)
    assert any("answer in" in line["message"] for line in asked)
    searched = [line for line in _lines(memory) if line["request_id"] == request_id]
    assert any("/longwatch.memory.v1.MemoryService/Stats" in line["message"] for line in searched)
    assert {"time", "level", "logger", "request_id", "message"} <= set(asked[0])
