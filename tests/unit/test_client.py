"""The SDK refuses what cannot be sent before it calls anything (no server listens on the address here),
its errors name the service that is down, and the memory reads build their requests and convert their
responses faithfully (against a recording stub)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from longwatch import convert
from longwatch.client import MemoryClient, PerceptionClient, ReasonerClient, error_from_rpc
from longwatch.errors import InvalidArgument, Unavailable
from longwatch.grpc_server import ANSWERED_KEY
from longwatch.memory.v1 import memory_pb2
from longwatch.types import DeletedStream, KeyframeData, MemoryStats, Node, SearchHit, SearchResult, StreamStats


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


class RecordingStub:
    """Stands in for MemoryServiceStub: records each request (after a trip through the wire format) and
    answers with a scripted response, so the client's request building and conversions are what is tested."""

    def __init__(self, **responses: object) -> None:
        self.responses = responses
        self.requests: list[tuple[str, object]] = []

    def __getattr__(self, method: str):
        async def call(request, timeout=None):
            self.requests.append((method, type(request).FromString(request.SerializeToString())))
            return self.responses[method]

        return call


def run_memory(action, stub: RecordingStub | None = None):
    """Runs `await action(client)` with a MemoryClient made on the loop (a channel needs one) whose stub is `stub`."""

    async def go():
        client = MemoryClient("127.0.0.1:9")  # nothing listens: only the stub can answer
        client._stub = stub or RecordingStub()
        try:
            return await action(client)
        finally:
            await client.close()

    return asyncio.run(go())


SEGMENT = Node(
    "cam#1#0",
    "cam",
    1,
    0.0,
    64.0,
    "a van unloads at the dock",
    start_wall_ms=1_700_000_000_000,
    end_wall_ms=1_700_000_064_000,
    child_ids=("cam@w1700000000000",),
)
CLIP = Node(
    "cam@w1700000000000", "cam", 0, 0.0, 4.0, "a van", 1_700_000_000_000, 1_700_000_004_000, parent_id="cam#1#0"
)
SEGMENT_HIT = SearchHit("cam#1#0", "cam", 0.0, 64.0, "a van unloads at the dock", 0.7, level=1)


def test_search_sends_level_vector_and_wall_range_and_keeps_returning_hits():
    response = convert.search_result_to_pb(SearchResult(hits=(SEGMENT_HIT,), nodes_read=21))
    stub = RecordingStub(Search=response)
    hits = run_memory(
        lambda c: c.search(
            "",
            ["cam"],
            k=3,
            level=1,
            vector=[0.5, -0.5],
            start_wall_ms=1_700_000_000_000,
            end_wall_ms=1_700_000_600_000,
        ),
        stub,
    )
    assert hits == [SEGMENT_HIT]
    [(method, request)] = stub.requests
    assert method == "Search"
    assert (request.level, list(request.vector), request.k) == (1, [0.5, -0.5], 3)
    assert (request.start_wall_ms, request.end_wall_ms) == (1_700_000_000_000, 1_700_000_600_000)


def test_search_result_says_how_many_nodes_the_search_read():
    response = convert.search_result_to_pb(SearchResult(hits=(SEGMENT_HIT,), nodes_read=21))
    result = run_memory(lambda c: c.search_result("van"), RecordingStub(Search=response))
    assert result == SearchResult(hits=(SEGMENT_HIT,), nodes_read=21)


def test_expand_timeline_and_get_return_domain_nodes_and_keyframes():
    keyframe = KeyframeData("kf-1", "cam", 2.0, b"\xff\xd8\xff")
    stub = RecordingStub(
        Expand=memory_pb2.ExpandResponse(children=[convert.node_to_pb(CLIP)]),
        Timeline=memory_pb2.TimelineResponse(nodes=[convert.node_to_pb(SEGMENT)], truncated=True),
        Get=memory_pb2.GetResponse(nodes=[convert.node_to_pb(CLIP)], keyframes=[convert.keyframe_data_to_pb(keyframe)]),
    )

    async def reads(c: MemoryClient):
        return (
            await c.expand("cam#1#0"),
            await c.timeline("cam", level=1, start_s=10.0, end_s=0.0, limit=50),
            await c.get(["cam@w1700000000000"], keyframe_ids=["kf-1"]),
        )

    children, timeline, got = run_memory(reads, stub)
    assert children == [CLIP]
    assert timeline == ([SEGMENT], True)
    assert got == ([CLIP], [keyframe])
    requests = dict(stub.requests)
    assert requests["Expand"].node_id == "cam#1#0"
    assert (requests["Timeline"].stream_id, requests["Timeline"].level, requests["Timeline"].limit) == ("cam", 1, 50)
    assert list(requests["Get"].node_ids) == ["cam@w1700000000000"] and list(requests["Get"].keyframe_ids) == ["kf-1"]


def test_stats_and_delete_stream_return_the_counts():
    stats = MemoryStats(streams=(StreamStats("cam", clips=16, nodes_per_level=(1,), log_bytes=4096),), disk_bytes=10**6)
    deleted = DeletedStream(clips_deleted=16, nodes_deleted=1, keyframes_deleted=4)
    stub = RecordingStub(Stats=convert.memory_stats_to_pb(stats), DeleteStream=convert.deleted_stream_to_pb(deleted))

    async def calls(c: MemoryClient):
        return await c.stats(["cam"]), await c.delete_stream("cam")

    assert run_memory(calls, stub) == (stats, deleted)
    assert [method for method, _ in stub.requests] == ["Stats", "DeleteStream"]
    assert list(stub.requests[0][1].stream_ids) == ["cam"] and stub.requests[1][1].stream_id == "cam"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.search("car", level=-1), "level must be 0 .clips."),
        (lambda c: c.search("car", level=2**31), "level must be 0"),
        (lambda c: c.search("car", k=101), "k must be 1 to 100, or 0 for the default; got 101"),
        (lambda c: c.search("car", start_s=30.0, end_s=10.0), r"start_s \(30.0\) is after end_s \(10.0\)"),
        (lambda c: c.search("car", start_wall_ms=12), "start_wall_ms must be 0 .no wall clock."),
        (
            lambda c: c.search("car", start_wall_ms=1_700_000_600_000, end_wall_ms=1_700_000_000_000),
            "start_wall_ms .* is after end_wall_ms",
        ),
        (lambda c: c.search("", vector=[float("nan")]), "vector holds NaN"),
        (lambda c: c.search("", vector=[0.0] * 5000), "vector has 5000 values"),
        (lambda c: c.search_result("car", stream_ids=["front door"]), "a stream_ids entry 'front door' is not valid"),
        (lambda c: c.expand(""), "node_id is empty"),
        (lambda c: c.expand("gate#1#0\n"), "node_id 'gate#1#0\\\\n' is not an id memory gives"),
        (lambda c: c.timeline("../etc"), "stream_id '../etc' is not valid"),
        (lambda c: c.timeline("gate", limit=1001), "limit must be 1 to 1000"),
        (lambda c: c.get(["x" * 300]), "a node_ids entry 'x"),
        (lambda c: c.get(keyframe_ids=[""]), "a keyframe_ids entry is empty"),
        (lambda c: c.stats(["a b"]), "a stream_ids entry 'a b' is not valid"),
        (lambda c: c.delete_stream(""), "stream_id is empty"),
    ],
)
def test_the_memory_client_refuses_bad_reads_before_calling(call, message):
    stub = RecordingStub()
    with pytest.raises(InvalidArgument, match=message):
        run_memory(call, stub)
    assert stub.requests == []
