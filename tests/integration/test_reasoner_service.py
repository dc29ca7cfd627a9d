"""The reasoner as a process (tiny profile) against a fake memory gRPC server in this process: it serves
before memory is up, then answers with evidence and refuses bad questions with canonical statuses.
The real memory service is not started here (tests/integration/test_memory_service.py covers it)."""

from __future__ import annotations

import asyncio
import time
from concurrent import futures

import grpc
import pytest

from longwatch import convert
from longwatch.client import ReasonerClient
from longwatch.errors import InvalidArgument, NotFound, Unavailable
from longwatch.memory.v1 import memory_pb2, memory_pb2_grpc
from longwatch.reasoner.v1 import reasoner_pb2
from longwatch.types import SearchHit
from reasoner.core.answerer import NO_EVIDENCE_ANSWER
from tests.integration.servers import free_port, start_service

READY_TIMEOUT_S = 180.0  # importing torch and building the tiny model on a slow machine
RECONNECT_TIMEOUT_S = 30.0  # gRPC backs off between reconnects to a server that was down

HITS = [
    SearchHit("gate@000000040000", "gate", 40.0, 45.0, "text on screen: EXIT 42 | ALARM CODE 7315", 1.2),
    SearchHit("gate@000000010000", "gate", 10.0, 15.0, "a red car stops. text on screen: KPL 4721", 0.5),
]


class FakeMemory(memory_pb2_grpc.MemoryServiceServicer):
    """Answers every search with HITS (within the asked streams); knows the streams `gate` and `empty`."""

    def __init__(self) -> None:
        self.searches: list[memory_pb2.SearchRequest] = []

    def Search(self, request, context):  # noqa: N802 - gRPC's name
        self.searches.append(request)
        hits = [hit for hit in HITS if not request.stream_ids or hit.stream_id in request.stream_ids]
        return memory_pb2.SearchResponse(hits=[convert.hit_to_pb(hit) for hit in hits[: request.k or 10]])

    def ListStreams(self, request, context):  # noqa: N802 - gRPC's name
        return memory_pb2.ListStreamsResponse(
            streams=[memory_pb2.StreamSummary(stream_id=name, clip_count=2) for name in ("empty", "gate")]
        )


def start_fake_memory(port: int) -> tuple[grpc.Server, FakeMemory]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    fake = FakeMemory()
    memory_pb2_grpc.add_MemoryServiceServicer_to_server(fake, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, fake


def ask(address: str, question: str, stream_ids=(), deadline_ms: int = 0):
    async def go():
        client = ReasonerClient(address)
        try:
            return await client.ask(question, stream_ids, deadline_ms)
        finally:
            await client.close()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """The reasoner started while nothing listens at its memory address; the fake memory comes up after."""
    memory_port = free_port()
    env = {
        "LONGWATCH_PROFILE": "tiny",
        "LONGWATCH_DATA_DIR": str(tmp_path_factory.mktemp("reasoner-data")),
        "LONGWATCH_MODEL_CACHE": str(tmp_path_factory.mktemp("model-cache")),
        "LONGWATCH_MEMORY_ADDR": f"127.0.0.1:{memory_port}",
        "LONGWATCH_REASONER_MEMORY_RETRY_S": "0.2",
    }
    reasoner = start_service("reasoner", env, free_port(), READY_TIMEOUT_S)
    memory = None
    try:
        with pytest.raises(Unavailable, match="memory"):
            ask(reasoner.address, "What was the plate?")
        memory, fake = start_fake_memory(memory_port)
        yield reasoner, fake
    finally:
        if memory is not None:
            memory.stop(None)
        assert reasoner.stop() == 0, reasoner.output()
    assert "not reachable yet" in reasoner.output()


def ask_once_memory_is_back(address: str, question: str, **kwargs):
    deadline = time.monotonic() + RECONNECT_TIMEOUT_S
    while True:
        try:
            return ask(address, question, **kwargs)
        except Unavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_answers_a_labelled_value_with_evidence(services):
    reasoner, fake = services
    answer = ask_once_memory_is_back(reasoner.address, "What was the alarm code on the screen?", deadline_ms=30_000)
    assert answer.answer == "7315"
    assert [e.clip_id for e in answer.evidence] == [HITS[0].clip_id, HITS[1].clip_id]
    assert 0 < answer.confidence <= 1 and answer.latency_ms > 0
    assert fake.searches[-1].text == "What was the alarm code on the screen?"


def test_a_random_model_still_answers_from_the_evidence(services):
    reasoner, _ = services
    answer = ask_once_memory_is_back(reasoner.address, "What was the plate of the red car?", stream_ids=["gate"])
    assert answer.answer and answer.answer in " ".join(hit.text for hit in HITS)


def test_when_question_gets_the_time_of_the_best_evidence(services):
    reasoner, _ = services
    assert ask_once_memory_is_back(reasoner.address, "When was the alarm code shown?").answer == "0:40-0:45 in gate"


def test_nothing_found(services):
    reasoner, _ = services
    answer = ask_once_memory_is_back(reasoner.address, "What was the plate?", stream_ids=["empty"])
    assert (answer.answer, answer.confidence, answer.evidence) == (NO_EVIDENCE_ANSWER, 0.0, ())


def test_bad_questions_get_canonical_statuses(services):
    reasoner, _ = services
    with pytest.raises(InvalidArgument, match="question is empty: ask something about the video"):
        ask(reasoner.address, "  ")
    with pytest.raises(InvalidArgument, match="deadline_ms"):
        ask(reasoner.address, "What was the plate?", deadline_ms=-5)
    with pytest.raises(NotFound, match=r"'dock'.*known streams: empty, gate"):
        ask_once_memory_is_back(reasoner.address, "What was the plate?", stream_ids=["dock"])


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (reasoner_pb2.AskRequest(question="\x00").SerializeToString(), "question is empty"),
        (reasoner_pb2.AskRequest(question="a" * (1 << 20)).SerializeToString(), "shorten it to at most"),
        (reasoner_pb2.AskRequest(question="why?", stream_ids=["x" * (1 << 20)]).SerializeToString(), "characters)"),
        (b"\xff" * 64, "not a valid protobuf message"),
    ],
)
def test_the_server_itself_refuses_what_the_sdk_would_not_send(services, payload, detail):
    reasoner, _ = services
    with grpc.insecure_channel(reasoner.address) as channel:
        ask_raw = channel.unary_unary("/longwatch.reasoner.v1.ReasonerService/Ask")  # bytes as they are
        with pytest.raises(grpc.RpcError) as caught:
            ask_raw(payload, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert detail in caught.value.details() and len(caught.value.details()) < 400
